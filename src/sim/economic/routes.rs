//! The e-conomic simulator's endpoints: customers, products, draft and booked invoices, with
//! filters and pagination in e-conomic's collection shape.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;

use super::reply::{created, dropped_reply, garbled_reply, link_base, ok};
use super::{EconomicSim, Fault, filter, validate};
use crate::connect::economic_wire::{
    BookRequest, Collection, Customer, DEFAULT_PAGE_SIZE, Invoice, MAX_PAGE_SIZE, Pagination, Product,
    decode_product_number,
};
use crate::domain::money::{DANISH_VAT_RATE, round_ore};

impl EconomicSim {
    /// The routes, to be nested at `/economic`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/customers", get(list_customers).post(create_customer))
            .route("/customers/{number}", get(get_customer))
            .route("/products", get(list_products).post(create_product))
            .route("/products/{number}", get(get_product))
            .route("/invoices/drafts", get(list_drafts).post(create_draft))
            .route("/invoices/drafts/{number}", get(get_draft))
            .route("/invoices/booked", get(list_booked).post(book))
            .route("/invoices/booked/{number}", get(get_booked))
            .fallback(not_found_route)
            .with_state(self.clone())
    }
}

type Lookup<T> = fn(&T, &str) -> Option<Option<String>>;

fn customer_field(c: &Customer, property: &str) -> Option<Option<String>> {
    Some(match property {
        "customerNumber" => c.customer_number.map(|n| n.to_string()),
        "email" => c.email.clone(),
        "name" => c.name.clone(),
        "telephoneAndFaxNumber" => c.telephone_and_fax_number.clone(),
        "currency" => c.currency.clone(),
        _ => return None,
    })
}

fn product_field(p: &Product, property: &str) -> Option<Option<String>> {
    Some(match property {
        "productNumber" => p.product_number.clone(),
        "name" => p.name.clone(),
        _ => return None,
    })
}

fn invoice_field(i: &Invoice, property: &str) -> Option<Option<String>> {
    Some(match property {
        "references.other" => i.reference().map(str::to_string),
        "customer.customerNumber" => i.customer.as_ref().and_then(|c| c.customer_number).map(|n| n.to_string()),
        "date" => i.date.clone(),
        "currency" => i.currency.clone(),
        "draftInvoiceNumber" => i.draft_invoice_number.map(|n| n.to_string()),
        "bookedInvoiceNumber" => i.booked_invoice_number.map(|n| n.to_string()),
        "recipient.name" => i.recipient.as_ref().and_then(|r| r.name.clone()),
        _ => return None,
    })
}

/// One page of a collection, filtered, in e-conomic's `{"collection","pagination","self"}`.
fn list<T: Serialize + Clone>(
    sim: &EconomicSim,
    items: Vec<T>,
    lookup: Lookup<T>,
    query: &HashMap<String, String>,
    base: &str,
) -> Response {
    let number = |key: &str, default: u64| -> Result<u64, String> {
        match query.get(key) {
            None => Ok(default),
            Some(v) => v.trim().parse::<u64>().map_err(|_| format!("{key} must be a whole number, not '{v}'")),
        }
    };
    let paging = number("skippages", 0).and_then(|skip| Ok((skip, number("pagesize", DEFAULT_PAGE_SIZE)?)));
    let (skip, size) = match paging {
        Ok((_, 0)) => return sim.error(StatusCode::BAD_REQUEST, "pagesize must be at least 1.", "", None),
        Ok((_, size)) if size > MAX_PAGE_SIZE => {
            return sim.error(
                StatusCode::BAD_REQUEST,
                &format!("pagesize cannot be greater than {MAX_PAGE_SIZE}."),
                "Use skippages to page through larger collections.",
                None,
            );
        }
        Ok(p) => p,
        Err(message) => return sim.error(StatusCode::BAD_REQUEST, &message, "", None),
    };
    let raw_filter = query.get("filter").filter(|f| !f.is_empty());
    let filter = match raw_filter.map(|f| filter::parse(f)).transpose() {
        Ok(f) => f,
        Err(message) => {
            return sim.error(StatusCode::BAD_REQUEST, &format!("The filter is not valid: {message}"), "", None);
        }
    };
    if let Some(f) = &filter
        && let Some(sample) = items.first()
        && let Some(bad) = f.properties().into_iter().find(|p| lookup(sample, p).is_none())
    {
        return sim.error(
            StatusCode::BAD_REQUEST,
            &format!("Filtering on {bad} is not allowed."),
            "See the collection's schema for filterable properties.",
            None,
        );
    }
    let total = items.len() as u64;
    let matching: Vec<T> = match &filter {
        Some(f) => items.into_iter().filter(|item| f.matches(&|p| lookup(item, p).flatten())).collect(),
        None => items,
    };
    let results = matching.len() as u64;
    let page: Vec<T> = matching.into_iter().skip((skip * size) as usize).take(size as usize).collect();
    let last = results.div_ceil(size).saturating_sub(1);
    let filter_part = raw_filter.map(|f| format!("&filter={}", urlencoding::encode(f))).unwrap_or_default();
    let link = |n: u64| format!("{base}?skippages={n}&pagesize={size}{filter_part}");
    let collection = Collection {
        collection: page,
        pagination: Pagination {
            skip_pages: skip,
            page_size: size,
            max_page_size_allowed: MAX_PAGE_SIZE,
            results,
            results_without_filter: total,
            first_page: link(0),
            next_page: (skip < last).then(|| link(skip + 1)),
            last_page: link(last),
        },
        self_link: link(skip),
    };
    ok(&collection)
}

