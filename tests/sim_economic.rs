//! The e-conomic simulator over real HTTP on loopback: tokens, filters and pagination,
//! validation errors in the documented annotated shape, the rate limit, and cut connections.

use importdesk::connect::economic_wire::{ErrorBody, Invoice, encode_product_number, filter_eq};
use importdesk::sim::economic::{AgreementSeed, CustomerSeed, EconomicOptions, EconomicSim, Fault, ProductSeed};
use rust_decimal_macros::dec;
use serde_json::{Value, json};

const ERROR_FIXTURE: &str = include_str!("fixtures/economic_error_validation_invoice_draft.json");

struct Api {
    client: reqwest::Client,
    base: String,
    secret: String,
    grant: String,
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn with_tokens(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        rb.header("X-AppSecretToken", &self.secret).header("X-AgreementGrantToken", &self.grant)
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let resp = self.with_tokens(self.client.get(self.url(path)).query(query)).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let resp = self.with_tokens(self.client.post(self.url(path)).json(body)).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

fn seed(grant: &str) -> AgreementSeed {
    AgreementSeed {
        app_secret: format!("secret-{grant}"),
        grant_token: grant.to_string(),
        products: vec![
            ProductSeed { number: "TSHIRT-BL".into(), name: "T-shirt, blue".into(), price: dec!(199.95) },
            ProductSeed { number: "A/B.C_D 5%".into(), name: "Odd number".into(), price: dec!(10) },
        ],
        customers: vec![CustomerSeed { number: 1, name: "Webshop customers".into(), email: None }],
    }
}

async fn start(options: EconomicOptions) -> (EconomicSim, Api) {
    let sim = EconomicSim::new(vec![seed("grant-a"), seed("grant-b")], options);
    let (base, _server) = sim.serve_on_loopback().await.unwrap();
    let api = Api { client: reqwest::Client::new(), base, secret: "secret-grant-a".into(), grant: "grant-a".into() };
    (sim, api)
}

fn draft(reference: &str, customer: u64, lines: Value) -> Value {
    json!({
        "date": "2026-03-01",
        "currency": "DKK",
        "customer": {"customerNumber": customer},
        "recipient": {"name": "Mette Hansen", "vatZone": {"vatZoneNumber": 1}},
        "layout": {"layoutNumber": 19},
        "paymentTerms": {"paymentTermsNumber": 1},
        "references": {"other": reference},
        "lines": lines
    })
}

fn tshirt_line() -> Value {
    json!([{"lineNumber": 1, "product": {"productNumber": "TSHIRT-BL"}, "description": "T-shirt, blue", "quantity": 2, "unitNetPrice": 199.95}])
}

#[tokio::test]
async fn wrong_tokens_get_a_401_in_economics_error_shape() {
    let (_sim, mut api) = start(EconomicOptions::default()).await;
    api.secret = "wrong".into();
    let (status, body) = api.get("customers", &[]).await;
    assert_eq!(status, 401);
    for key in ["message", "developerHint", "logId", "httpStatusCode", "logTime"] {
        assert!(body.get(key).is_some(), "{key} missing in {body}");
    }
    assert_eq!(body["httpStatusCode"], 401);
    // The right secret with another agreement's grant is refused too.
    api.secret = "secret-grant-a".into();
    api.grant = "grant-b".into();
    assert_eq!(api.get("customers", &[]).await.0, 401);
}

#[tokio::test]
async fn customers_are_validated_created_and_found_by_escaped_email() {
    let (sim, api) = start(EconomicOptions::default()).await;
    let (status, body) = api.post("customers", &json!({"name": "No group"})).await;
    assert_eq!(status, 400);
    let fields: Vec<String> =
        serde_json::from_value::<ErrorBody>(body).unwrap().field_errors().into_iter().map(|f| f.path).collect();
    assert_eq!(fields, ["currency", "customerGroup", "paymentTerms", "vatZone"]);

    let email = "mette+shop(1)@example.dk";
    let customer = json!({
        "name": "Mette Hansen", "email": email, "currency": "DKK",
        "customerGroup": {"customerGroupNumber": 1}, "paymentTerms": {"paymentTermsNumber": 1}, "vatZone": {"vatZoneNumber": 1}
    });
    let (status, created) = api.post("customers", &customer).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["customerNumber"], 2, "numbered after the seeded customer 1");

    let (status, found) = api.get("customers", &[("filter", &filter_eq("email", email))]).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["collection"].as_array().unwrap().len(), 1);
    assert_eq!(found["collection"][0]["customerNumber"], 2);
    assert_eq!(found["pagination"]["results"], 1);
    assert_eq!(found["pagination"]["resultsWithoutFilter"], 2);
    assert!(found["self"].as_str().unwrap().contains("/economic/customers"));

