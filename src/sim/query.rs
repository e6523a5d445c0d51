//! Request helpers shared by the simulated shops: query strings as the vendors read them,
//! ISO 8601 instants, base64 (HTTP Basic and opaque cursors) and money as wire strings.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

/// A query string's pairs in order, decoded. A repeated key's last value wins, as in PHP and
/// Rails; `status[]=a&status[]=b` is read as a list.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Params {
        let raw = raw.unwrap_or_default();
        Params(url::form_urlencoded::parse(raw.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A list parameter: `key=a,b`, or `key[]=a&key[]=b`.
    pub fn list(&self, key: &str) -> Option<Vec<String>> {
        let bracketed = format!("{key}[]");
        let items: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| *k == bracketed)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if !items.is_empty() {
            return Some(items);
        }
        self.get(key).map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The same query with `key` set to `value` (in place if present, else appended).
    pub fn with(&self, key: &str, value: &str) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        let mut replaced = false;
        for (k, v) in &self.0 {
            if k == key {
                if !replaced {
                    out.append_pair(k, value);
                    replaced = true;
                }
            } else {
                out.append_pair(k, v);
            }
        }
        if !replaced {
            out.append_pair(key, value);
        }
        out.finish()
    }
}

/// An ISO 8601 instant from a query: with `Z` or an offset it is that instant; without one it
/// is wall-clock time in `naive_tz`; a bare date is that day's midnight.
pub(crate) fn parse_instant(text: &str, naive_tz: Tz) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(local_to_utc(naive, naive_tz));
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(|d| local_to_utc(d.into(), naive_tz))
}

/// Wall-clock time in `tz` as an instant: the earlier one when the clock repeats, an hour
/// later when it is skipped.
pub(crate) fn local_to_utc(naive: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => tz
            .from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&naive)),
    }
}

/// `29.35`: money as both vendors send it.
pub(crate) fn money(amount: Decimal) -> String {
    format!("{:.2}", amount)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64url without padding (cursor tokens).
pub(crate) fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            let c = B64[((n >> (18 - 6 * i)) & 63) as usize];
            out.push(match c {
                b'+' => '-',
                b'/' => '_',
                c => char::from(c),
            });
        }
    }
    out
}

/// Base64, standard or url-safe, padded or not; `None` if it is not base64.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// User and password of an HTTP Basic `Authorization` header.
pub(crate) fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::DEFAULT_TZ;

    #[test]
    fn instants_with_and_without_offsets() {
        let utc = parse_instant("2024-01-10T12:00:00Z", DEFAULT_TZ).unwrap();
        assert_eq!(parse_instant("2024-01-10T13:00:00+01:00", DEFAULT_TZ), Some(utc));
        assert_eq!(parse_instant("2024-01-10T13:00:00", DEFAULT_TZ), Some(utc));
        assert_eq!(parse_instant("2024-01-10T12:00:00", chrono_tz::UTC), Some(utc));
        assert_eq!(parse_instant("2024-07-10", DEFAULT_TZ).unwrap().to_rfc3339(), "2024-07-09T22:00:00+00:00");
        assert_eq!(parse_instant("2024-01-10T13:00:00.5+01:00", DEFAULT_TZ).unwrap().timestamp(), utc.timestamp());
        assert!(parse_instant("last tuesday", DEFAULT_TZ).is_none());
        // An unencoded `+` arrives as a space: no valid instant, as on the real servers.
        assert!(parse_instant("2024-01-10T13:00:00 01:00", DEFAULT_TZ).is_none());
    }

    #[test]
    fn base64_round_trips_and_reads_basic_auth() {
        for text in ["", "a", "ab", "abc", "abcd", "{\"a\":1}"] {
            assert_eq!(base64_decode(&base64url_encode(text.as_bytes())).unwrap(), text.as_bytes());
        }
        assert_eq!(base64url_encode(b"ck_1:cs_2"), "Y2tfMTpjc18y");
        assert_eq!(basic_credentials("Basic Y2tfMTpjc18y"), Some(("ck_1".into(), "cs_2".into())));
        assert_eq!(basic_credentials("Bearer x"), None);
        assert_eq!(base64_decode("a*b"), None);
    }

    #[test]
    fn params_lists_and_rewrites() {
        let p = Params::parse(Some("status=processing,completed&page=2&per_page=10"));
        assert_eq!(p.list("status").unwrap(), vec!["processing", "completed"]);
        assert_eq!(p.with("page", "3"), "status=processing%2Ccompleted&page=3&per_page=10");
        let q = Params::parse(Some("status[]=a&status[]=b"));
        assert_eq!(q.list("status").unwrap(), vec!["a", "b"]);
        assert_eq!(Params::parse(None).get("x"), None);
    }
}