macro_rules! enter {
    ($sim:expr, $headers:expr) => {
        match $sim.enter(&$headers).await {
            Ok(grant) => grant,
            Err(response) => return response,
        }
    };
}

async fn not_found_route(State(sim): State<EconomicSim>, headers: HeaderMap) -> Response {
    let _grant = enter!(sim, headers);
    sim.not_found("Resource")
}

async fn list_customers(
    State(sim): State<EconomicSim>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let grant = enter!(sim, headers);
    let items = sim.customers(&grant);
    list(&sim, items, customer_field, &query, &link_base(&headers, &uri))
}

async fn get_customer(State(sim): State<EconomicSim>, headers: HeaderMap, Path(number): Path<String>) -> Response {
    let grant = enter!(sim, headers);
    let found = number.parse::<u64>().ok().and_then(|n| sim.with(&grant, |a| a.customers.get(&n).cloned()).flatten());
    match found {
        Some(c) => ok(&c),
        None => sim.not_found(&format!("Customer {number}")),
    }
}

async fn create_customer(State(sim): State<EconomicSim>, headers: HeaderMap, body: Bytes) -> Response {
    let grant = enter!(sim, headers);
    let mut customer: Customer = match sim.read_body(&headers, &body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let outcome = sim.with(&grant, |a| {
        let errors = validate::customer(&customer, &|n| a.customers.contains_key(&n));
        if !errors.is_empty() {
            return Err(errors);
        }
        let number = customer.customer_number.unwrap_or_else(|| a.customers.keys().max().map_or(1, |n| n + 1));
        customer.customer_number = Some(number);
        a.customers.insert(number, customer.clone());
        Ok(customer)
    });
    match outcome {
        Some(Ok(c)) => created(&c),
        Some(Err(errors)) => sim.validation_error(errors),
        None => sim.not_found("Agreement"),
    }
}

async fn list_products(
    State(sim): State<EconomicSim>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let grant = enter!(sim, headers);
    let items = sim.products(&grant);
    list(&sim, items, product_field, &query, &link_base(&headers, &uri))
}

async fn get_product(State(sim): State<EconomicSim>, headers: HeaderMap, Path(segment): Path<String>) -> Response {
    let grant = enter!(sim, headers);
    let number = decode_product_number(&segment);
    match sim.with(&grant, |a| a.products.get(&number).cloned()).flatten() {
        Some(p) => ok(&p),
        None => sim.not_found(&format!("Product {number}")),
    }
}

async fn create_product(State(sim): State<EconomicSim>, headers: HeaderMap, body: Bytes) -> Response {
    let grant = enter!(sim, headers);
    let product: Product = match sim.read_body(&headers, &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let outcome = sim.with(&grant, |a| {
        let errors = validate::product(&product, &|n| a.products.contains_key(n));
        if !errors.is_empty() {
            return Err(errors);
        }
        let number = product.product_number.clone().unwrap_or_default();
        a.products.insert(number, product.clone());
        Ok(product)
    });
    match outcome {
        Some(Ok(p)) => created(&p),
        Some(Err(errors)) => sim.validation_error(errors),
        None => sim.not_found("Agreement"),
    }
}

async fn list_drafts(
    State(sim): State<EconomicSim>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let grant = enter!(sim, headers);
    let items = sim.draft_invoices(&grant);
    list(&sim, items, invoice_field, &query, &link_base(&headers, &uri))
}

async fn list_booked(
    State(sim): State<EconomicSim>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let grant = enter!(sim, headers);
    let items = sim.booked_invoices(&grant);
    list(&sim, items, invoice_field, &query, &link_base(&headers, &uri))
}

async fn get_draft(State(sim): State<EconomicSim>, headers: HeaderMap, Path(number): Path<String>) -> Response {
    let grant = enter!(sim, headers);
    let found = number.parse::<u64>().ok().and_then(|n| sim.with(&grant, |a| a.drafts.get(&n).cloned()).flatten());
    match found {
        Some(i) => ok(&i),
        None => sim.not_found(&format!("Draft invoice {number}")),
    }
}

async fn get_booked(State(sim): State<EconomicSim>, headers: HeaderMap, Path(number): Path<String>) -> Response {
    let grant = enter!(sim, headers);
    let found = number.parse::<u64>().ok().and_then(|n| sim.with(&grant, |a| a.booked.get(&n).cloned()).flatten());
    match found {
        Some(i) => ok(&i),
        None => sim.not_found(&format!("Booked invoice {number}")),
    }
}

/// Line totals, net, VAT (domestic zone 1 pays Danish VAT) and gross, as e-conomic fills them in.
fn fill_totals(invoice: &mut Invoice) {
    let mut net = Decimal::ZERO;
    for (index, line) in invoice.lines.iter_mut().enumerate() {
        line.line_number.get_or_insert(index as u32 + 1);
        let total = round_ore(line.quantity.unwrap_or(Decimal::ONE) * line.unit_net_price.unwrap_or_default());
        line.total_net_amount = Some(total);
        net += total;
    }
    let domestic =
        invoice.recipient.as_ref().and_then(|r| r.vat_zone.as_ref()).and_then(|v| v.vat_zone_number) == Some(1);
    let vat = if domestic { round_ore(net * DANISH_VAT_RATE) } else { Decimal::ZERO };
    invoice.net_amount = Some(net);
    invoice.vat_amount = Some(vat);
    invoice.gross_amount = Some(net + vat);
}

async fn create_draft(
    State(sim): State<EconomicSim>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let grant = enter!(sim, headers);
    let mut invoice: Invoice = match sim.read_body(&headers, &body) {
        Ok(i) => i,
        Err(r) => return *r,
    };
    let base = link_base(&headers, &uri);
    let outcome = sim.with(&grant, |a| {
        let errors = validate::draft(&invoice, &|n| a.customers.contains_key(&n), &|p| a.products.contains_key(p));
        if !errors.is_empty() {
            return Err(errors);
        }
        let number = a.next_draft;
        a.next_draft += 1;
        invoice.draft_invoice_number = Some(number);
        invoice.booked_invoice_number = None;
        invoice.self_link = Some(format!("{base}/{number}"));
        fill_totals(&mut invoice);
        a.drafts.insert(number, invoice.clone());
        a.stats.drafts_created += 1;
        Ok(invoice)
    });
    match outcome {
        Some(Ok(invoice)) => match sim.reply_fault(&grant, &[Fault::DropAfterDraft]) {
            Some(_) => dropped_reply(StatusCode::CREATED, &invoice),
            None => created(&invoice),
        },
        Some(Err(errors)) => sim.validation_error(errors),
        None => sim.not_found("Agreement"),
    }
}

async fn book(
    State(sim): State<EconomicSim>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let grant = enter!(sim, headers);
    let request: Value = match sim.read_body(&headers, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Ok(request) = serde_json::from_value::<BookRequest>(request) else {
        let mut errors = validate::Errors::default();
        errors.add(
            &["draftInvoice", "draftInvoiceNumber"],
            validate::REQUIRED,
            "Property draftInvoice.draftInvoiceNumber is required.",
            None,
            "Post {\"draftInvoice\":{\"draftInvoiceNumber\":N}}.",
        );
        return sim.validation_error(errors);
    };
    let number = request.draft_invoice.draft_invoice_number;
    let base = link_base(&headers, &uri);
    let outcome = sim.with(&grant, |a| {
        let Some(mut invoice) = a.drafts.remove(&number) else {
            let mut errors = validate::Errors::default();
            errors.add(
                &["draftInvoice", "draftInvoiceNumber"],
                validate::DOES_NOT_EXIST,
                "draft invoice does not exist.",
                Some(json!(number)),
                "Find a list of resources at https://restapi.e-conomic.com/invoices/drafts.",
            );
            return Err(errors);
        };
        let booked = a.next_booked;
        a.next_booked += 1;
        invoice.draft_invoice_number = None;
        invoice.booked_invoice_number = Some(booked);
        invoice.self_link = Some(format!("{base}/{booked}"));
        a.booked.insert(booked, invoice.clone());
        a.stats.invoices_booked += 1;
        Ok(invoice)
    });
    match outcome {
        Some(Ok(invoice)) => match sim.reply_fault(&grant, &[Fault::DropAfterBook, Fault::GarbleAfterBook]) {
            Some(Fault::GarbleAfterBook) => garbled_reply(StatusCode::CREATED, &invoice),
            Some(_) => dropped_reply(StatusCode::CREATED, &invoice),
            None => created(&invoice),
        },
        Some(Err(errors)) => sim.validation_error(errors),
        None => sim.not_found("Agreement"),
    }
}
