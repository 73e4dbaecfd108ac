//! The child's process group: `codex` (usually the npm launcher, a Node script that runs the
//! native binary as its own child) is started as the leader of a new process group, and on
//! timeout, client disconnect or a dropped task the whole group is killed with SIGKILL, together
//! with any descendant that moved to another group (found through `/proc` on Linux).

/// Kills the child's process group when dropped, unless disarmed (after the leader exited by
/// itself and was reaped, when its group id may be reused).
#[derive(Debug)]
pub(crate) struct GroupGuard {
    pgid: Option<u32>,
}

impl GroupGuard {
    /// `pid` is the group leader (spawned with `process_group(0)`).
    pub fn new(pid: Option<u32>) -> GroupGuard {
        GroupGuard { pgid: pid }
    }

    /// Kills the group now (idempotent while the leader is not reaped).
    pub fn kill(&self) {
        if let Some(pgid) = self.pgid {
            kill_tree(pgid);
        }
    }

    /// Do not kill anything on drop.
    pub fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// SIGKILL the process group `pgid` and every descendant of its leader.
#[cfg(unix)]
pub(crate) fn kill_tree(pgid: u32) {
    let Ok(pgid) = i32::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return;
    }
    // Collected before the kill: once a parent dies its children are re-parented and lost.
    let strays = descendants(pgid);
    // SAFETY: killpg/kill only send a signal; no memory is shared with the callee.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
    for pid in strays {
        // SAFETY: as above.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

#[cfg(not(unix))]
pub(crate) fn kill_tree(_pgid: u32) {}

/// All descendants of `root` (Linux: from `/proc/*/stat`; elsewhere none).
#[cfg(target_os = "linux")]
fn descendants(root: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(i32, i32)> = dir
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            Some((pid, parse_ppid(&stat)?))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        for (pid, ppid) in &parents {
            if *ppid == parent && !found.contains(pid) {
                found.push(*pid);
            }
        }
        i += 1;
    }
    found.remove(0);
    found
}

#[cfg(all(unix, not(target_os = "linux")))]
fn descendants(_root: i32) -> Vec<i32> {
    Vec::new()
}

/// The parent pid from a `/proc/PID/stat` line (`pid (comm) state ppid ...`; comm may hold
/// spaces and parentheses, so parse after the last `)`).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn parse_ppid(stat: &str) -> Option<i32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_stat() {
        let cases: &[(&str, Option<i32>)] = &[
            ("123 (codex) S 45 123 123 0 -1", Some(45)),
            ("77 (weird) name)) R 1 77 77", Some(1)),
            ("garbage", None),
        ];
        for (stat, want) in cases {
            assert_eq!(parse_ppid(stat), *want, "{stat}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn kills_a_process_group_with_its_descendants() {
        use std::os::unix::process::CommandExt;
        // sh (group leader) → sleep, plus a grandchild that escapes into its own session.
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("sleep 30 & setsid sleep 31 & wait")
            .process_group(0)
            .spawn()
            .expect("spawn sh");
        let pid = child.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while descendants(pid as i32).len() < 2 {
            assert!(std::time::Instant::now() < deadline, "sleeps did not start");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let kids = descendants(pid as i32);
        GroupGuard::new(Some(pid)).kill();
        let status = child.wait().expect("wait");
        assert!(!status.success());
        for k in kids {
            let gone = || {
                std::fs::read_to_string(format!("/proc/{k}/stat"))
                    .map(|s| s.contains(") Z "))
                    .unwrap_or(true)
            };
            while !gone() {
                assert!(std::time::Instant::now() < deadline, "{k} survived");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}
