//! Why an order failed: a stable cause code, what is at fault and what the customer must fix,
//! plus the checks that can be made before the accounting system is asked anything.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::customer::{CustomerMatching, IntegrationSettings};
use super::order::{LineKind, Order, OrderLine};

/// e-conomic product numbers are at most 25 characters.
pub const MAX_PRODUCT_NUMBER_CHARS: usize = 25;
/// Customer numbers are integers without a leading 0, at most 9 digits.
pub const MAX_CUSTOMER_NUMBER: u32 = 999_999_999;

/// Why an order could not be transferred. The codes (`as_str`) are stored and shown in the CLI
/// and JSON: they are never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// A product on the order does not exist in the accounting system.
    MissingProduct,
    /// A product line has no SKU, so it cannot be found or created in the accounting system.
    MissingSku,
    MissingCustomerName,
    /// The integration requires a phone number and the order has none.
    MissingPhone,
    /// Customers are matched by e-mail and the order has none.
    MissingEmail,
    /// The accounting system rejected a field (its code, field and message are kept).
    AccountingValidation,
    Auth,
    RateLimited,
    /// Timeout, reset, refused connection.
    Network,
    /// The webshop sent order data that cannot be read.
    MalformedShopData,
}

impl Cause {
    pub const ALL: [Cause; 10] = [
        Cause::MissingProduct,
        Cause::MissingSku,
        Cause::MissingCustomerName,
        Cause::MissingPhone,
        Cause::MissingEmail,
        Cause::AccountingValidation,
        Cause::Auth,
        Cause::RateLimited,
        Cause::Network,
        Cause::MalformedShopData,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::MissingProduct => "missing_product",
            Cause::MissingSku => "missing_sku",
            Cause::MissingCustomerName => "missing_customer_name",
            Cause::MissingPhone => "missing_phone",
            Cause::MissingEmail => "missing_email",
            Cause::AccountingValidation => "accounting_validation",
            Cause::Auth => "auth",
            Cause::RateLimited => "rate_limited",
            Cause::Network => "network",
            Cause::MalformedShopData => "malformed_shop_data",
        }
    }

    /// The group heading a support person sees.
    pub fn label(self) -> &'static str {
        match self {
            Cause::MissingProduct => "product missing in the accounting system",
            Cause::MissingSku => "product has no SKU",
            Cause::MissingCustomerName => "customer name missing",
            Cause::MissingPhone => "phone number missing",
            Cause::MissingEmail => "customer e-mail missing",
            Cause::AccountingValidation => "rejected by the accounting system",
            Cause::Auth => "authentication failed",
            Cause::RateLimited => "rate limited",
            Cause::Network => "network or timeout",
            Cause::MalformedShopData => "unreadable webshop data",
        }
    }

    /// Transient causes pass on their own (the order is retried); permanent ones need a fix first.
    pub fn is_transient(self) -> bool {
        matches!(self, Cause::RateLimited | Cause::Network)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Cause {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Cause::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| {
            let codes: Vec<&str> = Cause::ALL.iter().map(|c| c.as_str()).collect();
            format!("unknown failure cause '{s}': use one of {}", codes.join(", "))
        })
    }
}

/// One reason one order failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub cause: Cause,
    /// The order's shop reference (`727`, `#1001`).
    pub order: String,
    /// 1-based line of the order at fault, when a line is.
    pub line: Option<usize>,
    /// What is wrong, naming the line and value: `line 2 'Hoodie, navy': no SKU`.
    pub detail: String,
    /// The value at fault: the SKU of a missing product, the name of an empty field.
    pub value: Option<String>,
    /// What the customer must do: `give the product a SKU in WooCommerce, then retry`.
    pub fix_hint: String,
    /// The accounting system's own error code (`E06000`).
    pub vendor_code: Option<String>,
    /// The field the accounting system named (`lines[0].unitNetPrice`).
    pub field: Option<String>,
    /// The accounting system's reply, for the inspector's detail view.
    pub vendor_response: Option<String>,
}

