//! Pure restart policy: capped exponential backoff, and a sliding window of crashes after which
//! the supervisor gives up instead of restarting forever.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Delay before the first restart; doubled for each further crash in the window.
    pub base: Duration,
    /// No delay is longer than this.
    pub cap: Duration,
    /// This many crashes of one child within `window` and the supervisor gives up.
    pub max_crashes: usize,
    pub window: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(10),
            max_crashes: 5,
            window: Duration::from_secs(60),
        }
    }
}

impl RestartPolicy {
    /// The delay before restarting a child that has crashed `crashes` times in the window
    /// (`crashes >= 1`): `base * 2^(crashes-1)`, at most `cap`.
    pub fn backoff(&self, crashes: usize) -> Duration {
        let exp = crashes.saturating_sub(1).min(31) as u32;
        self.base
            .checked_mul(1u32 << exp)
            .unwrap_or(self.cap)
            .min(self.cap)
    }
}

/// What to do after a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Restart after `delay`; `crashes` crashes are in the window, this one included.
    Restart { delay: Duration, crashes: usize },
    /// Too many crashes in the window.
    GiveUp { crashes: usize },
}

/// The crash times of one child within the policy's window.
#[derive(Debug, Clone, Default)]
pub struct CrashWindow {
    times: VecDeque<Instant>,
}

impl CrashWindow {
    /// Records a crash at `now` and decides.
    pub fn record(&mut self, now: Instant, policy: &RestartPolicy) -> Decision {
        while let Some(&first) = self.times.front() {
            if now.saturating_duration_since(first) >= policy.window {
                self.times.pop_front();
            } else {
                break;
            }
        }
        self.times.push_back(now);
        let crashes = self.times.len();
        if crashes >= policy.max_crashes {
            Decision::GiveUp { crashes }
        } else {
            Decision::Restart {
                delay: policy.backoff(crashes),
                crashes,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RestartPolicy {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(3),
            ..RestartPolicy::default()
        };
        let cases = [
            (0, 250),
            (1, 250),
            (2, 500),
            (3, 1000),
            (4, 2000),
            (5, 3000),
            (6, 3000),
            (40, 3000),
            (usize::MAX, 3000),
        ];
        for (crashes, ms) in cases {
            assert_eq!(
                p.backoff(crashes),
                Duration::from_millis(ms),
                "crashes={crashes}"
            );
        }
    }

    #[test]
    fn crash_window_gives_up_only_when_crashes_cluster() {
        let p = RestartPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(10),
            max_crashes: 3,
            window: Duration::from_secs(60),
        };
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        // (crash time in seconds, expected decision)
        let cases: [(u64, Decision); 6] = [
            (
                0,
                Decision::Restart {
                    delay: Duration::from_millis(100),
                    crashes: 1,
                },
            ),
            (
                10,
                Decision::Restart {
                    delay: Duration::from_millis(200),
                    crashes: 2,
                },
            ),
            // 0 s has left the window: still two crashes in it.
            (
                65,
                Decision::Restart {
                    delay: Duration::from_millis(200),
                    crashes: 2,
                },
            ),
            (69, Decision::GiveUp { crashes: 3 }),
            // Long after: the window is empty again.
            (
                500,
                Decision::Restart {
                    delay: Duration::from_millis(100),
                    crashes: 1,
                },
            ),
            (
                559,
                Decision::Restart {
                    delay: Duration::from_millis(200),
                    crashes: 2,
                },
            ),
        ];
        let mut w = CrashWindow::default();
        for (s, want) in cases {
            assert_eq!(w.record(at(s), &p), want, "crash at {s} s");
        }
    }

    #[test]
    fn default_policy_gives_up_on_the_fifth_quick_crash() {
        let p = RestartPolicy::default();
        let mut w = CrashWindow::default();
        let t0 = Instant::now();
        let mut total = Duration::ZERO;
        for i in 0..4 {
            match w.record(t0 + total, &p) {
                Decision::Restart { delay, crashes } => {
                    assert_eq!(crashes, i + 1);
                    total += delay;
                }
                d => panic!("crash {i}: {d:?}"),
            }
        }
        assert_eq!(total, Duration::from_millis(250 + 500 + 1000 + 2000));
        assert_eq!(w.record(t0 + total, &p), Decision::GiveUp { crashes: 5 });
    }
}
