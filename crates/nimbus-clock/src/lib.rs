//! The one clock every nimbus service reads: real wall time plus an offset
//! that tests move forward (`POST /_nimbus/clock/advance`), so TTLs,
//! visibility timeouts, schedules and retries fire without sleeping.
//!
//! Invariants:
//! - The offset only grows: [`Clock::advance`] adds to it and nothing
//!   subtracts from it.
//! - [`Clock::now_ms`] never goes backwards, even if the machine's wall
//!   clock does (an NTP step): every reading is at least the largest one
//!   handed out before, by any clone of the clock.
//! - Every advance is announced to waiters ([`Clock::subscribe`],
//!   [`Clock::sleep_until_ms`]) after the new offset is visible, so a
//!   waiter that wakes and reads the clock sees the jump.
//!
//! Clones share one state: the server creates one `Clock` and hands a clone
//! to each service.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// Wall time plus a forward-only offset; cheap to clone.
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

struct Inner {
    offset_ms: AtomicU64,
    /// The largest reading handed out so far (the monotone floor).
    last_ms: AtomicU64,
    /// Counts advances; waiters select on `changed()`.
    advances: watch::Sender<u64>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("now_ms", &self.now_ms())
            .field("offset_ms", &self.offset_ms())
            .finish()
    }
}

impl Clock {
    /// A clock reading real time (offset zero).
    pub fn new() -> Clock {
        let (advances, _) = watch::channel(0);
        Clock {
            inner: Arc::new(Inner {
                offset_ms: AtomicU64::new(0),
                last_ms: AtomicU64::new(0),
                advances,
            }),
        }
    }

    /// Milliseconds since the Unix epoch, by this clock.
    pub fn now_ms(&self) -> u64 {
        let reading = wall_ms().saturating_add(self.inner.offset_ms.load(Ordering::Acquire));
        // fetch_max makes the floor shared by every clone and every thread.
        let previous = self.inner.last_ms.fetch_max(reading, Ordering::AcqRel);
        previous.max(reading)
    }

    /// Now, as a `SystemTime`.
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.now_ms())
    }

    /// Whole seconds since the Unix epoch, by this clock.
    pub fn now_secs(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// How far this clock is ahead of real time (ms).
    pub fn offset_ms(&self) -> u64 {
        self.inner.offset_ms.load(Ordering::Acquire)
    }

    /// Moves the clock forward by `by` (whole milliseconds; the offset
    /// saturates rather than overflows) and wakes every waiter. Returns the
    /// new reading.
    pub fn advance(&self, by: Duration) -> u64 {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        // fetch_update with saturating_add: the offset never wraps back.
        let _ = self
            .inner
            .offset_ms
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |o| {
                Some(o.saturating_add(ms))
            });
        let now = self.now_ms();
        self.inner.advances.send_modify(|n| *n = n.wrapping_add(1));
        now
    }

    /// A receiver whose `changed()` resolves at the next advance. Take it
    /// before reading the clock, so an advance between the reading and the
    /// wait still wakes the waiter.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.advances.subscribe()
    }

    /// Resolves once [`Clock::now_ms`] reaches `at_ms`, whether by real time
    /// passing or by an advance.
    pub async fn sleep_until_ms(&self, at_ms: u64) {
        let mut advances = self.subscribe();
        loop {
            // Subscribed before reading, so no advance is missed.
            advances.borrow_and_update();
            let now = self.now_ms();
            if now >= at_ms {
                return;
            }
            let real = Duration::from_millis(at_ms - now);
            tokio::select! {
                _ = tokio::time::sleep(real) => {}
                changed = advances.changed() => {
                    if changed.is_err() {
                        // Unreachable while `self` holds the sender; fall
                        // back to real time rather than spin.
                        tokio::time::sleep(real).await;
                    }
                }
            }
        }
    }

    /// Resolves after `by` of this clock's time.
    pub async fn sleep(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.sleep_until_ms(self.now_ms().saturating_add(ms)).await;
    }
}

/// The machine's wall clock (ms since the epoch; 0 before the epoch).
fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn starts_at_real_time() {
        let clock = Clock::new();
        let diff = clock.now_ms().abs_diff(wall_ms());
        assert!(diff < 1000, "clock is {diff} ms from the wall clock");
        assert_eq!(clock.offset_ms(), 0);
    }

    #[test]
    fn advance_moves_every_clone_forward() {
        let clock = Clock::new();
        let other = clock.clone();
        let before = other.now_ms();
        let after = clock.advance(Duration::from_secs(601));
        assert!(after >= before + 601_000);
        assert!(other.now_ms() >= before + 601_000);
        assert_eq!(other.offset_ms(), 601_000);
        assert!(other.now() >= UNIX_EPOCH + Duration::from_millis(before + 601_000));
    }

    #[test]
    fn readings_never_go_backwards() {
        let clock = Clock::new();
        // Simulate a wall clock step backwards: a reading far ahead of the
        // wall clock becomes the floor.
        let future = wall_ms() + 3_600_000;
        clock.inner.last_ms.store(future, Ordering::Release);
        assert!(clock.now_ms() >= future);
        let mut last = 0;
        for _ in 0..1000 {
            let now = clock.now_ms();
            assert!(now >= last);
            last = now;
        }
    }

    #[test]
    fn offset_saturates() {
        let clock = Clock::new();
        clock.advance(Duration::from_millis(u64::MAX));
        clock.advance(Duration::from_secs(10));
        assert_eq!(clock.offset_ms(), u64::MAX);
        assert_eq!(clock.now_ms(), u64::MAX);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sleep_until_returns_at_once_for_the_past() {
        let clock = Clock::new();
        let started = Instant::now();
        clock.sleep_until_ms(clock.now_ms() - 1).await;
        assert!(started.elapsed() < Duration::from_millis(100));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sleep_until_wakes_on_advance() {
        let clock = Clock::new();
        let target = clock.now_ms() + 600_000;
        let waiter = {
            let clock = clock.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                clock.sleep_until_ms(target).await;
                started.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Too small an advance leaves it waiting.
        clock.advance(Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        clock.advance(Duration::from_secs(600));
        let waited = tokio::time::timeout(Duration::from_secs(2), waiter)
            .await
            .expect("the advance woke the sleeper")
            .unwrap();
        assert!(waited < Duration::from_secs(2));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sleep_until_wakes_by_real_time() {
        let clock = Clock::new();
        let started = Instant::now();
        clock.sleep(Duration::from_millis(50)).await;
        assert!(started.elapsed() >= Duration::from_millis(50));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn subscribers_see_advances() {
        let clock = Clock::new();
        let mut rx = clock.subscribe();
        rx.borrow_and_update();
        clock.advance(Duration::from_millis(5));
        tokio::time::timeout(Duration::from_secs(1), rx.changed())
            .await
            .expect("changed")
            .unwrap();
    }
}
