//! The command line: clap definitions and the non-interactive commands.

mod jobs;
mod triage;

use anyhow::{Context, bail};
use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;
use crate::domain::calendar::{DateRange, Month, parse_date};
use crate::domain::customer::{AccountingKind, Integration, IntegrationSettings, WebshopKind};
use crate::domain::money::{format_count, format_dkk};
use crate::domain::quote::{Quote, QuoteInput};
use crate::domain::runtime::format_duration_da;
use crate::store::{NewCustomer, Store};

#[derive(Debug, Parser)]
#[command(name = "importdesk", version, about = "Plan, price, run and triage imports of historical webshop orders")]
pub struct Cli {
    /// The database file (default: the XDG data dir's importdesk.db).
    #[arg(long, global = true, env = "IMPORTDESK_DB")]
    pub db: Option<PathBuf>,
    /// The config file with plans, prices and rates (default: the XDG config dir's config.toml).
    #[arg(long, global = true, env = "IMPORTDESK_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole product on an embedded simulator and a local SQLite file.
    Demo(DemoArgs),
    /// Run the simulated shops (and accounting system) alone, on loopback.
    Sim(SimArgs),
    /// Register and list customers.
    #[command(subcommand)]
    Customer(CustomerCommand),
    /// Price an import: of a customer's date range (asks the shop), or of a bare order count.
    Quote(QuoteArgs),
    /// Import jobs: create, accept, test, approve, start, watch, pause, bill.
    #[command(subcommand)]
    Job(jobs::JobCmd),
    /// Run a job's worker in the foreground (for tmux or systemd).
    Run(jobs::RunArgs),
    /// Import one previous order now (enkeltvis), through the same safe path as a job.
    ImportOrder(jobs::ImportOrderArgs),
    /// A job's failed orders grouped by cause (or, with --predicted, its preflight's).
    Failures(triage::FailuresArgs),
    /// Send failed orders again once the cause is fixed; returns when they have settled.
    Retry(triage::RetryArgs),
    /// Take a failed order out of the failures, with a reason that is kept.
    Skip(triage::SkipArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of the simulated data set.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Port of the simulator (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to write the manifest (customers, URLs, keys) once the simulator listens.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Register a customer and their running integration. Secrets come from the environment:
    /// IMPORTDESK_SHOP_KEY, IMPORTDESK_SHOP_SECRET, IMPORTDESK_ECONOMIC_APP_SECRET,
    /// IMPORTDESK_ECONOMIC_GRANT (never from arguments, which `ps` shows).
    Add(Box<CustomerAddArgs>),
    /// List the customers.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct CustomerAddArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub cvr: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub phone: Option<String>,
    /// Subscription plan (see the config file; built-in: Basic, Plus, Pro, Enterprise).
    #[arg(long)]
    pub plan: String,
    /// Orders already used this month.
    #[arg(long, default_value_t = 0)]
    pub used: u64,
    /// woocommerce or shopify.
    #[arg(long)]
    pub webshop: WebshopKind,
    #[arg(long)]
    pub shop_url: String,
    /// economic.
    #[arg(long, default_value = "economic")]
    pub accounting: AccountingKind,
    #[arg(long)]
    pub accounting_url: String,
    /// The day the integration started transferring (YYYY-MM-DD).
    #[arg(long)]
    pub since: String,
    /// The shop's time zone.
    #[arg(long, default_value = "Europe/Copenhagen")]
    pub timezone: String,
}

#[derive(Debug, Args)]
pub struct QuoteArgs {
    /// Customer id or name.
    #[arg(long, conflicts_with_all = ["plan", "orders"])]
    pub customer: Option<String>,
    #[arg(long, requires = "customer")]
    pub from: Option<String>,
    #[arg(long, requires = "customer")]
    pub to: Option<String>,
    /// Plan name, for a quote on a bare order count (no network).
    #[arg(long, requires = "orders")]
    pub plan: Option<String>,
    /// Orders used this month (with --plan).
    #[arg(long, default_value_t = 0)]
    pub used: u64,
    /// Orders to import (with --plan).
    #[arg(long)]
    pub orders: Option<u64>,
    /// The shop kind, for the run-time estimate of a bare count.
    #[arg(long, default_value = "woocommerce")]
    pub webshop: WebshopKind,
    /// Planned technician half hours (DKK 600 each, at least one).
    #[arg(long, default_value_t = 1)]
    pub half_hours: u32,
    #[arg(long)]
    pub json: bool,
}

/// Parses the arguments and runs the command. Errors print one line and exit 2.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("importdesk: {}", one_line(&err));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, without repeating a cause already in the message.
fn one_line(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text = format!("{text}: {c}");
        }
    }
    text.replace('\n', " ")
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config_path = cli.config.clone().unwrap_or_else(Config::default_path);
    let config = Config::load(&config_path)?;
    let db = cli.db.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    match cli.command {
        None => {
            let db_path = db.unwrap_or_else(Store::default_path);
            runtime.block_on(crate::tui::run(crate::tui::TuiOptions {
                db_path,
                config,
                config_path: cli.config.clone(),
                note: None,
            }))
        }
        Some(Command::Demo(args)) => {
            runtime.block_on(crate::demo::run(db, config, cli.config.clone(), args.seed, args.port))
        }
        Some(Command::Sim(args)) => runtime.block_on(crate::demo::run_sim(args.seed, args.port, args.manifest)),
        Some(Command::Customer(CustomerCommand::Add(args))) => customer_add(&open(db)?, &config, *args),
        Some(Command::Customer(CustomerCommand::List { json })) => customer_list(&open(db)?, json),
        Some(Command::Quote(args)) => runtime.block_on(quote(db, &config, args)),
        Some(Command::Job(cmd)) => {
            let db = db.unwrap_or_else(Store::default_path);
            runtime.block_on(jobs::job(&db, &config, cli.config.as_deref(), cmd))
        }
        Some(Command::Run(args)) => runtime.block_on(jobs::run(&db.unwrap_or_else(Store::default_path), &config, args)),
        Some(Command::ImportOrder(args)) => {
            runtime.block_on(jobs::import_order(&db.unwrap_or_else(Store::default_path), &config, args))
        }
        Some(Command::Failures(args)) => triage::failures(&db.unwrap_or_else(Store::default_path), &config, args),
        Some(Command::Retry(args)) => {
            runtime.block_on(triage::retry(&db.unwrap_or_else(Store::default_path), &config, args))
        }
        Some(Command::Skip(args)) => triage::skip(&db.unwrap_or_else(Store::default_path), args),
    }
}