impl Failure {
    pub fn new(cause: Cause, order: &str, detail: impl Into<String>, fix_hint: impl Into<String>) -> Failure {
        Failure {
            cause,
            order: order.to_string(),
            line: None,
            detail: detail.into(),
            value: None,
            fix_hint: fix_hint.into(),
            vendor_code: None,
            field: None,
            vendor_response: None,
        }
    }

    pub fn at_line(mut self, line: usize) -> Failure {
        self.line = Some(line);
        self
    }

    pub fn with_value(mut self, value: impl Into<String>) -> Failure {
        self.value = Some(value.into());
        self
    }

    pub fn with_vendor(mut self, code: Option<String>, field: Option<String>, response: Option<String>) -> Failure {
        self.vendor_code = code;
        self.field = field;
        self.vendor_response = response;
        self
    }

    pub fn is_transient(&self) -> bool {
        self.cause.is_transient()
    }

    /// `order #1042, line 2 'Hoodie, navy': no SKU`.
    pub fn summary(&self) -> String {
        format!("order {}, {}", self.order, self.detail)
    }

    /// A product line's SKU does not exist in the accounting system (`accounting` names it).
    pub fn missing_product(order: &Order, index: usize, sku: &str, accounting: &str) -> Failure {
        let label = order.lines.get(index).map_or_else(|| format!("line {}", index + 1), |l| line_label(index, l));
        Failure::new(
            Cause::MissingProduct,
            &order.reference,
            format!("{label}: product {sku} does not exist in {accounting}"),
            format!(
                "create product {sku} in {accounting} (or let the integration create missing products), then retry"
            ),
        )
        .at_line(index + 1)
        .with_value(sku)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

/// `line 2 'Hoodie, navy'`, the way failures name a line (1-based, as the customer counts).
pub fn line_label(index: usize, line: &OrderLine) -> String {
    format!("line {} '{}'", index + 1, line.description)
}

/// What can be known about an order without asking the accounting system: the buyer's name
/// (and phone, and e-mail, when the settings need them), and every line's SKU and quantity.
/// The preflight and the sink both use it, so they never disagree.
pub fn check_order(order: &Order, settings: &IntegrationSettings) -> Vec<Failure> {
    let shop = order.webshop.display_name();
    let reference = order.reference.as_str();
    let mut failures = Vec::new();
    if order.buyer.name.is_none() && order.buyer.company.is_none() {
        failures.push(
            Failure::new(
                Cause::MissingCustomerName,
                reference,
                "the buyer has no name",
                format!("add the buyer's name to order {reference} in {shop}, then retry"),
            )
            .with_value("name"),
        );
    }
    if settings.require_phone && order.buyer.phone.is_none() {
        failures.push(
            Failure::new(
                Cause::MissingPhone,
                reference,
                "the buyer has no phone number, and the integration requires one",
                format!(
                    "add a phone number to order {reference} in {shop}, or stop requiring phone numbers in the integration's settings, then retry"
                ),
            )
            .with_value("phone"),
        );
    }
    if settings.customer_matching == CustomerMatching::Email && order.buyer.email.is_none() {
        failures.push(
            Failure::new(
                Cause::MissingEmail,
                reference,
                "the buyer has no e-mail address, and customers are matched by e-mail",
                format!(
                    "add the buyer's e-mail to order {reference} in {shop}, or book such orders on a shared customer, then retry"
                ),
            )
            .with_value("email"),
        );
    }
    if let CustomerMatching::Shared { customer_number } = settings.customer_matching
        && !(1..=MAX_CUSTOMER_NUMBER).contains(&customer_number)
    {
        failures.push(
            Failure::new(
                Cause::AccountingValidation,
                reference,
                format!("the integration's shared customer number {customer_number} is not between 1 and {MAX_CUSTOMER_NUMBER}"),
                "correct the shared customer number in the integration's settings, then retry",
            )
            .with_value(customer_number.to_string())
            .with_vendor(None, Some("customer.customerNumber".into()), None),
        );
    }
    for (index, line) in order.lines.iter().enumerate() {
        failures.extend(check_line(reference, shop, index, line));
    }
    failures
}

fn check_line(reference: &str, shop: &str, index: usize, line: &OrderLine) -> Vec<Failure> {
    let label = line_label(index, line);
    let mut failures = Vec::new();
    if line.kind == LineKind::Product {
        match line.sku.as_deref() {
            None => failures.push(
                Failure::new(
                    Cause::MissingSku,
                    reference,
                    format!("{label}: no SKU"),
                    format!("give the product a SKU in {shop}, then retry"),
                )
                .at_line(index + 1)
                .with_value("sku"),
            ),
            Some(sku) if sku.chars().count() > MAX_PRODUCT_NUMBER_CHARS => failures.push(
                Failure::new(
                    Cause::AccountingValidation,
                    reference,
                    format!(
                        "{label}: SKU {sku} is {} characters; accounting product numbers are at most {MAX_PRODUCT_NUMBER_CHARS}",
                        sku.chars().count()
                    ),
                    format!("shorten the SKU to at most {MAX_PRODUCT_NUMBER_CHARS} characters in {shop}, then retry"),
                )
                .at_line(index + 1)
                .with_value(sku)
                .with_vendor(None, Some(format!("lines[{index}].product.productNumber")), None),
            ),
            Some(_) => {}
        }
    }
    if line.quantity == Decimal::ZERO {
        failures.push(
            Failure::new(
                Cause::AccountingValidation,
                reference,
                format!("{label}: quantity is 0, which the accounting system refuses"),
                format!("remove the line or correct its quantity on order {reference} in {shop}, then retry"),
            )
            .at_line(index + 1)
            .with_value("0")
            .with_vendor(None, Some(format!("lines[{index}].quantity")), None),
        );
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::WebshopKind;
    use crate::domain::order::Buyer;
    use chrono::{TimeZone, Utc};
    use rust_decimal_macros::dec;

    fn line(kind: LineKind, sku: Option<&str>, description: &str, quantity: Decimal) -> OrderLine {
        OrderLine {
            kind,
            sku: sku.map(str::to_string),
            description: description.into(),
            quantity,
            unit_price: dec!(100),
            total: dec!(100) * quantity,
            total_tax: dec!(25) * quantity,
        }
    }

    fn order(lines: Vec<OrderLine>) -> Order {
        Order {
            webshop: WebshopKind::WooCommerce,
            id: "1042".into(),
            reference: "#1042".into(),
            created_at: Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap(),
            status: "completed".into(),
            currency: "DKK".into(),
            prices_include_tax: false,
            total: dec!(250),
            total_tax: dec!(50),
            buyer: Buyer {
                name: Some("Mette Hansen".into()),
                email: Some("mette@example.dk".into()),
                phone: Some("+45 12345678".into()),
                ..Buyer::default()
            },
            lines,
        }
    }

    #[test]
    fn codes_are_stable_and_round_trip() {
        let codes: Vec<&str> = Cause::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            codes,
            [
                "missing_product",
                "missing_sku",
                "missing_customer_name",
                "missing_phone",
                "missing_email",
                "accounting_validation",
                "auth",
                "rate_limited",
                "network",
                "malformed_shop_data"
            ]
        );
        for c in Cause::ALL {
            assert_eq!(c.as_str().parse::<Cause>().unwrap(), c);
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{}\"", c.as_str()));
        }
        assert!("bare_error".parse::<Cause>().unwrap_err().contains("missing_product"));
    }

