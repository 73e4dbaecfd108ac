//! `aimux status [--json]`: whether the supervisor runs (its lock is held and the state file's
//! pid, executable and start time match), each child's pid, URL, health, restarts and requests,
//! the proxy's providers. Text on stdout, or JSON; exit 1 when aimux is not running.

use std::path::Path;

use serde_json::{Value, json};

use crate::error::user_error;
use crate::supervisor::health::{self, Health};
use crate::supervisor::logfile::human_duration;
use crate::supervisor::procs::{self, Identity};
use crate::supervisor::state::{self, ChildState, State};
use crate::supervisor::{Paths, Which, lock, tilde};

struct ChildReport {
    which: Which,
    state: ChildState,
    alive: bool,
    health: Option<Health>,
}

impl ChildReport {
    fn base_url(&self) -> Option<String> {
        self.state.url.as_ref().map(|u| {
            let u = u.trim_end_matches('/');
            if u.ends_with("/v1") {
                u.to_owned()
            } else {
                format!("{u}/v1")
            }
        })
    }

    fn json(&self) -> Value {
        let s = &self.state;
        let mut v = json!({
            "phase": s.phase,
            "pid": s.process.as_ref().map(|p| p.pid),
            "alive": self.alive,
            "port": s.port,
            "url": s.url,
            "base_url": self.base_url(),
            "health": self.health.as_ref().map(Health::code),
            "restarts": s.restarts,
            "requests": s.requests,
            "last_exit": s.last_exit,
            "since": s.since,
        });
        if self.which == Which::Proxy {
            v["external"] = json!(s.external);
            v["providers"] = json!(self.health.as_ref().and_then(Health::providers));
        }
        v
    }

    fn text(&self) -> String {
        let s = &self.state;
        let url = self.base_url().unwrap_or_else(|| "-".to_owned());
        let pid = match (&s.process, self.alive) {
            (Some(p), true) => format!("pid {}", p.pid),
            (Some(p), false) => format!("pid {} (gone)", p.pid),
            (None, _) => "no process".to_owned(),
        };
        let health = match &self.health {
            Some(h) => h.label(),
            None => format!("{:?}", s.phase).to_lowercase(),
        };
        let mut line = format!(
            "  {:<7} {url}  {pid}  {health}  restarts {}  requests {}",
            self.which.name(),
            s.restarts,
            s.requests
        );
        if let Some(p) = self.health.as_ref().and_then(Health::providers) {
            line.push_str(&format!(
                "  providers: {}",
                if p.is_empty() {
                    "none".to_owned()
                } else {
                    p.join(", ")
                }
            ));
        }
        if s.external {
            line.push_str("  (external)");
        }
        if let Some(e) = &s.last_exit
            && s.restarts > 0
        {
            line.push_str(&format!("  last exit: {e}"));
        }
        line
    }
}

pub fn run(home: &Path, json_out: bool) -> anyhow::Result<()> {
    let paths = Paths::new(home);
    let holder = lock::holder(&paths.lock())?;
    let (state, unreadable) = match State::read(&paths.state()) {
        Ok(s) => (s, None),
        Err(e) => (None, Some(format!("{e:#}"))),
    };
    let supervisor_ok = state
        .as_ref()
        .is_some_and(|s| procs::check(&s.supervisor) == Identity::Same);
    let running = supervisor_ok && holder.is_some();
    let now = state::unix_now();

    let children: Vec<ChildReport> = match &state {
        Some(s) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let client = health::client();
            Which::ALL
                .into_iter()
                .map(|which| {
                    let cs = s.child(which).clone();
                    let alive = running
                        && cs
                            .process
                            .as_ref()
                            .is_some_and(|p| procs::check(p) == Identity::Same);
                    let health = match (&cs.url, alive) {
                        (Some(url), true) => Some(rt.block_on(health::health(&client, url, None))),
                        _ => None,
                    };
                    ChildReport {
                        which,
                        state: cs,
                        alive,
                        health,
                    }
                })
                .collect()
        }
        None => Vec::new(),
    };

    if json_out {
        let mut v = json!({
            "running": running,
            "status": match (&state, running) {
                (Some(s), true) => json!(s.status),
                (Some(_), false) => json!("stale"),
                (None, _) => json!("stopped"),
            },
            "state_file": paths.state(),
            "logs_dir": paths.logs_dir(),
        });
        if let Some(s) = &state {
            v["supervisor"] = json!({
                "pid": s.supervisor.pid,
                "exe": s.supervisor.exe,
                "alive": supervisor_ok,
                "detached": s.detached,
            });
            v["started_at"] = json!(s.started_at);
            v["uptime_s"] = json!(running.then(|| now.saturating_sub(s.started_at)));
            v["error"] = json!(s.error);
            v["restarts"] = json!(s.proxy.restarts + s.bridge.restarts);
            // A request through the bridge may be logged by both children: count the larger.
            v["requests"] = json!(s.proxy.requests.max(s.bridge.requests));
            for c in &children {
                v[c.which.name()] = c.json();
            }
        }
        if let Some(e) = &unreadable {
            v["error"] = json!(e);
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let mut out = String::new();
        if let Some(s) = &state {
            if running {
                out.push_str(&format!(
                    "aimux is running: supervisor pid {}, up {}{}\n",
                    s.supervisor.pid,
                    human_duration(now.saturating_sub(s.started_at)),
                    if s.detached {
                        " (in the background)"
                    } else {
                        ""
                    }
                ));
                for c in &children {
                    out.push_str(&c.text());
                    out.push('\n');
                }
                out.push_str(&format!(
                    "  requests served: {}\n",
                    s.proxy.requests.max(s.bridge.requests)
                ));
            } else if let Some(e) = &s.error {
                out.push_str(&format!("the last `aimux start` failed: {e}\n"));
            } else {
                out.push_str(&format!(
                    "a stale state file remains from supervisor pid {} (`aimux stop` removes it)\n",
                    s.supervisor.pid
                ));
            }
        }
        if let Some(e) = &unreadable {
            out.push_str(&format!("{e}\n"));
        }
        out.push_str(&format!("  state   {}\n", tilde(&paths.state())));
        out.push_str(&format!("  logs    {}\n", tilde(&paths.logs_dir())));
        print!("{out}");
    }
    if running {
        Ok(())
    } else {
        Err(user_error(
            "aimux is not running\nhint: `aimux start` (or `aimux start --detach`)",
        ))
    }
}
