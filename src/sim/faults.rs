//! Bad-host behaviour switched on per shop at run time: a 2xx HTML captcha page, an error
//! status, latency, a cut connection. Set from Rust (`RunningSim::set_fault`) or over HTTP
//! with `POST /_sim/faults/{domain}` and a JSON [`Fault`] (`{}` clears it).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use super::SimState;

/// What a shop does wrong. Fields combine: latency is added before any other fault.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fault {
    /// Answer `200 OK` with an HTML captcha page instead of JSON.
    pub html_captcha: bool,
    /// Answer every request with this status, in the vendor's error shape.
    pub status: Option<u16>,
    /// With `status`: an empty body instead of the vendor's error.
    pub empty_body: bool,
    /// With `status`: a `Retry-After` header, in seconds (429 always gets one).
    pub retry_after: Option<u32>,
    /// Delay before answering.
    pub latency_ms: u64,
    /// Cut the connection instead of answering.
    pub drop_connection: bool,
    /// Only the next N requests get the fault, then it clears itself; `None` until cleared.
    pub times: Option<u32>,
}

impl Fault {
    pub fn is_none(&self) -> bool {
        *self == Fault::default()
    }

    pub fn status(code: u16) -> Fault {
        Fault { status: Some(code), ..Fault::default() }
    }

    pub fn html_captcha() -> Fault {
        Fault { html_captcha: true, ..Fault::default() }
    }

    pub fn latency(ms: u64) -> Fault {
        Fault { latency_ms: ms, ..Fault::default() }
    }

    pub fn drop_connection() -> Fault {
        Fault { drop_connection: true, ..Fault::default() }
    }

    /// The same fault for the next `n` requests only.
    pub fn times(self, n: u32) -> Fault {
        Fault { times: Some(n), ..self }
    }
}

/// Whose error shape a faulty answer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    WooCommerce,
    Shopify,
    Economic,
}

/// The faults in force, by shop domain or mounted system (`economic`).
#[derive(Debug, Default)]
pub struct Faults {
    map: Mutex<HashMap<String, Fault>>,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Fault>> {
        // Every update is a single insert or remove: a poisoned map is still consistent.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the fault of `target`; an empty fault clears it.
    pub fn set(&self, target: &str, fault: Fault) {
        let key = target.to_ascii_lowercase();
        if fault.is_none() || fault.times == Some(0) {
            self.lock().remove(&key);
        } else {
            self.lock().insert(key, fault);
        }
    }

    pub fn clear(&self, target: &str) {
        self.lock().remove(&target.to_ascii_lowercase());
    }

    pub fn clear_all(&self) {
        self.lock().clear();
    }

    pub fn get(&self, target: &str) -> Option<Fault> {
        self.lock().get(&target.to_ascii_lowercase()).cloned()
    }

    pub fn snapshot(&self) -> BTreeMap<String, Fault> {
        self.lock().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// The fault for one request to `target`, counted against its `times`.
    pub fn take(&self, target: &str) -> Option<Fault> {
        let key = target.to_ascii_lowercase();
        let mut map = self.lock();
        let fault = map.get_mut(&key)?;
        let taken = fault.clone();
        if let Some(left) = fault.times.as_mut() {
            *left = left.saturating_sub(1);
            if *left == 0 {
                map.remove(&key);
            }
        }
        Some(taken)
    }
}

/// Applies the fault of `target`, if any: waits out its latency, then returns the faulty
/// answer, or `None` when the request should be served normally.
pub async fn apply(faults: &Faults, target: &str, vendor: Vendor) -> Option<Response> {
    let fault = faults.take(target)?;
    if fault.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.latency_ms)).await;
    }
    if fault.drop_connection {
        return Some(cut_connection());
    }
    if fault.html_captcha {
        return Some(captcha_page(target));
    }
    let code = fault.status?;
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut response = if fault.empty_body {
        status.into_response()
    } else {
        (status, axum::Json(vendor_error(vendor, status))).into_response()
    };
    let retry_after = fault.retry_after.or((status == StatusCode::TOO_MANY_REQUESTS).then_some(1));
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Some(response)
}

/// A response whose body fails at once: hyper aborts the connection, and the client sees a
/// connection closed before (or in the middle of) the reply.
pub fn cut_connection() -> Response {
    let failing = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "simulated drop"))
    });
    Response::new(Body::from_stream(failing))
}

fn captcha_page(domain: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"da\"><head><title>Just a moment...</title></head>\n<body>\n\
         <h1>Checking your browser before accessing {domain}</h1>\n\
         <p>Please complete the security check to access the site.</p>\n\
         <form id=\"challenge-form\" method=\"POST\"><div class=\"captcha\"></div></form>\n</body></html>\n"
    );
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=UTF-8")], html).into_response()
}

