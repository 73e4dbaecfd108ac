//! `aimux start [--bridge-port N] [--proxy-port N] [--detach]`: resolve settings, then run the
//! supervisor in the foreground, or re-run this binary as a detached background supervisor and
//! wait (on the state file, with a deadline) until both children are ready.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::cli::{BridgeArgs, ProxyArgs, StartArgs};
use crate::error::user_error;
use crate::settings::{BridgeSettings, Env, FileConfig, ProxySettings};
use crate::supervisor::logfile::{self, DEFAULT_KEEP, DEFAULT_MAX_BYTES};
use crate::supervisor::policy::RestartPolicy;
use crate::supervisor::run::{self, Config, ProxyMode};
use crate::supervisor::state::{RunStatus, State};
use crate::supervisor::{Paths, lock, summary, tilde};

/// How long one start of a child may take to write its server-info file (or open its port).
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// An external proxy (a Python server, say) may take longer.
const EXTERNAL_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// The children's own drain is 10 s; a little more before they are killed.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(12);

fn fresh_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The supervisor's configuration from flags, environment and config file.
pub fn resolve(
    args: &StartArgs,
    env: &Env,
    file: &FileConfig,
    home: &Path,
    verbose: u8,
) -> anyhow::Result<Config> {
    let path = home.join("config.toml");
    let bridge = BridgeSettings::resolve(
        BridgeArgs {
            port: args.bridge_port,
            ..BridgeArgs::default()
        },
        env,
        file,
        &path,
    )?;
    let proxy_settings = ProxySettings::resolve(
        ProxyArgs {
            port: args.proxy_port,
            ..ProxyArgs::default()
        },
        env,
        file,
        &path,
    )?;
    let proxy = match &file.proxy.command {
        None => ProxyMode::Internal {
            host: proxy_settings.host.value,
            port: proxy_settings.port.value,
        },
        Some(command) => {
            if args.proxy_port.is_some() {
                return Err(user_error(format!(
                    "--proxy-port does not apply: the proxy is [proxy] command in {}, and its \
                     address is [proxy] url",
                    path.display()
                )));
            }
            let url = file.proxy.url.clone().ok_or_else(|| {
                user_error(format!(
                    "{}: [proxy] command needs [proxy] url, the Chat Completions base URL it \
                     serves (e.g. url = \"http://127.0.0.1:4000/v1\")",
                    path.display()
                ))
            })?;
            if run::url_host_port(&url).is_none() {
                return Err(user_error(format!(
                    "{}: [proxy] url = {url:?} is not an http(s) URL with a host",
                    path.display()
                )));
            }
            ProxyMode::External {
                command: command.clone(),
                url: url.trim_end_matches('/').to_owned(),
            }
        }
    };
    let external = matches!(proxy, ProxyMode::External { .. });
    let exe = std::env::current_exe().context("locating the aimux binary")?;
    let tty = std::io::stderr().is_terminal() && !args.detached_child;
    let color = tty && env.get("NO_COLOR").is_none();
    Ok(Config {
        paths: Paths::new(home),
        exe,
        verbose,
        proxy,
        bridge_host: bridge.host.value,
        bridge_port: bridge.port.value,
        bridge_token: bridge.token.map(|t| t.value),
        secret: fresh_secret(),
        policy: RestartPolicy::default(),
        ready_timeout: if external {
            EXTERNAL_READY_TIMEOUT
        } else {
            READY_TIMEOUT
        },
        drain_timeout: DRAIN_TIMEOUT,
        log_max_bytes: file
            .logs
            .max_size_mb
            .map(|mb| mb.saturating_mul(1024 * 1024))
            .unwrap_or(DEFAULT_MAX_BYTES),
        log_keep: file.logs.keep.unwrap_or(DEFAULT_KEEP),
        detached: args.detached_child,
        color,
        spinner: tty,
        codex_profile: summary::codex_profile(env),
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    // One thread: the children's parent-death signal is tied to the thread that spawned them.
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub fn run(
    args: StartArgs,
    env: &Env,
    file: &FileConfig,
    home: &Path,
    verbose: u8,
) -> anyhow::Result<()> {
    if !cfg!(unix) {
        return Err(user_error(
            "aimux start supports Linux and macOS only for now; run `aimux proxy` and \
             `aimux bridge` yourself",
        ));
    }
    let cfg = resolve(&args, env, file, home, verbose)?;
    if matches!(cfg.proxy, ProxyMode::Internal { .. }) {
        // Reported here rather than by a proxy child that keeps failing to start.
        super::proxy::load_credentials(home)?;
    }
    if args.detach && !args.detached_child {
        return detach(&args, cfg, verbose);
    }
    runtime()?.block_on(run::run(cfg))
}

/// Starts `aimux start --detached-child ...` in a new session with its output in
/// `logs/supervisor.log`, then waits until the state file says both children are ready.
fn detach(args: &StartArgs, cfg: Config, verbose: u8) -> anyhow::Result<()> {
    let paths = cfg.paths.clone();
    if let Some(pid) = lock::holder(&paths.lock())? {
        return Err(run::already_running(&paths, pid));
    }
    run::check_ports(&cfg)?;
    let log_path = paths.log("supervisor");
    std::fs::create_dir_all(paths.logs_dir())
        .with_context(|| format!("creating {}", paths.logs_dir().display()))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("opening {}", log_path.display()))?;
    let mut cmd = std::process::Command::new(&cfg.exe);
    cmd.arg("start").arg("--detached-child");
    for _ in 0..verbose.min(3) {
        cmd.arg("-v");
    }
    if let Some(p) = args.bridge_port {
        cmd.args(["--bridge-port", &p.to_string()]);
    }
    if let Some(p) = args.proxy_port {
        cmd.args(["--proxy-port", &p.to_string()]);
    }
    cmd.env_remove(crate::secret::ENV)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid is async-signal-safe; it runs in the forked child before exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {} start --detached-child", cfg.exe.display()))?;
    let pid = child.id();

    let spinner = cfg.spinner.then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(format!("starting aimux in the background (pid {pid})"));
        pb.enable_steady_tick(Duration::from_millis(90));
        pb
    });
    if spinner.is_none() {
        eprintln!("aimux: starting in the background (supervisor pid {pid})");
    }
    let wait = cfg.ready_timeout * 2 + Duration::from_secs(15);
    let deadline = Instant::now() + wait;
    let outcome = loop {
        let exited = child.try_wait()?;
        if let Ok(Some(state)) = State::read(&paths.state())
            && state.supervisor.pid == pid
        {
            match state.status {
                RunStatus::Running => break Ok(state),
                RunStatus::Failed => {
                    break Err(state.error.unwrap_or_else(|| "it failed".to_owned()));
                }
                _ => {}
            }
        }
        if let Some(status) = exited {
            break Err(format!("the background supervisor exited ({status})"));
        }
        if Instant::now() >= deadline {
            break Err(format!(
                "the background supervisor (pid {pid}) was not ready within {} s; it is still \
                 running: see `aimux status`, or `aimux stop` it",
                wait.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    if let Some(pb) = spinner {
        pb.finish_and_clear();
    }
    match outcome {
        Ok(state) => {
            let rt = runtime()?;
            let s = rt.block_on(summary::gather(
                &state,
                cfg.bridge_token.as_deref(),
                None,
                &cfg.codex_profile,
                &paths.logs_dir(),
            ));
            eprint!("{}", summary::render(&s, cfg.color));
            Ok(())
        }
        Err(why) => {
            let tail = logfile::tail(&log_path, 15).unwrap_or_default();
            let tail = tail
                .iter()
                .map(|l| format!("  | {l}"))
                .collect::<Vec<_>>()
                .join("\n");
            Err(user_error(format!(
                "{why}.\nlast lines of {}:\n{tail}",
                tilde(&log_path)
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::config::ExternalCommand;
    use crate::settings::parse_file;

    fn resolve_with(config: &str, args: StartArgs, env: &[(&str, &str)]) -> Result<Config, String> {
        let file = parse_file(config)?;
        resolve(
            &args,
            &Env::from_pairs(env.iter().copied()),
            &file,
            Path::new("/h"),
            0,
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn resolves_ports_proxy_mode_and_log_limits() {
        let c = resolve_with("", StartArgs::default(), &[]).unwrap();
        assert_eq!(
            c.proxy,
            ProxyMode::Internal {
                host: "127.0.0.1".into(),
                port: 8404
            }
        );
        assert_eq!(
            (c.bridge_port, c.log_max_bytes, c.log_keep),
            (8403, 10 << 20, 3)
        );
        assert_eq!(c.secret.len(), 64);
        assert_ne!(
            c.secret,
            resolve_with("", StartArgs::default(), &[]).unwrap().secret
        );

        let args = StartArgs {
            bridge_port: Some(0),
            proxy_port: Some(0),
            ..StartArgs::default()
        };
        let c = resolve_with(
            "[bridge]\nport = 7000\n[logs]\nmax_size_mb = 2\nkeep = 0\n",
            args,
            &[("AIMUX_PROXY_PORT", "7001"), ("AIMUX_TOKEN", "t")],
        )
        .unwrap();
        assert_eq!(
            (c.bridge_port, c.log_max_bytes, c.log_keep),
            (0, 2 << 20, 0)
        );
        assert_eq!(c.bridge_token.as_deref(), Some("t"));

        let c = resolve_with(
            "[proxy]\ncommand = [\"litellm\", \"--port\", \"4000\"]\nurl = \"http://127.0.0.1:4000/v1/\"\n",
            StartArgs::default(),
            &[],
        )
        .unwrap();
        assert_eq!(
            c.proxy,
            ProxyMode::External {
                command: ExternalCommand::Argv(vec![
                    "litellm".into(),
                    "--port".into(),
                    "4000".into()
                ]),
                url: "http://127.0.0.1:4000/v1".into()
            }
        );
        assert_eq!(c.ready_timeout, EXTERNAL_READY_TIMEOUT);
    }

    #[test]
    fn config_errors_name_the_key() {
        let cases: [(&str, StartArgs, &str); 4] = [
            (
                "[proxy]\ncommand = \"litellm\"\n",
                StartArgs::default(),
                "[proxy] command needs [proxy] url",
            ),
            (
                "[proxy]\ncommand = \"x\"\nurl = \"nope\"\n",
                StartArgs::default(),
                "[proxy] url = \"nope\" is not an http(s) URL",
            ),
            (
                "[proxy]\ncommand = \"x\"\nurl = \"http://127.0.0.1:1/v1\"\n",
                StartArgs {
                    proxy_port: Some(1),
                    ..StartArgs::default()
                },
                "--proxy-port does not apply",
            ),
            (
                "[logs]\nsize = 1\n",
                StartArgs::default(),
                "unknown field `size`",
            ),
        ];
        for (config, args, want) in cases {
            let err = resolve_with(config, args, &[]).err().unwrap_or_default();
            assert!(err.contains(want), "{config:?}: {err}");
        }
    }
}
