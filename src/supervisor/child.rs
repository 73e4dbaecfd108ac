//! Spawning one supervised child: its own process group (so a terminal's Ctrl-C reaches only the
//! supervisor, which forwards it, and a signal reaches everything an external command forked), a
//! parent-death signal on Linux (no orphans even if the supervisor is SIGKILLed), stdin closed,
//! stdout/stderr piped line by line into the supervisor's event channel.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::mpsc::UnboundedSender;

use super::Which;

/// What happened to a child, for the supervisor's event loop. `generation` tells one run of a
/// child from the next.
#[derive(Debug)]
pub enum Event {
    Line {
        which: Which,
        line: String,
    },
    Exited {
        which: Which,
        generation: u64,
        status: Option<ExitStatus>,
    },
}

/// A program with arguments and extra environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Spec {
    /// For messages: `aimux proxy --port 8404 ...` (the environment, which holds the secret,
    /// is never shown).
    pub fn display(&self) -> String {
        let name = self
            .program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.program.display().to_string());
        std::iter::once(name)
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `exited with code 3`, `killed by signal 9 (SIGKILL)`.
pub fn describe_exit(status: Option<ExitStatus>) -> String {
    let Some(status) = status else {
        return "vanished (its exit status could not be read)".to_owned();
    };
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            let name = match sig {
                1 => " (SIGHUP)",
                2 => " (SIGINT)",
                6 => " (SIGABRT)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                15 => " (SIGTERM)",
                _ => "",
            };
            return format!("killed by signal {sig}{name}");
        }
    }
    format!("ended ({status})")
}

async fn pump(reader: impl AsyncRead + Unpin, which: Which, tx: UnboundedSender<Event>) {
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                while matches!(buf.last(), Some(b'\n' | b'\r')) {
                    buf.pop();
                }
                let line = String::from_utf8_lossy(&buf).into_owned();
                if tx.send(Event::Line { which, line }).is_err() {
                    return;
                }
            }
        }
    }
}

/// Spawns `spec`; returns its pid. Output lines and the exit arrive as [`Event`]s on `tx` (the
/// exit after the last output line, or after 2 s when a grandchild keeps the pipes open).
pub fn spawn(
    spec: &Spec,
    which: Which,
    generation: u64,
    tx: UnboundedSender<Event>,
) -> std::io::Result<u32> {
    let mut cmd = tokio::process::Command::new(&spec.program);
    cmd.args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    {
        let parent = std::process::id();
        // SAFETY: the closure runs in the forked child before exec and only makes
        // async-signal-safe system calls (setpgid, prctl, getppid).
        unsafe {
            cmd.pre_exec(move || {
                if libc::setpgid(0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                #[cfg(target_os = "linux")]
                {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    // The supervisor died between fork and prctl: do not outlive it.
                    if libc::getppid() as u32 != parent {
                        return Err(std::io::Error::other("the supervisor exited"));
                    }
                }
                let _ = parent;
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn()?;
    let pid = child.id().unwrap_or(0);
    let out = child
        .stdout
        .take()
        .map(|r| tokio::spawn(pump(r, which, tx.clone())));
    let err = child
        .stderr
        .take()
        .map(|r| tokio::spawn(pump(r, which, tx.clone())));
    tokio::spawn(async move {
        let status = child.wait().await.ok();
        for handle in [out, err].into_iter().flatten() {
            let _ = tokio::time::timeout(Duration::from_secs(2), handle).await;
        }
        let _ = tx.send(Event::Exited {
            which,
            generation,
            status,
        });
    });
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_display_hides_the_environment() {
        let s = Spec {
            program: "/usr/local/bin/aimux".into(),
            args: vec!["proxy".into(), "--port".into(), "0".into()],
            env: vec![("AIMUX_INTERNAL_SECRET".into(), "s3cret".into())],
        };
        assert_eq!(s.display(), "aimux proxy --port 0");
    }

    #[cfg(unix)]
    #[test]
    fn exit_descriptions() {
        use std::os::unix::process::ExitStatusExt;
        let cases = [
            (Some(ExitStatus::from_raw(3 << 8)), "exited with code 3"),
            (Some(ExitStatus::from_raw(0)), "exited with code 0"),
            (
                Some(ExitStatus::from_raw(9)),
                "killed by signal 9 (SIGKILL)",
            ),
            (
                Some(ExitStatus::from_raw(15)),
                "killed by signal 15 (SIGTERM)",
            ),
            (None, "vanished (its exit status could not be read)"),
        ];
        for (status, want) in cases {
            assert_eq!(describe_exit(status), want);
        }
    }

    #[cfg(unix)]
    #[tokio::test(flavor = "current_thread")]
    async fn spawns_in_its_own_group_and_reports_lines_then_exit() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let spec = Spec {
            program: "sh".into(),
            args: vec![
                "-c".into(),
                "echo out; echo \"err $X\" >&2; ps -o pgid= -p $$; exit 4".into(),
            ],
            env: vec![("X".into(), "y".into())],
        };
        let pid = spawn(&spec, Which::Proxy, 7, tx).unwrap();
        let mut lines = Vec::new();
        let status = loop {
            match tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .unwrap()
                .unwrap()
            {
                Event::Line { line, .. } => lines.push(line.trim().to_owned()),
                Event::Exited {
                    generation, status, ..
                } => {
                    assert_eq!(generation, 7);
                    break status;
                }
            }
        };
        lines.sort();
        let mut want = vec!["err y".to_owned(), "out".into(), pid.to_string()];
        want.sort();
        assert_eq!(lines, want, "the child leads its own process group");
        assert_eq!(describe_exit(status), "exited with code 4");
    }
}
