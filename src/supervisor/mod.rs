//! Child lifecycle for `aimux start`: spawn the proxy and the bridge, await their readiness,
//! restart them with backoff when they crash, forward shutdown signals, keep the state file that
//! `stop`, `status` and `logs` read.
//!
//! * [`policy`]: pure: the backoff schedule and the crash-window accounting.
//! * [`state`]: the state file (`$AIMUX_HOME/run/state.json`): pids, ports, restarts, requests.
//! * [`lock`]: the lock that makes a second `aimux start` say "already running".
//! * [`procs`]: process identity (pid + executable + start time), signals, who holds a port.
//! * [`logfile`]: size-rotated log files, tails, timestamps.
//! * [`reqline`]: pure: the children's per-request log lines → one compact coloured line.
//! * [`child`]: how a child is spawned (own process group, parent-death signal, piped output).
//! * [`run`]: the supervisor's event loop.
//! * [`health`], [`summary`]: loopback probes and what `start` says once ready.
//! * [`unit`]: pure: the systemd / launchd unit files rendered from `templates/`.

pub mod child;
pub mod health;
pub mod lock;
pub mod logfile;
pub mod policy;
pub mod procs;
pub mod reqline;
pub mod run;
pub mod state;
pub mod summary;
pub mod unit;

use std::fmt;
use std::path::{Path, PathBuf};

/// The two supervised children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Which {
    Proxy,
    Bridge,
}

impl Which {
    pub const ALL: [Which; 2] = [Which::Proxy, Which::Bridge];

    pub fn name(self) -> &'static str {
        match self {
            Which::Proxy => "proxy",
            Which::Bridge => "bridge",
        }
    }

    /// The `aimux start` flag that picks this child's port.
    pub fn port_flag(self) -> &'static str {
        match self {
            Which::Proxy => "--proxy-port",
            Which::Bridge => "--bridge-port",
        }
    }
}

impl fmt::Display for Which {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the lifecycle keeps its files, all under `$AIMUX_HOME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub home: PathBuf,
}

impl Paths {
    pub fn new(home: &Path) -> Self {
        Paths {
            home: home.to_owned(),
        }
    }

    /// `run/`: lock, state file, server-info handshakes.
    pub fn run_dir(&self) -> PathBuf {
        self.home.join("run")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.home.join("logs")
    }

    pub fn state(&self) -> PathBuf {
        self.run_dir().join("state.json")
    }

    pub fn lock(&self) -> PathBuf {
        self.run_dir().join("aimux.lock")
    }

    pub fn server_info(&self, which: Which) -> PathBuf {
        self.run_dir().join(format!("{which}.server-info.json"))
    }

    /// `logs/NAME.log` for `proxy`, `bridge` or `supervisor`.
    pub fn log(&self, name: &str) -> PathBuf {
        self.logs_dir().join(format!("{name}.log"))
    }
}

/// `~` for the home directory in paths shown to people.
pub fn tilde(path: &Path) -> String {
    if let Some(home) = dirs::home_dir()
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}
