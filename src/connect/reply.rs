//! A shop's HTTP reply read once: JSON on 2xx, otherwise a `ConnectError` carrying the
//! vendor's own message and code. Shared by the WooCommerce and Shopify sources.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::Value;

use super::http::{self, ConnectError, System};
use super::retry::Failure;

/// A successful reply: its headers (pagination, totals, rate limits) and its JSON body.
#[derive(Debug)]
pub struct Reply {
    pub headers: HeaderMap,
    pub body: Value,
}

/// What a vendor's error body says: its machine code and its human message.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VendorError {
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Who is asking, for error messages.
pub struct Context<'a> {
    pub system: System,
    pub host: &'a str,
    /// What was asked for, for a 404: "order 727", "the orders API".
    pub what: &'a str,
    /// Reads the vendor's error body format.
    pub vendor_error: fn(&Value) -> VendorError,
    /// Values that must never appear in an error message (the credentials in use), in case
    /// a server echoes them back.
    pub secrets: &'a [&'a str],
}

/// Sends a prepared GET and reads its reply.
pub async fn get(ctx: &Context<'_>, request: reqwest::RequestBuilder) -> Result<Reply, Failure> {
    let response = request.send().await.map_err(|e| http::transport_error(ctx.system, ctx.host, &e))?;
    read(ctx, response).await
}

pub async fn read(ctx: &Context<'_>, response: reqwest::Response) -> Result<Reply, Failure> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|e| http::transport_error(ctx.system, ctx.host, &e))?;
    classify(ctx, status, headers, &body)
}

/// Decides what a status and body mean. Pure, so every branch is unit-tested.
pub fn classify(ctx: &Context<'_>, status: StatusCode, headers: HeaderMap, body: &[u8]) -> Result<Reply, Failure> {
    let (system, host) = (ctx.system, ctx.host.to_string());
    let json: Option<Value> = serde_json::from_slice(body).ok();
    if status.is_success() {
        return match json {
            Some(body) => Ok(Reply { headers, body }),
            None => {
                let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
                Err(http::not_json(system, &host, status.as_u16(), content_type, body).into())
            }
        };
    }
    let vendor = json.as_ref().map(ctx.vendor_error).unwrap_or_default();
    let message = scrub(&describe(&vendor, status, body), ctx.secrets);
    let code = vendor.code.map(|c| scrub(&c, ctx.secrets));
    let code_num = status.as_u16();
    let retry_after = retry_after(&headers);
    let error = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ConnectError::Unauthorized {
            system,
            host,
            status: code_num,
            message: match code {
                Some(code) => format!("{message} [{code}]"),
                None => message,
            },
        },
        StatusCode::NOT_FOUND => ConnectError::NotFound { system, host, what: ctx.what.to_string() },
        StatusCode::TOO_MANY_REQUESTS => {
            // Without a Retry-After, Shopify's own advice is to wait about two seconds.
            let wait = retry_after.unwrap_or(Duration::from_secs(2));
            let seconds = wait.as_secs_f64().ceil() as u64;
            return Err(Failure {
                error: ConnectError::RateLimited { system, host, retry_after_seconds: seconds },
                retry_after: Some(wait),
            });
        }
        s if s.is_server_error() => ConnectError::ServerError { system, host, status: code_num, message },
        _ => ConnectError::Rejected { system, host, status: code_num, code, message },
    };
    Err(Failure { error, retry_after })
}

/// `Retry-After` in seconds, fractions kept (Shopify sends `2.0`); HTTP dates are not used
/// by these shops and count as absent.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let seconds: f64 = raw.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// The vendor's message, else a one-line snippet of the body, else the status's reason.
fn describe(vendor: &VendorError, status: StatusCode, body: &[u8]) -> String {
    if let Some(message) = &vendor.message {
        return one_line(message, 300);
    }
    let snippet = one_line(&String::from_utf8_lossy(body), 120);
    if snippet.is_empty() || snippet.starts_with('{') || snippet.starts_with('[') {
        status.canonical_reason().unwrap_or("no message").to_string()
    } else {
        snippet
    }
}

