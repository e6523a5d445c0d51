//! The e-conomic sink against the simulator over real HTTP: one booked invoice per order,
//! failure causes the support person can act on, lost replies reconciled by reference, and a
//! 429 that pauses every task of the agreement.

use chrono::{TimeZone, Utc};
use importdesk::connect::economic::Economic;
use importdesk::connect::retry::RetryPolicy;
use importdesk::connect::sink::{InvoiceKind, SendStep, Sink, SinkError};
use importdesk::domain::cause::Cause;
use importdesk::domain::customer::{CustomerMatching, IntegrationSettings, WebshopKind};
use importdesk::domain::order::{Buyer, LineKind, Order, OrderLine};
use importdesk::sim::economic::{AgreementSeed, CustomerSeed, EconomicOptions, EconomicSim, Fault, ProductSeed};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use secrecy::SecretString;
use std::time::Duration;

const GRANT: &str = "grant-hyggehjem";
const SECRET: &str = "secret-hyggehjem";

fn seed() -> AgreementSeed {
    AgreementSeed {
        app_secret: SECRET.into(),
        grant_token: GRANT.into(),
        products: vec![
            ProductSeed { number: "TSHIRT-BL".into(), name: "T-shirt, blue".into(), price: dec!(159.96) },
            ProductSeed { number: "MUG.WHITE_1".into(), name: "Mug, white".into(), price: dec!(49) },
        ],
        customers: vec![CustomerSeed { number: 1, name: "Webshop customers".into(), email: None }],
    }
}

async fn start(options: EconomicOptions) -> (EconomicSim, Economic, String) {
    let sim = EconomicSim::new(vec![seed()], options);
    let (base, _server) = sim.serve_on_loopback().await.unwrap();
    let economic = connect(&base, SECRET);
    (sim, economic, base)
}

fn connect(base: &str, secret: &str) -> Economic {
    let fast = RetryPolicy {
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    };
    Economic::new(importdesk::connect::http::client(), base, SecretString::from(secret), SecretString::from(GRANT))
        .unwrap()
        .with_rate(500.0)
        .with_retry(fast)
}

fn line(kind: LineKind, sku: Option<&str>, description: &str, quantity: Decimal, unit_price: Decimal) -> OrderLine {
    OrderLine {
        kind,
        sku: sku.map(str::to_string),
        description: description.into(),
        quantity,
        unit_price,
        total: quantity * unit_price,
        total_tax: quantity * unit_price * dec!(0.25),
    }
}

fn order(reference: &str, lines: Vec<OrderLine>) -> Order {
    Order {
        webshop: WebshopKind::WooCommerce,
        id: reference.trim_start_matches('#').into(),
        reference: reference.into(),
        created_at: Utc.with_ymd_and_hms(2026, 3, 14, 9, 30, 0).unwrap(),
        status: "completed".into(),
        currency: "DKK".into(),
        prices_include_tax: false,
        total: dec!(0),
        total_tax: dec!(0),
        buyer: Buyer {
            name: Some("Mette Hansen".into()),
            email: Some("mette@example.dk".into()),
            phone: Some("+45 12 34 56 78".into()),
            address: Some("Vejlevej 21".into()),
            postcode: Some("7000".into()),
            city: Some("Fredericia".into()),
            country: Some("DK".into()),
            ..Buyer::default()
        },
        lines,
    }
}

fn full_order(reference: &str) -> Order {
    order(
        reference,
        vec![
            line(LineKind::Product, Some("TSHIRT-BL"), "T-shirt, blue", dec!(2), dec!(159.96)),
            line(LineKind::Product, Some("MUG.WHITE_1"), "Mug, white", dec!(1), dec!(49)),
            line(LineKind::Shipping, None, "PostNord", dec!(1), dec!(39.2)),
            line(LineKind::Discount, None, "Coupon SPRING", dec!(1), dec!(-20)),
        ],
    )
}