    #[test]
    fn only_rate_limits_and_network_pass_on_their_own() {
        let transient: Vec<Cause> = Cause::ALL.into_iter().filter(|c| c.is_transient()).collect();
        assert_eq!(transient, [Cause::RateLimited, Cause::Network]);
    }

    #[test]
    fn a_clean_order_passes() {
        let o = order(vec![
            line(LineKind::Product, Some("TSHIRT-BL"), "T-shirt, blue", dec!(2)),
            line(LineKind::Shipping, None, "Shipping", dec!(1)),
        ]);
        assert!(check_order(&o, &IntegrationSettings::default()).is_empty());
    }

    #[test]
    fn a_product_line_without_sku_names_the_line() {
        let o = order(vec![
            line(LineKind::Product, Some("TSHIRT-BL"), "T-shirt, blue", dec!(1)),
            line(LineKind::Product, None, "Hoodie, navy", dec!(1)),
        ]);
        let failures = check_order(&o, &IntegrationSettings::default());
        assert_eq!(failures.len(), 1);
        let f = &failures[0];
        assert_eq!(f.cause, Cause::MissingSku);
        assert_eq!(f.detail, "line 2 'Hoodie, navy': no SKU");
        assert_eq!(f.line, Some(2));
        assert_eq!(f.summary(), "order #1042, line 2 'Hoodie, navy': no SKU");
        assert_eq!(f.fix_hint, "give the product a SKU in WooCommerce, then retry");
    }

