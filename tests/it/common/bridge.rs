//! [`Bridge`]: the real `aimux bridge` binary as a child process.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long [`Bridge::spawn`] waits for the server-info file.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(10);

/// Options for [`Bridge::spawn_with`].
#[derive(Debug, Clone, Default)]
pub struct BridgeOptions {
    /// `--upstream` value (e.g. [`crate::common::MockUpstream::base_url`]); when empty, no
    /// `--upstream` is passed (the bridge's default, or `AIMUX_UPSTREAM` given in `envs`).
    pub upstream: String,
    /// Extra arguments appended after `bridge --port 0 --upstream U --server-info F`.
    pub args: Vec<String>,
    /// Extra environment variables for the child.
    pub envs: Vec<(String, String)>,
    /// The subcommand to run; `bridge` when `None` (`proxy` starts the proxy the same way).
    pub subcommand: Option<String>,
}

/// A running `aimux bridge` child process.
///
/// * Started as `aimux bridge --port 0 --upstream URL --server-info FILE [extra args]` with
///   `HOME` and `XDG_{CONFIG,DATA,STATE,CACHE}_HOME` pointing into a private temp dir and every
///   `OPENAI_*` / `CODEX_*` / `AIMUX_*` variable except `AIMUX_LOG` removed from its environment
///   (hermetic; set `AIMUX_LOG=debug` when running the tests to get bridge debug logs).
/// * stdout/stderr go to files in that temp dir ([`Bridge::stderr`]).
/// * Ready once the server-info file holds `{"pid","port","url"}` (polled, 10 s deadline).
/// * Dropping it kills (SIGKILL) and reaps the child; if the current thread is panicking, the
///   bridge's stderr is printed so a failing test shows the bridge's side of the story.
pub struct Bridge {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT` as written in the server-info file.
    pub url: String,
    pub port: u16,
    /// The pid from the server-info file.
    pub pid: u32,
    /// The whole server-info JSON.
    pub info: Value,
    dir: tempfile::TempDir,
    server_info: PathBuf,
    exit_status: Option<ExitStatus>,
}

/// Path of the `aimux` binary built for the tests.
pub fn aimux_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_aimux"))
}

impl Bridge {
    /// Spawn the bridge against `upstream_url` (which includes `/v1`) with `extra_args`.
    pub fn spawn(upstream_url: &str, extra_args: &[&str]) -> Bridge {
        Self::spawn_with(BridgeOptions {
            upstream: upstream_url.to_string(),
            args: extra_args.iter().map(|s| s.to_string()).collect(),
            envs: Vec::new(),
            subcommand: None,
        })
    }

    /// Spawn with full [`BridgeOptions`].
    pub fn spawn_with(opts: BridgeOptions) -> Bridge {
        let dir = tempfile::Builder::new()
            .prefix("aimux-bridge-")
            .tempdir()
            .expect("bridge temp dir");
        let home = dir.path().join("home");
        fs::create_dir_all(&home).expect("bridge home");
        let server_info = dir.path().join("server-info.json");
        let stdout = fs::File::create(dir.path().join("stdout.log")).expect("bridge stdout file");
        let stderr = fs::File::create(dir.path().join("stderr.log")).expect("bridge stderr file");

        let mut cmd = Command::new(aimux_bin());
        cmd.arg(opts.subcommand.as_deref().unwrap_or("bridge"))
            .arg("--port")
            .arg("0");
        if !opts.upstream.is_empty() {
            cmd.arg("--upstream").arg(&opts.upstream);
        }
        cmd.arg("--server-info").arg(&server_info).args(&opts.args);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            let aimux_setting = k.starts_with("AIMUX_") && k != "AIMUX_LOG";
            if k.starts_with("OPENAI_") || k.starts_with("CODEX_") || aimux_setting {
                cmd.env_remove(&k);
            }
        }
        cmd.env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("XDG_CACHE_HOME", home.join(".cache"));
        for (k, v) in &opts.envs {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("failed to start {}: {e}", aimux_bin().display()));

        let mut bridge = Bridge {
            child: Some(child),
            url: String::new(),
            port: 0,
            pid: 0,
            info: Value::Null,
            dir,
            server_info,
            exit_status: None,
        };
        bridge.wait_ready(&opts);
        bridge
    }

    fn wait_ready(&mut self, opts: &BridgeOptions) {
        let deadline = Instant::now() + STARTUP_DEADLINE;
        loop {
            if let Ok(text) = fs::read_to_string(&self.server_info)
                && let Some(line) = text.lines().find(|l| !l.trim().is_empty())
                && let Ok(info) = serde_json::from_str::<Value>(line)
                && let Some(port) = info["port"].as_u64()
            {
                self.port = port as u16;
                self.pid = info["pid"].as_u64().unwrap_or(0) as u32;
                self.url = info["url"]
                    .as_str()
                    .map(|s| s.trim_end_matches('/').to_string())
                    .unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
                self.info = info;
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.exit_status = Some(status);
                panic!(
                    "aimux bridge exited ({status}) before writing its server-info file\nargs: {:?}\n--- bridge stderr ---\n{}\n--- bridge stdout ---\n{}",
                    opts.args,
                    self.stderr(),
                    self.stdout()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "aimux bridge did not write {} within {STARTUP_DEADLINE:?}\n--- bridge stderr ---\n{}",
                    self.server_info.display(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `{url}/v1`: the base URL a client (Codex, the OpenAI SDK) should use.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.url)
    }

    /// The bridge's private temp dir (its HOME is `<dir>/home`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Path of the server-info file passed with `--server-info`.
    pub fn server_info_path(&self) -> &Path {
        &self.server_info
    }

    /// Everything the bridge wrote to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&fs::read(self.dir.path().join("stderr.log")).unwrap_or_default())
            .into_owned()
    }

    /// Everything the bridge wrote to stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&fs::read(self.dir.path().join("stdout.log")).unwrap_or_default())
            .into_owned()
    }

    /// The OS pid of the child we spawned.
    pub fn child_pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// True while the child has not exited.
    pub fn is_running(&mut self) -> bool {
        self.try_exit_status().is_none()
    }

    /// The exit status if the child has exited (reaps it).
    pub fn try_exit_status(&mut self) -> Option<ExitStatus> {
        if self.exit_status.is_none()
            && let Some(c) = self.child.as_mut()
            && let Ok(Some(s)) = c.try_wait()
        {
            self.exit_status = Some(s);
        }
        self.exit_status
    }

    /// Send SIGTERM (via `kill -TERM`), for graceful-shutdown tests.
    pub fn terminate(&self) {
        if let Some(pid) = self.child_pid() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
        }
    }

    /// Wait up to `timeout` for the child to exit; `None` if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_exit_status() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kill (SIGKILL) and reap the child now.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            if self.exit_status.is_none() {
                let _ = c.kill();
                if let Ok(s) = c.wait() {
                    self.exit_status = Some(s);
                }
            }
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let err = self.stderr();
            let tail: Vec<&str> = err.lines().rev().take(300).collect();
            eprintln!(
                "--- aimux bridge stderr (last {} lines) ---\n{}\n--- end bridge stderr ---",
                tail.len(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
}