fn rejected(err: SinkError) -> Vec<importdesk::domain::cause::Failure> {
    match err {
        SinkError::Rejected { failures, .. } => failures,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn a_transfer_books_one_invoice_with_every_line_and_the_reference() {
    let (sim, economic, base) = start(EconomicOptions::default()).await;
    let settings = IntegrationSettings::default();
    let invoice = economic.transfer(&full_order("#1042"), &settings).await.unwrap();
    assert_eq!(invoice.kind, InvoiceKind::Booked);
    assert_eq!(invoice.reference, "#1042");

    let booked = sim.booked_invoices(GRANT);
    assert_eq!(booked.len(), 1);
    let b = &booked[0];
    assert_eq!(b.booked_invoice_number, Some(invoice.number));
    assert_eq!(b.reference(), Some("#1042"));
    assert_eq!(b.date.as_deref(), Some("2026-03-14"));
    assert_eq!(b.layout.as_ref().and_then(|l| l.layout_number), Some(settings.layout_number));
    let lines: Vec<(Option<&str>, Option<&str>, Option<Decimal>)> = b
        .lines
        .iter()
        .map(|l| {
            (l.product.as_ref().and_then(|p| p.product_number.as_deref()), l.description.as_deref(), l.unit_net_price)
        })
        .collect();
    assert_eq!(
        lines,
        [
            (Some("TSHIRT-BL"), Some("T-shirt, blue"), Some(dec!(159.96))),
            (Some("MUG.WHITE_1"), Some("Mug, white"), Some(dec!(49))),
            (None, Some("PostNord"), Some(dec!(39.2))),
            (None, Some("Coupon SPRING"), Some(dec!(-20))),
        ]
    );
    assert_eq!(b.net_amount, Some(dec!(388.12)));

    // The buyer became a customer, found again by e-mail for the next order.
    let customers = sim.customers(GRANT);
    assert_eq!(customers.len(), 2);
    assert_eq!(customers[1].email.as_deref(), Some("mette@example.dk"));
    assert_eq!(b.customer.as_ref().and_then(|c| c.customer_number), customers[1].customer_number);
    // A fresh client (its own empty cache) finds the customer by e-mail.
    let fresh = connect(&base, SECRET);
    fresh.transfer(&full_order("#1043"), &settings).await.unwrap();
    assert_eq!(sim.customers(GRANT).len(), 2, "no second customer for the same e-mail");
    assert!(sim.draft_invoices(GRANT).is_empty());
}

#[tokio::test]
async fn the_same_order_twice_is_booked_once() {
    let (sim, economic, _) = start(EconomicOptions::default()).await;
    let settings = IntegrationSettings::default();
    let first = economic.transfer(&full_order("#2001"), &settings).await.unwrap();
    let second = economic.transfer(&full_order("#2001"), &settings).await.unwrap();
    assert_eq!(first, second);
    let stats = sim.stats(GRANT);
    assert_eq!((stats.drafts_created, stats.invoices_booked), (1, 1));
    assert_eq!(economic.find_invoice("#2001").await.unwrap(), Some(first));
    assert_eq!(economic.find_invoice("#2002").await.unwrap(), None);
}

#[tokio::test]
async fn a_missing_product_is_named_by_its_sku_and_a_retry_after_the_fix_books() {
    let (sim, economic, _) = start(EconomicOptions::default()).await;
    let settings = IntegrationSettings::default();
    let o = order(
        "#1042",
        vec![
            line(LineKind::Product, Some("TSHIRT-BL"), "T-shirt, blue", dec!(1), dec!(159.96)),
            line(LineKind::Product, Some("HOODIE-NV"), "Hoodie, navy", dec!(1), dec!(399)),
        ],
    );
    let err = economic.transfer(&o, &settings).await.unwrap_err();
    assert_eq!(err.cause(), Cause::MissingProduct);
    let text = err.to_string();
    assert!(text.contains("#1042") && text.contains("HOODIE-NV"), "{text}");
    let failures = rejected(err);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].value.as_deref(), Some("HOODIE-NV"));
    assert_eq!(failures[0].line, Some(2));
    assert!(failures[0].fix_hint.contains("create product HOODIE-NV in e-conomic"), "{}", failures[0].fix_hint);
    assert_eq!(sim.stats(GRANT).drafts_created, 0, "nothing is drafted for a rejected order");

    // The customer creates the product; the cached "missing" is forgotten on retry.
    sim.add_product(GRANT, ProductSeed { number: "HOODIE-NV".into(), name: "Hoodie, navy".into(), price: dec!(399) });
    assert_eq!(economic.transfer(&o, &settings).await.unwrap_err().cause(), Cause::MissingProduct, "still cached");
    economic.forget_cache();
    let invoice = economic.transfer(&o, &settings).await.unwrap();
    assert!(invoice.is_booked());
}

