//! `aimux up` and `aimux doctor` as a user runs them: the real binary, the real Codex CLI 0.169,
//! a mock provider on loopback, temp `AIMUX_HOME` / `CODEX_HOME` / `HOME` / `TMPDIR`.
//!
//! * `up` twice (the second run changes nothing and says so), a real `codex exec -p aimux` turn,
//!   then doctor's exact human output on that healthy link (ports, pids and latencies masked) and
//!   its `--json` schema.
//! * doctor's verdicts on a link started by hand, broken one way at a time: a missing provider
//!   key, a group-readable credentials file, a wrong port in the profile, a bridge port held by
//!   another program, a stopped bridge.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::bridge::aimux_bin;
use crate::common::{
    Bridge, BridgeOptions, CommandOutput, MockUpstream, Reply, codex_bin, run_with_timeout,
};

const KEY: &str = "sk-doctor-test-key-0000";
const FILE_KEY: &str = "sk-doctor-file-key-1111";

/// The user's Codex config: keeps Codex off the network (no update check, analytics, plugins).
const BASE_CONFIG: &str = "check_for_update_on_startup = false

[analytics]
enabled = false

[features]
plugins = false
apps = false
";

/// aimux's config: one provider `a` (the mock) with one known model.
fn aimux_config(mock: &MockUpstream) -> String {
    format!(
        "[providers.a]\nbase_url = \"{}\"\nenv_key = \"MOCK_KEY\"\n\
         models = [{{ id = \"m1\", context = 64000 }}]\n",
        mock.base_url()
    )
}

fn pong() -> MockUpstream {
    let mock = MockUpstream::with_handler(|_| Reply::text("pong"));
    mock.set_models(json!({"object": "list", "data": [{"id": "m1", "object": "model"}]}));
    mock
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The homes of one test: `aimux/`, `codex-home/`, `home/`, `tmp/`, `work/` under a temp root.
struct Homes {
    root: tempfile::TempDir,
    /// Variables every command gets (ports, keys); removed ones by name with `unset`.
    vars: Vec<(String, String)>,
    unset: Vec<String>,
}

impl Homes {
    fn new(config: &str) -> Homes {
        let root = tempfile::Builder::new()
            .prefix("aimux-doctor-")
            .tempdir()
            .unwrap();
        for d in ["aimux", "codex-home", "home", "tmp", "work"] {
            fs::create_dir_all(root.path().join(d)).unwrap();
        }
        fs::write(root.path().join("aimux/config.toml"), config).unwrap();
        fs::write(root.path().join("codex-home/config.toml"), BASE_CONFIG).unwrap();
        Homes {
            root,
            vars: vec![("MOCK_KEY".into(), KEY.into())],
            unset: Vec::new(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    fn set(&mut self, k: &str, v: &str) {
        self.vars.retain(|(name, _)| name != k);
        self.vars.push((k.into(), v.into()));
    }

    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("OPENAI_")
                || k.starts_with("CODEX_")
                || k.starts_with("AIMUX_")
                || k.ends_with("_API_KEY")
            {
                cmd.env_remove(&k);
            }
        }
        let home = self.path("home");
        let codex_dir = codex_bin().parent().unwrap().to_owned();
        let path = format!(
            "{}:{}",
            codex_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env("PATH", path)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("TMPDIR", self.path("tmp"))
            .env("NO_COLOR", "1")
            .env("AIMUX_HOME", self.path("aimux"))
            .env("CODEX_HOME", self.path("codex-home"))
            .current_dir(self.path("work"));
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        for k in &self.unset {
            cmd.env_remove(k);
        }
        cmd
    }

    fn aimux(&self, args: &[&str]) -> CommandOutput {
        run_with_timeout(
            self.command(&aimux_bin(), args),
            Duration::from_secs(90),
            &self.path("tmp"),
        )
    }

    /// `aimux doctor --json`: (exit code, report).
    fn doctor_json(&self) -> (Option<i32>, Value) {
        let out = self.aimux(&["doctor", "--json"]);
        assert!(
            !out.stdout.contains(KEY) && !out.stdout.contains(FILE_KEY),
            "doctor printed a key:\n{}",
            out.stdout
        );
        let v = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("doctor --json is not JSON ({e})\n{}", out.dump()));
        (out.status.and_then(|s| s.code()), v)
    }

    /// `codex exec -p aimux PROMPT` in the work dir: the last message.
    fn codex_exec(&self, prompt: &str) -> (CommandOutput, String) {
        let last = self.path("last-message.txt");
        let (w, l) = (
            self.path("work").display().to_string(),
            last.display().to_string(),
        );
        let args = [
            "exec",
            "--skip-git-repo-check",
            "-p",
            "aimux",
            "-s",
            "danger-full-access",
            "-C",
            &w,
            "-o",
            &l,
            "--json",
            "--strict-config",
            prompt,
        ];
        let out = run_with_timeout(
            self.command(&codex_bin(), &args),
            Duration::from_secs(90),
            &self.path("tmp"),
        );
        (out, fs::read_to_string(&last).unwrap_or_default())
    }

    fn profile_path(&self) -> PathBuf {
        self.path("codex-home/aimux.config.toml")
    }
}

/// The row `id` of a `--json` report.
fn row<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == id))
        .unwrap_or_else(|| panic!("no row {id} in {report:#}"))
}

