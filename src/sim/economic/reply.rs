//! How the e-conomic simulator answers: the entry checks every request passes (latency,
//! tokens, rate limit, armed faults), e-conomic's error bodies, and the cut or garbled replies.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::Serialize;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;

use super::{EconomicSim, Fault, validate};
use crate::connect::economic_wire::ErrorBody;

impl EconomicSim {
    /// Latency, then the tokens, then the rate limit: the agreement's grant, or the error reply.
    pub(super) async fn enter(&self, headers: &HeaderMap) -> Result<String, Response> {
        if !self.inner.options.latency.is_zero() {
            tokio::time::sleep(self.inner.options.latency).await;
        }
        let token = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let (secret, grant) = (token("X-AppSecretToken"), token("X-AgreementGrantToken"));
        let limit = self.inner.options.requests_per_second;
        let verdict = self.with(&grant, |a| {
            if a.app_secret != secret || secret.is_empty() {
                return Err(None);
            }
            a.stats.requests += 1;
            if a.take_fault(&[Fault::Unavailable]).is_some() {
                return Err(Some((StatusCode::SERVICE_UNAVAILABLE, 1)));
            }
            let Some(limit) = limit else { return Ok(()) };
            let now = Instant::now();
            let (start, count) = match a.window {
                Some((start, count)) if now.duration_since(start) < Duration::from_secs(1) => (start, count),
                _ => (now, 0),
            };
            if count >= limit {
                a.stats.rate_limited += 1;
                let left = Duration::from_secs(1).saturating_sub(now.duration_since(start));
                return Err(Some((StatusCode::TOO_MANY_REQUESTS, left.as_secs_f64().ceil().max(1.0) as u64)));
            }
            a.window = Some((start, count + 1));
            Ok(())
        });
        match verdict {
            Some(Ok(())) => Ok(grant),
            None | Some(Err(None)) => Err(self.error(
                StatusCode::UNAUTHORIZED,
                "The app secret token or the agreement grant token is missing or not valid.",
                "Send valid X-AppSecretToken and X-AgreementGrantToken headers.",
                None,
            )),
            Some(Err(Some((status, window_left)))) => {
                let retry_after = self.inner.options.retry_after_seconds.unwrap_or(window_left);
                let message = if status == StatusCode::TOO_MANY_REQUESTS {
                    format!("Too many requests: the agreement may make {} calls a second.", limit.unwrap_or_default())
                } else {
                    "The service is temporarily unavailable.".to_string()
                };
                let mut response = self.error(status, &message, "Wait for Retry-After seconds and try again.", None);
                if let Ok(v) = retry_after.to_string().parse() {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
                Err(response)
            }
        }
    }

    pub(super) fn error(&self, status: StatusCode, message: &str, hint: &str, errors: Option<Value>) -> Response {
        let n = self.inner.log_ids.fetch_add(1, Ordering::Relaxed);
        let body = ErrorBody {
            message: message.to_string(),
            error_code: None,
            developer_hint: Some(hint.to_string()),
            log_id: Some(format!("{:08x}-0000-4000-8000-{n:012x}", self.inner.options.seed as u32)),
            http_status_code: status.as_u16(),
            errors,
            log_time: Some(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string()),
        };
        (status, axum::Json(body)).into_response()
    }

    pub(super) fn validation_error(&self, errors: validate::Errors) -> Response {
        self.error(
            StatusCode::BAD_REQUEST,
            "Validation error.",
            "Inspect validation errors and correct your request.",
            Some(errors.into_value()),
        )
    }

    pub(super) fn not_found(&self, what: &str) -> Response {
        self.error(StatusCode::NOT_FOUND, &format!("{what} not found."), "Check the resource's number.", None)
    }

    /// Whether this commit's reply is cut: an armed fault, or chance when the demo asks for it.
    pub(super) fn reply_fault(&self, grant: &str, armed: &[Fault]) -> Option<Fault> {
        if let Some(f) = self.with(grant, |a| a.take_fault(armed)).flatten() {
            return Some(f);
        }
        let rate = self.inner.options.drop_after_commit_rate;
        if rate > 0.0 {
            let mut rng = self.inner.rng.lock().unwrap_or_else(|p| p.into_inner());
            if rng.random_bool(rate.clamp(0.0, 1.0)) {
                return armed.first().copied();
            }
        }
        None
    }

    /// A JSON body: parsed, or the 400/415 e-conomic sends (boxed: a response is large).
    pub(super) fn read_body<T: serde::de::DeserializeOwned>(
        &self,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<T, Box<Response>> {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/json"));
        if !json {
            return Err(Box::new(self.error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "The request must have Content-Type: application/json.",
                "Set the Content-Type header.",
                None,
            )));
        }
        serde_json::from_slice(body).map_err(|e| {
            Box::new(self.error(
                StatusCode::BAD_REQUEST,
                &format!("The request body could not be read: {e}"),
                "Send a JSON document matching the schema.",
                None,
            ))
        })
    }
}

/// A reply whose connection is cut after the headers and part of the body.
pub(super) fn dropped_reply(status: StatusCode, body: &impl Serialize) -> Response {
    let text = serde_json::to_vec(body).unwrap_or_default();
    let partial = Bytes::copy_from_slice(&text[..text.len() / 2]);
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        vec![Ok(partial), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "simulated connection drop"))];
    let mut response = Response::new(Body::from_stream(futures::stream::iter(chunks)));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}

/// A complete HTTP reply whose JSON is cut short.
pub(super) fn garbled_reply(status: StatusCode, body: &impl Serialize) -> Response {
    let text = serde_json::to_vec(body).unwrap_or_default();
    let partial = text[..text.len() / 2].to_vec();
    (status, [(header::CONTENT_TYPE, "application/json")], partial).into_response()
}

pub(super) fn created(body: &impl Serialize) -> Response {
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

pub(super) fn ok(body: &impl Serialize) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `http://host/economic/customers`, for self links.
pub(super) fn link_base(headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}{}", uri.path())
}