    let (_, none) = api.get("customers", &[("filter", &filter_eq("email", "other@example.dk"))]).await;
    assert_eq!(none["collection"].as_array().unwrap().len(), 0);
    assert_eq!(sim.customers("grant-a").len(), 2);
    assert_eq!(sim.customers("grant-b").len(), 1, "agreements do not share customers");
}

#[tokio::test]
async fn collections_page_with_skippages_and_refuse_big_pages() {
    let (_sim, api) = start(EconomicOptions::default()).await;
    for i in 0..5 {
        let customer = json!({
            "name": format!("C{i}"), "currency": "DKK", "customerGroup": {"customerGroupNumber": 1},
            "paymentTerms": {"paymentTermsNumber": 1}, "vatZone": {"vatZoneNumber": 1}
        });
        assert_eq!(api.post("customers", &customer).await.0, 201);
    }
    let (_, page) = api.get("customers", &[("skippages", "2"), ("pagesize", "2")]).await;
    let numbers: Vec<u64> =
        page["collection"].as_array().unwrap().iter().map(|c| c["customerNumber"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [5, 6]);
    assert_eq!(page["pagination"]["skipPages"], 2);
    assert!(page["pagination"].get("nextPage").is_none(), "the last page has no next");
    let (_, first) = api.get("customers", &[("pagesize", "2")]).await;
    assert!(first["pagination"]["nextPage"].as_str().unwrap().contains("skippages=1"));
    assert_eq!(api.get("customers", &[("pagesize", "1001")]).await.0, 400);
    assert_eq!(api.get("customers", &[("pagesize", "1000")]).await.0, 200);
    assert_eq!(api.get("customers", &[("filter", "nosuchfield$eq:1")]).await.0, 400);
}

#[tokio::test]
async fn products_are_found_by_their_encoded_number_and_can_be_added() {
    let (sim, api) = start(EconomicOptions::default()).await;
    let (status, product) = api.get(&format!("products/{}", encode_product_number("A/B.C_D 5%")), &[]).await;
    assert_eq!(status, 200, "{product}");
    assert_eq!(product["productNumber"], "A/B.C_D 5%");
    assert_eq!(api.get("products/HOODIE-NV", &[]).await.0, 404);

    let (status, body) = api.post("products", &json!({"productNumber": "HOODIE-NV", "name": "Hoodie"})).await;
    assert_eq!(status, 400, "productGroup is required: {body}");
    let new = json!({"productNumber": "HOODIE-NV", "name": "Hoodie, navy", "productGroup": {"productGroupNumber": 1}, "salesPrice": 399.0});
    assert_eq!(api.post("products", &new).await.0, 201);
    assert_eq!(api.get("products/HOODIE-NV", &[]).await.0, 200);
    assert_eq!(api.post("products", &new).await.0, 400, "a product number is used once");

    sim.add_product("grant-a", ProductSeed { number: "MUG".into(), name: "Mug".into(), price: dec!(49) });
    assert_eq!(api.get("products/MUG", &[]).await.0, 200);
}

/// Replaces every leaf with its JSON type, so two documents can be compared by shape.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => Value::Null,
    }
}

