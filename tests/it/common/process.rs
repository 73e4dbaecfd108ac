//! Running child processes with a deadline.

use std::fs;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What [`run_with_timeout`] observed.
#[derive(Debug)]
pub struct CommandOutput {
    /// `None` when the process was killed because of the timeout.
    pub status: Option<ExitStatus>,
    /// True when the deadline passed and the process was killed.
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl CommandOutput {
    /// True when the process exited by itself with status 0.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// A human-readable dump for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "status: {:?} (timed out: {}, {:?})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.timed_out, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// Run `cmd` with stdin = /dev/null and stdout/stderr captured to files inside `scratch`
/// (files, not pipes, so a chatty child can never block on a full pipe). The child is killed
/// (SIGKILL) and reaped if it runs longer than `timeout`.
///
/// Panics if the program cannot be started at all (the message names it).
pub fn run_with_timeout(mut cmd: Command, timeout: Duration, scratch: &Path) -> CommandOutput {
    fs::create_dir_all(scratch).expect("create scratch dir");
    let unique = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let out_path = scratch.join(format!("cmd-{unique}.stdout"));
    let err_path = scratch.join(format!("cmd-{unique}.stderr"));
    let out = fs::File::create(&out_path).expect("create stdout capture file");
    let err = fs::File::create(&err_path).expect("create stderr capture file");
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("failed to start {:?}: {e}", cmd.get_program()));
    let deadline = started + timeout;
    let (status, timed_out) = loop {
        match child.try_wait() {
            Ok(Some(status)) => break (Some(status), false),
            Ok(None) => {}
            Err(e) => panic!("waiting for {:?} failed: {e}", cmd.get_program()),
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&fs::read(&out_path).unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&fs::read(&err_path).unwrap_or_default()).into_owned();
    let _ = fs::remove_file(&out_path);
    let _ = fs::remove_file(&err_path);
    CommandOutput {
        status,
        timed_out,
        stdout,
        stderr,
        elapsed,
    }
}
