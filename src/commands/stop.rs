//! `aimux stop`: SIGTERM to the supervisor (which drains and stops its children), SIGKILL after
//! the timeout. Only processes whose pid, executable and start time match the state file are
//! ever signalled; a pid that now belongs to another program is named and left alone.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::user_error;
use crate::supervisor::procs::{self, Identity};
use crate::supervisor::state::{self, ProcInfo, State};
use crate::supervisor::{Paths, Which, lock};

fn say(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "aimux: {text}");
}

/// Polls until `p` is gone; `true` when it went before `deadline`.
fn wait_gone(p: &ProcInfo, deadline: Instant) -> bool {
    loop {
        if procs::check(p) != Identity::Same {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn not_ours(name: &str, p: &ProcInfo, o: &procs::Observed) -> String {
    format!(
        "pid {} (recorded as the {name}) is now `{}` ({}), not the aimux that was started; not \
         signalling it",
        p.pid,
        o.command_line(),
        o.exe
            .as_ref()
            .map(|e| e.display().to_string())
            .unwrap_or_else(|| "executable unknown".to_owned())
    )
}

/// Stops the children recorded in a stale state file (their supervisor is gone), when they are
/// still ours.
fn stop_leftover_children(state: &State, timeout: Duration) {
    for which in Which::ALL {
        let Some(p) = &state.child(which).process else {
            continue;
        };
        match procs::check(p) {
            Identity::Gone => {}
            Identity::Other(o) => say(&not_ours(which.name(), p, &o)),
            Identity::Same => {
                say(&format!("stopping a leftover {which} (pid {})", p.pid));
                procs::signal_group(p.pid, procs::SIGTERM);
                if !wait_gone(p, Instant::now() + timeout) {
                    procs::signal_group(p.pid, procs::SIGKILL);
                    wait_gone(p, Instant::now() + Duration::from_secs(5));
                }
            }
        }
    }
}

pub fn run(home: &Path, timeout_s: u64) -> anyhow::Result<()> {
    let paths = Paths::new(home);
    let timeout = Duration::from_secs(timeout_s);
    let holder = lock::holder(&paths.lock())?;
    let state = match State::read(&paths.state()) {
        Ok(s) => s,
        Err(e) if holder.is_none() => {
            say(&format!("removing an unreadable state file: {e:#}"));
            state::remove(&paths.state())?;
            None
        }
        Err(e) => return Err(e),
    };
    let Some(state) = state else {
        if let Some(pid) = holder {
            return Err(user_error(format!(
                "an aimux supervisor (pid {pid}) holds {} but wrote no state file yet; try again \
                 in a moment",
                paths.lock().display()
            )));
        }
        say("aimux is not running");
        return Ok(());
    };

    let sup = &state.supervisor;
    match procs::check(sup) {
        Identity::Same => {
            say(&format!("stopping aimux (supervisor pid {})", sup.pid));
            procs::signal(sup.pid, procs::SIGTERM);
            if wait_gone(sup, Instant::now() + timeout) {
                say("stopped");
            } else {
                say(&format!(
                    "the supervisor did not stop within {timeout_s} s; killing it and its children"
                ));
                procs::signal(sup.pid, procs::SIGKILL);
                wait_gone(sup, Instant::now() + Duration::from_secs(5));
                stop_leftover_children(&state, Duration::ZERO);
                state::remove(&paths.state())?;
                say("killed");
            }
            Ok(())
        }
        identity => {
            if let Identity::Other(o) = &identity {
                say(&not_ours("supervisor", sup, o));
            }
            if let Some(pid) = holder {
                return Err(user_error(format!(
                    "the lock {} is held by pid {pid}, which is not the supervisor the state file \
                     names (pid {}); not signalling anything.\nhint: `aimux status`",
                    paths.lock().display(),
                    sup.pid
                )));
            }
            say(&format!(
                "aimux is not running (stale state file from supervisor pid {})",
                sup.pid
            ));
            stop_leftover_children(&state, timeout);
            state::remove(&paths.state())?;
            Ok(())
        }
    }
}
