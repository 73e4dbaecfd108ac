//! `aimux daemon install|uninstall|status`: a user service that runs `aimux start` at login and
//! restarts it on failure: a systemd user unit on Linux, a launchd agent on macOS, rendered from
//! `templates/` with no secret in it. Uninstall stops only the service's own aimux (through the
//! service manager); it never signals a process it did not start.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::error::user_error;
use crate::settings::Env;
use crate::supervisor::unit::{self, LAUNCHD_LABEL, SYSTEMD_UNIT, UnitParams};
use crate::supervisor::{Paths, lock, tilde};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Manager {
    Systemd,
    Launchd,
}

impl Manager {
    fn current() -> Self {
        if cfg!(target_os = "macos") {
            Manager::Launchd
        } else {
            Manager::Systemd
        }
    }

    fn program(self) -> &'static str {
        match self {
            Manager::Systemd => "systemctl",
            Manager::Launchd => "launchctl",
        }
    }

    fn file(self, env: &Env) -> anyhow::Result<PathBuf> {
        let path = match self {
            Manager::Systemd => unit::systemd_unit_path(env),
            Manager::Launchd => unit::launchd_plist_path(env),
        };
        path.ok_or_else(|| user_error("cannot find your home directory: set HOME"))
    }

    fn render(self, p: &UnitParams) -> String {
        match self {
            Manager::Systemd => unit::render_systemd(p),
            Manager::Launchd => unit::render_launchd(p),
        }
    }
}

fn say(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "aimux: {text}");
}

/// Runs the service manager; `Err` carries what it printed.
fn ctl(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        Err(if stderr.is_empty() { stdout } else { stderr })
    }
}

fn systemctl(args: &[&str]) -> Result<String, String> {
    let mut all = vec!["--user"];
    all.extend_from_slice(args);
    ctl("systemctl", &all)
}

#[cfg(unix)]
fn launchd_domain() -> String {
    // SAFETY: getuid has no preconditions.
    format!("gui/{}", unsafe { libc::getuid() })
}

#[cfg(not(unix))]
fn launchd_domain() -> String {
    "gui/0".to_owned()
}

fn available(m: Manager) -> bool {
    which::which(m.program()).is_ok()
}

pub fn install(env: &Env, home: &Path) -> anyhow::Result<()> {
    let m = Manager::current();
    let path = m.file(env)?;
    let exe = crate::supervisor::procs::normalize_exe(
        &std::env::current_exe().context("locating the aimux binary")?,
    );
    let text = m.render(&UnitParams::new(&exe, home, env));
    let changed = std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str());
    if changed {
        crate::fsutil::write_atomic(&path, text.as_bytes(), crate::fsutil::Perms::Keep)
            .with_context(|| format!("writing {}", path.display()))?;
        say(&format!("wrote {}", tilde(&path)));
    } else {
        say(&format!("{} is already up to date", tilde(&path)));
    }
    if !available(m) {
        return Err(user_error(format!(
            "{} is not available here, so the service was not enabled.\nhint: on a machine with \
             {}, run `aimux daemon install` again",
            m.program(),
            match m {
                Manager::Systemd => "systemd",
                Manager::Launchd => "launchd",
            }
        )));
    }
    let outside = lock::holder(&Paths::new(home).lock())?;
    match m {
        Manager::Systemd => {
            let fail = |what: &str, e: String| {
                user_error(format!(
                    "wrote the unit, but `systemctl --user {what}` failed: {e}\nhint: is a systemd \
                     user session running (loginctl enable-linger $USER)? Then run `systemctl \
                     --user daemon-reload && systemctl --user enable --now {SYSTEMD_UNIT}`"
                ))
            };
            systemctl(&["daemon-reload"]).map_err(|e| fail("daemon-reload", e))?;
            systemctl(&["enable", SYSTEMD_UNIT]).map_err(|e| fail("enable", e))?;
            say(&format!("enabled {SYSTEMD_UNIT}: it starts at login"));
            let active = systemctl(&["is-active", SYSTEMD_UNIT]).is_ok();
            if active {
                if changed {
                    systemctl(&["restart", SYSTEMD_UNIT]).map_err(|e| fail("restart", e))?;
                    say("restarted the service with the new unit");
                } else {
                    say("the service is running");
                }
            } else if let Some(pid) = outside {
                say(&format!(
                    "aimux is already running outside the service (pid {pid}); the service takes \
                     over at the next login, or now after `aimux stop` and `systemctl --user \
                     start {SYSTEMD_UNIT}`"
                ));
            } else {
                systemctl(&["start", SYSTEMD_UNIT]).map_err(|e| fail("start", e))?;
                say("started the service; `aimux status` shows it");
            }
        }
        Manager::Launchd => {
            let domain = launchd_domain();
            if let Some(pid) = outside {
                say(&format!(
                    "aimux is already running outside launchd (pid {pid}); the agent starts at \
                     the next login"
                ));
                return Ok(());
            }
            if changed {
                let _ = ctl(
                    "launchctl",
                    &["bootout", &format!("{domain}/{LAUNCHD_LABEL}")],
                );
            }
            let plist = path.display().to_string();
            match ctl("launchctl", &["bootstrap", &domain, &plist]) {
                Ok(_) => say("loaded the agent; it starts now and at every login"),
                Err(e) if !changed => say(&format!("the agent is already loaded ({e})")),
                Err(e) => {
                    return Err(user_error(format!(
                        "wrote the agent, but `launchctl bootstrap {domain} {plist}` failed: {e}"
                    )));
                }
            }
        }
    }
    Ok(())
}

