//! e-conomic's JSON shapes (shared by the connector and the simulator), its product-number
//! URL encoding, filter escaping, and the annotated validation errors flattened to fields.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Amounts travel as JSON numbers (`10.00`), not strings; reading accepts either.
pub mod number {
    use rust_decimal::Decimal;
    use rust_decimal::prelude::ToPrimitive;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        // f64 prints the shortest text that reads back the same, so 199.95 stays 199.95.
        s.serialize_f64(value.to_f64().unwrap_or_default())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        <Decimal as Deserialize>::deserialize(d)
    }

    pub mod option {
        use rust_decimal::Decimal;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
            <Option<Decimal> as Deserialize>::deserialize(d)
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayoutRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout_number: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentTermsRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms_number: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VatZoneRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_zone_number: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerGroupRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_group_number: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductGroupRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_group_number: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_number: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_zone: Option<VatZoneRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct References {
    /// The webshop order reference: the only way to find an invoice again (no idempotency key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Notes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
}

/// One invoice line. Every field is optional on the wire so the simulator can report what
/// is missing the way e-conomic does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "number::option")]
    pub quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "number::option")]
    pub unit_net_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "number::option")]
    pub discount_percentage: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "number::option")]
    pub total_net_amount: Option<Decimal>,
}

/// A draft invoice as posted to `/invoices/drafts` and returned by it (with its number and
/// totals), and the body of a booked invoice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_invoice_number: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booked_invoice_number: Option<u64>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<Recipient>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<LayoutRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<PaymentTermsRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<References>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Notes>,
    #[serde(default)]
    pub lines: Vec<InvoiceLine>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "number::option")]
    pub net_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "number::option")]
    pub vat_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "number::option")]
    pub gross_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "self")]
    pub self_link: Option<String>,
}

impl Invoice {
    pub fn reference(&self) -> Option<&str> {
        self.references.as_ref().and_then(|r| r.other.as_deref())
    }
}

/// `POST /invoices/booked`: `{"draftInvoice":{"draftInvoiceNumber":N}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookRequest {
    pub draft_invoice: DraftRef,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DraftRef {
    pub draft_invoice_number: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_group: Option<CustomerGroupRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<PaymentTermsRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_zone: Option<VatZoneRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone_and_fax_number: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "number::option")]
    pub sales_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_group: Option<ProductGroupRef>,
    /// e-conomic omits `false` booleans.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub barred: bool,
}

/// A page of a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collection<T> {
    pub collection: Vec<T>,
    pub pagination: Pagination,
    #[serde(rename = "self", default)]
    pub self_link: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub skip_pages: u64,
    pub page_size: u64,
    pub max_page_size_allowed: u64,
    pub results: u64,
    pub results_without_filter: u64,
    pub first_page: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<String>,
    pub last_page: String,
}

pub const MAX_PAGE_SIZE: u64 = 1000;
pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// e-conomic's own replacements for characters in resource URLs; anything else that is not
/// alphanumeric is percent-encoded.
const PRODUCT_NUMBER_ESCAPES: [(char, &str); 14] = [
    ('<', "_0_"),
    ('>', "_1_"),
    ('*', "_2_"),
    ('%', "_3_"),
    (':', "_4_"),
    ('&', "_5_"),
    ('/', "_6_"),
    ('\\', "_7_"),
    ('_', "_8_"),
    (' ', "_9_"),
    ('?', "_10_"),
    ('.', "_11_"),
    ('#', "_12_"),
    ('+', "_13_"),
];

/// A product number as one URL path segment: `My Product_5%` → `My_9_Product_8_5_3_`.
pub fn encode_product_number(number: &str) -> String {
    let mut out = String::with_capacity(number.len() + 8);
    for c in number.chars() {
        if let Some((_, replacement)) = PRODUCT_NUMBER_ESCAPES.iter().find(|(ch, _)| *ch == c) {
            out.push_str(replacement);
        } else if c.is_ascii_alphanumeric() || c == '-' {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            out.push_str(&urlencoding::encode(c.encode_utf8(&mut buf)));
        }
    }
    out
}

