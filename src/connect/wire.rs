//! Reading webshop JSON leniently: money as string or number, blanks as none, dates, and
//! errors that say which field was wrong.

use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDateTime, SubsecRound, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

use crate::domain::order::non_blank;

/// `value.key`, tolerating a missing object.
pub fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| !v.is_null())
}

/// A string field; blank strings and nulls are `None`. Numbers are taken as their text
/// (ids and order numbers arrive as either).
pub fn text(value: &Value, key: &str) -> Option<String> {
    match get(value, key)? {
        Value::String(s) => non_blank(Some(s)),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A boolean; `"true"`/`"yes"`/`1` count too, anything else is `default`.
pub fn flag(value: &Value, key: &str, default: bool) -> bool {
    match get(value, key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "yes" | "1"),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => default,
    }
}

/// The array at `key`, empty when missing or null.
pub fn items<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    get(value, key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// An amount: a string (`"29.35"`), a JSON number (`3`, `12.5`), or blank/null (`None`).
/// Anything else is an error naming the field.
pub fn money(value: &Value, key: &str, path: &str) -> Result<Option<Decimal>, String> {
    let bad = |shown: &dyn std::fmt::Display| format!("{path}.{key} is '{shown}', not an amount");
    match get(value, key) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => parse_decimal(s.trim()).map(Some).ok_or_else(|| bad(s)),
        Some(Value::Number(n)) => parse_decimal(&n.to_string()).map(Some).ok_or_else(|| bad(n)),
        Some(other) => Err(bad(other)),
    }
}

/// An amount that defaults to zero when the shop leaves it out.
pub fn money_or_zero(value: &Value, key: &str, path: &str) -> Result<Decimal, String> {
    Ok(money(value, key, path)?.unwrap_or(Decimal::ZERO))
}

fn parse_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(text).ok().or_else(|| Decimal::from_scientific(text).ok())
}

/// A UTC instant from a timestamp with an offset (`2008-01-10T11:00:00-05:00`, `…Z`) or, when
/// `naive_is_utc`, without one (WooCommerce `date_created_gmt`: `2017-03-22T19:28:02`).
pub fn instant(raw: &str, naive_is_utc: bool) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    if !naive_is_utc {
        return None;
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .map(|n| n.and_utc())
}

/// The whole seconds after `t` (or `t` itself when it is one): shops keep created times to
/// the second, so an order at second `s` is in `[start, end)` exactly when
/// `ceil(start) <= s < ceil(end)`.
pub fn ceil_second(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = t.trunc_subsecs(0);
    if floor == t { t } else { floor + Duration::seconds(1) }
}

/// Cents, the way shops round tax shares.
pub fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A unit price from a line total; non-terminating quotients are cut at 10 decimals, which
/// is far below any currency's smallest unit, so the total stays the figure to trust.
pub fn unit_price(total: Decimal, quantity: Decimal) -> Decimal {
    if quantity.is_zero() { total } else { (total / quantity).round_dp(10) }
}

/// Joins the non-blank parts with `sep`; `None` when all are blank.
pub fn join_non_blank(parts: &[Option<String>], sep: &str) -> Option<String> {
    let kept: Vec<&str> = parts.iter().flatten().map(String::as_str).collect();
    (!kept.is_empty()).then(|| kept.join(sep))
}

/// Decodes the HTML entities WooCommerce leaves in product names (`&ndash;`, `&#8211;`,
/// `&amp;`), so that an invoice line reads as the shop shows it.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let decoded = after.find(';').filter(|&end| end <= 10).and_then(|end| Some((entity(&after[..end])?, end)));
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "times" => '×',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn money_is_string_or_number_and_blank_is_none() {
        let v = json!({"a": "29.35", "b": 3, "c": 12.5, "d": "", "e": null, "f": "abc", "g": [1]});
        assert_eq!(money(&v, "a", "o").unwrap(), Some(dec!(29.35)));
        assert_eq!(money(&v, "b", "o").unwrap(), Some(dec!(3)));
        assert_eq!(money(&v, "c", "o").unwrap(), Some(dec!(12.5)));
        assert_eq!(money(&v, "d", "o").unwrap(), None);
        assert_eq!(money(&v, "e", "o").unwrap(), None);
        assert_eq!(money(&v, "missing", "o").unwrap(), None);
        assert_eq!(money(&v, "f", "o").unwrap_err(), "o.f is 'abc', not an amount");
        assert!(money(&v, "g", "o").is_err());
    }

    #[test]
    fn instants_with_and_without_offset() {
        assert_eq!(instant("2008-01-10T11:00:00-05:00", false).unwrap().to_rfc3339(), "2008-01-10T16:00:00+00:00");
        assert_eq!(instant("2017-03-22T19:28:02", true).unwrap().to_rfc3339(), "2017-03-22T19:28:02+00:00");
        assert_eq!(instant("2017-03-22T19:28:02", false), None);
        assert_eq!(instant("yesterday", true), None);
    }

    #[test]
    fn entities_decode_and_stray_ampersands_stay() {
        assert_eq!(decode_entities("Ship Your Idea &ndash; Color: Black"), "Ship Your Idea – Color: Black");
        assert_eq!(decode_entities("A &#8211; B &#x41; &amp; C"), "A – B A & C");
        assert_eq!(decode_entities("Salt & Pepper &unknown; &"), "Salt & Pepper &unknown; &");
    }

    #[test]
    fn unit_prices() {
        assert_eq!(unit_price(dec!(6.00), dec!(2)), dec!(3.00));
        assert_eq!(unit_price(dec!(10.00), dec!(3)), dec!(3.3333333333));
        assert_eq!(unit_price(dec!(5), dec!(0)), dec!(5));
    }
}