/// Asserts a row's status and that its summary (and hint) contain the given texts.
fn expect(report: &Value, id: &str, status: &str, summary: &[&str], hint: &[&str]) {
    let r = row(report, id);
    assert_eq!(r["status"], status, "{id}: {r:#}");
    let s = r["summary"].as_str().unwrap_or_default();
    for want in summary {
        assert!(s.contains(want), "{id}: {want:?} not in summary {s:?}");
    }
    let h = r["hint"].as_str().unwrap_or_default();
    for want in hint {
        assert!(h.contains(want), "{id}: {want:?} not in hint {h:?}");
    }
}

/// Every row but these is `ok`.
fn only_problems(report: &Value, ids: &[&str]) {
    for r in report["checks"].as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        if !ids.contains(&id) {
            assert_eq!(r["status"], "ok", "{id} should be ok: {r:#}");
        }
    }
}

/// Replaces each run of digits right after `before` with `mask`.
fn mask_after(text: &str, before: &str, mask: &str) -> String {
    let mut pieces = text.split(before);
    let mut out = pieces.next().unwrap_or("").to_owned();
    for piece in pieces {
        out.push_str(before);
        let rest = piece.trim_start_matches(|c: char| c.is_ascii_digit());
        if rest.len() != piece.len() {
            out.push_str(mask);
        }
        out.push_str(rest);
    }
    out
}

/// Replaces each run of digits right before `after` with `mask`.
fn mask_before(text: &str, after: &str, mask: &str) -> String {
    let pieces: Vec<&str> = text.split(after).collect();
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        if i + 1 == pieces.len() {
            out.push_str(piece);
            break;
        }
        let kept = piece.trim_end_matches(|c: char| c.is_ascii_digit());
        out.push_str(kept);
        if kept.len() != piece.len() {
            out.push_str(mask);
        }
        out.push_str(after);
    }
    out
}