#[tokio::test]
async fn missing_products_are_created_when_allowed_but_never_without_a_sku() {
    let (sim, economic, _) = start(EconomicOptions::default()).await;
    let settings = IntegrationSettings { create_missing_products: true, ..IntegrationSettings::default() };
    let no_sku = order(
        "#3001",
        vec![
            line(LineKind::Product, Some("TSHIRT-BL"), "T-shirt, blue", dec!(1), dec!(159.96)),
            line(LineKind::Product, None, "Hoodie, navy", dec!(1), dec!(399)),
        ],
    );
    let err = economic.transfer(&no_sku, &settings).await.unwrap_err();
    assert_eq!(err.cause(), Cause::MissingSku);
    let failures = rejected(err);
    assert_eq!(failures[0].detail, "line 2 'Hoodie, navy': no SKU");
    assert_eq!(failures[0].fix_hint, "give the product a SKU in WooCommerce, then retry");
    assert_eq!(sim.stats(GRANT).requests, 0, "known without asking e-conomic");

    let new_sku = order("#3002", vec![line(LineKind::Product, Some("POSTER/A3"), "Poster A3", dec!(1), dec!(129.5))]);
    economic.transfer(&new_sku, &settings).await.unwrap();
    let created = sim.products(GRANT).into_iter().find(|p| p.product_number.as_deref() == Some("POSTER/A3")).unwrap();
    assert_eq!(created.name.as_deref(), Some("Poster A3"));
    assert_eq!(created.sales_price, Some(dec!(129.5)));
}

#[tokio::test]
async fn an_accounting_validation_error_keeps_its_code_and_field() {
    let (sim, economic, _) = start(EconomicOptions::default()).await;
    let mut o = full_order("#4001");
    o.currency = "ZUL".into();
    let err = economic.transfer(&o, &IntegrationSettings::default()).await.unwrap_err();
    assert_eq!(err.cause(), Cause::AccountingValidation);
    assert!(err.to_string().starts_with("e-conomic rejected order #4001: currency: currency does not exist"), "{err}");
    let failures = rejected(err);
    assert_eq!(failures[0].vendor_code.as_deref(), Some("E06000"));
    assert_eq!(failures[0].field.as_deref(), Some("currency"));
    assert_eq!(failures[0].value.as_deref(), Some("ZUL"));
    assert!(failures[0].vendor_response.as_deref().unwrap_or_default().contains("\"errorCode\""));

    let shared = IntegrationSettings {
        customer_matching: CustomerMatching::Shared { customer_number: 999 },
        ..IntegrationSettings::default()
    };
    let failures = rejected(economic.transfer(&full_order("#4002"), &shared).await.unwrap_err());
    assert_eq!(failures[0].field.as_deref(), Some("customer"));
    assert!(failures[0].fix_hint.contains("shared customer number"), "{}", failures[0].fix_hint);
    assert!(sim.booked_invoices(GRANT).is_empty());

    let customers_before = sim.customers(GRANT).len();
    let on_one = IntegrationSettings {
        customer_matching: CustomerMatching::Shared { customer_number: 1 },
        ..IntegrationSettings::default()
    };
    economic.transfer(&full_order("#4003"), &on_one).await.unwrap();
    assert_eq!(sim.customers(GRANT).len(), customers_before, "a shared customer creates none");
    assert_eq!(sim.booked_invoices(GRANT)[0].customer.as_ref().and_then(|c| c.customer_number), Some(1));
}

#[tokio::test]
async fn a_reply_lost_after_booking_is_outcome_unknown_and_found_by_reference() {
    let (sim, economic, _) = start(EconomicOptions::default()).await;
    let settings = IntegrationSettings::default();
    sim.inject(GRANT, Fault::DropAfterBook);
    let err = economic.transfer(&full_order("#5001"), &settings).await.unwrap_err();
    assert!(matches!(err, SinkError::OutcomeUnknown { step: SendStep::Book, .. }), "{err:?}");
    assert_eq!(err.cause(), Cause::Network);

    let found = economic.find_invoice("#5001").await.unwrap().expect("the booking happened");
    assert_eq!(found.kind, InvoiceKind::Booked);
    assert_eq!(economic.transfer(&full_order("#5001"), &settings).await.unwrap(), found);
    assert_eq!(sim.stats(GRANT).invoices_booked, 1);

    sim.inject(GRANT, Fault::GarbleAfterBook);
    let err = economic.transfer(&full_order("#5002"), &settings).await.unwrap_err();
    assert!(matches!(err, SinkError::OutcomeUnknown { step: SendStep::Book, .. }), "{err:?}");
    assert!(economic.find_invoice("#5002").await.unwrap().is_some_and(|i| i.is_booked()));
}

