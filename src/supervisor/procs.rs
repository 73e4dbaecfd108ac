//! Processes: recognising one again (pid + executable + start time), signalling it or its process
//! group, and finding who listens on a port (`/proc/net/tcp` inode → `/proc/PID/fd` on Linux,
//! `lsof` elsewhere).

use std::path::{Path, PathBuf};

use sysinfo::{Pid, ProcessRefreshKind, ProcessStatus, ProcessesToUpdate, System, UpdateKind};

use super::state::ProcInfo;

/// `/proc/PID/exe` of a binary replaced on disk (a rebuild, an upgrade) reads `PATH (deleted)`.
pub fn normalize_exe(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    let trimmed = s.strip_suffix(" (deleted)").unwrap_or(&s);
    let p = PathBuf::from(trimmed);
    std::fs::canonicalize(&p).unwrap_or(p)
}

/// What the OS says about a pid right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub pid: u32,
    pub name: String,
    /// `None` when the OS would not say (another user's process).
    pub exe: Option<PathBuf>,
    pub start_time: u64,
    pub cmd: Vec<String>,
}

impl Observed {
    /// `name args...`, shortened for a message.
    pub fn command_line(&self) -> String {
        let mut s = if self.cmd.is_empty() {
            self.name.clone()
        } else {
            self.cmd.join(" ")
        };
        if s.chars().count() > 100 {
            s = s.chars().take(97).collect::<String>() + "...";
        }
        s
    }
}

/// A live (not zombie) process, or `None`.
pub fn observe(pid: u32) -> Option<Observed> {
    if pid == 0 {
        return None;
    }
    let spid = Pid::from_u32(pid);
    let mut sys = System::new();
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[spid]),
        true,
        ProcessRefreshKind::nothing()
            .with_exe(UpdateKind::Always)
            .with_cmd(UpdateKind::Always)
            .without_tasks(),
    );
    let p = sys.process(spid)?;
    if matches!(p.status(), ProcessStatus::Zombie | ProcessStatus::Dead) {
        return None;
    }
    Some(Observed {
        pid,
        name: p.name().to_string_lossy().into_owned(),
        exe: p.exe().map(normalize_exe),
        start_time: p.start_time(),
        cmd: p
            .cmd()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
    })
}

/// Whether a pid is a live process (zombies count as gone).
pub fn alive(pid: u32) -> bool {
    observe(pid).is_some()
}

/// The record of a live process, to be recognised later.
pub fn identify(pid: u32) -> Option<ProcInfo> {
    let o = observe(pid)?;
    Some(ProcInfo {
        pid,
        exe: o.exe?,
        start_time: Some(o.start_time),
    })
}

/// Is the recorded process still the one running under its pid?
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Same pid, same executable, same start time: ours.
    Same,
    /// No such process (or a zombie).
    Gone,
    /// The pid now belongs to something else: never signal it.
    Other(Observed),
}

/// Pure comparison of a record with an observation.
pub fn compare(expected: &ProcInfo, observed: Option<&Observed>) -> Identity {
    let Some(o) = observed else {
        return Identity::Gone;
    };
    let exe_ok = o
        .exe
        .as_deref()
        .is_some_and(|e| normalize_exe(e) == normalize_exe(&expected.exe));
    // Start times are whole seconds read at different moments: allow one second of rounding.
    let time_ok = match expected.start_time {
        Some(t) => t.abs_diff(o.start_time) <= 1,
        None => true,
    };
    if o.pid == expected.pid && exe_ok && time_ok {
        Identity::Same
    } else {
        Identity::Other(o.clone())
    }
}

pub fn check(expected: &ProcInfo) -> Identity {
    compare(expected, observe(expected.pid).as_ref())
}

#[cfg(unix)]
pub use self::unix::*;

#[cfg(unix)]
mod unix {
    pub use libc::{SIGINT, SIGKILL, SIGTERM};

    /// Sends `sig` to one process. `false` when it does not exist (or is not ours).
    pub fn signal(pid: u32, sig: i32) -> bool {
        let Ok(pid) = i32::try_from(pid) else {
            return false;
        };
        if pid <= 0 {
            return false;
        }
        // SAFETY: kill(2) with a positive pid has no memory-safety preconditions.
        unsafe { libc::kill(pid, sig) == 0 }
    }

    /// Sends `sig` to the process group led by `pgid` (our children lead their own groups, so
    /// this also reaches what an external proxy command forked).
    pub fn signal_group(pgid: u32, sig: i32) -> bool {
        let Ok(pgid) = i32::try_from(pgid) else {
            return false;
        };
        if pgid <= 1 {
            return false;
        }
        // SAFETY: kill(2) with a negative pid (a group) has no memory-safety preconditions.
        unsafe { libc::kill(-pgid, sig) == 0 }
    }
}

#[cfg(not(unix))]
pub use self::other::*;

#[cfg(not(unix))]
mod other {
    pub const SIGINT: i32 = 2;
    pub const SIGKILL: i32 = 9;
    pub const SIGTERM: i32 = 15;

