//! The simulator's validation of posted documents, answered in e-conomic's annotated error
//! format: the errors mirror the request, failing properties hold `{"errors":[…]}`, array
//! items carry `arrayIndex`.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

use crate::connect::economic_wire::{Customer, Invoice, Product};
use crate::domain::cause::MAX_PRODUCT_NUMBER_CHARS;

/// Codes from e-conomic's documentation and the API notes.
pub const DOES_NOT_EXIST: &str = "E06000";
pub const TOO_MANY_DECIMALS: &str = "E04740";
pub const NO_PRODUCT_IDENTIFIER: &str = "E04500";
pub const QUANTITY_MISSING: &str = "E04730";
/// Codes the notes do not name; the simulator's own choice for these cases.
pub const REQUIRED: &str = "E04300";
pub const INVALID: &str = "E04200";
pub const ALREADY_EXISTS: &str = "E06010";

const HINT_CHECK: &str = "Please check your request data.";

/// Currencies the simulated agreements know.
const CURRENCIES: [&str; 6] = ["DKK", "EUR", "SEK", "NOK", "USD", "GBP"];

/// Collected field errors, shaped like the request.
#[derive(Debug, Default)]
pub struct Errors {
    root: Map<String, Value>,
    lines: BTreeMap<usize, Map<String, Value>>,
}

impl Errors {
    pub fn is_empty(&self) -> bool {
        self.root.is_empty() && self.lines.is_empty()
    }

    /// An error on a property of the document (`["recipient", "name"]`).
    pub fn add(&mut self, path: &[&str], code: &str, message: &str, value: Option<Value>, hint: &str) {
        insert(&mut self.root, path, error(code, message, value, hint));
    }

    /// An error on a property of line `index` (0-based, as `arrayIndex`).
    pub fn add_line(&mut self, index: usize, path: &[&str], code: &str, message: &str, value: Option<Value>) {
        let line = self.lines.entry(index).or_default();
        insert(line, path, error(code, message, value, HINT_CHECK));
    }

    /// The `errors` member of the 400 body.
    pub fn into_value(mut self) -> Value {
        if !self.lines.is_empty() {
            let lines: Vec<Value> = self
                .lines
                .into_iter()
                .map(|(index, mut fields)| {
                    fields.insert("arrayIndex".into(), json!(index));
                    Value::Object(fields)
                })
                .collect();
            self.root.insert("lines".into(), Value::Array(lines));
        }
        Value::Object(self.root)
    }
}

fn error(code: &str, message: &str, value: Option<Value>, hint: &str) -> Value {
    let mut e = Map::new();
    e.insert("errorCode".into(), json!(code));
    e.insert("message".into(), json!(message));
    if let Some(v) = value {
        e.insert("value".into(), v);
    }
    e.insert("developerHint".into(), json!(hint));
    Value::Object(e)
}

fn insert(map: &mut Map<String, Value>, path: &[&str], err: Value) {
    let Some((first, rest)) = path.split_first() else { return };
    let slot = map.entry(first.to_string()).or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(node) = slot else { return };
    if rest.is_empty() {
        let list = node.entry("errors").or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = list {
            items.push(err);
        }
    } else {
        insert(node, rest, err);
    }
}

