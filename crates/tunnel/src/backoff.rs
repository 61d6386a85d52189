//! How long the supervisor waits before restarting a tunnel that died:
//! doubling from `initial` up to `max`, and back to `initial` once a run has
//! stayed online for `stable_after` (a tunnel that ran for an hour and then
//! dropped deserves a quick retry; one that dies on start should not spin).

use std::time::Duration;

/// The restart policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First delay.
    pub initial: Duration,
    /// Longest delay.
    pub max: Duration,
    /// A run online at least this long resets the delay to `initial`.
    pub stable_after: Duration,
}

impl Default for Backoff {
    /// 1 s doubling to 60 s; reset after a minute online. cloudflared's edge
    /// asks clients to back off on errors, and a minute keeps a broken set-up
    /// from hammering it while still recovering quickly from a blip.
    fn default() -> Backoff {
        Backoff { initial: Duration::from_secs(1), max: Duration::from_secs(60), stable_after: Duration::from_secs(60) }
    }
}

impl Backoff {
    /// A fresh sequence of delays under this policy.
    pub fn delays(self) -> Delays {
        Delays { policy: self, next: self.initial }
    }
}

/// The running state of one tunnel's restarts.
#[derive(Debug, Clone)]
pub struct Delays {
    policy: Backoff,
    next: Duration,
}

impl Delays {
    /// The delay before the next restart, given how long the run that ended was online.
    pub fn after(&mut self, online_for: Option<Duration>) -> Duration {
        if online_for.is_some_and(|d| d >= self.policy.stable_after) {
            self.next = self.policy.initial;
        }
        let delay = self.next.min(self.policy.max);
        self.next = (self.next * 2).min(self.policy.max);
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets_after_a_stable_run() {
        let ms = Duration::from_millis;
        let mut delays = Backoff { initial: ms(100), max: ms(500), stable_after: Duration::from_secs(10) }.delays();
        let seen: Vec<_> = (0..5).map(|_| delays.after(None)).collect();
        assert_eq!(seen, [ms(100), ms(200), ms(400), ms(500), ms(500)]);
        // A short run online does not reset; a long one does.
        assert_eq!(delays.after(Some(ms(900))), ms(500));
        assert_eq!(delays.after(Some(Duration::from_secs(10))), ms(100));
        assert_eq!(delays.after(None), ms(200));
    }
}