#[tokio::test]
async fn a_bad_draft_gets_errors_in_the_documented_annotated_shape() {
    let (sim, api) = start(EconomicOptions::default()).await;
    let mut body = draft(
        "#1001",
        987987987,
        json!([
            {"product": {"productNumber": "TSHIRT-BL"}, "description": "a", "quantity": 1, "unitNetPrice": 10.12345},
            {"product": {}, "description": "b", "quantity": 1, "unitNetPrice": 10}
        ]),
    );
    body["currency"] = json!("ZUL");
    let (status, reply) = api.post("invoices/drafts", &body).await;
    assert_eq!(status, 400);
    let fixture: Value = serde_json::from_str(ERROR_FIXTURE).unwrap();

    // The envelope has exactly the documented keys.
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&reply), keys(&fixture));
    assert_eq!(shape(&reply["httpStatusCode"]), shape(&fixture["httpStatusCode"]));
    // Every error the simulator and the document share has the same shape.
    for path in [&["currency"][..], &["customer"]] {
        let (ours, theirs) = (&reply["errors"][path[0]], &fixture["errors"][path[0]]);
        assert_eq!(shape(ours), shape(theirs), "{}", path[0]);
    }
    assert_eq!(
        shape(&reply["errors"]["lines"][0]["unitNetPrice"]),
        shape(&fixture["errors"]["lines"][0]["unitNetPrice"])
    );
    assert_eq!(shape(&reply["errors"]["lines"][1]["product"]), shape(&fixture["errors"]["lines"][1]["product"]));
    assert_eq!(reply["errors"]["lines"][1]["arrayIndex"], 1);

    let parsed: ErrorBody = serde_json::from_value(reply).unwrap();
    let codes: Vec<(String, Option<String>)> = parsed.field_errors().into_iter().map(|f| (f.path, f.code)).collect();
    assert_eq!(
        codes,
        [
            ("currency".to_string(), Some("E06000".to_string())),
            ("customer".to_string(), Some("E06000".to_string())),
            ("lines[0].unitNetPrice".to_string(), Some("E04740".to_string())),
            ("lines[1].product".to_string(), Some("E04500".to_string())),
        ]
    );
    assert!(sim.draft_invoices("grant-a").is_empty(), "nothing is created when validation fails");
}

#[tokio::test]
async fn a_missing_product_and_a_missing_quantity_are_line_errors() {
    let (_sim, api) = start(EconomicOptions::default()).await;
    let body = draft(
        "#1002",
        1,
        json!([
            {"product": {"productNumber": "TSHIRT-BL"}, "description": "T-shirt", "unitNetPrice": 10},
            {"product": {"productNumber": "GHOST"}, "description": "Ghost", "quantity": 1, "unitNetPrice": 10}
        ]),
    );
    let (status, reply) = api.post("invoices/drafts", &body).await;
    assert_eq!(status, 400);
    assert_eq!(reply["errors"]["lines"][0]["quantity"]["errors"][0]["errorCode"], "E04730");
    assert_eq!(reply["errors"]["lines"][1]["product"]["errors"][0]["errorCode"], "E06000");
    assert_eq!(reply["errors"]["lines"][1]["product"]["errors"][0]["value"], "GHOST");
    let mut nameless = draft("#1003", 1, tshirt_line());
    nameless["recipient"]["name"] = json!("");
    let (status, reply) = api.post("invoices/drafts", &nameless).await;
    assert_eq!(status, 400);
    assert!(reply["errors"]["recipient"]["name"]["errors"][0]["errorCode"].is_string(), "{reply}");
}

