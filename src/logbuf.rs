//! The servers' log lines, written in batches.
//!
//! Every request logs a line. Written one by one, that is a `write` system call per request (and
//! a futex whenever two threads want stderr at once), a large share of what a small request
//! costs. A server thread instead collects its lines and writes them when its runtime runs out
//! of work and is about to wait ([`flush`] is the runtime's park hook), or once [`FLUSH_AT`]
//! bytes or [`MAX_AGE`] have gathered: an idle server's line appears at once, a busy one writes
//! many lines per call, and none waits long. What is left when a thread ends is written then.

use std::cell::RefCell;
use std::io::Write;
use std::time::{Duration, Instant};

/// A busy thread (one that never runs out of work) writes when this much has gathered...
const FLUSH_AT: usize = 32 * 1024;
/// ... or when its oldest line is this old.
const MAX_AGE: Duration = Duration::from_millis(100);

/// One thread's gathered lines.
#[derive(Default)]
struct Lines {
    bytes: Vec<u8>,
    /// When the oldest line came.
    since: Option<Instant>,
}

impl Lines {
    fn write_out(&mut self) {
        if !self.bytes.is_empty() {
            let _ = std::io::stderr().write_all(&self.bytes);
            self.bytes.clear();
        }
        self.since = None;
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        self.write_out();
    }
}

thread_local! {
    /// `Some` on threads that batch their lines.
    static LINES: RefCell<Option<Lines>> = const { RefCell::new(None) };
}

/// From now on this thread's log lines wait for [`flush`] (or [`FLUSH_AT`] bytes, or
/// [`MAX_AGE`]).
pub fn batch_this_thread() {
    LINES.with(|l| {
        l.borrow_mut().get_or_insert_with(Lines::default);
    });
}

/// Writes this thread's gathered lines.
pub fn flush() {
    let _ = LINES.try_with(|l| {
        if let Some(lines) = l.borrow_mut().as_mut() {
            lines.write_out();
        }
    });
}

/// The log writer: stderr, batched on threads that asked for it.
pub struct Stderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Stderr {
    type Writer = Stderr;

    fn make_writer(&'a self) -> Stderr {
        Stderr
    }
}

impl Write for Stderr {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let batched = LINES
            .try_with(|l| match l.borrow_mut().as_mut() {
                Some(lines) => {
                    lines.bytes.extend_from_slice(data);
                    let now = Instant::now();
                    let since = *lines.since.get_or_insert(now);
                    if lines.bytes.len() >= FLUSH_AT || now - since >= MAX_AGE {
                        lines.write_out();
                    }
                    true
                }
                None => false,
            })
            .unwrap_or(false);
        if batched {
            Ok(data.len())
        } else {
            std::io::stderr().write(data)
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gathered() -> usize {
        LINES.with(|l| l.borrow().as_ref().map_or(0, |l| l.bytes.len()))
    }

    #[test]
    fn lines_wait_for_flush_only_on_batching_threads() {
        std::thread::spawn(|| {
            // Not batching: nothing is kept.
            Stderr.write_all(b"direct\n").unwrap();
            assert_eq!(gathered(), 0);
            batch_this_thread();
            Stderr.write_all(b"one\n").unwrap();
            Stderr.write_all(b"two\n").unwrap();
            assert_eq!(gathered(), 8);
            flush();
            assert_eq!(gathered(), 0);
            // A busy thread writes once FLUSH_AT bytes have gathered.
            let line = [b'x'; 1000];
            for _ in 0..FLUSH_AT / 1000 + 1 {
                Stderr.write_all(&line).unwrap();
            }
            assert!(gathered() < FLUSH_AT);
            flush();
            // A line older than MAX_AGE goes out with the next one.
            Stderr.write_all(b"old\n").unwrap();
            std::thread::sleep(MAX_AGE);
            Stderr.write_all(b"new\n").unwrap();
            assert_eq!(gathered(), 0);
        })
        .join()
        .unwrap();
    }
}