#[tokio::test]
async fn a_reply_lost_after_the_draft_books_that_draft_and_no_second() {
    let (sim, economic, _) = start(EconomicOptions::default()).await;
    let settings = IntegrationSettings::default();
    sim.inject(GRANT, Fault::DropAfterDraft);
    let err = economic.transfer(&full_order("#6001"), &settings).await.unwrap_err();
    assert!(matches!(err, SinkError::OutcomeUnknown { step: SendStep::Draft, .. }), "{err:?}");
    assert!(err.to_string().contains("looked up by its reference"), "{err}");

    let found = economic.find_invoice("#6001").await.unwrap().unwrap();
    assert_eq!(found.kind, InvoiceKind::Draft);
    let booked = economic.transfer(&full_order("#6001"), &settings).await.unwrap();
    assert!(booked.is_booked());
    let stats = sim.stats(GRANT);
    assert_eq!((stats.drafts_created, stats.invoices_booked), (1, 1));
}

#[tokio::test]
async fn a_429_pauses_every_task_of_the_agreement_and_they_recover() {
    let options = EconomicOptions { requests_per_second: Some(5), ..EconomicOptions::default() };
    let (sim, economic, base) = start(options).await;
    let settings = IntegrationSettings::default();
    let orders: Vec<Order> = (0..3).map(|i| full_order(&format!("#70{i:02}"))).collect();
    let tasks = orders.iter().map(|o| {
        let (economic, settings) = (economic.clone(), settings.clone());
        async move {
            // What the worker does: a transient error goes back to pending and is retried.
            for _ in 0..50 {
                match economic.transfer(o, &settings).await {
                    Ok(invoice) => return invoice,
                    Err(SinkError::Transient { retry_after, .. }) => {
                        tokio::time::sleep(retry_after.unwrap_or(Duration::from_millis(50))).await;
                    }
                    Err(other) => panic!("{other}"),
                }
            }
            panic!("order {} never got through", o.reference);
        }
    });
    let invoices = futures::future::join_all(tasks).await;
    assert_eq!(invoices.len(), 3);
    let booked = sim.booked_invoices(GRANT);
    assert_eq!(booked.len(), 3, "each order booked exactly once");
    let stats = sim.stats(GRANT);
    assert!(stats.rate_limited >= 1, "the simulator refused some calls: {stats:?}");
    assert!(economic.gate().pauses() >= 1);
    // Another client of the same agreement shares the gate, so it waits too.
    let other = connect(&base, SECRET);
    assert_eq!(other.gate().pauses(), economic.gate().pauses());
}

#[tokio::test]
async fn a_503_on_a_lookup_is_retried() {
    let (sim, economic, _) = start(EconomicOptions::default()).await;
    sim.inject(GRANT, Fault::Unavailable);
    economic.transfer(&full_order("#8001"), &IntegrationSettings::default()).await.unwrap();
    assert_eq!(sim.stats(GRANT).invoices_booked, 1);
}

#[tokio::test]
async fn bad_credentials_are_an_auth_failure_without_the_secret() {
    let (_sim, _, base) = start(EconomicOptions::default()).await;
    let wrong = connect(&base, "not-the-secret-xyz");
    let err = wrong.transfer(&full_order("#9001"), &IntegrationSettings::default()).await.unwrap_err();
    assert_eq!(err.cause(), Cause::Auth);
    let text = format!("{err} {err:?}");
    assert!(!text.contains("not-the-secret-xyz") && !text.contains(GRANT), "{text}");
    assert!(rejected(err)[0].fix_hint.contains("grant"));
}

#[tokio::test]
async fn the_preflight_check_reads_only() {
    let (sim, economic, _) = start(EconomicOptions::default()).await;
    let o = order(
        "#10001",
        vec![
            line(LineKind::Product, Some("TSHIRT-BL"), "T-shirt, blue", dec!(1), dec!(159.96)),
            line(LineKind::Product, Some("GHOST"), "Ghost", dec!(1), dec!(10)),
            line(LineKind::Product, None, "Hoodie, navy", dec!(1), dec!(399)),
        ],
    );
    let failures = economic.check(&o, &IntegrationSettings::default()).await.unwrap();
    let causes: Vec<(Cause, Option<&str>)> = failures.iter().map(|f| (f.cause, f.value.as_deref())).collect();
    assert_eq!(causes, [(Cause::MissingSku, Some("sku")), (Cause::MissingProduct, Some("GHOST"))]);
    let shared = IntegrationSettings {
        customer_matching: CustomerMatching::Shared { customer_number: 404 },
        create_missing_products: true,
        ..IntegrationSettings::default()
    };
    let failures = economic.check(&o, &shared).await.unwrap();
    let causes: Vec<Cause> = failures.iter().map(|f| f.cause).collect();
    assert_eq!(causes, [Cause::MissingSku, Cause::AccountingValidation], "GHOST would be created");
    assert_eq!(sim.customers(GRANT).len(), 1);
    assert_eq!(sim.products(GRANT).len(), 2);
    assert_eq!(sim.stats(GRANT).drafts_created, 0);
}

