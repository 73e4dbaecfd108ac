//! The state file `$AIMUX_HOME/run/state.json`, written atomically by the supervisor on every
//! change: who is running (pid, executable and start time, so `stop` never signals a stranger
//! that reused a pid), on which ports, since when, how often each child was restarted and how many
//! requests it served. `stop`, `status` and `start --detach` read it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

pub const VERSION: u32 = 1;

/// A process as recorded: enough to recognise it again later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcInfo {
    pub pid: u32,
    /// The executable, without a trailing ` (deleted)`.
    pub exe: PathBuf,
    /// Seconds since the Unix epoch, as the OS reports it; `None` when it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Children are being started for the first time.
    Starting,
    /// Both children were ready at least once; the supervisor is watching them.
    Running,
    /// A shutdown signal arrived; children are draining.
    Stopping,
    /// The supervisor gave up (see `error`).
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChildPhase {
    /// Not started yet (the bridge waits for the proxy).
    Pending,
    /// Spawned, waiting for its server-info file (or, external, for its port).
    Starting,
    Running,
    /// Crashed; restarting after a delay.
    Backoff,
    Stopping,
    Stopped,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildState {
    pub phase: ChildPhase,
    /// The current process, while there is one.
    #[serde(default)]
    pub process: Option<ProcInfo>,
    #[serde(default)]
    pub port: Option<u16>,
    /// `http://127.0.0.1:PORT` (the external proxy's URL as configured, without `/v1`).
    #[serde(default)]
    pub url: Option<String>,
    /// `[proxy] command` rather than `aimux proxy`.
    #[serde(default)]
    pub external: bool,
    /// Unix seconds when the current process started.
    #[serde(default)]
    pub since: Option<u64>,
    #[serde(default)]
    pub restarts: u32,
    /// Requests it logged (one line per request) since `aimux start`.
    #[serde(default)]
    pub requests: u64,
    /// How the previous process ended (`exited with code 3`, `killed by signal 9`).
    #[serde(default)]
    pub last_exit: Option<String>,
}

impl ChildState {
    pub fn new(external: bool) -> Self {
        ChildState {
            phase: ChildPhase::Pending,
            process: None,
            port: None,
            url: None,
            external,
            since: None,
            restarts: 0,
            requests: 0,
            last_exit: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub status: RunStatus,
    pub supervisor: ProcInfo,
    /// Unix seconds.
    pub started_at: u64,
    pub detached: bool,
    /// Why the supervisor gave up, when `status` is `failed`.
    #[serde(default)]
    pub error: Option<String>,
    pub proxy: ChildState,
    pub bridge: ChildState,
}

impl State {
    pub fn child(&self, which: super::Which) -> &ChildState {
        match which {
            super::Which::Proxy => &self.proxy,
            super::Which::Bridge => &self.bridge,
        }
    }

    pub fn child_mut(&mut self, which: super::Which) -> &mut ChildState {
        match which {
            super::Which::Proxy => &mut self.proxy,
            super::Which::Bridge => &mut self.bridge,
        }
    }

    /// Every process the state names: the supervisor, then the children.
    pub fn processes(&self) -> Vec<(&'static str, &ProcInfo)> {
        let mut v = vec![("supervisor", &self.supervisor)];
        for which in super::Which::ALL {
            if let Some(p) = &self.child(which).process {
                v.push((which.name(), p));
            }
        }
        v
    }

    pub fn parse(text: &str) -> Result<State, String> {
        #[derive(Deserialize)]
        struct Versioned {
            version: u32,
        }
        let v: Versioned = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if v.version != VERSION {
            return Err(format!(
                "state file version {} is not {VERSION} (written by another aimux version)",
                v.version
            ));
        }
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned());
        s.push('\n');
        s
    }

    /// `Ok(None)` when there is no state file.
    pub fn read(path: &Path) -> anyhow::Result<Option<State>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        State::parse(&text)
            .map(Some)
            .map_err(|e| crate::error::user_error(format!("{}: {e}", path.display())))
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        crate::fsutil::write_atomic(path, self.to_json().as_bytes(), crate::fsutil::Perms::Keep)
            .with_context(|| format!("writing {}", path.display()))
    }
}

/// Removes the state file; a missing one is fine.
pub fn remove(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
    }
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> State {
        let mut bridge = ChildState::new(false);
        bridge.phase = ChildPhase::Running;
        bridge.process = Some(ProcInfo {
            pid: 12,
            exe: "/usr/bin/aimux".into(),
            start_time: Some(1_700_000_001),
        });
        bridge.port = Some(8403);
        bridge.url = Some("http://127.0.0.1:8403".into());
        bridge.restarts = 2;
        bridge.requests = 7;
        bridge.last_exit = Some("killed by signal 9".into());
        State {
            version: VERSION,
            status: RunStatus::Running,
            supervisor: ProcInfo {
                pid: 10,
                exe: "/usr/bin/aimux".into(),
                start_time: Some(1_700_000_000),
            },
            started_at: 1_700_000_000,
            detached: false,
            error: None,
            proxy: ChildState::new(true),
            bridge,
        }
    }

    #[test]
    fn round_trips() {
        let s = sample();
        assert_eq!(State::parse(&s.to_json()).unwrap(), s);
    }

    #[test]
    fn parse_cases() {
        let minimal = r#"{"version":1,"status":"starting","supervisor":{"pid":5,"exe":"/a"},
            "started_at":1,"detached":true,
            "proxy":{"phase":"pending"},"bridge":{"phase":"backoff","restarts":3}}"#;
        let s = State::parse(minimal).unwrap();
        assert_eq!(s.supervisor.start_time, None);
        assert_eq!(s.bridge.phase, ChildPhase::Backoff);
        assert_eq!(s.bridge.restarts, 3);
        assert_eq!(s.proxy.process, None);
        assert_eq!(s.processes().len(), 1);
        assert_eq!(sample().processes().len(), 2);

        let cases: [(&str, &str); 4] = [
            ("", "EOF while parsing"),
            ("{\"version\":2}", "state file version 2 is not 1"),
            (
                "{\"version\":1,\"status\":\"sleeping\"}",
                "unknown variant `sleeping`",
            ),
            ("{\"version\":1}", "missing field"),
        ];
        for (text, want) in cases {
            let err = State::parse(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn read_write_remove() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/state.json");
        assert_eq!(State::read(&path).unwrap(), None);
        sample().write(&path).unwrap();
        assert_eq!(State::read(&path).unwrap(), Some(sample()));
        remove(&path).unwrap();
        remove(&path).unwrap();
        std::fs::write(&path, "not json").unwrap();
        let err = State::read(&path).unwrap_err().to_string();
        assert!(err.contains("state.json"), "{err}");
    }
}
