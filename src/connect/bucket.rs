//! Client-side pacing for Shopify's leaky-bucket rate limit, shared by every client of the
//! same shop in this process, so parallel workers slow down together before a 429.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};
use std::time::Duration;

use tokio::time::Instant;

/// Shopify's standard bucket: 40 calls, leaking 2 per second.
pub const DEFAULT_CAPACITY: f64 = 40.0;
pub const DEFAULT_LEAK_PER_SECOND: f64 = 2.0;
const MIN_LEAK_PER_SECOND: f64 = 0.1;
/// The longest the pacing alone makes a call wait (a 429's own pause comes on top).
const MAX_WAIT: Duration = Duration::from_secs(60);

/// A model of the shop's bucket: how full it is now, what it holds, how fast it drains.
#[derive(Debug)]
pub struct LeakyBucket {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Calls in the bucket at `at`, including calls booked but not yet sent.
    level: f64,
    capacity: f64,
    /// The drain rate assumed now: `nominal_leak`, halved by each 429 and grown back by
    /// successful calls, so a shop that drains slower than its plan suggests (or another
    /// app sharing the bucket) is learnt instead of hit again and again.
    leak_per_second: f64,
    nominal_leak: f64,
    at: Instant,
    /// Set by a 429: nobody sends before this.
    paused_until: Option<Instant>,
    /// Counts 429s, so that a caller who booked before one can tell its wait is stale.
    pauses: u64,
}

impl State {
    fn drain(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.level = (self.level - elapsed * self.leak_per_second).max(0.0);
        self.at = self.at.max(now);
    }

    /// The level we keep below: a tenth of the bucket (at least one call) stays free for
    /// other apps and for our own requests already on the wire.
    fn ceiling(&self) -> f64 {
        let headroom = (self.capacity / 10.0).ceil().max(1.0);
        (self.capacity - headroom).max(1.0)
    }
}

