//! `aimux start | stop | status | logs | daemon` as a user runs them: the real binary, a temp
//! `AIMUX_HOME`/`HOME`/`CODEX_HOME`, ports 0, a mock provider on loopback. Every wait polls with a
//! deadline; every process a test starts is stopped by a guard even when the test fails.
//! `AIMUX_LOG` is removed too: the request counts rely on the default `info` request lines.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::bridge::aimux_bin;
use crate::common::{CommandOutput, MockUpstream, Reply, run_with_timeout, wait_until};

const KEY_A: &str = "sk-test-lifecycle-AAAA";
const READY: Duration = Duration::from_secs(30);

/// A hermetic home for one test: `aimux/` (AIMUX_HOME), `home/` (HOME), `codex/` (CODEX_HOME).
struct TestEnv {
    dir: tempfile::TempDir,
    extra: Vec<(String, String)>,
}

impl TestEnv {
    fn new(config: Option<&str>) -> TestEnv {
        let dir = tempfile::Builder::new()
            .prefix("aimux-lifecycle-")
            .tempdir()
            .unwrap();
        for d in ["aimux", "home", "codex"] {
            fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        if let Some(c) = config {
            fs::write(dir.path().join("aimux/config.toml"), c).unwrap();
        }
        TestEnv {
            dir,
            extra: Vec::new(),
        }
    }

    fn aimux_home(&self) -> PathBuf {
        self.dir.path().join("aimux")
    }

    fn state_path(&self) -> PathBuf {
        self.aimux_home().join("run/state.json")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(aimux_bin());
        cmd.args(args);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("OPENAI_")
                || k.starts_with("CODEX_")
                || k.starts_with("AIMUX_")
                || k.ends_with("_API_KEY")
                || k == "NO_COLOR"
            {
                cmd.env_remove(&k);
            }
        }
        let home = self.dir.path().join("home");
        cmd.env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("AIMUX_HOME", self.aimux_home())
            .env("CODEX_HOME", self.dir.path().join("codex"))
            .env("KEY_A", KEY_A);
        for (k, v) in &self.extra {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> CommandOutput {
        run_with_timeout(
            self.cmd(args),
            Duration::from_secs(60),
            &self.dir.path().join("scratch"),
        )
    }

    /// `aimux start ...` as a foreground child of the test, output to files.
    fn spawn(&self, args: &[&str]) -> Supervisor {
        let out = self.dir.path().join("start.stdout");
        let err = self.dir.path().join("start.stderr");
        let mut cmd = self.cmd(args);
        cmd.stdin(Stdio::null())
            .stdout(fs::File::create(&out).unwrap())
            .stderr(fs::File::create(&err).unwrap());
        Supervisor {
            child: Some(cmd.spawn().unwrap()),
            stderr: err,
        }
    }

    fn status_json(&self) -> (Option<i32>, Value) {
        let out = self.run(&["status", "--json"]);
        let v = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("status --json is not JSON ({e}):\n{}", out.dump()));
        (out.status.and_then(|s| s.code()), v)
    }

    /// Polls `status --json` until the supervisor runs and both children answer `/health`.
    fn wait_running(&self, sup: &mut Supervisor, what: &str) -> Value {
        let deadline = Instant::now() + READY;
        loop {
            let (code, v) = self.status_json();
            if code == Some(0)
                && v["status"] == "running"
                && v["bridge"]["health"] == "ok"
                && v["proxy"]["health"] == "ok"
            {
                return v;
            }
            if let Some(status) = sup.try_exit() {
                panic!(
                    "aimux start exited ({status}) while waiting for {what}\n{}",
                    sup.stderr()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out waiting for {what}; last status:\n{v:#}\n--- start stderr ---\n{}",
                    sup.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The foreground `aimux start`; SIGKILLed on drop if the test did not stop it (its children
/// follow through their parent-death signal).
struct Supervisor {
    child: Option<Child>,
    stderr: PathBuf,
}

impl Supervisor {
    fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_exit() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "aimux start did not exit within {timeout:?}\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take()
            && c.try_wait().ok().flatten().is_none()
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs `aimux stop` when dropped, so a failing test leaves no background supervisor behind.
struct StopOnDrop<'a>(&'a TestEnv);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["stop", "--timeout", "5"]);
    }
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    let rc = unsafe { libc::kill(pid as i32, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
}

/// A live, non-zombie process (zombies wait for a parent that may never reap them here).
fn alive(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, Some('Z' | 'X') | None)
}

fn cmdline(pid: u32) -> String {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

fn port_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn pid_of(v: &Value, child: &str) -> u32 {
    v[child]["pid"]
        .as_u64()
        .unwrap_or_else(|| panic!("no {child} pid in {v:#}")) as u32
}

fn port_of(v: &Value, child: &str) -> u16 {
    v[child]["port"]
        .as_u64()
        .unwrap_or_else(|| panic!("no {child} port in {v:#}")) as u16
}

/// `POST {base_url}/responses` (non-streaming) on a throwaway runtime: (status, body).
fn ask(base_url: &str, model: &str) -> (u16, Value) {
    post_responses(
        base_url,
        json!({"model": model, "input": "hi", "stream": false}),
    )
}

/// `POST {base_url}/responses` with `body` on a throwaway runtime: (status, body).
fn post_responses(base_url: &str, body: Value) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(format!("{base_url}/responses"))
            .json(&body)
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .expect("request to the bridge");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    })
}

fn output_text(v: &Value) -> String {
    v["output"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|item| item["content"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["text"].as_str().map(str::to_owned))
        .collect()
}

fn provider_config(mock: &MockUpstream) -> String {
    format!(
        "[providers.a]\nbase_url = \"{}\"\nenv_key = \"KEY_A\"\nmodels = [\"m1\"]\n",
        mock.base_url()
    )
}

/// SIGTERM while an answer still needs the proxy: the supervisor stops the bridge first and the
/// proxy only once the bridge has drained, so the search round and the second model round the
/// bridge starts after the signal (both through the proxy) still go through.
#[test]
fn sigterm_mid_answer_lets_its_search_round_through_the_proxy_finish() {
    use crate::websearch::{MockSearch, search_call};
    let search = MockSearch::start(false);
    let first = match search_call("drain test") {
        Reply::Sse(sse) => Reply::Sse(sse.delay_before(0, Duration::from_millis(800))),
        other => other,
    };
    let mock = MockUpstream::with_replies([first, Reply::text("answered after the search")]);
    let config = format!(
        "{}\n[websearch]\nenabled = true\nurl = \"{}\"\n",
        provider_config(&mock),
        search.url
    );
    let env = TestEnv::new(Some(&config));
    let mut sup = env.spawn(&["start", "--bridge-port", "0", "--proxy-port", "0"]);
    let v = env.wait_running(&mut sup, "the start");
    let base = v["bridge"]["base_url"].as_str().unwrap().to_owned();
    let asking = std::thread::spawn(move || {
        post_responses(
            &base,
            json!({
                "model": "a/m1", "stream": false, "input": "What is SSE?",
                "tools": [{"type": "web_search", "external_web_access": true}],
            }),
        )
    });
    // The model is "thinking" (its first reply is 0.8 s away) when the signal comes.
    mock.wait_for_chat_requests(1, READY);
    signal(sup.pid(), libc::SIGTERM);
    let (status, body) = asking.join().expect("request thread");
    let why = format!("{body:#}\n{}", sup.stderr());
    assert_eq!(status, 200, "{why}");
    assert_eq!(output_text(&body), "answered after the search", "{why}");
    assert_eq!(search.queries(), ["drain test"], "{why}");
    assert_eq!(mock.chat_request_count(), 2, "{why}");
    let exit = sup.wait_exit(Duration::from_secs(20));
    assert!(
        exit.success(),
        "aimux start exits 0 after SIGTERM: {exit:?}\n{why}"
    );
}

#[test]
fn start_serves_heals_a_killed_bridge_and_stops_cleanly_on_sigterm() {
    let mock = MockUpstream::with_handler(|_| Reply::text("hello from the mock"));
    let env = TestEnv::new(Some(&provider_config(&mock)));
    let mut sup = env.spawn(&["start", "--bridge-port", "0", "--proxy-port", "0"]);
    let v = env.wait_running(&mut sup, "the first start");

    // status --json agrees with the OS.
    assert_eq!(v["supervisor"]["pid"], sup.pid());
    assert_eq!(v["supervisor"]["detached"], false);
    assert_eq!(v["proxy"]["providers"], json!(["a"]));
    let proxy_pid = pid_of(&v, "proxy");
    let bridge_pid = pid_of(&v, "bridge");
    let (proxy_port, bridge_port) = (port_of(&v, "proxy"), port_of(&v, "bridge"));
    assert!(
        cmdline(proxy_pid).contains(" proxy --port 0 "),
        "{}",
        cmdline(proxy_pid)
    );
    assert!(
        cmdline(bridge_pid).contains(&format!(
            " bridge --port 0 --upstream http://127.0.0.1:{proxy_port}/v1 "
        )),
        "{}",
        cmdline(bridge_pid)
    );
    let base = v["bridge"]["base_url"].as_str().unwrap().to_owned();

    // The summary names both URLs, the provider, the model count and the next step.
    let summary = wait_until(READY, "the start summary", || {
        let e = sup.stderr();
        e.contains("next: ").then_some(e)
    });
    for want in [
        format!("bridge   http://127.0.0.1:{bridge_port}/v1"),
        format!("proxy    http://127.0.0.1:{proxy_port}/v1"),
        "providers: a".to_owned(),
        "no profile yet".to_owned(),
        "next: aimux setup, then codex -p aimux".to_owned(),
    ] {
        assert!(summary.contains(&want), "{want:?} not in\n{summary}");
    }
    let models: usize = summary
        .lines()
        .find_map(|l| l.trim().strip_prefix("models"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no model count in\n{summary}"));
    assert!(
        models >= 1,
        "the bridge lists the provider's models:\n{summary}"
    );

    // A request through bridge → proxy → mock provider.
    let (status, body) = ask(&base, "a/m1");
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(output_text(&body), "hello from the mock", "{body:#}");
    let sent = &mock.chat_requests()[0];
    assert_eq!(sent.body["model"], "m1");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY_A}").as_str())
    );
    // One compact line for it on the terminal.
    wait_until(READY, "the compact request line", || {
        sup.stderr()
            .contains("POST /v1/responses  a/m1  200")
            .then_some(())
    });

    // kill -9 the bridge: the supervisor restarts it on the same port.
    signal(bridge_pid, libc::SIGKILL);
    let deadline = Instant::now() + READY;
    let v = loop {
        let (_, v) = env.status_json();
        if v["bridge"]["restarts"] == 1
            && v["bridge"]["health"] == "ok"
            && v["bridge"]["pid"]
                .as_u64()
                .is_some_and(|p| p as u32 != bridge_pid)
        {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "the bridge was not restarted: {v:#}\n{}",
            sup.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!alive(bridge_pid));
    let new_bridge_pid = pid_of(&v, "bridge");
    assert!(alive(new_bridge_pid));
    assert_eq!(pid_of(&v, "proxy"), proxy_pid, "the proxy was left alone");
    assert_eq!(v["bridge"]["last_exit"], "killed by signal 9 (SIGKILL)");
    assert_eq!(v["restarts"], 1);
    let base = v["bridge"]["base_url"].as_str().unwrap().to_owned();
    assert_eq!(port_of(&v, "bridge"), bridge_port, "restarts keep the port");
    let (status, body) = ask(&base, "a/m1");
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(output_text(&body), "hello from the mock");
    wait_until(READY, "the request count", || {
        (env.status_json().1["requests"] == 2).then_some(())
    });
    let err = sup.stderr();
    assert!(err.contains("restarting the bridge in 0.25 s"), "{err}");

    // A second start says so and exits 1.
    let second = env.run(&["start", "--bridge-port", "0", "--proxy-port", "0"]);
    assert_eq!(
        second.status.and_then(|s| s.code()),
        Some(1),
        "{}",
        second.dump()
    );
    assert!(
        second.stderr.contains(&format!(
            "aimux is already running (supervisor pid {}",
            sup.pid()
        )),
        "{}",
        second.dump()
    );

    // SIGTERM: both children drain and exit, the supervisor exits 0, ports are free.
    signal(sup.pid(), libc::SIGTERM);
    let status = sup.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "{status}\n{}", sup.stderr());
    for pid in [proxy_pid, new_bridge_pid] {
        wait_until(Duration::from_secs(5), "the children to be gone", || {
            (!alive(pid)).then_some(())
        });
    }
    assert!(port_free(proxy_port), "proxy port {proxy_port} still taken");
    assert!(
        port_free(bridge_port),
        "bridge port {bridge_port} still taken"
    );
    assert!(!env.state_path().exists(), "state file left behind");
    let err = sup.stderr();
    assert!(err.contains("the bridge (pid"), "{err}");
    assert!(err.contains("aimux: stopped"), "{err}");

    // Not running any more: status says so (exit 1), logs remain.
    let (code, v) = env.status_json();
    assert_eq!(code, Some(1));
    assert_eq!(v["running"], false);
    assert_eq!(v["status"], "stopped");
    let logs = env.run(&["logs", "-n", "500"]);
    assert!(logs.success(), "{}", logs.dump());
    for want in [
        "bridge     | ",
        "proxy      | ",
        "supervisor | ",
        "POST /v1/responses model=a/m1 route=a/m1 status=200",
        "restarting the bridge",
    ] {
        assert!(
            logs.stdout.contains(want),
            "{want:?} not in\n{}",
            logs.stdout
        );
    }
    let bridge_only = env.run(&["logs", "bridge", "-n", "3"]);
    assert!(bridge_only.success(), "{}", bridge_only.dump());
    assert_eq!(
        bridge_only.stdout.lines().count(),
        3,
        "{}",
        bridge_only.stdout
    );
    assert!(
        !bridge_only.stdout.contains(" | "),
        "{}",
        bridge_only.stdout
    );
}

#[test]
fn a_proxy_that_keeps_crashing_makes_start_give_up_with_its_last_lines() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = TestEnv::new(Some(&format!(
        "[proxy]\ncommand = \"echo proxy-boom >&2; exit 3\"\nurl = \"http://127.0.0.1:{port}/v1\"\n"
    )));
    let started = Instant::now();
    let out = env.run(&["start", "--bridge-port", "0"]);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{}", out.dump());
    for want in [
        "restarting the proxy in 0.25 s",
        "restarting the proxy in 2.00 s",
        "error: the proxy crashed 5 times within 60 s (last: exited with code 3); giving up.",
        "its last lines (",
        "  | proxy-boom",
    ] {
        assert!(out.stderr.contains(want), "{want:?} not in\n{}", out.dump());
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // The failure is remembered for `status`, and the next start is not blocked by it.
    let (code, v) = env.status_json();
    assert_eq!(code, Some(1));
    assert_eq!(v["running"], false);
    assert!(
        v["error"]
            .as_str()
            .unwrap_or("")
            .contains("crashed 5 times"),
        "{v:#}"
    );
    assert_eq!(v["proxy"]["restarts"], 4, "{v:#}");
    assert_eq!(
        v["bridge"]["phase"], "stopped",
        "the bridge never started: {v:#}"
    );
}

#[test]
fn detached_start_with_no_config_then_stop() {
    let env = TestEnv::new(None);
    let _guard = StopOnDrop(&env);
    let out = env.run(&[
        "start",
        "--detach",
        "--bridge-port",
        "0",
        "--proxy-port",
        "0",
    ]);
    assert!(out.success(), "{}", out.dump());
    assert!(
        out.stderr.contains("aimux is running (supervisor pid"),
        "{}",
        out.dump()
    );
    assert!(out.stderr.contains("aimux stop stops it"), "{}", out.dump());
    assert!(out.stdout.is_empty(), "stdout is for data: {}", out.stdout);

    let (code, v) = env.status_json();
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["running"], true);
    assert_eq!(v["supervisor"]["detached"], true);
    let pids = [
        v["supervisor"]["pid"].as_u64().unwrap() as u32,
        pid_of(&v, "proxy"),
        pid_of(&v, "bridge"),
    ];
    for pid in pids {
        assert!(alive(pid), "pid {pid} from status is not running");
    }
    let ports = [port_of(&v, "proxy"), port_of(&v, "bridge")];
    let text = env.run(&["status"]);
    assert!(text.success(), "{}", text.dump());
    assert!(
        text.stdout.contains("aimux is running: supervisor pid"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("(in the background)"),
        "{}",
        text.stdout
    );

    let second = env.run(&["start", "--detach", "--bridge-port", "0"]);
    assert_eq!(
        second.status.and_then(|s| s.code()),
        Some(1),
        "{}",
        second.dump()
    );
    assert!(
        second.stderr.contains("already running"),
        "{}",
        second.dump()
    );

    let stop = env.run(&["stop"]);
    assert!(stop.success(), "{}", stop.dump());
    assert!(stop.stderr.contains("stopped"), "{}", stop.dump());
    for pid in pids {
        wait_until(
            Duration::from_secs(5),
            "stopped processes to be gone",
            || (!alive(pid)).then_some(()),
        );
    }
    for port in ports {
        assert!(port_free(port), "port {port} still taken after stop");
    }
    assert!(!env.state_path().exists());
    let again = env.run(&["stop"]);
    assert!(again.success(), "{}", again.dump());
    assert!(
        again.stderr.contains("aimux is not running"),
        "{}",
        again.dump()
    );
}

#[test]
fn an_external_proxy_command_is_supervised_and_the_bridge_uses_its_url() {
    let mock = MockUpstream::with_handler(|_| Reply::text("via the external proxy"));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // `aimux proxy` itself stands in for a LiteLLM/ClawRouter process (an argv array this time).
    let env = TestEnv::new(Some(&format!(
        "{}[proxy]\ncommand = [\"{}\", \"proxy\", \"--port\", \"{port}\"]\nurl = \"http://127.0.0.1:{port}/v1\"\n",
        provider_config(&mock),
        aimux_bin().display()
    )));
    let _guard = StopOnDrop(&env);
    let refused = env.run(&["start", "--detach", "--proxy-port", "0"]);
    assert_eq!(
        refused.status.and_then(|s| s.code()),
        Some(1),
        "{}",
        refused.dump()
    );
    assert!(
        refused.stderr.contains("--proxy-port does not apply"),
        "{}",
        refused.dump()
    );

    let out = env.run(&["start", "--detach", "--bridge-port", "0"]);
    assert!(out.success(), "{}", out.dump());
    assert!(
        out.stderr.contains(&format!(
            "proxy    http://127.0.0.1:{port}/v1   external ([proxy] command)"
        )),
        "{}",
        out.dump()
    );
    let (code, v) = env.status_json();
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["proxy"]["external"], true);
    assert_eq!(port_of(&v, "proxy"), port);
    let proxy_pid = pid_of(&v, "proxy");
    assert!(cmdline(proxy_pid).contains(&format!("proxy --port {port}")));
    let (status, body) = ask(v["bridge"]["base_url"].as_str().unwrap(), "a/m1");
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(output_text(&body), "via the external proxy");

    let stop = env.run(&["stop"]);
    assert!(stop.success(), "{}", stop.dump());
    wait_until(
        Duration::from_secs(5),
        "the external proxy to be gone",
        || (!alive(proxy_pid)).then_some(()),
    );
    assert!(port_free(port));
}

/// The canonical executable of a live pid.
fn exe_of(pid: u32) -> PathBuf {
    fs::canonicalize(format!("/proc/{pid}/exe")).unwrap()
}

#[test]
fn stop_and_status_leave_a_reused_pid_alone() {
    let env = TestEnv::new(None);
    let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    let pid = sleeper.id();
    let aimux = fs::canonicalize(aimux_bin()).unwrap();
    let proc_info =
        |exe: &Path, start_time: u64| json!({"pid": pid, "exe": exe, "start_time": start_time});
    // The supervisor and the proxy "are" the sleeper's pid with aimux's executable; the bridge has
    // the sleeper's own executable but another start time. None of them may be signalled.
    let state = json!({
        "version": 1,
        "status": "running",
        "supervisor": proc_info(&aimux, 1_700_000_000),
        "started_at": 1_700_000_000u64,
        "detached": true,
        "proxy": {"phase": "running", "process": proc_info(&aimux, 1_700_000_000), "port": 1, "url": "http://127.0.0.1:1"},
        "bridge": {"phase": "running", "process": proc_info(&exe_of(pid), 1), "port": 2, "url": "http://127.0.0.1:2"},
    });
    fs::create_dir_all(env.state_path().parent().unwrap()).unwrap();
    fs::write(env.state_path(), state.to_string()).unwrap();

    let (code, v) = env.status_json();
    assert_eq!(code, Some(1), "{v:#}");
    assert_eq!(v["running"], false);
    assert_eq!(v["status"], "stale");
    assert_eq!(v["supervisor"]["alive"], false);
    assert_eq!(v["bridge"]["alive"], false);
    let text = env.run(&["status"]);
    assert!(
        text.stdout.contains("a stale state file remains"),
        "{}",
        text.dump()
    );

    let out = env.run(&["stop"]);
    assert!(out.success(), "{}", out.dump());
    assert!(
        out.stderr.contains(&format!(
            "pid {pid} (recorded as the supervisor) is now `sleep 60`"
        )),
        "{}",
        out.dump()
    );
    assert!(out.stderr.contains("not signalling it"), "{}", out.dump());
    assert!(out.stderr.contains("stale state file"), "{}", out.dump());
    assert!(
        !env.state_path().exists(),
        "the stale state file is removed"
    );
    assert!(
        sleeper.try_wait().unwrap().is_none(),
        "aimux stop signalled an unrelated process"
    );
    assert!(alive(pid));
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

#[test]
fn a_taken_port_names_its_holder() {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let env = TestEnv::new(None);
    let out = env.run(&[
        "start",
        "--bridge-port",
        &port.to_string(),
        "--proxy-port",
        "0",
    ]);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{}", out.dump());
    for want in [
        format!("port {port} for the bridge (127.0.0.1:{port}) is already in use by `"),
        format!("(pid {})", std::process::id()),
        "aimux start --bridge-port".to_owned(),
    ] {
        assert!(
            out.stderr.contains(&want),
            "{want:?} not in\n{}",
            out.dump()
        );
    }
    assert!(!env.state_path().exists());
}

#[test]
fn daemon_install_status_uninstall_with_a_fake_systemctl() {
    let mut env = TestEnv::new(None);
    let bin = env.dir.path().join("fakebin");
    fs::create_dir_all(&bin).unwrap();
    let calls = env.dir.path().join("systemctl.calls");
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> '{}'\ncase \"$2\" in\n  is-active) echo inactive; exit 3;;\n  is-enabled) echo enabled;;\nesac\nexit 0\n",
        calls.display()
    );
    let fake = bin.join("systemctl");
    fs::write(&fake, script).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let config = env.dir.path().join("xdg");
    env.extra = vec![
        ("PATH".into(), format!("{}:/usr/bin:/bin", bin.display())),
        ("XDG_CONFIG_HOME".into(), config.display().to_string()),
        ("AIMUX_TOKEN".into(), "tok-never-in-a-unit".into()),
    ];
    let unit = config.join("systemd/user/aimux.service");

    let out = env.run(&["daemon", "install"]);
    assert!(out.success(), "{}", out.dump());
    let text = fs::read_to_string(&unit).unwrap();
    let aimux = fs::canonicalize(aimux_bin()).unwrap();
    for want in [
        format!("ExecStart=\"{}\" start\n", aimux.display()),
        format!(
            "Environment=\"AIMUX_HOME={}\"\n",
            env.aimux_home().display()
        ),
        "Restart=on-failure\n".to_owned(),
        "WantedBy=default.target\n".to_owned(),
    ] {
        assert!(text.contains(&want), "{want:?} not in\n{text}");
    }
    assert!(
        !text.contains("tok-never-in-a-unit") && !text.contains(KEY_A),
        "{text}"
    );
    let log = fs::read_to_string(&calls).unwrap();
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "--user daemon-reload",
            "--user enable aimux.service",
            "--user is-active aimux.service",
            "--user start aimux.service"
        ],
        "{log}"
    );

    // systemd's own checker, where there is one (it needs the ExecStart binary to exist: it does).
    if let Ok(analyze) = which::which("systemd-analyze") {
        let out = Command::new(analyze)
            .args(["verify", "--man=no"])
            .arg(&unit)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Without a user session it may complain about the environment, never about our unit.
        assert!(
            !stderr.contains("aimux.service:"),
            "systemd-analyze verify flagged the unit:\n{stderr}"
        );
    }

    let out = env.run(&["daemon", "status"]);
    assert!(out.success(), "{}", out.dump());
    for want in [
        "installed: ",
        "aimux.service\n",
        "enabled: enabled",
        "active: inactive",
    ] {
        assert!(out.stdout.contains(want), "{want:?} not in\n{}", out.dump());
    }
    assert!(!out.stdout.contains("differs"), "{}", out.dump());

    // Installing again changes nothing.
    let out = env.run(&["daemon", "install"]);
    assert!(out.success(), "{}", out.dump());
    assert!(out.stderr.contains("already up to date"), "{}", out.dump());

    fs::write(&calls, "").unwrap();
    let out = env.run(&["daemon", "uninstall"]);
    assert!(out.success(), "{}", out.dump());
    assert!(!unit.exists());
    let log = fs::read_to_string(&calls).unwrap();
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        ["--user disable --now aimux.service", "--user daemon-reload"],
        "{log}"
    );
    let out = env.run(&["daemon", "uninstall"]);
    assert!(
        out.success() && out.stderr.contains("not installed"),
        "{}",
        out.dump()
    );

    // Without systemctl: status says so instead of failing.
    let empty = env.dir.path().join("emptybin");
    fs::create_dir_all(&empty).unwrap();
    env.extra[0] = ("PATH".into(), empty.display().to_string());
    let out = env.run(&["daemon", "status"]);
    assert!(out.success(), "{}", out.dump());
    assert!(out.stdout.contains("installed: no"), "{}", out.dump());
    assert!(
        out.stdout
            .contains("systemd: unavailable (systemctl not found)"),
        "{}",
        out.dump()
    );
}