    pub fn signal(_pid: u32, _sig: i32) -> bool {
        false
    }

    pub fn signal_group(_pgid: u32, _sig: i32) -> bool {
        false
    }
}

/// Socket inodes listening on `port` in `/proc/net/tcp` or `/proc/net/tcp6` text.
pub fn listening_inodes(proc_net_tcp: &str, port: u16) -> Vec<u64> {
    proc_net_tcp
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local = f.get(1)?;
            let state = f.get(3)?;
            let inode = f.get(9)?;
            let (_, port_hex) = local.rsplit_once(':')?;
            let p = u16::from_str_radix(port_hex, 16).ok()?;
            (p == port && *state == "0A")
                .then(|| inode.parse().ok())
                .flatten()
        })
        .filter(|&inode| inode != 0)
        .collect()
}

/// Pids of processes listening on TCP `port` (those we are allowed to see).
pub fn port_holders(port: u16) -> Vec<u32> {
    if cfg!(target_os = "linux") {
        let mut inodes = Vec::new();
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            if let Ok(text) = std::fs::read_to_string(table) {
                inodes.extend(listening_inodes(&text, port));
            }
        }
        if inodes.is_empty() {
            return Vec::new();
        }
        let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
        let mut pids = Vec::new();
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return pids;
        };
        for entry in procs.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
                continue;
            };
            let holds = fds.flatten().any(|fd| {
                std::fs::read_link(fd.path())
                    .is_ok_and(|l| wanted.iter().any(|w| l.as_os_str() == w.as_str()))
            });
            if holds {
                pids.push(pid);
            }
        }
        pids
    } else {
        // lsof -t prints one pid per line.
        std::process::Command::new("lsof")
            .args(["-nP", &format!("-iTCP:{port}"), "-sTCP:LISTEN", "-t"])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// "`python3 -m http.server 8403` (pid 1234)", or a hint when the holder is invisible to us.
pub fn describe_port_holder(port: u16) -> String {
    let holders: Vec<String> = port_holders(port)
        .into_iter()
        .filter_map(observe)
        .map(|o| format!("`{}` (pid {})", o.command_line(), o.pid))
        .collect();
    if holders.is_empty() {
        "another process (not one of yours, or not visible to aimux)".to_owned()
    } else {
        holders.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:20F3 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:20F4 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0000000000000000 100 0 0 10 0
   2: 0100007F:20F3 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 4444 1 0000000000000000 20 4 30 10 -1
   3: 00000000:20F3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0
garbage line
";

    #[test]
    fn listening_inodes_cases() {
        let cases: [(u16, &[u64]); 3] = [
            // 0x20F3 = 8435: the LISTEN row only, not the established one, not inode 0.
            (8435, &[4242]),
            (8436, &[4343]),
            (80, &[]),
        ];
        for (port, want) in cases {
            assert_eq!(listening_inodes(TCP, port), want, "port {port}");
        }
        let tcp6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 100 0 0 10 0
";
        assert_eq!(listening_inodes(tcp6, 8080), vec![777]);
    }

    #[test]
    fn identity_needs_pid_exe_and_start_time() {
        let exe = PathBuf::from("/nonexistent/aimux");
        let rec = ProcInfo {
            pid: 42,
            exe: exe.clone(),
            start_time: Some(1000),
        };
        let obs = |exe: &str, start: u64| Observed {
            pid: 42,
            name: "x".into(),
            exe: Some(PathBuf::from(exe)),
            start_time: start,
            cmd: vec![],
        };
        assert_eq!(compare(&rec, None), Identity::Gone);
        assert_eq!(
            compare(&rec, Some(&obs("/nonexistent/aimux", 1000))),
            Identity::Same
        );
        assert_eq!(
            compare(&rec, Some(&obs("/nonexistent/aimux (deleted)", 1001))),
            Identity::Same
        );
        let cases = [
            obs("/usr/bin/sleep", 1000),
            obs("/nonexistent/aimux", 1005),
            Observed {
                exe: None,
                ..obs("/nonexistent/aimux", 1000)
            },
        ];
        for o in cases {
            assert_eq!(compare(&rec, Some(&o)), Identity::Other(o.clone()), "{o:?}");
        }
        let no_time = ProcInfo {
            start_time: None,
            ..rec
        };
        assert_eq!(
            compare(&no_time, Some(&obs("/nonexistent/aimux", 5))),
            Identity::Same
        );
    }

    #[test]
    fn observes_itself() {
        let me = identify(std::process::id()).unwrap();
        assert_eq!(check(&me), Identity::Same);
        assert_eq!(
            me.exe,
            normalize_exe(&std::env::current_exe().unwrap()),
            "{me:?}"
        );
        assert!(!alive(0));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn finds_the_holder_of_a_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(port_holders(port).contains(&std::process::id()));
        assert!(describe_port_holder(port).contains(&format!("(pid {})", std::process::id())));
    }
}
