//! One gate per e-conomic agreement in this process: a rate limiter (governor) below the
//! configured calls per second, and a pause that any 429 closes for its `Retry-After`, so every
//! task using that agreement waits, not just the one that was refused.

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};
use std::time::Duration;
use tokio::time::Instant;

/// The pacing shared by every client of one agreement.
pub struct AccountGate {
    /// Swapped whole when the rate changes (governor quotas are fixed).
    limiter: Mutex<(f64, Arc<DefaultDirectRateLimiter>)>,
    paused_until: Mutex<Option<Instant>>,
    pauses: AtomicU64,
}

impl std::fmt::Debug for AccountGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountGate")
            .field("requests_per_second", &self.requests_per_second())
            .field("pauses", &self.pauses())
            .finish()
    }
}

impl AccountGate {
    fn new(requests_per_second: f64) -> AccountGate {
        AccountGate {
            limiter: Mutex::new(limiter(requests_per_second)),
            paused_until: Mutex::new(None),
            pauses: AtomicU64::new(0),
        }
    }

    /// Paces the agreement at a new rate, for every client of it.
    pub fn set_rate(&self, requests_per_second: f64) {
        let mut slot = self.limiter.lock().unwrap_or_else(PoisonError::into_inner);
        if (slot.0 - requests_per_second.clamp(MIN_RATE, MAX_RATE)).abs() > f64::EPSILON {
            *slot = limiter(requests_per_second);
        }
    }

    /// Waits for the pause to lift and for the limiter to allow one call.
    pub async fn ready(&self) {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(PoisonError::into_inner);
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        let limiter = Arc::clone(&self.limiter.lock().unwrap_or_else(PoisonError::into_inner).1);
        limiter.until_ready().await;
    }

    /// A 429 arrived: nobody using this agreement sends for `wait`.
    pub fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut slot = self.paused_until.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none_or(|t| t < until) {
            *slot = Some(until);
        }
        self.pauses.fetch_add(1, Ordering::Relaxed);
    }

    /// How long the gate stays closed from now, if it is.
    pub fn paused_for(&self) -> Option<Duration> {
        let until = (*self.paused_until.lock().unwrap_or_else(PoisonError::into_inner))?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    /// How many times a 429 closed the gate.
    pub fn pauses(&self) -> u64 {
        self.pauses.load(Ordering::Relaxed)
    }

    pub fn requests_per_second(&self) -> f64 {
        self.limiter.lock().unwrap_or_else(PoisonError::into_inner).0
    }
}

const MIN_RATE: f64 = 0.01;
const MAX_RATE: f64 = 10_000.0;

/// One call per period, no burst: workers in flight spread out evenly.
fn limiter(requests_per_second: f64) -> (f64, Arc<DefaultDirectRateLimiter>) {
    let rate = requests_per_second.clamp(MIN_RATE, MAX_RATE);
    let quota = Quota::with_period(Duration::from_secs_f64(1.0 / rate))
        .unwrap_or_else(|| Quota::per_second(std::num::NonZeroU32::MIN));
    (rate, Arc::new(RateLimiter::direct(quota)))
}

struct Registry {
    /// Keys are hashes of the agreement, so no token is kept twice; random per process.
    hasher: RandomState,
    gates: Mutex<HashMap<u64, Weak<AccountGate>>>,
}

static REGISTRY: LazyLock<Registry> =
    LazyLock::new(|| Registry { hasher: RandomState::new(), gates: Mutex::new(HashMap::new()) });

/// The gate for an agreement (the API at `base` used with `grant`). Every client of the same
/// agreement gets the same gate while any of them lives; a new gate starts at
/// `requests_per_second`, an existing one keeps its rate (change it with `set_rate`).
pub fn gate_for(base: &url::Url, grant: &SecretString, requests_per_second: f64) -> Arc<AccountGate> {
    let key = REGISTRY.hasher.hash_one((base.as_str(), grant.expose_secret()));
    let mut gates = REGISTRY.gates.lock().unwrap_or_else(PoisonError::into_inner);
    gates.retain(|_, weak| weak.strong_count() > 0);
    if let Some(gate) = gates.get(&key).and_then(Weak::upgrade) {
        return gate;
    }
    let gate = Arc::new(AccountGate::new(requests_per_second));
    gates.insert(key, Arc::downgrade(&gate));
    gate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn one_gate_per_agreement() {
        let base = url("http://127.0.0.1:1/economic/");
        let a1 = gate_for(&base, &SecretString::from("grant-a"), 5.0);
        let a2 = gate_for(&base, &SecretString::from("grant-a"), 5.0);
        let b = gate_for(&base, &SecretString::from("grant-b"), 5.0);
        assert!(Arc::ptr_eq(&a1, &a2));
        assert!(!Arc::ptr_eq(&a1, &b));
        let elsewhere = gate_for(&url("http://127.0.0.1:2/economic/"), &SecretString::from("grant-a"), 5.0);
        assert!(!Arc::ptr_eq(&a1, &elsewhere));
        let faster = gate_for(&base, &SecretString::from("grant-a"), 50.0);
        assert!(Arc::ptr_eq(&a1, &faster), "the rate does not split an agreement's gate");
        faster.set_rate(50.0);
        assert_eq!(a1.requests_per_second(), 50.0);
    }

    #[tokio::test]
    async fn a_pause_is_shared_and_lifts() {
        let base = url("http://127.0.0.1:3/economic/");
        let gate = gate_for(&base, &SecretString::from("grant-p"), 1000.0);
        let same = gate_for(&base, &SecretString::from("grant-p"), 1000.0);
        gate.pause_for(Duration::from_millis(30));
        assert_eq!(same.pauses(), 1);
        same.ready().await;
        assert!(gate.paused_for().is_none(), "ready returns only once the pause is over");
    }
}