#[tokio::test]
async fn drafts_are_booked_and_found_by_reference() {
    let (sim, api) = start(EconomicOptions::default()).await;
    let (status, created) = api.post("invoices/drafts", &draft("#1001 (gift), [x]", 1, tshirt_line())).await;
    assert_eq!(status, 201, "{created}");
    let number = created["draftInvoiceNumber"].as_u64().unwrap();
    assert_eq!(created["netAmount"], 399.9);
    assert_eq!(created["vatAmount"], 99.98);

    let by_ref = filter_eq("references.other", "#1001 (gift), [x]");
    let (_, drafts) = api.get("invoices/drafts", &[("filter", &by_ref)]).await;
    assert_eq!(drafts["collection"].as_array().unwrap().len(), 1);
    let (_, other) = api.get("invoices/drafts", &[("filter", &filter_eq("references.other", "#1001"))]).await;
    assert_eq!(other["collection"].as_array().unwrap().len(), 0, "equality, not a prefix match");

    let (status, booked) = api.post("invoices/booked", &json!({"draftInvoice": {"draftInvoiceNumber": number}})).await;
    assert_eq!(status, 201, "{booked}");
    let booked_number = booked["bookedInvoiceNumber"].as_u64().unwrap();
    assert_eq!(booked["references"]["other"], "#1001 (gift), [x]");

    let (_, drafts) = api.get("invoices/drafts", &[("filter", &by_ref)]).await;
    assert_eq!(drafts["collection"].as_array().unwrap().len(), 0, "booking consumes the draft");
    let (_, found) = api.get("invoices/booked", &[("filter", &by_ref)]).await;
    assert_eq!(found["collection"][0]["bookedInvoiceNumber"].as_u64(), Some(booked_number));
    assert_eq!(api.get(&format!("invoices/booked/{booked_number}"), &[]).await.0, 200);

    let invoices: Vec<Invoice> = sim.booked_invoices("grant-a");
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0].lines[0].unit_net_price, Some(dec!(199.95)));
    assert!(sim.booked_invoices("grant-b").is_empty());

    let (status, again) = api.post("invoices/booked", &json!({"draftInvoice": {"draftInvoiceNumber": number}})).await;
    assert_eq!(status, 400, "a draft is booked once: {again}");
}

#[tokio::test]
async fn calls_over_the_rate_get_429_with_retry_after() {
    let options = EconomicOptions { requests_per_second: Some(2), ..EconomicOptions::default() };
    let (sim, api) = start(options).await;
    let mut limited = None;
    for _ in 0..10 {
        let resp = api.with_tokens(api.client.get(api.url("customers"))).send().await.unwrap();
        if resp.status().as_u16() == 429 {
            limited = Some(resp);
            break;
        }
    }
    let resp = limited.expect("ten quick calls at two a second must hit the limit");
    let retry_after: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["httpStatusCode"], 429);
    assert!(sim.stats("grant-a").rate_limited >= 1);
    assert_eq!(sim.stats("grant-b").rate_limited, 0, "the limit is per agreement");
}

#[tokio::test]
async fn a_dropped_reply_still_commits_the_booking() {
    let (sim, api) = start(EconomicOptions::default()).await;
    let (_, created) = api.post("invoices/drafts", &draft("#2001", 1, tshirt_line())).await;
    let number = created["draftInvoiceNumber"].as_u64().unwrap();
    sim.inject("grant-a", Fault::DropAfterBook);
    let sent = api
        .with_tokens(api.client.post(api.url("invoices/booked")))
        .json(&json!({"draftInvoice": {"draftInvoiceNumber": number}}))
        .send()
        .await;
    let read = match sent {
        Ok(resp) => resp.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(read.is_err(), "the reply must be cut");
    assert_eq!(sim.booked_invoices("grant-a").len(), 1, "but the booking happened");

    sim.inject("grant-a", Fault::Unavailable);
    assert_eq!(api.get("customers", &[]).await.0, 503);
    assert_eq!(api.get("customers", &[]).await.0, 200, "a fault fires once");
}