fn required(errors: &mut Errors, path: &[&str]) {
    let name = path.join(".");
    errors.add(path, REQUIRED, &format!("Property {name} is required."), None, HINT_CHECK);
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

/// A draft invoice, against the agreement's customers and products.
pub fn draft(
    invoice: &Invoice,
    customer_exists: &dyn Fn(u64) -> bool,
    product_exists: &dyn Fn(&str) -> bool,
) -> Errors {
    let mut errors = Errors::default();
    match invoice.currency.as_deref() {
        None => required(&mut errors, &["currency"]),
        Some(c) if !CURRENCIES.iter().any(|k| k.eq_ignore_ascii_case(c)) => errors.add(
            &["currency"],
            DOES_NOT_EXIST,
            "currency does not exist.",
            Some(json!(c)),
            "Find a list of currencies at https://restapi.e-conomic.com/currencies.",
        ),
        Some(_) => {}
    }
    match invoice.customer.as_ref().and_then(|c| c.customer_number) {
        None => required(&mut errors, &["customer"]),
        Some(n) if !customer_exists(n) => errors.add(
            &["customer"],
            DOES_NOT_EXIST,
            "customer does not exist.",
            Some(json!(n.to_string())),
            "Find a list of resources at https://restapi.e-conomic.com/customers.",
        ),
        Some(_) => {}
    }
    match invoice.date.as_deref() {
        None => required(&mut errors, &["date"]),
        Some(d) if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() => {
            errors.add(&["date"], INVALID, "date must be a date in the format YYYY-MM-DD.", Some(json!(d)), HINT_CHECK)
        }
        Some(_) => {}
    }
    if invoice.layout.as_ref().and_then(|l| l.layout_number).is_none() {
        required(&mut errors, &["layout"]);
    }
    if invoice.payment_terms.as_ref().and_then(|p| p.payment_terms_number).is_none() {
        required(&mut errors, &["paymentTerms"]);
    }
    match &invoice.recipient {
        None => required(&mut errors, &["recipient"]),
        Some(r) => {
            if blank(&r.name) {
                required(&mut errors, &["recipient", "name"]);
            }
            if r.vat_zone.as_ref().and_then(|v| v.vat_zone_number).is_none() {
                required(&mut errors, &["recipient", "vatZone"]);
            }
        }
    }
    if let Some(other) = invoice.reference().filter(|o| o.chars().count() > 250) {
        errors.add(
            &["references", "other"],
            INVALID,
            "references.other cannot be longer than 250 characters.",
            Some(json!(other)),
            HINT_CHECK,
        );
    }
    for (index, line) in invoice.lines.iter().enumerate() {
        if let Some(product) = &line.product {
            match product.product_number.as_deref() {
                None => errors.add_line(
                    index,
                    &["product"],
                    NO_PRODUCT_IDENTIFIER,
                    "No identifiers present on product. Please include either a self link or a productNumber.",
                    None,
                ),
                Some(number) if !product_exists(number) => {
                    errors.add_line(index, &["product"], DOES_NOT_EXIST, "product does not exist.", Some(json!(number)))
                }
                Some(_) => {}
            }
            if line.quantity.is_none() {
                errors.add_line(
                    index,
                    &["quantity"],
                    QUANTITY_MISSING,
                    "Property quantity must have a value when product is set.",
                    None,
                );
            }
        }
        if blank(&line.description) {
            errors.add_line(index, &["description"], REQUIRED, "Property description is required.", None);
        }
        if let Some(price) = line.unit_net_price.filter(|p| p.normalize().scale() > 2) {
            errors.add_line(
                index,
                &["unitNetPrice"],
                TOO_MANY_DECIMALS,
                "unitNetPrice scale cannot be greater then two decimal places.",
                serde_json::Number::from_f64(rust_decimal::prelude::ToPrimitive::to_f64(&price).unwrap_or_default())
                    .map(Value::Number),
            );
        }
    }
    errors
}

/// `POST /customers`: the required properties and a free customer number.
pub fn customer(c: &Customer, number_taken: &dyn Fn(u64) -> bool) -> Errors {
    let mut errors = Errors::default();
    if blank(&c.currency) {
        required(&mut errors, &["currency"]);
    }
    if c.customer_group.as_ref().and_then(|g| g.customer_group_number).is_none() {
        required(&mut errors, &["customerGroup"]);
    }
    if blank(&c.name) {
        required(&mut errors, &["name"]);
    }
    if c.payment_terms.as_ref().and_then(|p| p.payment_terms_number).is_none() {
        required(&mut errors, &["paymentTerms"]);
    }
    if c.vat_zone.as_ref().and_then(|v| v.vat_zone_number).is_none() {
        required(&mut errors, &["vatZone"]);
    }
    match c.customer_number {
        Some(n) if !(1..=999_999_999).contains(&n) => errors.add(
            &["customerNumber"],
            INVALID,
            "customerNumber must be between 1 and 999999999.",
            Some(json!(n)),
            HINT_CHECK,
        ),
        Some(n) if number_taken(n) => errors.add(
            &["customerNumber"],
            ALREADY_EXISTS,
            "customerNumber is already in use.",
            Some(json!(n)),
            HINT_CHECK,
        ),
        _ => {}
    }
    errors
}

/// `POST /products`: name, group and a free product number of at most 25 characters.
pub fn product(p: &Product, exists: &dyn Fn(&str) -> bool) -> Errors {
    let mut errors = Errors::default();
    if blank(&p.name) {
        required(&mut errors, &["name"]);
    }
    if p.product_group.as_ref().and_then(|g| g.product_group_number).is_none() {
        required(&mut errors, &["productGroup"]);
    }
    match p.product_number.as_deref() {
        None => required(&mut errors, &["productNumber"]),
        Some(n) if n.trim().is_empty() => required(&mut errors, &["productNumber"]),
        Some(n) if n.chars().count() > MAX_PRODUCT_NUMBER_CHARS => errors.add(
            &["productNumber"],
            INVALID,
            "productNumber cannot be longer than 25 characters.",
            Some(json!(n)),
            HINT_CHECK,
        ),
        Some(n) if exists(n) => errors.add(
            &["productNumber"],
            ALREADY_EXISTS,
            "productNumber is already in use.",
            Some(json!(n)),
            HINT_CHECK,
        ),
        Some(_) => {}
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::economic_wire::{CustomerRef, InvoiceLine, ProductRef};
    use rust_decimal_macros::dec;

    #[test]
    fn errors_mirror_the_request_with_array_indexes() {
        let invoice = Invoice {
            currency: Some("ZUL".into()),
            customer: Some(CustomerRef { customer_number: Some(987987987) }),
            lines: vec![
                InvoiceLine {
                    description: Some("a".into()),
                    unit_net_price: Some(dec!(10.12345)),
                    ..Default::default()
                },
                InvoiceLine {
                    description: Some("b".into()),
                    product: Some(ProductRef { product_number: None }),
                    quantity: Some(dec!(1)),
                    ..Default::default()
                },
            ],
            ..Invoice::default()
        };
        let value = draft(&invoice, &|_| false, &|_| true).into_value();
        assert_eq!(value["currency"]["errors"][0]["errorCode"], "E06000");
        assert_eq!(value["customer"]["errors"][0]["value"], "987987987");
        assert_eq!(value["lines"][0]["arrayIndex"], 0);
        assert_eq!(value["lines"][0]["unitNetPrice"]["errors"][0]["errorCode"], "E04740");
        assert_eq!(value["lines"][0]["unitNetPrice"]["errors"][0]["value"], 10.12345);
        assert_eq!(value["lines"][1]["arrayIndex"], 1);
        assert_eq!(value["lines"][1]["product"]["errors"][0]["errorCode"], "E04500");
        assert_eq!(value["recipient"]["errors"][0]["errorCode"], REQUIRED);
    }

    #[test]
    fn trailing_zeros_are_not_decimals() {
        let invoice = Invoice {
            lines: vec![InvoiceLine {
                description: Some("a".into()),
                unit_net_price: Some(dec!(10.5000)),
                ..Default::default()
            }],
            ..Invoice::default()
        };
        let value = draft(&invoice, &|_| true, &|_| true).into_value();
        assert!(value.get("lines").is_none(), "{value}");
    }
}