    #[test]
    fn missing_name_phone_and_email_are_their_own_causes() {
        let mut o = order(vec![line(LineKind::Product, Some("A"), "A", dec!(1))]);
        o.buyer = Buyer::default();
        let relaxed = check_order(&o, &IntegrationSettings::default());
        let causes: Vec<Cause> = relaxed.iter().map(|f| f.cause).collect();
        assert_eq!(causes, [Cause::MissingCustomerName, Cause::MissingEmail]);
        assert_eq!(relaxed[0].value.as_deref(), Some("name"));

        let strict = IntegrationSettings {
            require_phone: true,
            customer_matching: CustomerMatching::Shared { customer_number: 1 },
            ..IntegrationSettings::default()
        };
        let causes: Vec<Cause> = check_order(&o, &strict).iter().map(|f| f.cause).collect();
        assert_eq!(causes, [Cause::MissingCustomerName, Cause::MissingPhone], "shared customer needs no e-mail");

        o.buyer.company = Some("Hansen ApS".into());
        let causes: Vec<Cause> = check_order(&o, &strict).iter().map(|f| f.cause).collect();
        assert_eq!(causes, [Cause::MissingPhone], "a company name is a name");

        let zero = IntegrationSettings {
            customer_matching: CustomerMatching::Shared { customer_number: 0 },
            ..IntegrationSettings::default()
        };
        let failures = check_order(&o, &zero);
        assert_eq!(failures[0].cause, Cause::AccountingValidation);
        assert_eq!(failures[0].value.as_deref(), Some("0"));
    }

    #[test]
    fn long_skus_and_zero_quantities_are_refused_up_front() {
        let long = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let o = order(vec![
            line(LineKind::Product, Some(long), "Poster", dec!(1)),
            line(LineKind::Product, Some("MUG"), "Mug", dec!(0)),
        ]);
        let failures = check_order(&o, &IntegrationSettings::default());
        assert_eq!(failures.len(), 2);
        assert_eq!(failures[0].cause, Cause::AccountingValidation);
        assert_eq!(failures[0].value.as_deref(), Some(long));
        assert!(failures[0].detail.contains("26 characters"), "{}", failures[0].detail);
        assert_eq!(failures[0].field.as_deref(), Some("lines[0].product.productNumber"));
        assert_eq!(failures[1].cause, Cause::AccountingValidation);
        assert_eq!(failures[1].line, Some(2));
        assert!(failures[1].detail.contains("quantity is 0"));
        // Exactly 25 is fine.
        let o = order(vec![line(LineKind::Product, Some(&long[..25]), "Poster", dec!(1))]);
        assert!(check_order(&o, &IntegrationSettings::default()).is_empty());
    }

    #[test]
    fn missing_product_carries_the_sku() {
        let o = order(vec![line(LineKind::Product, Some("TSHIRT-BL"), "T-shirt, blue", dec!(1))]);
        let f = Failure::missing_product(&o, 0, "TSHIRT-BL", "e-conomic");
        assert_eq!(f.cause, Cause::MissingProduct);
        assert_eq!(f.value.as_deref(), Some("TSHIRT-BL"));
        assert_eq!(f.detail, "line 1 'T-shirt, blue': product TSHIRT-BL does not exist in e-conomic");
        assert!(f.fix_hint.contains("create product TSHIRT-BL in e-conomic"));
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.contains("\"cause\":\"missing_product\""), "{json}");
        assert_eq!(serde_json::from_str::<Failure>(&json).unwrap(), f);
    }
}