fn open(db: Option<PathBuf>) -> anyhow::Result<Store> {
    Ok(Store::open(&db.unwrap_or_else(Store::default_path))?)
}

fn secret_env(name: &str) -> Option<SecretString> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty()).map(SecretString::from)
}

fn customer_add(store: &Store, config: &Config, args: CustomerAddArgs) -> anyhow::Result<()> {
    let mut store = Store::open(store.path())?;
    if config.plan(&args.plan).is_none() {
        let known: Vec<_> = config.plans.iter().map(|p| p.name.as_str()).collect();
        bail!("unknown plan '{}': the config defines {}", args.plan, known.join(", "));
    }
    let since = parse_date(&args.since).context("--since")?;
    let timezone = args
        .timezone
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown time zone '{}' (use e.g. Europe/Copenhagen)", args.timezone))?;
    let system = match args.webshop {
        WebshopKind::WooCommerce => crate::connect::System::WooCommerce,
        WebshopKind::Shopify => crate::connect::System::Shopify,
    };
    crate::connect::http::check_base_url(system, &args.shop_url)?;
    crate::connect::http::check_base_url(crate::connect::System::Economic, &args.accounting_url)?;
    let shop_key = secret_env("IMPORTDESK_SHOP_KEY")
        .context("set IMPORTDESK_SHOP_KEY to the shop's consumer key (WooCommerce) or access token (Shopify)")?;
    let shop_secret = secret_env("IMPORTDESK_SHOP_SECRET");
    if args.webshop == WebshopKind::WooCommerce && shop_secret.is_none() {
        bail!("set IMPORTDESK_SHOP_SECRET to the WooCommerce consumer secret (cs_…)");
    }
    let name = args.name.trim().to_string();
    if name.is_empty() {
        bail!("--name is empty");
    }
    let new = NewCustomer {
        name,
        cvr: args.cvr.filter(|s| !s.trim().is_empty()),
        email: args.email.filter(|s| !s.trim().is_empty()),
        phone: args.phone.filter(|s| !s.trim().is_empty()),
        plan: args.plan,
        integration: Integration {
            customer_id: 0,
            webshop: args.webshop,
            shop_url: args.shop_url,
            shop_key,
            shop_secret,
            accounting: args.accounting,
            accounting_url: args.accounting_url,
            economic_app_secret: secret_env("IMPORTDESK_ECONOMIC_APP_SECRET"),
            economic_grant: secret_env("IMPORTDESK_ECONOMIC_GRANT"),
            since,
            timezone,
            settings: IntegrationSettings::for_webshop(args.webshop),
        },
    };
    let id = store.add_customer(&new)?;
    if args.used > 0 {
        store.add_usage(id, Month::containing(Utc::now(), config.user_tz()), args.used)?;
    }
    println!("{id}");
    Ok(())
}

fn customer_list(store: &Store, json: bool) -> anyhow::Result<()> {
    let customers = store.list_customers()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "customers": customers }))?);
        return Ok(());
    }
    println!("{:>4}  {:<28} {:<9} {:<30} {:<24} {:<11} PLAN", "ID", "NAME", "CVR", "E-MAIL", "SHOP", "WEBSHOP");
    for c in customers {
        println!(
            "{:>4}  {:<28} {:<9} {:<30} {:<24} {:<11} {}",
            c.customer.id,
            truncate(&c.customer.name, 28),
            c.customer.cvr.as_deref().unwrap_or("-"),
            truncate(c.customer.email.as_deref().unwrap_or("-"), 30),
            truncate(&c.shop_domain, 24),
            c.webshop.display_name(),
            c.customer.plan
        );
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}