/// The reverse of [`encode_product_number`] on an already percent-decoded path segment.
pub fn decode_product_number(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    let mut rest = segment;
    while let Some(start) = rest.find('_') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let replaced = after.find('_').and_then(|end| {
            let code: usize = after[..end].parse().ok()?;
            let (ch, _) = PRODUCT_NUMBER_ESCAPES.get(code)?;
            Some((*ch, end))
        });
        match replaced {
            Some((ch, end)) => {
                out.push(ch);
                rest = &after[end + 1..];
            }
            None => {
                out.push('_');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A value inside a filter expression: `$ ( ) * , [ ]` get a leading `$`.
pub fn escape_filter_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    for c in value.chars() {
        if matches!(c, '$' | '(' | ')' | '*' | ',' | '[' | ']') {
            out.push('$');
        }
        out.push(c);
    }
    out
}

/// `property$eq:value`, escaped (the query string encoding is done by the URL builder).
pub fn filter_eq(property: &str, value: &str) -> String {
    format!("{property}$eq:{}", escape_filter_value(value))
}

/// A 400/401/… body: `{"message","developerHint","logId","httpStatusCode","errors":{…},"logTime"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developer_hint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_id: Option<String>,
    #[serde(default)]
    pub http_status_code: u16,
    /// Mirrors the request: each failing property holds `{"errors":[…]}`; array items carry
    /// `arrayIndex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_time: Option<String>,
}

/// One failing field of an annotated error, flattened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// `customer`, `lines[0].unitNetPrice`, `recipient.name`.
    pub path: String,
    /// The `arrayIndex` of the first array on the path (the invoice line), if any.
    pub line_index: Option<usize>,
    /// The last property name (`unitNetPrice`).
    pub property: String,
    pub code: Option<String>,
    pub message: String,
    /// The value sent in, as text.
    pub value: Option<String>,
}

impl ErrorBody {
    /// Every failing field, in document order.
    pub fn field_errors(&self) -> Vec<FieldError> {
        let mut out = Vec::new();
        if let Some(errors) = &self.errors {
            walk_errors(errors, "", None, &mut out);
        }
        out
    }
}