/// The body each vendor sends with an error status.
fn vendor_error(vendor: Vendor, status: StatusCode) -> serde_json::Value {
    let reason = status.canonical_reason().unwrap_or("Error");
    match vendor {
        Vendor::WooCommerce => {
            let code = match status.as_u16() {
                401 => "woocommerce_rest_authentication_error",
                403 => "woocommerce_rest_cannot_view",
                404 => "rest_no_route",
                429 => "too_many_requests",
                500 => "internal_server_error",
                _ => "http_request_failed",
            };
            json!({"code": code, "message": reason, "data": {"status": status.as_u16()}})
        }
        Vendor::Shopify => {
            let message = match status.as_u16() {
                401 => "[API] Invalid API key or access token (unrecognized login or wrong password)",
                429 => {
                    "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
                }
                _ => reason,
            };
            json!({"errors": message})
        }
        Vendor::Economic => json!({
            "message": reason,
            "errorCode": format!("E{:05}", status.as_u16()),
            "developerHint": "The simulator was told to fail this request.",
            "logId": "sim-fault",
            "httpStatusCode": status.as_u16(),
            "logTime": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
        }),
    }
}

/// `/_sim/...`: the control endpoints.
pub(crate) fn control_routes() -> Router<SimState> {
    Router::new()
        .route("/_sim/faults", get(list_faults).delete(clear_all_faults))
        .route("/_sim/faults/{target}", post(set_fault).put(set_fault).delete(clear_fault).get(get_fault))
        .route("/_sim/manifest", get(manifest))
}

fn known_target(state: &SimState, target: &str) -> bool {
    state.data.shop(target).is_some() || state.mounted.iter().any(|m| m.eq_ignore_ascii_case(target))
}

fn unknown_target(state: &SimState, target: &str) -> Response {
    let known: Vec<&str> = state.data.customers.iter().map(|s| s.domain()).take(5).collect();
    let systems = if state.mounted.is_empty() { String::new() } else { format!(", or {}", state.mounted.join(", ")) };
    let message = format!(
        "no simulated shop or system named '{target}'; use a shop domain such as {}{systems}",
        known.join(", ")
    );
    (StatusCode::NOT_FOUND, axum::Json(json!({"error": message}))).into_response()
}

async fn set_fault(State(state): State<SimState>, Path(target): Path<String>, body: Bytes) -> Response {
    if !known_target(&state, &target) {
        return unknown_target(&state, &target);
    }
    let text = if body.iter().all(u8::is_ascii_whitespace) { &b"{}"[..] } else { &body[..] };
    match serde_json::from_slice::<Fault>(text) {
        Ok(fault) => {
            state.faults.set(&target, fault.clone());
            axum::Json(json!({"target": target.to_ascii_lowercase(), "fault": fault})).into_response()
        }
        Err(e) => {
            let message = format!(
                "not a fault: {e}. Send e.g. {{\"status\":503}}, {{\"html_captcha\":true}}, {{\"latency_ms\":80}}, \
                 {{\"drop_connection\":true}}, optionally with \"times\":N; {{}} clears"
            );
            (StatusCode::BAD_REQUEST, axum::Json(json!({"error": message}))).into_response()
        }
    }
}

async fn get_fault(State(state): State<SimState>, Path(target): Path<String>) -> Response {
    if !known_target(&state, &target) {
        return unknown_target(&state, &target);
    }
    axum::Json(json!({"target": target.to_ascii_lowercase(), "fault": state.faults.get(&target).unwrap_or_default()}))
        .into_response()
}

async fn clear_fault(State(state): State<SimState>, Path(target): Path<String>) -> Response {
    if !known_target(&state, &target) {
        return unknown_target(&state, &target);
    }
    state.faults.clear(&target);
    axum::Json(json!({"target": target.to_ascii_lowercase(), "fault": Fault::default()})).into_response()
}

async fn list_faults(State(state): State<SimState>) -> Response {
    axum::Json(state.faults.snapshot()).into_response()
}

async fn clear_all_faults(State(state): State<SimState>) -> Response {
    state.faults.clear_all();
    axum::Json(state.faults.snapshot()).into_response()
}

async fn manifest(State(state): State<SimState>) -> Response {
    axum::Json(state.data.manifest()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_counts_down_and_clears() {
        let faults = Faults::default();
        faults.set("Butik.dk", Fault::status(503).times(2));
        assert!(faults.take("butik.dk").is_some());
        assert_eq!(faults.get("butik.dk").unwrap().times, Some(1));
        assert!(faults.take("butik.dk").is_some());
        assert!(faults.take("butik.dk").is_none());
        faults.set("butik.dk", Fault::latency(5));
        faults.set("butik.dk", Fault::default());
        assert!(faults.get("butik.dk").is_none());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<Fault>(r#"{"latency":80}"#).is_err());
        assert_eq!(serde_json::from_str::<Fault>(r#"{"status":503}"#).unwrap(), Fault::status(503));
        assert!(serde_json::from_str::<Fault>("{}").unwrap().is_none());
    }
}