/// `aimux up`, again (nothing changes, and it says so), a real `codex exec -p aimux` turn, then
/// doctor on the healthy link: exact text, and the JSON schema.
#[cfg(unix)]
#[test]
fn up_twice_then_codex_works_and_doctor_is_all_green() {
    let mock = pong();
    let mut homes = Homes::new(&aimux_config(&mock));
    let (bridge_port, proxy_port) = (free_port(), free_port());
    homes.set("AIMUX_BRIDGE_PORT", &bridge_port.to_string());
    homes.set("AIMUX_PROXY_PORT", &proxy_port.to_string());
    struct StopOnDrop<'a>(&'a Homes);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            let _ = self.0.aimux(&["stop", "--timeout", "5"]);
        }
    }
    let _stop = StopOnDrop(&homes);

    let first = homes.aimux(&["up"]);
    assert!(first.success(), "{}", first.dump());
    assert!(
        first.stdout.is_empty(),
        "up talks on stderr: {}",
        first.dump()
    );
    for want in [
        "aimux up: started the link in the background (supervisor pid ",
        &format!("bridge http://127.0.0.1:{bridge_port}/v1\n"),
        "aimux setup: wrote ",
        "model: a/m1 ",
        "\n14 ok · 0 warn · 0 fail\n",
        "aimux up: ready.\n",
    ] {
        assert!(
            first.stderr.contains(want),
            "{want:?} not in\n{}",
            first.stderr
        );
    }
    assert!(
        first.stderr.ends_with("Use it:\n  codex -p aimux\n"),
        "{}",
        first.stderr
    );
    assert_eq!(
        first.stderr.matches("codex -p aimux").count(),
        1,
        "{}",
        first.stderr
    );
    let profile = fs::read_to_string(homes.profile_path()).unwrap();

    let second = homes.aimux(&["up"]);
    assert!(second.success(), "{}", second.dump());
    for want in [
        "aimux up: the link is already running (supervisor pid ",
        "aimux setup: nothing to change",
        "aimux up: nothing changed: the link was already running and the Codex profile and \
         catalog were up to date.\nUse it:\n  codex -p aimux\n",
    ] {
        assert!(
            second.stderr.contains(want),
            "{want:?} not in\n{}",
            second.stderr
        );
    }
    assert_eq!(fs::read_to_string(homes.profile_path()).unwrap(), profile);

    let (out, last) = homes.codex_exec("Say pong.");
    assert!(out.success(), "codex exec -p aimux failed\n{}", out.dump());
    assert_eq!(last.trim(), "pong", "{}", out.dump());

    let doctor = homes.aimux(&["doctor"]);
    assert!(doctor.success(), "{}", doctor.dump());
    let root = homes.root.path().display().to_string();
    let codex = codex_bin().display().to_string();
    let mock_port = mock
        .base_url()
        .rsplit(':')
        .next()
        .unwrap_or("")
        .trim_end_matches("/v1")
        .to_owned();
    let mut text = doctor
        .stdout
        .replace(&codex, "<codex>")
        .replace(&root, "<root>")
        .replace(&format!(":{bridge_port}/"), ":<bridge>/")
        .replace(&format!(":{proxy_port}/"), ":<proxy>/")
        .replace(&format!(":{mock_port}/"), ":<mock>/");
    text = mask_after(&text, "pid ", "<pid>");
    text = mask_before(&text, " ms", "<n>");
    assert_eq!(
        text,
        "Codex
  ✓ codex        codex-cli 0.169.0 (<codex>)
  ✓ CODEX_HOME   <root>/codex-home is writable
  ✓ config.toml  <root>/codex-home/config.toml parses; no legacy profiles
  ✓ profile      <root>/codex-home/aimux.config.toml: model a/m1 at http://127.0.0.1:<bridge>/v1
  ✓ catalog      <root>/codex-home/aimux-catalog.json: 1 model, all routable
  ✓ desktop      off (Codex Desktop uses your own config)

aimux
  ✓ config       <root>/aimux/config.toml parses (1 provider configured)
  ✓ credentials  no <root>/aimux/credentials.toml: keys come from the environment
  ✓ websearch    off

Link
  ✓ bridge       http://127.0.0.1:<bridge>/v1 (pid <pid>)
  ✓ proxy        http://127.0.0.1:<proxy>/v1 (pid <pid>): providers a; 1 model through the bridge
  ✓ round trip   a/m1 answered \"pong\" in <n> ms (first token <n> ms)

Providers
  ✓ a            key from MOCK_KEY; http://127.0.0.1:<mock>/v1 answers (HTTP 200)
  ✓ codex        off ([providers] in aimux's config does not list codex)

14 ok · 0 warn · 0 fail
",
        "\n--- raw ---\n{}",
        doctor.stdout
    );
    assert!(!doctor.stdout.contains(KEY));

    // --json: a stable schema, the same rows.
    let (code, report) = homes.doctor_json();
    assert_eq!(code, Some(0), "{report:#}");
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&report),
        [
            "aimux_version",
            "checks",
            "counts",
            "offline",
            "schema_version",
            "status"
        ]
    );
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["status"], "ok");
    assert_eq!(report["offline"], false);
    assert_eq!(report["counts"], json!({"ok": 14, "warn": 0, "fail": 0}));
    let ids: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(
                keys(r),
                ["details", "hint", "id", "status", "summary"],
                "{r:#}"
            );
            assert!(r["details"].is_array() && r["summary"].is_string(), "{r:#}");
            r["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        ids,
        [
            "codex.cli",
            "codex.home",
            "codex.config",
            "codex.profile",
            "codex.catalog",
            "codex.desktop",
            "aimux.config",
            "aimux.credentials",
            "aimux.websearch",
            "link.bridge",
            "link.proxy",
            "link.roundtrip",
            "provider.a",
            "provider.codex",
        ]
    );

    // --offline: no round trip, nothing leaves the machine.
    let offline = homes.aimux(&["doctor", "--json", "--offline"]);
    assert!(offline.success(), "{}", offline.dump());
    let v: Value = serde_json::from_str(&offline.stdout).unwrap();
    assert_eq!(v["offline"], true);
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != "link.roundtrip")
    );
}

