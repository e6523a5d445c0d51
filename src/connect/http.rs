//! The shared HTTP client: TLS via rustls, plain HTTP only to loopback, secrets kept out of
//! URLs and errors, and errors that name the system and what to do.

use std::fmt;
use std::time::Duration;

/// Which remote system an error came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    WooCommerce,
    Shopify,
    Economic,
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            System::WooCommerce => "WooCommerce",
            System::Shopify => "Shopify",
            System::Economic => "e-conomic",
        })
    }
}

/// One error type for the connect layer. Messages never contain a secret: URLs in them are
/// stripped of their query string, and credentials travel in headers only.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    #[error("{system} URL '{url}' is not valid: {reason}")]
    BadUrl { system: System, url: String, reason: String },
    #[error("{system} at {host}: plain http:// is refused except to this machine; use https://")]
    PlainHttp { system: System, host: String },
    #[error("{system} at {host} cannot be reached ({reason}); check the URL and that the shop is up")]
    Unreachable { system: System, host: String, reason: String },
    #[error("{system} at {host} did not answer within {seconds} s; try again, or later if the host is slow")]
    Timeout { system: System, host: String, seconds: u64 },
    #[error("{system} at {host} refused the credentials ({status}: {message}); check the customer's keys")]
    Unauthorized { system: System, host: String, status: u16, message: String },
    #[error("{system} at {host} is rate limiting us (429); retry after {retry_after_seconds} s")]
    RateLimited { system: System, host: String, retry_after_seconds: u64 },
    #[error("{system} at {host}: {what} not found")]
    NotFound { system: System, host: String, what: String },
    #[error("{system} at {host} rejected the request ({status}{}): {message}", code.as_deref().map(|c| format!(", {c}")).unwrap_or_default())]
    Rejected { system: System, host: String, status: u16, code: Option<String>, message: String },
    #[error(
        "{system} at {host} answered {status} with {content} instead of JSON (a captcha or a maintenance page?): \"{snippet}\""
    )]
    NotJson { system: System, host: String, status: u16, content: String, snippet: String },
    #[error("{system} at {host} sent data we cannot read: {detail}")]
    Malformed { system: System, host: String, detail: String },
    #[error("{system} at {host} failed on its side ({status}): {message}; try again later")]
    ServerError { system: System, host: String, status: u16, message: String },
}

impl ConnectError {
    /// Worth retrying later (the same request may succeed): rate limits, timeouts, 5xx.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ConnectError::RateLimited { .. }
                | ConnectError::Timeout { .. }
                | ConnectError::Unreachable { .. }
                | ConnectError::ServerError { .. }
        )
    }
}

/// A validated base URL: https anywhere, http only to loopback.
pub fn check_base_url(system: System, raw: &str) -> Result<url::Url, ConnectError> {
    let bad = |reason: String| ConnectError::BadUrl { system, url: redact_url(raw), reason };
    let mut url = url::Url::parse(raw.trim()).map_err(|e| bad(e.to_string()))?;
    let host = url.host_str().ok_or_else(|| bad("it has no host".into()))?.to_string();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => return Err(ConnectError::PlainHttp { system, host }),
        other => return Err(bad(format!("scheme {other}: is not http(s)"))),
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(bad("a base URL carries no query or credentials; keys are stored separately".into()));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A URL without query string or user info, safe for messages and logs.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            u.set_query(None);
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => raw.split('?').next().unwrap_or_default().to_string(),
    }
}

/// The host (and port) of a URL, the way errors name a system.
pub fn host_of(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => url.to_string(),
    }
}

pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One client for the process: connection pooling, rustls, a timeout, our user agent.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("importdesk/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Turns a transport error into one that names the host and never the URL's query.
pub fn transport_error(system: System, host: &str, err: &reqwest::Error) -> ConnectError {
    if err.is_timeout() {
        return ConnectError::Timeout { system, host: host.into(), seconds: REQUEST_TIMEOUT.as_secs() };
    }
    let reason = if err.is_connect() {
        "connection refused or no route".to_string()
    } else {
        // The error's Display includes the URL; name only its kind and causes.
        let mut detail =
            if err.is_body() || err.is_decode() { "the reply was cut off" } else { "request failed" }.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            detail = format!("{detail}: {s}");
            source = s.source();
        }
        detail
    };
    ConnectError::Unreachable { system, host: host.into(), reason }
}

/// A body that should be JSON but is not: the content type and a short, single-line snippet.
pub fn not_json(system: System, host: &str, status: u16, content_type: Option<&str>, body: &[u8]) -> ConnectError {
    let text = String::from_utf8_lossy(body);
    let snippet: String = text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(80).collect();
    let content = match content_type {
        _ if body.is_empty() => "an empty body".to_string(),
        Some(ct) => ct.split(';').next().unwrap_or(ct).trim().to_string(),
        None => "no content type".to_string(),
    };
    ConnectError::NotJson { system, host: host.into(), status, content, snippet }
}

/// Seconds from a `Retry-After` header (seconds form; HTTP dates fall back to `default`).
pub fn retry_after_seconds(headers: &reqwest::header::HeaderMap, default: u64) -> u64 {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|s| s.ceil().max(0.0) as u64)
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_base_url(System::WooCommerce, "http://127.0.0.1:8080/shop").is_ok());
        assert!(check_base_url(System::WooCommerce, "http://localhost:8080").is_ok());
        assert!(check_base_url(System::WooCommerce, "http://[::1]:8080").is_ok());
        assert!(check_base_url(System::WooCommerce, "https://butik.dk").is_ok());
        let err = check_base_url(System::WooCommerce, "http://butik.dk").unwrap_err();
        assert!(matches!(err, ConnectError::PlainHttp { .. }), "{err}");
        assert!(err.to_string().contains("use https://"));
        assert!(check_base_url(System::Shopify, "ftp://x.dk").is_err());
        assert!(check_base_url(System::Shopify, "not a url").is_err());
    }

    #[test]
    fn base_urls_never_carry_secrets() {
        let err = check_base_url(System::WooCommerce, "https://butik.dk/?consumer_secret=cs_123").unwrap_err();
        assert!(!err.to_string().contains("cs_123"), "{err}");
        assert_eq!(check_base_url(System::Shopify, "https://a.dk/x").unwrap().as_str(), "https://a.dk/x/");
    }

    #[test]
    fn not_json_is_one_clear_line() {
        let e = not_json(
            System::WooCommerce,
            "butik.dk",
            200,
            Some("text/html; charset=UTF-8"),
            b"<html>\n<body>Checking your browser</body></html>",
        );
        let text = e.to_string();
        assert!(text.contains("text/html instead of JSON"), "{text}");
        assert!(!text.contains('\n'));
    }
}