fn one_line(text: &str, max_chars: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > max_chars {
        format!("{}…", joined.chars().take(max_chars).collect::<String>())
    } else {
        joined
    }
}

fn scrub(text: &str, secrets: &[&str]) -> String {
    secrets.iter().filter(|s| s.len() >= 4).fold(text.to_string(), |acc, s| acc.replace(s, "[redacted]"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    fn vendor(v: &Value) -> VendorError {
        VendorError {
            code: v.get("code").and_then(Value::as_str).map(str::to_string),
            message: v.get("message").and_then(Value::as_str).map(str::to_string),
        }
    }

    fn ctx() -> Context<'static> {
        Context {
            system: System::WooCommerce,
            host: "butik.dk",
            what: "order 727",
            vendor_error: vendor,
            secrets: &["cs_topsecret"],
        }
    }

    fn run(status: u16, headers: &[(&'static str, &'static str)], body: &str) -> Result<Reply, Failure> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_static(v));
        }
        classify(&ctx(), StatusCode::from_u16(status).unwrap(), map, body.as_bytes())
    }

    #[test]
    fn json_success() {
        let reply = run(200, &[], r#"[{"id":1}]"#).unwrap();
        assert_eq!(reply.body, json!([{"id": 1}]));
    }

    #[test]
    fn html_or_empty_success_is_not_json() {
        let e = run(200, &[("content-type", "text/html")], "<html>captcha</html>").unwrap_err().error;
        assert!(matches!(e, ConnectError::NotJson { status: 200, .. }), "{e}");
        let e = run(200, &[], "").unwrap_err().error;
        assert!(e.to_string().contains("an empty body"), "{e}");
    }

    #[test]
    fn unauthorized_carries_the_vendor_message_and_code_but_no_secret() {
        let body = r#"{"code":"woocommerce_rest_authentication_error","message":"Invalid secret cs_topsecret.","data":{"status":401}}"#;
        let e = run(401, &[], body).unwrap_err().error;
        let text = e.to_string();
        assert!(matches!(e, ConnectError::Unauthorized { status: 401, .. }));
        assert!(text.contains("woocommerce_rest_authentication_error"), "{text}");
        assert!(text.contains("Invalid secret"), "{text}");
        assert!(!text.contains("cs_topsecret"), "{text}");
    }

    #[test]
    fn statuses_map_to_their_kinds() {
        let e = run(404, &[], r#"{"code":"woocommerce_rest_shop_order_invalid_id","message":"Invalid ID."}"#);
        assert!(e.unwrap_err().error.to_string().contains("order 727 not found"));
        let e = run(400, &[], r#"{"code":"rest_invalid_param","message":"Invalid parameter(s): per_page"}"#)
            .unwrap_err()
            .error;
        assert!(matches!(&e, ConnectError::Rejected { code: Some(c), .. } if c == "rest_invalid_param"), "{e}");
        let f = run(429, &[("retry-after", "3")], "").unwrap_err();
        assert!(matches!(f.error, ConnectError::RateLimited { retry_after_seconds: 3, .. }));
        assert_eq!(f.retry_after, Some(Duration::from_secs(3)));
        let f = run(429, &[("retry-after", "0.5")], "").unwrap_err();
        assert!(matches!(f.error, ConnectError::RateLimited { retry_after_seconds: 1, .. }));
        assert_eq!(f.retry_after, Some(Duration::from_millis(500)));
        let f = run(503, &[("retry-after", "5")], "<html><body>Service Unavailable</body></html>").unwrap_err();
        assert!(matches!(f.error, ConnectError::ServerError { status: 503, .. }));
        assert!(f.error.to_string().contains("Service Unavailable"), "{}", f.error);
        assert_eq!(f.retry_after, Some(Duration::from_secs(5)));
        let f = run(502, &[], "").unwrap_err();
        assert!(f.error.to_string().contains("Bad Gateway"), "{}", f.error);
    }
}