pub fn uninstall(env: &Env) -> anyhow::Result<()> {
    let m = Manager::current();
    let path = m.file(env)?;
    if !path.exists() {
        say(&format!(
            "the aimux service is not installed ({} does not exist)",
            tilde(&path)
        ));
        return Ok(());
    }
    if available(m) {
        // Stops the service's own aimux (if it runs) through the service manager, nothing else.
        let r = match m {
            Manager::Systemd => systemctl(&["disable", "--now", SYSTEMD_UNIT]),
            Manager::Launchd => ctl(
                "launchctl",
                &["bootout", &format!("{}/{LAUNCHD_LABEL}", launchd_domain())],
            ),
        };
        match r {
            Ok(_) => say("stopped and disabled the service"),
            Err(e) => say(&format!(
                "{} could not stop/disable the service ({e}); removing its file anyway",
                m.program()
            )),
        }
    }
    std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    say(&format!("removed {}", tilde(&path)));
    if m == Manager::Systemd && available(m) {
        let _ = systemctl(&["daemon-reload"]);
    }
    Ok(())
}

pub fn status(env: &Env, home: &Path) -> anyhow::Result<()> {
    let m = Manager::current();
    let path = m.file(env)?;
    let mut out = String::new();
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let exe = std::env::current_exe()
                .map(|e| crate::supervisor::procs::normalize_exe(&e))
                .unwrap_or_default();
            let fresh = m.render(&UnitParams::new(&exe, home, env)) == text;
            out.push_str(&format!(
                "installed: {}{}\n",
                tilde(&path),
                if fresh {
                    ""
                } else {
                    " (differs from what `aimux daemon install` would write now)"
                }
            ));
        }
        Err(_) => out.push_str(&format!(
            "installed: no ({} does not exist)\n",
            tilde(&path)
        )),
    }
    if !available(m) {
        out.push_str(&format!(
            "{}: unavailable ({} not found)\n",
            match m {
                Manager::Systemd => "systemd",
                Manager::Launchd => "launchd",
            },
            m.program()
        ));
        print!("{out}");
        return Ok(());
    }
    match m {
        Manager::Systemd => {
            // is-enabled / is-active print their answer on stdout and exit non-zero for "no".
            let answer = |verb: &str| -> String {
                match systemctl(&[verb, SYSTEMD_UNIT]) {
                    Ok(s) => s,
                    Err(e) => e,
                }
            };
            let enabled = answer("is-enabled");
            if enabled.contains("Failed to connect") || enabled.contains("bus") {
                out.push_str(&format!("systemd: user manager unavailable ({enabled})\n"));
            } else {
                out.push_str(&format!("enabled: {enabled}\n"));
                out.push_str(&format!("active: {}\n", answer("is-active")));
            }
        }
        Manager::Launchd => {
            let target = format!("{}/{LAUNCHD_LABEL}", launchd_domain());
            match ctl("launchctl", &["print", &target]) {
                Ok(text) => {
                    let state = text
                        .lines()
                        .find_map(|l| l.trim().strip_prefix("state = "))
                        .unwrap_or("loaded");
                    out.push_str(&format!("launchd: {target} {state}\n"));
                }
                Err(_) => out.push_str(&format!("launchd: {target} is not loaded\n")),
            }
        }
    }
    print!("{out}");
    Ok(())
}