#[tokio::test]
async fn the_shop_simulator_serves_economic_seeded_from_its_catalogue() {
    use importdesk::sim::{self, DefectRates, SimOptions};
    let opts = SimOptions {
        seed: 11,
        now: Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap(),
        customers: 2,
        defects: DefectRates { product_missing_in_accounting: 0.5, empty_sku: 0.0, ..DefectRates::default() },
        ..SimOptions::default()
    };
    let running = sim::start(opts, 0).await.unwrap();
    let shop = &running.data.customers[0];
    let entry = &shop.customer;
    assert!(entry.accounting_url.ends_with("/economic"), "{}", entry.accounting_url);
    let economic = Economic::new(
        importdesk::connect::http::client(),
        &entry.accounting_url,
        SecretString::from(entry.app_secret.clone()),
        SecretString::from(entry.grant_token.clone()),
    )
    .unwrap();
    let products = shop.products();
    let present = products.iter().find(|p| p.in_accounting).expect("some products are in accounting");
    let absent = products.iter().find(|p| !p.in_accounting).expect("some are not");
    let o = order(
        "#1",
        vec![
            line(LineKind::Product, present.sku.as_deref(), &present.name, dec!(1), dec!(100)),
            line(LineKind::Product, absent.sku.as_deref(), &absent.name, dec!(1), dec!(100)),
        ],
    );
    let failures = economic.check(&o, &IntegrationSettings::default()).await.unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].cause, Cause::MissingProduct);
    assert_eq!(failures[0].value, absent.sku);
    let shared = IntegrationSettings {
        customer_matching: CustomerMatching::Shared { customer_number: 1 },
        ..IntegrationSettings::default()
    };
    let one = order("#2", vec![line(LineKind::Product, present.sku.as_deref(), &present.name, dec!(1), dec!(100))]);
    assert!(economic.transfer(&one, &shared).await.unwrap().is_booked());
    running.shutdown().await;
}

#[tokio::test]
async fn a_barred_product_is_refused_before_anything_is_sent() {
    let (sim, economic, base) = start(EconomicOptions::default()).await;
    let barred = serde_json::json!({
        "productNumber": "OLD-CAP", "name": "Old cap", "productGroup": {"productGroupNumber": 1}, "barred": true
    });
    let resp = reqwest::Client::new()
        .post(format!("{base}products"))
        .header("X-AppSecretToken", SECRET)
        .header("X-AgreementGrantToken", GRANT)
        .json(&barred)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let o = order("#11001", vec![line(LineKind::Product, Some("OLD-CAP"), "Old cap", dec!(1), dec!(50))]);
    let settings = IntegrationSettings { create_missing_products: true, ..IntegrationSettings::default() };
    let preflight = economic.check(&o, &settings).await.unwrap();
    assert_eq!(preflight.len(), 1);
    assert!(preflight[0].detail.contains("barred"), "{}", preflight[0].detail);
    let err = economic.transfer(&o, &settings).await.unwrap_err();
    assert_eq!(err.cause(), Cause::AccountingValidation);
    assert_eq!(rejected(err)[0].value.as_deref(), Some("OLD-CAP"));
    assert_eq!(sim.stats(GRANT).drafts_created, 0);
}

#[tokio::test]
async fn a_product_deleted_after_it_was_checked_is_economics_e06000_on_that_line() {
    let (sim, economic, _) = start(EconomicOptions::default()).await;
    let settings = IntegrationSettings::default();
    economic.transfer(&full_order("#12001"), &settings).await.unwrap();
    assert!(sim.remove_product(GRANT, "TSHIRT-BL"));
    let err = economic.transfer(&full_order("#12002"), &settings).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "e-conomic rejected order #12002: line 1 'T-shirt, blue': product TSHIRT-BL does not exist (E06000)"
    );
    let failures = rejected(err);
    assert_eq!(failures[0].cause, Cause::MissingProduct);
    assert_eq!(failures[0].value.as_deref(), Some("TSHIRT-BL"));
    assert_eq!(failures[0].vendor_code.as_deref(), Some("E06000"));
    assert_eq!(failures[0].field.as_deref(), Some("lines[0].product"));
    assert_eq!(sim.booked_invoices(GRANT).len(), 1);
    // The stale "exists" was forgotten: a retry without the product is refused up front.
    assert_eq!(economic.transfer(&full_order("#12002"), &settings).await.unwrap_err().cause(), Cause::MissingProduct);
    assert_eq!(sim.stats(GRANT).drafts_created, 1);
}
