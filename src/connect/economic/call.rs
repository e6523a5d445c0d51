//! The HTTP layer of the e-conomic client: every call waits at the agreement's gate, sends
//! the tokens in headers, and is classified by whether it may have been processed; GETs retry.

use reqwest::Method;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

use super::{Economic, SYSTEM};
use crate::connect::economic_wire::ErrorBody;
use crate::connect::http::{self, ConnectError};

/// How one HTTP call went, as far as "was it processed?" is concerned.
#[derive(Debug)]
pub(super) enum CallError {
    /// Certainly not processed: no connection was made, or the server refused up front
    /// (429, 503).
    NotProcessed { error: ConnectError, retry_after: Option<Duration> },
    /// Sent, and the reply was lost, cut or unreadable: it may have been processed.
    Lost(ConnectError),
    /// The server answered with an error status.
    Status { status: u16, body: Option<ErrorBody>, raw: String, error: ConnectError },
}

impl CallError {
    pub(super) fn connect_error(&self) -> &ConnectError {
        match self {
            CallError::NotProcessed { error, .. } | CallError::Lost(error) | CallError::Status { error, .. } => error,
        }
    }
}

impl Economic {
    pub(super) fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<url::Url, ConnectError> {
        let mut url = self.base.join(path).map_err(|e| ConnectError::BadUrl {
            system: SYSTEM,
            url: http::redact_url(self.base.as_str()),
            reason: e.to_string(),
        })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Never lets a token into a message, even if a server echoes it.
    pub(super) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in [self.app_secret.expose_secret(), self.grant.expose_secret()] {
            if !secret.is_empty() {
                out = out.replace(secret, "[redacted]");
            }
        }
        out
    }

    /// One request: wait at the gate, send, read the whole body, classify.
    pub(super) async fn call(
        &self,
        method: Method,
        url: url::Url,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, CallError> {
        self.gate.ready().await;
        let mut request = self
            .client
            .request(method, url)
            .header("X-AppSecretToken", self.app_secret.expose_secret())
            .header("X-AgreementGrantToken", self.grant.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.map_err(|e| {
            let error = http::transport_error(SYSTEM, &self.host, &e);
            // Only a failed connect proves the request never left.
            if e.is_connect() { CallError::NotProcessed { error, retry_after: None } } else { CallError::Lost(error) }
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes =
            response.bytes().await.map_err(|e| CallError::Lost(http::transport_error(SYSTEM, &self.host, &e)))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let code = status.as_u16();
        let raw = self.scrub(&String::from_utf8_lossy(&bytes));
        let parsed: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
        let message = self.scrub(
            parsed
                .as_ref()
                .map(|b| b.message.trim())
                .filter(|m| !m.is_empty())
                .or(status.canonical_reason())
                .unwrap_or("no message"),
        );
        if code == 429 || code == 503 {
            let seconds = http::retry_after_seconds(&headers, 2);
            let wait = Duration::from_secs(seconds);
            let error = if code == 429 {
                // Everyone using this agreement waits, not just this task.
                self.gate.pause_for(wait);
                ConnectError::RateLimited { system: SYSTEM, host: self.host.clone(), retry_after_seconds: seconds }
            } else {
                ConnectError::ServerError { system: SYSTEM, host: self.host.clone(), status: code, message }
            };
            return Err(CallError::NotProcessed { error, retry_after: Some(wait) });
        }
        let host = self.host.clone();
        let error = match code {
            401 | 403 => ConnectError::Unauthorized { system: SYSTEM, host, status: code, message },
            404 => ConnectError::NotFound { system: SYSTEM, host, what: message },
            500..=599 => ConnectError::ServerError { system: SYSTEM, host, status: code, message },
            _ => {
                let first = parsed.as_ref().and_then(|b| b.field_errors().into_iter().next());
                let code_text =
                    first.as_ref().and_then(|f| f.code.clone()).or(parsed.as_ref().and_then(|b| b.error_code.clone()));
                let message = match &first {
                    Some(f) => format!("{message} {}: {}", f.path, f.message),
                    None => message,
                };
                ConnectError::Rejected { system: SYSTEM, host, status: code, code: code_text, message }
            }
        };
        Err(CallError::Status { status: code, body: parsed, raw, error })
    }

    /// A GET with retries; `Ok(None)` on 404.
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Option<T>, CallError> {
        let url = self.url(path, query).map_err(|error| CallError::NotProcessed { error, retry_after: None })?;
        let (mut retries, mut rate_limit_retries) = (0u32, 0u32);
        loop {
            let outcome = match self.call(Method::GET, url.clone(), None).await {
                Ok(bytes) => match serde_json::from_slice::<T>(&bytes) {
                    Ok(value) => return Ok(Some(value)),
                    Err(e) => CallError::Lost(ConnectError::Malformed {
                        system: SYSTEM,
                        host: self.host.clone(),
                        detail: format!("{path}: {e}"),
                    }),
                },
                Err(CallError::Status { status: 404, .. }) => return Ok(None),
                Err(e) => e,
            };
            let retryable = match &outcome {
                CallError::NotProcessed { .. } | CallError::Lost(_) => true,
                CallError::Status { status, .. } => *status >= 500,
            };
            let rate_limited = matches!(outcome.connect_error(), ConnectError::RateLimited { .. });
            let exhausted = if rate_limited {
                rate_limit_retries += 1;
                rate_limit_retries > self.retry.max_rate_limit_retries
            } else {
                retries += 1;
                retries > self.retry.max_retries
            };
            if !retryable || exhausted {
                return Err(outcome);
            }
            // After a 429 the gate already holds everyone back for Retry-After.
            if !rate_limited {
                tokio::time::sleep(self.retry.backoff(retries - 1)).await;
            }
            tracing::debug!(error = %outcome.connect_error(), "retrying e-conomic GET");
        }
    }

    /// A POST, sent once.
    pub(super) async fn post<B: Serialize + Sync, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CallError> {
        let url = self.url(path, &[]).map_err(|error| CallError::NotProcessed { error, retry_after: None })?;
        let body = serde_json::to_vec(body).map_err(|e| CallError::NotProcessed {
            error: ConnectError::Malformed { system: SYSTEM, host: self.host.clone(), detail: e.to_string() },
            retry_after: None,
        })?;
        let bytes = self.call(Method::POST, url, Some(body)).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            CallError::Lost(ConnectError::Malformed {
                system: SYSTEM,
                host: self.host.clone(),
                detail: format!("the reply to POST {path} cannot be read: {e}"),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn secrets_never_reach_urls_or_debug_output() {
        let economic = Economic::new(
            reqwest::Client::new(),
            "http://127.0.0.1:9/economic/",
            SecretString::from("app-secret-123"),
            SecretString::from("grant-456"),
        )
        .unwrap();
        let url = economic.url("customers", &[("filter", "email$eq:a@b.dk")]).unwrap();
        assert!(!url.as_str().contains("secret") && !url.as_str().contains("grant-456"));
        assert_eq!(economic.scrub("echo grant-456 and app-secret-123"), "echo [redacted] and [redacted]");
        assert!(
            Economic::new(
                reqwest::Client::new(),
                "http://example.com",
                SecretString::from("a"),
                SecretString::from("b")
            )
            .is_err()
        );
    }
}