fn walk_errors(node: &Value, path: &str, line_index: Option<usize>, out: &mut Vec<FieldError>) {
    let Some(object) = node.as_object() else { return };
    for (key, value) in object {
        if key == "arrayIndex" {
            continue;
        }
        let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        match value {
            Value::Object(fields) => {
                if let Some(Value::Array(leaf)) = fields.get("errors") {
                    for e in leaf {
                        out.push(FieldError {
                            path: child.clone(),
                            line_index,
                            property: key.clone(),
                            code: e.get("errorCode").and_then(Value::as_str).map(str::to_string),
                            message: e.get("message").and_then(Value::as_str).unwrap_or_default().to_string(),
                            value: e.get("value").filter(|v| !v.is_null()).map(value_text),
                        });
                    }
                }
                // A nested object (`recipient.vatZone`) may carry errors of its own properties.
                let nested: serde_json::Map<String, Value> = fields
                    .iter()
                    .filter(|(k, _)| k.as_str() != "errors")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if !nested.is_empty() {
                    walk_errors(&Value::Object(nested), &child, line_index, out);
                }
            }
            Value::Array(items) => {
                for (position, item) in items.iter().enumerate() {
                    let index = item.get("arrayIndex").and_then(Value::as_u64).map_or(position, |i| i as usize);
                    walk_errors(item, &format!("{child}[{index}]"), line_index.or(Some(index)), out);
                }
            }
            _ => {}
        }
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const DRAFT_FIXTURE: &str = include_str!("../../tests/fixtures/economic_invoice_draft_post_request.json");
    const ERROR_FIXTURE: &str = include_str!("../../tests/fixtures/economic_error_validation_invoice_draft.json");

    #[test]
    fn the_documented_draft_request_reads_into_our_invoice() {
        let invoice: Invoice = serde_json::from_str(DRAFT_FIXTURE).unwrap();
        assert_eq!(invoice.date.as_deref(), Some("2014-08-08"));
        assert_eq!(invoice.currency.as_deref(), Some("DKK"));
        assert_eq!(invoice.customer.as_ref().and_then(|c| c.customer_number), Some(1));
        assert_eq!(invoice.layout.as_ref().and_then(|l| l.layout_number), Some(5));
        assert_eq!(invoice.payment_terms.as_ref().and_then(|p| p.payment_terms_number), Some(1));
        let recipient = invoice.recipient.as_ref().unwrap();
        assert_eq!(recipient.name.as_deref(), Some("Toj & Co Grossisten"));
        assert_eq!(recipient.vat_zone.as_ref().and_then(|v| v.vat_zone_number), Some(1));
        assert_eq!(invoice.reference(), Some("aaaa"));
        assert_eq!(invoice.lines.len(), 3);
        let line = &invoice.lines[0];
        assert_eq!(line.product.as_ref().and_then(|p| p.product_number.as_deref()), Some("50"));
        assert_eq!(line.quantity, Some(dec!(1)));
        assert_eq!(line.unit_net_price, Some(dec!(10)));
        assert_eq!(invoice.net_amount, Some(dec!(10)));
    }

    #[test]
    fn amounts_are_written_as_json_numbers() {
        let line = InvoiceLine {
            quantity: Some(dec!(2)),
            unit_net_price: Some(dec!(199.95)),
            description: Some("Hoodie".into()),
            ..InvoiceLine::default()
        };
        let json = serde_json::to_string(&line).unwrap();
        assert_eq!(json, r#"{"description":"Hoodie","quantity":2.0,"unitNetPrice":199.95}"#);
        let back: InvoiceLine = serde_json::from_str(&json).unwrap();
        assert_eq!(back.unit_net_price, Some(dec!(199.95)));
        // More than two decimals survive reading, so the simulator can refuse them (E04740).
        let sharp: InvoiceLine = serde_json::from_str(r#"{"unitNetPrice":10.12345}"#).unwrap();
        assert_eq!(sharp.unit_net_price.map(|d| d.scale()), Some(5));
    }

    #[test]
    fn the_documented_error_reads_into_field_errors() {
        let body: ErrorBody = serde_json::from_str(ERROR_FIXTURE).unwrap();
        assert_eq!(body.http_status_code, 400);
        assert_eq!(body.message, "Validation error.");
        let fields = body.field_errors();
        let paths: Vec<&str> = fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["currency", "customer", "lines[0].unit", "lines[0].unitNetPrice", "lines[1].product", "quantity"]
        );
        let customer = &fields[1];
        assert_eq!(customer.code.as_deref(), Some("E06000"));
        assert_eq!(customer.message, "customer does not exist.");
        assert_eq!(customer.value.as_deref(), Some("987987987"));
        assert_eq!(customer.line_index, None);
        let price = &fields[3];
        assert_eq!(price.line_index, Some(0));
        assert_eq!(price.property, "unitNetPrice");
        assert_eq!(price.code.as_deref(), Some("E04740"));
        assert_eq!(price.value.as_deref(), Some("10.12345"));
        let product = &fields[4];
        assert_eq!(product.line_index, Some(1));
        assert_eq!(product.code.as_deref(), Some("E04500"));
        assert_eq!(product.value, None);
    }

    #[test]
    fn nested_objects_report_their_own_fields() {
        let body: ErrorBody = serde_json::from_value(serde_json::json!({
            "message": "Validation error.",
            "httpStatusCode": 400,
            "errors": {"recipient": {"name": {"errors": [{"errorCode": "E04300", "message": "name is required."}]}}}
        }))
        .unwrap();
        let fields = body.field_errors();
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].path, "recipient.name");
        assert_eq!(fields[0].property, "name");
    }

    #[test]
    fn product_numbers_use_economics_own_escapes() {
        assert_eq!(encode_product_number("My Awesome Product_Discount5%"), "My_9_Awesome_9_Product_8_Discount5_3_");
        assert_eq!(encode_product_number("A/B.C_D"), "A_6_B_11_C_8_D");
        assert_eq!(encode_product_number("TSHIRT-BL"), "TSHIRT-BL");
        assert_eq!(encode_product_number("æble"), "%C3%A6ble");
        for raw in ["My Awesome Product_Discount5%", "A/B.C_D", "<>*%:&/\\_ ?.#+", "x_y", "æble@1"] {
            let decoded_url = urlencoding::decode(&encode_product_number(raw)).unwrap().into_owned();
            assert_eq!(decode_product_number(&decoded_url), raw);
        }
    }

    #[test]
    fn filter_values_are_escaped() {
        assert_eq!(filter_eq("email", "a@b.dk"), "email$eq:a@b.dk");
        assert_eq!(
            filter_eq("references.other", "#1001 (x), [y] $5*"),
            "references.other$eq:#1001 $(x$)$, $[y$] $$5$*"
        );
    }
}
