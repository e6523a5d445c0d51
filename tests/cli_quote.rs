//! `importdesk customer add`, `customer list --json` and `quote --json`, driving the real
//! binary against the simulator; and the one-line errors with exit code 2.

use std::process::{Command, Output};

use importdesk::sim::{ManifestCustomer, SimOptions, start};
use serde_json::Value;

fn importdesk(db: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_importdesk"));
    cmd.arg("--db").arg(db).args(args).env("IMPORTDESK_CONFIG", "/nonexistent/config.toml");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn add(db: &std::path::Path, c: &ManifestCustomer, used: &str) -> Output {
    let since = c.integration_since.to_string();
    let webshop = c.webshop.as_str();
    importdesk(
        db,
        &[
            "customer",
            "add",
            "--name",
            &c.name,
            "--cvr",
            &c.cvr,
            "--email",
            &c.email,
            "--plan",
            "Basic",
            "--used",
            used,
            "--webshop",
            webshop,
            "--shop-url",
            &c.shop_url,
            "--accounting-url",
            &c.accounting_url,
            "--since",
            &since,
        ],
        &[
            ("IMPORTDESK_SHOP_KEY", &c.shop_key),
            ("IMPORTDESK_SHOP_SECRET", c.shop_secret.as_deref().unwrap_or("")),
            ("IMPORTDESK_ECONOMIC_APP_SECRET", &c.app_secret),
            ("IMPORTDESK_ECONOMIC_GRANT", &c.grant_token),
        ],
    )
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn quote_json_for_a_customer_range_counts_at_the_shop() {
    let sim = start(SimOptions { customers: 4, ..Default::default() }, 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let woo = sim.manifest.customers.iter().find(|c| c.webshop.as_str() == "woocommerce").unwrap().clone();
    let out = add(&db, &woo, "50");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");

    let list = importdesk(&db, &["customer", "list", "--json"], &[]);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list["customers"][0]["name"], woo.name.as_str());
    assert!(list.to_string().find(&woo.shop_key).is_none(), "no secret in the listing");

    // A range that ends after the integration started: part of it is already transferred.
    let since = woo.integration_since;
    let from = (since - chrono::Duration::days(200)).to_string();
    let to = (since + chrono::Duration::days(10)).to_string();
    let out = importdesk(&db, &["quote", "--customer", "1", "--from", &from, "--to", &to, "--json"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let q: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "orders_in_range",
        "already_transferred",
        "orders_to_import",
        "used_this_month",
        "monthly_quota",
        "extra_orders",
        "extra_order_price",
        "extra_orders_cost",
        "base_fee",
        "subtotal_excl_vat",
        "vat",
        "total_incl_vat",
        "estimated_runtime_seconds",
        "warnings",
    ] {
        assert!(!q[key].is_null(), "missing {key} in {q}");
    }
    let n = |k: &str| q[k].as_u64().unwrap();
    let money = |k: &str| q[k].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap();
    // The counts are the simulator's own figures for those days.
    let tz = importdesk::domain::calendar::DEFAULT_TZ;
    let statuses = ["processing", "completed"];
    let shop = sim.data.shop(&woo.shop_domain).unwrap();
    let whole = importdesk::domain::calendar::DateRange::new(from.parse().unwrap(), to.parse().unwrap()).unwrap();
    let after = importdesk::domain::calendar::DateRange::new(since, to.parse().unwrap()).unwrap();
    assert_eq!(n("orders_in_range"), shop.count(whole.to_utc(tz), &statuses));
    assert_eq!(n("already_transferred"), shop.count(after.to_utc(tz), &statuses));
    assert_eq!(n("orders_to_import"), n("orders_in_range") - n("already_transferred"));
    assert_eq!(n("used_this_month"), 50);
    assert_eq!(n("monthly_quota"), 200);
    assert_eq!(n("extra_orders"), (50 + n("orders_to_import")).saturating_sub(200).min(n("orders_to_import")));
    assert_eq!(q["base_fee"], "600.00");
    assert_eq!(money("subtotal_excl_vat"), money("base_fee") + money("extra_orders_cost"));
    assert_eq!(money("total_incl_vat"), money("subtotal_excl_vat") + money("vat"));
    assert!(q["warnings"].as_array().unwrap().iter().any(|w| w["code"] == "reaches_integration_start"));
    sim.shutdown().await;
}

#[test]
fn quote_on_a_bare_count_is_the_seeds_example() {
    let dir = tempfile::tempdir().unwrap();
    let out = importdesk(
        &dir.path().join("t.db"),
        &["quote", "--plan", "Basic", "--used", "50", "--orders", "200", "--json"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let q: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(q["extra_orders"], 50);
    assert_eq!(q["extra_orders_cost"], "150.00");
    assert_eq!(q["subtotal_excl_vat"], "750.00");
    assert_eq!(q["vat"], "187.50");
    assert_eq!(q["total_incl_vat"], "937.50");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_one_line_and_exit_code_2() {
    let sim = start(SimOptions { customers: 2, ..Default::default() }, 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let mut wrong_key = sim.manifest.customers[0].clone();
    wrong_key.shop_key = "ck_wrong".into();
    assert!(add(&db, &wrong_key, "0").status.success());
    let mut down = sim.manifest.customers[0].clone();
    down.name = "Lukket Butik".into();
    down.shop_url = "http://127.0.0.1:9/lukket.dk".into();
    assert!(add(&db, &down, "0").status.success());

    let cases: &[(&[&str], &str)] = &[
        (&["quote", "--customer", "1", "--from", "2024-02-30", "--to", "2024-03-01"], "February 2024 has 29 days"),
        (&["quote", "--customer", "1", "--from", "2024-03-02", "--to", "2024-03-01"], "swap the dates"),
        (
            &["quote", "--customer", "nobody", "--from", "2024-01-01", "--to", "2024-03-01"],
            "no customer matches 'nobody'",
        ),
        (&["quote", "--customer", "1", "--from", "2024-01-01", "--to", "2024-03-01"], "refused the credentials"),
        (&["quote", "--customer", "Lukket", "--from", "2024-01-01", "--to", "2024-03-01"], "cannot be reached"),
        (&["quote", "--plan", "Gold", "--orders", "5"], "unknown plan 'Gold'"),
    ];
    for (args, expected) in cases {
        let out = importdesk(&db, args, &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line, got {err}");
        assert!(!err.contains("panicked"));
    }

    // A shop that answers HTML (a captcha page) instead of JSON.
    let mut ok = sim.manifest.customers[0].clone();
    ok.name = "Captcha Butik".into();
    assert!(add(&db, &ok, "0").status.success());
    sim.set_fault(&ok.shop_domain, importdesk::sim::Fault { html_captcha: true, ..Default::default() });
    let out = importdesk(&db, &["quote", "--customer", "Captcha", "--from", "2024-01-01", "--to", "2024-03-01"], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("instead of JSON"), "{err}");
    sim.shutdown().await;
}