impl LeakyBucket {
    pub fn new(capacity: f64, leak_per_second: f64) -> LeakyBucket {
        LeakyBucket {
            state: Mutex::new(State {
                level: 0.0,
                capacity: capacity.max(1.0),
                leak_per_second: leak_per_second.max(MIN_LEAK_PER_SECOND),
                nominal_leak: leak_per_second.max(MIN_LEAK_PER_SECOND),
                at: Instant::now(),
                paused_until: None,
                pauses: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a few numbers, always consistent; a panic elsewhere cannot break it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until one more call fits under the ceiling, then returns; the call is booked.
    /// A 429 seen by anyone while waiting makes the wait stale: the call is booked again
    /// behind the pause, so waiters come back spaced out rather than all at once.
    pub async fn acquire(&self) {
        loop {
            let (wait, pauses) = self.book(Instant::now());
            if !wait.is_zero() {
                tracing::debug!(wait_ms = wait.as_millis() as u64, "pacing Shopify calls");
                tokio::time::sleep(wait).await;
            }
            if self.lock().pauses == pauses {
                return;
            }
        }
    }

    /// Books one call at `now` and says how long to wait before sending it.
    pub fn reserve(&self, now: Instant) -> Duration {
        self.book(now).0
    }

    fn book(&self, now: Instant) -> (Duration, u64) {
        let mut s = self.lock();
        s.drain(now);
        let paused = s.paused_until.map(|until| until.saturating_duration_since(now)).unwrap_or_default();
        let level_then = (s.level - paused.as_secs_f64() * s.leak_per_second).max(0.0);
        let over = level_then + 1.0 - s.ceiling();
        let wait = if over > 0.0 {
            // A nonsense call-limit header must not become an endless (or panicking) wait.
            let pace = Duration::try_from_secs_f64(over / s.leak_per_second).unwrap_or(MAX_WAIT);
            paused + pace.min(MAX_WAIT)
        } else {
            paused
        };
        s.level += 1.0;
        (wait, s.pauses)
    }

    /// What the shop said after a call: `X-Shopify-Shop-Api-Call-Limit: 32/40`. The bucket
    /// takes the higher of its own estimate (which counts calls still waiting) and the
    /// shop's figure (which counts other apps' and processes' calls).
    pub fn observe(&self, used: f64, capacity: f64, now: Instant) {
        let mut s = self.lock();
        s.drain(now);
        if capacity >= 1.0 && (capacity - s.capacity).abs() > f64::EPSILON {
            s.capacity = capacity;
            // Shopify's plans keep the ratio: 40/2, 80/4 (Advanced), 400/20 (Plus).
            s.nominal_leak = (capacity / 20.0).max(DEFAULT_LEAK_PER_SECOND);
            s.leak_per_second = s.leak_per_second.min(s.nominal_leak);
        }
        // The shop cannot hold more than its capacity; a bigger figure is noise.
        s.level = s.level.max(used.min(s.capacity));
        s.leak_per_second = (s.leak_per_second * 1.05).min(s.nominal_leak);
    }

    /// A 429: everybody waits `retry_after`, and the bucket is taken as full.
    pub fn pause(&self, retry_after: Duration, now: Instant) {
        let mut s = self.lock();
        s.drain(now);
        let until = now + retry_after;
        s.paused_until = Some(s.paused_until.map_or(until, |u| u.max(until)));
        s.level = s.level.max(s.capacity);
        s.leak_per_second = (s.leak_per_second / 2.0).max(MIN_LEAK_PER_SECOND);
        s.pauses += 1;
    }

    /// The drain rate assumed now (for tests and the log).
    pub fn leak_per_second(&self) -> f64 {
        self.lock().leak_per_second
    }

    /// The current estimate (for tests and the log).
    pub fn level(&self, now: Instant) -> f64 {
        let mut s = self.lock();
        s.drain(now);
        s.level
    }
}

/// Parses `X-Shopify-Shop-Api-Call-Limit` (`32/40`).
pub fn parse_call_limit(value: &str) -> Option<(f64, f64)> {
    let (used, capacity) = value.trim().split_once('/')?;
    let (used, capacity) = (used.trim().parse::<f64>().ok()?, capacity.trim().parse::<f64>().ok()?);
    (used.is_finite() && capacity.is_finite() && used >= 0.0 && capacity >= 1.0).then_some((used, capacity))
}

static BUCKETS: LazyLock<Mutex<HashMap<String, Weak<LeakyBucket>>>> = LazyLock::new(Default::default);

/// The bucket for a shop (keyed by its API URL): one per shop for the whole process, as
/// Shopify keeps one per app and store, however many clients we make.
pub fn for_shop(key: &str) -> Arc<LeakyBucket> {
    let mut map = BUCKETS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(bucket) = map.get(key).and_then(Weak::upgrade) {
        return bucket;
    }
    map.retain(|_, weak| weak.strong_count() > 0);
    let bucket = Arc::new(LeakyBucket::new(DEFAULT_CAPACITY, DEFAULT_LEAK_PER_SECOND));
    map.insert(key.to_string(), Arc::downgrade(&bucket));
    bucket
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_to_the_ceiling_then_paces_at_the_leak_rate() {
        let bucket = LeakyBucket::new(40.0, 2.0);
        let now = Instant::now();
        for _ in 0..36 {
            assert_eq!(bucket.reserve(now), Duration::ZERO);
        }
        assert_eq!(bucket.reserve(now), Duration::from_millis(500));
        assert_eq!(bucket.reserve(now), Duration::from_millis(1000));
        // Two seconds later four calls have leaked out; two of them were booked above.
        assert_eq!(bucket.reserve(now + Duration::from_secs(2)), Duration::ZERO);
    }

    #[test]
    fn the_shops_figure_raises_the_estimate() {
        let bucket = LeakyBucket::new(40.0, 2.0);
        let now = Instant::now();
        bucket.observe(39.0, 40.0, now);
        // 39 + 1 must drain to the ceiling of 36: 4 calls at 2/s.
        assert_eq!(bucket.reserve(now), Duration::from_secs(2));
        bucket.observe(1.0, 40.0, now);
        assert!(bucket.level(now) >= 40.0);
    }

    #[test]
    fn a_small_bucket_is_paced_from_the_start() {
        let bucket = LeakyBucket::new(40.0, 2.0);
        let now = Instant::now();
        bucket.observe(0.0, 4.0, now);
        let waits: Vec<Duration> = (0..4).map(|_| bucket.reserve(now)).collect();
        assert_eq!(waits[..3], [Duration::ZERO; 3]);
        assert_eq!(waits[3], Duration::from_millis(500));
    }

    #[test]
    fn a_429_pauses_everyone() {
        let bucket = LeakyBucket::new(40.0, 2.0);
        let now = Instant::now();
        bucket.pause(Duration::from_secs(3), now);
        let wait = bucket.reserve(now);
        assert!(wait >= Duration::from_secs(3), "{wait:?}");
    }

    #[test]
    fn a_429_halves_the_assumed_leak_and_successes_restore_it() {
        let bucket = LeakyBucket::new(40.0, 2.0);
        let now = Instant::now();
        bucket.pause(Duration::from_secs(1), now);
        bucket.pause(Duration::from_secs(1), now);
        assert_eq!(bucket.leak_per_second(), 0.5);
        for _ in 0..100 {
            bucket.observe(0.0, 40.0, now);
        }
        assert_eq!(bucket.leak_per_second(), 2.0);
    }

    #[test]
    fn absurd_figures_give_a_bounded_wait() {
        let bucket = LeakyBucket::new(40.0, 2.0);
        let now = Instant::now();
        bucket.observe(1e300, 40.0, now);
        // Taken as a full bucket: 40 + 1 drains to the ceiling of 36 in 2.5 s.
        assert_eq!(bucket.reserve(now), Duration::from_millis(2500));
        let slow = LeakyBucket::new(1e12, 0.0);
        slow.observe(1e12, 1e12, now);
        assert!(slow.reserve(now) <= MAX_WAIT);
    }

    #[test]
    fn call_limit_header() {
        assert_eq!(parse_call_limit("32/40"), Some((32.0, 40.0)));
        assert_eq!(parse_call_limit(" 1 / 80 "), Some((1.0, 80.0)));
        assert_eq!(parse_call_limit("x/40"), None);
        assert_eq!(parse_call_limit("40"), None);
        assert_eq!(parse_call_limit("3/0"), None);
    }

    #[test]
    fn one_bucket_per_shop() {
        let a = for_shop("https://a.myshopify.com/admin/api/2025-10/");
        let b = for_shop("https://a.myshopify.com/admin/api/2025-10/");
        let c = for_shop("https://c.myshopify.com/admin/api/2025-10/");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }
}