/// A link started by hand (proxy + bridge over the mock), then broken one way at a time.
#[cfg(unix)]
#[test]
fn doctor_verdicts_on_broken_links() {
    let mock = pong();
    let mut homes = Homes::new(&aimux_config(&mock));
    let envs = vec![
        (
            "AIMUX_HOME".to_owned(),
            homes.path("aimux").display().to_string(),
        ),
        (
            "AIMUX_INTERNAL_SECRET".to_owned(),
            "doctor-test-secret".to_owned(),
        ),
        ("MOCK_KEY".to_owned(), KEY.to_owned()),
    ];
    let proxy = Bridge::spawn_with(BridgeOptions {
        envs: envs.clone(),
        subcommand: Some("proxy".into()),
        ..BridgeOptions::default()
    });
    let mut bridge = Bridge::spawn_with(BridgeOptions {
        upstream: proxy.base_url(),
        envs,
        ..BridgeOptions::default()
    });
    homes.set("AIMUX_BRIDGE_PORT", &bridge.port.to_string());
    homes.set("AIMUX_PROXY_PORT", &proxy.port.to_string());
    let setup = homes.aimux(&["setup"]);
    assert!(setup.success(), "{}", setup.dump());

    // Healthy, without `aimux start`: pids come from who holds the ports.
    let (code, report) = homes.doctor_json();
    assert_eq!(code, Some(0), "{report:#}");
    only_problems(&report, &[]);
    expect(
        &report,
        "link.bridge",
        "ok",
        &[&format!("pid {}", bridge.pid)],
        &[],
    );
    expect(
        &report,
        "link.roundtrip",
        "ok",
        &["a/m1 answered \"pong\" in "],
        &[],
    );

    // A missing provider key: named, with where it would come from.
    homes.unset.push("MOCK_KEY".into());
    let (code, report) = homes.doctor_json();
    assert_eq!(code, Some(1), "{report:#}");
    expect(
        &report,
        "provider.a",
        "fail",
        &["no API key: MOCK_KEY is not set and credentials.toml has no [a]"],
        &["export MOCK_KEY=", "credentials.toml"],
    );
    only_problems(&report, &["provider.a"]);
    homes.unset.clear();

    // A key that cannot be sent (a stray line break): said so, the key not shown.
    homes.set("MOCK_KEY", "sk-broken\nkey");
    let (code, report) = homes.doctor_json();
    assert_eq!(code, Some(1), "{report:#}");
    expect(
        &report,
        "provider.a",
        "fail",
        &["provider a's API key is not a valid header value"],
        &["correct it, then "],
    );
    assert!(!report.to_string().contains("sk-broken"), "{report:#}");
    only_problems(&report, &["provider.a"]);
    homes.set("MOCK_KEY", KEY);

    // A credentials file others can read: the proxy would refuse it.
    let creds = homes.path("aimux/credentials.toml");
    fs::write(&creds, format!("[a]\napi_key = \"{FILE_KEY}\"\n")).unwrap();
    set_mode(&creds, 0o640);
    let (code, report) = homes.doctor_json();
    assert_eq!(code, Some(1), "{report:#}");
    expect(
        &report,
        "aimux.credentials",
        "fail",
        &["credentials.toml is readable by other users (mode 640)"],
        &[&format!("chmod 600 {}", creds.display())],
    );
    only_problems(&report, &["aimux.credentials"]);
    set_mode(&creds, 0o600);
    let (_, report) = homes.doctor_json();
    expect(
        &report,
        "aimux.credentials",
        "ok",
        &["(mode 600): keys for a"],
        &[],
    );
    fs::remove_file(&creds).unwrap();

    // The profile points at the wrong port.
    let profile = fs::read_to_string(homes.profile_path()).unwrap();
    let elsewhere = free_port();
    fs::write(
        homes.profile_path(),
        profile.replace(
            &format!("127.0.0.1:{}/v1", bridge.port),
            &format!("127.0.0.1:{elsewhere}/v1"),
        ),
    )
    .unwrap();
    let out = homes.aimux(&["doctor"]);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{}", out.dump());
    let want = format!(
        "  ✗ profile      the profile's base_url http://127.0.0.1:{elsewhere}/v1 does not reach \
         the bridge, which listens on 127.0.0.1:{}\n                 hint: run `aimux setup` (or \
         `aimux up`)\n",
        bridge.port
    );
    assert!(out.stdout.contains(&want), "{want}\nnot in\n{}", out.stdout);
    assert!(
        out.stdout.ends_with("13 ok · 0 warn · 1 fail\n"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr, "error: 1 check failed\n");
    fs::write(homes.profile_path(), &profile).unwrap();

    // The bridge's port is held by another program (the mock): named, with its pid.
    let mock_port: u16 = mock
        .base_url()
        .trim_end_matches("/v1")
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap();
    homes.set("AIMUX_BRIDGE_PORT", &mock_port.to_string());
    let (code, report) = homes.doctor_json();
    assert_eq!(code, Some(1), "{report:#}");
    #[cfg(target_os = "linux")]
    expect(
        &report,
        "link.bridge",
        "fail",
        &[
            &format!(
                "127.0.0.1:{mock_port} answers, but not as an aimux bridge: the port is held by `"
            ),
            &format!("(pid {})", std::process::id()),
        ],
        &["stop that program, or give aimux's bridge another port"],
    );
    homes.set("AIMUX_BRIDGE_PORT", &bridge.port.to_string());

    // A stopped bridge: the bridge row says so, the round trip cannot run, the proxy is fine.
    bridge.kill();
    let (code, report) = homes.doctor_json();
    assert_eq!(code, Some(1), "{report:#}");
    expect(
        &report,
        "link.bridge",
        "fail",
        &[&format!(
            "nothing answers at 127.0.0.1:{} (connection refused)",
            bridge.port
        )],
        &["aimux up"],
    );
    expect(
        &report,
        "link.roundtrip",
        "fail",
        &["the bridge is not answering"],
        &[],
    );
    expect(
        &report,
        "link.proxy",
        "ok",
        &["providers a; not reached through the bridge (it is down)"],
        &[],
    );
    expect(
        &report,
        "codex.catalog",
        "ok",
        &["routability not checked: the link is not answering"],
        &[],
    );
    only_problems(&report, &["link.bridge", "link.roundtrip"]);
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}
