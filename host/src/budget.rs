//! Sliding-window call limits: the service's (100 a minute, 1,500 an hour)
//! as the fake tenant enforces them, and the host's own budget that keeps
//! calls under them.

use std::collections::VecDeque;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// How many calls fit in any minute and in any hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_minute: usize,
    pub per_hour: usize,
}

impl Limits {
    /// Defender for Endpoint's limits, per application and tenant.
    pub const SERVICE: Limits = Limits {
        per_minute: 100,
        per_hour: 1_500,
    };
}

/// The calls of the last hour, oldest first.
#[derive(Debug, Clone)]
pub struct RateWindow {
    limits: Limits,
    calls: VecDeque<Duration>,
}

impl RateWindow {
    pub fn new(limits: Limits) -> Self {
        RateWindow {
            limits,
            calls: VecDeque::new(),
        }
    }

    /// Counts a call at `now` if it fits in both windows; otherwise says how
    /// long until it would, and counts nothing.
    pub fn try_acquire(&mut self, now: Duration) -> Result<(), Duration> {
        while self.calls.front().is_some_and(|t| *t + HOUR <= now) {
            self.calls.pop_front();
        }
        let wait = [
            (self.limits.per_minute, MINUTE),
            (self.limits.per_hour, HOUR),
        ]
        .into_iter()
        .filter_map(|(limit, window)| self.wait_for(now, limit, window))
        .max();
        match wait {
            Some(wait) => Err(wait),
            None => {
                self.calls.push_back(now);
                Ok(())
            }
        }
    }

    /// The calls that may still be made at `now`, in the minute and in the hour.
    pub fn left(&self, now: Duration) -> Limits {
        let used = |window: Duration| self.calls.iter().filter(|t| **t + window > now).count();
        Limits {
            per_minute: self.limits.per_minute.saturating_sub(used(MINUTE)),
            per_hour: self.limits.per_hour.saturating_sub(used(HOUR)),
        }
    }

    /// With `limit` calls already inside `window`, the wait until the
    /// earliest of them leaves it.
    fn wait_for(&self, now: Duration, limit: usize, window: Duration) -> Option<Duration> {
        if limit == 0 {
            return Some(window);
        }
        let in_window = self
            .calls
            .iter()
            .rev()
            .take_while(|t| **t + window > now)
            .count();
        (in_window >= limit).then(|| self.calls[self.calls.len() - limit] + window - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn the_minute_limit_frees_a_place_when_the_oldest_call_ages_out() {
        let mut w = RateWindow::new(Limits {
            per_minute: 2,
            per_hour: 100,
        });
        assert_eq!(w.try_acquire(s(0)), Ok(()));
        assert_eq!(w.try_acquire(s(10)), Ok(()));
        assert_eq!(w.try_acquire(s(20)), Err(s(40)));
        assert_eq!(w.try_acquire(s(60)), Ok(()));
        assert_eq!(w.try_acquire(s(61)), Err(s(9)));
    }

    #[test]
    fn the_longer_wait_wins_when_both_limits_are_full() {
        let mut w = RateWindow::new(Limits {
            per_minute: 2,
            per_hour: 3,
        });
        for t in [0, 1, 100] {
            assert_eq!(w.try_acquire(s(t)), Ok(()));
        }
        assert_eq!(w.try_acquire(s(101)), Err(s(3600 - 101)));
    }

    #[test]
    fn what_is_left_counts_the_calls_in_each_window() {
        let mut w = RateWindow::new(Limits {
            per_minute: 5,
            per_hour: 10,
        });
        for t in [0, 30, 59] {
            assert_eq!(w.try_acquire(s(t)), Ok(()));
        }
        assert_eq!(
            w.left(s(59)),
            Limits {
                per_minute: 2,
                per_hour: 7
            }
        );
        assert_eq!(
            w.left(s(61)),
            Limits {
                per_minute: 3,
                per_hour: 7
            }
        );
    }
}