#[derive(Serialize)]
struct QuoteJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    customer: Option<QuoteCustomer>,
    #[serde(flatten)]
    quote: &'a Quote,
    warnings_text: Vec<String>,
}

#[derive(Serialize)]
struct QuoteCustomer {
    id: i64,
    name: String,
    webshop: WebshopKind,
    shop_domain: String,
    integration_since: chrono::NaiveDate,
}

async fn quote(db: Option<PathBuf>, config: &Config, args: QuoteArgs) -> anyhow::Result<()> {
    let now = Utc::now();
    let (customer, q) = if let Some(query) = &args.customer {
        let (Some(from), Some(to)) = (&args.from, &args.to) else {
            bail!("a customer quote needs --from DATE and --to DATE");
        };
        let range = DateRange::new(parse_date(from).context("--from")?, parse_date(to).context("--to")?)?;
        let store = open(db)?;
        let found = store.find_customer(query)?;
        let (ctx, q) = crate::engine::estimate::quote_customer(
            &store,
            config,
            found.customer.id,
            range,
            args.half_hours,
            now,
            crate::connect::http::client(),
        )
        .await?;
        let customer = QuoteCustomer {
            id: ctx.customer.customer.id,
            name: ctx.customer.customer.name.clone(),
            webshop: ctx.integration.webshop,
            shop_domain: ctx.customer.shop_domain.clone(),
            integration_since: ctx.integration.since,
        };
        (Some(customer), q)
    } else if let (Some(plan_name), Some(orders)) = (&args.plan, args.orders) {
        let Some(plan) = config.plan(plan_name) else {
            let known: Vec<_> = config.plans.iter().map(|p| p.name.as_str()).collect();
            bail!("unknown plan '{plan_name}': the config defines {}", known.join(", "));
        };
        let q = Quote::compute(&QuoteInput {
            plan: plan.clone(),
            pricing: config.pricing.clone(),
            used_this_month: args.used,
            orders_in_range: orders,
            already_transferred: 0,
            range: None,
            integration_since: None,
            webshop: Some(args.webshop),
            technician_half_hours: args.half_hours,
            source_rate: config.rates.source(args.webshop),
            sink_rate: config.rates.economic,
            now,
            tz: config.user_tz(),
        });
        (None, q)
    } else {
        bail!("give either --customer ID|NAME --from DATE --to DATE, or --plan NAME --orders N [--used N]");
    };
    if args.json {
        let warnings_text = q.warnings.iter().map(|w| w.message()).collect();
        let out = QuoteJson { customer, quote: &q, warnings_text };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_quote(customer.as_ref(), &q, config);
    }
    Ok(())
}

fn print_quote(customer: Option<&QuoteCustomer>, q: &Quote, config: &Config) {
    let tz = config.user_tz();
    if let Some(c) = customer {
        println!(
            "{} ({} {}, integration since {})",
            c.name,
            c.webshop.display_name(),
            c.shop_domain,
            c.integration_since
        );
    }
    if let (Some(from), Some(to)) = (q.from, q.to) {
        println!("Range                 {from} – {to}");
        println!("Orders in range       {:>12}", format_count(q.orders_in_range));
        println!("Already transferred   {:>12}", format_count(q.already_transferred));
    }
    println!("Orders to import      {:>12}", format_count(q.orders_to_import));
    println!(
        "Plan {:<16} {:>12}  used {} → {}",
        q.plan,
        format!("{}/mo", format_count(q.monthly_quota)),
        format_count(q.used_this_month),
        format_count(q.used_after_import)
    );
    println!(
        "Extra orders          {:>12}  × {} = {}",
        format_count(q.extra_orders),
        format_dkk(q.extra_order_price),
        format_dkk(q.extra_orders_cost)
    );
    println!("Technician time       {:>12}  {}", format!("{} × ½ h", q.technician_half_hours), format_dkk(q.base_fee));
    println!("Subtotal excl. VAT    {:>20}", format_dkk(q.subtotal_excl_vat));
    println!("VAT 25 %              {:>20}", format_dkk(q.vat));
    println!("Total incl. VAT       {:>20}", format_dkk(q.total_incl_vat));
    println!(
        "Run time              {:>20}  finishes {}",
        format_duration_da(q.estimated_runtime_seconds),
        q.finish_at.with_timezone(&tz).format("%Y-%m-%d %H:%M")
    );
    let p = &q.projection;
    if p.extra_orders_if_continued > q.extra_orders {
        println!(
            "If normal orders continue ({} a day, {} days left): {} extra orders this month, {}",
            p.daily_rate,
            p.days_left_in_month,
            format_count(p.extra_orders_if_continued),
            format_dkk(p.extra_orders_cost_if_continued)
        );
    }
    for w in &q.warnings {
        println!("! {}", w.message());
    }
}
