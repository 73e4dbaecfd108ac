//! `aimux setup`, `gen-catalog`, `desktop`, `websearch` and `env` against the real Codex CLI
//! 0.169.0 and a running link (`aimux proxy` + `aimux bridge` → a [`MockUpstream`] provider).
//!
//! Hermetic: every test has its own `AIMUX_HOME`, `CODEX_HOME`, `HOME` and `TMPDIR`; the base
//! `config.toml` keeps Codex off the network (no update check, analytics or plugin sync).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{
    Bridge, BridgeOptions, CommandOutput, MockUpstream, RecordedRequest, Reply, codex_bin,
    run_with_timeout,
};

const SECRET: &str = "codex-integration-internal-secret";

/// The user's own Codex config: hermetic settings, comments, another provider with headers.
const BASE_CONFIG: &str = "# My Codex config (hand-written).
check_for_update_on_startup = false

[analytics]
enabled = false   # no telemetry

[features]
plugins = false
apps = false

# A provider of my own.
[model_providers.box]
name = \"box\"
base_url = \"http://127.0.0.1:9/v1\"
http_headers = { X-Team = \"infra\" }
";

const PATCH: &str = "*** Begin Patch\n*** Add File: hello.txt\n+hello from aimux\n*** End Patch\n";

/// A link (proxy + bridge over a mock provider) and the homes around it.
struct Link {
    root: tempfile::TempDir,
    proxy: Bridge,
    bridge: Bridge,
    token: Option<String>,
}

impl Link {
    /// `config` is aimux's config.toml; `{mock}` in it is replaced by the mock's base URL.
    fn start(mock: &MockUpstream, config: &str, token: Option<&str>) -> Link {
        let root = tempfile::Builder::new()
            .prefix("aimux-codexint-")
            .tempdir()
            .unwrap();
        for d in ["aimux", "codex-home", "home", "tmp", "work"] {
            fs::create_dir_all(root.path().join(d)).unwrap();
        }
        fs::write(
            root.path().join("aimux/config.toml"),
            config.replace("{mock}", &mock.base_url()),
        )
        .unwrap();
        let envs = vec![
            (
                "AIMUX_HOME".to_owned(),
                root.path().join("aimux").display().to_string(),
            ),
            ("AIMUX_INTERNAL_SECRET".to_owned(), SECRET.to_owned()),
            ("MOCK_KEY".to_owned(), "sk-mock".to_owned()),
        ];
        let proxy = Bridge::spawn_with(BridgeOptions {
            upstream: String::new(),
            args: vec![],
            envs: envs.clone(),
            subcommand: Some("proxy".into()),
        });
        let bridge = Bridge::spawn_with(BridgeOptions {
            upstream: proxy.base_url(),
            args: token.map_or_else(Vec::new, |t| vec!["--token".into(), t.into()]),
            envs,
            subcommand: None,
        });
        let link = Link {
            root,
            proxy,
            bridge,
            token: token.map(str::to_owned),
        };
        fs::write(link.codex_home().join("config.toml"), BASE_CONFIG).unwrap();
        link
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    fn codex_home(&self) -> PathBuf {
        self.path("codex-home")
    }

    fn profile(&self) -> String {
        fs::read_to_string(self.codex_home().join("aimux.config.toml")).unwrap_or_default()
    }

    /// Runs `aimux ARGS` as the user would, pointed at this link.
    fn aimux(&self, args: &[&str]) -> CommandOutput {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_aimux"));
        cmd.args(args);
        hermetic(&mut cmd, self.root.path());
        // `codex` on PATH: setup reads Codex's bundled base prompt from it.
        let codex_dir = codex_bin().parent().unwrap().to_owned();
        let path = format!(
            "{}:{}",
            codex_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env("PATH", path)
            .env("AIMUX_HOME", self.path("aimux"))
            .env("AIMUX_INTERNAL_SECRET", SECRET)
            .env("AIMUX_PROXY_PORT", self.proxy.port.to_string())
            .env("AIMUX_BRIDGE_PORT", self.bridge.port.to_string());
        if let Some(t) = &self.token {
            cmd.env("AIMUX_TOKEN", t);
        }
        run_with_timeout(cmd, Duration::from_secs(60), &self.path("tmp"))
    }

    /// Runs the real `codex ARGS` with this link's CODEX_HOME.
    fn codex(&self, args: &[&str]) -> CommandOutput {
        let mut cmd = Command::new(codex_bin());
        cmd.args(args);
        hermetic(&mut cmd, self.root.path());
        if let Some(t) = &self.token {
            cmd.env("AIMUX_TOKEN", t);
        }
        run_with_timeout(cmd, Duration::from_secs(90), &self.path("tmp"))
    }

    /// `codex exec [-p aimux] --strict-config PROMPT` in the work dir.
    fn exec(&self, profile: Option<&str>, prompt: &str) -> CommandOutput {
        let last = self.path("last-message.txt");
        let (w, l) = (
            self.path("work").display().to_string(),
            last.display().to_string(),
        );
        let mut args = vec!["exec", "--skip-git-repo-check"];
        if let Some(p) = profile {
            args.extend(["-p", p]);
        }
        args.extend([
            "-s",
            "danger-full-access",
            "-C",
            &w,
            "-o",
            &l,
            "--json",
            "--strict-config",
            prompt,
        ]);
        self.codex(&args)
    }

    fn last_message(&self) -> String {
        fs::read_to_string(self.path("last-message.txt")).unwrap_or_default()
    }

    fn explain(&self, out: &CommandOutput, mock: &MockUpstream) -> String {
        format!(
            "{}\n--- profile ---\n{}\n--- upstream requests ---\n{}\n--- bridge ---\n{}\n--- proxy ---\n{}",
            out.dump(),
            self.profile(),
            mock.dump(),
            self.bridge.stderr(),
            self.proxy.stderr()
        )
    }
}

/// No inherited `OPENAI_*` / `CODEX_*` / `AIMUX_*`; private CODEX_HOME, HOME and TMPDIR.
fn hermetic(cmd: &mut Command, root: &Path) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("OPENAI_")
            || k.starts_with("CODEX_")
            || (k.starts_with("AIMUX_") && k != "AIMUX_LOG")
        {
            cmd.env_remove(&k);
        }
    }
    let home = root.join("home");
    cmd.env("CODEX_HOME", root.join("codex-home"))
        .env("HOME", &home)
        .env("TMPDIR", root.join("tmp"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("NO_COLOR", "1")
        .current_dir(root.join("work"));
}

/// One provider `a` (the mock) with a known model, a route and an agent.
const AIMUX_CONFIG: &str = "[providers.a]
base_url = \"{mock}\"
env_key = \"MOCK_KEY\"
models = [{ id = \"m1\", context = 64000, reasoning = true }]

[routes]
fast = \"a/m1\"

[agents.reviewer]
model = \"fast\"
system = \"You review code.\"
";

fn patch_then_text() -> MockUpstream {
    MockUpstream::with_handler(|body| {
        let followup = body["messages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["role"] == "tool"));
        if followup {
            Reply::text("Created hello.txt.")
        } else {
            Reply::tool_calls(&[(
                "call_patch_1",
                "apply_patch",
                &json!({"input": PATCH}).to_string(),
            )])
        }
    })
}

/// `aimux setup`, a re-run that changes nothing, then a real `codex exec -p aimux` turn in which
/// the model uses `apply_patch` (offered only because the catalog says so) and the system prompt
/// is Codex's own, read from the installed CLI.
#[test]
fn setup_then_a_real_codex_turn() {
    let mock = patch_then_text();
    let link = Link::start(&mock, AIMUX_CONFIG, None);

    let out = link.aimux(&["setup", "--model", "a/m1"]);
    assert!(out.success(), "{}", link.explain(&out, &mock));
    assert!(
        out.stdout.is_empty(),
        "setup talks on stderr: {}",
        out.stdout
    );
    assert!(
        out.stderr.ends_with("Try it:\n  codex -p aimux\n"),
        "{}",
        out.stderr
    );
    let ch = link.codex_home().display().to_string();
    let want = format!(
        "# Codex profile for aimux, written by `aimux setup`. Use it with `codex -p aimux`: Codex layers
# this file over config.toml. Re-running `aimux setup` updates only the keys it manages (model,
# model_provider, model_catalog_json, model_instructions_file, web_search and the
# [model_providers.aimux] keys name, base_url, wire_api, env_key, env_key_instructions,
# model_catalog_url) and keeps everything else, comments included.

model = \"a/m1\"
model_provider = \"aimux\"
model_catalog_json = \"{ch}/aimux-catalog.json\"
model_instructions_file = \"{ch}/aimux-instructions.md\"

[model_providers.aimux]
name = \"aimux\"
base_url = \"http://127.0.0.1:{}/v1\"
wire_api = \"responses\"
",
        link.bridge.port
    );
    assert_eq!(link.profile(), want);
    let prompt = fs::read_to_string(link.codex_home().join("aimux-instructions.md")).unwrap();
    assert!(prompt.starts_with("You are Codex"), "{prompt:.200}");

    // The user adds keys and a comment; a re-run keeps them and changes nothing.
    let edited = want.replace(
        "wire_api = \"responses\"\n",
        "wire_api = \"responses\"\n# fail fast in tests\nrequest_max_retries = 0\nstream_max_retries = 0\n",
    );
    fs::write(link.codex_home().join("aimux.config.toml"), &edited).unwrap();
    let again = link.aimux(&["setup"]);
    assert!(again.success(), "{}", again.dump());
    assert!(
        again.stderr.starts_with("aimux setup: nothing to change"),
        "{}",
        again.stderr
    );
    assert_eq!(link.profile(), edited);

    let out = link.exec(Some("aimux"), "Create hello.txt saying hello from aimux.");
    let why = link.explain(&out, &mock);
    assert!(out.success(), "codex exec -p aimux failed\n{why}");
    assert_eq!(
        fs::read_to_string(link.path("work/hello.txt"))
            .ok()
            .as_deref(),
        Some("hello from aimux\n"),
        "{why}"
    );
    assert_eq!(
        link.last_message().trim_end(),
        "Created hello.txt.",
        "{why}"
    );
    assert!(
        !out.stderr.contains("Model metadata for"),
        "Codex found the model in our catalog\n{why}"
    );
    let reqs = mock.chat_requests();
    assert_eq!(reqs.len(), 2, "{why}");
    assert_eq!(
        reqs[0].body["model"], "m1",
        "routed a/m1 → provider a, model m1"
    );
    let system = RecordedRequest::content_text(&reqs[0].messages()[0]);
    let first_line = prompt.lines().next().unwrap_or_default();
    assert!(
        system.starts_with(first_line),
        "the system prompt is Codex's own (model_instructions_file)\n{why}"
    );
}

/// The catalog as the real Codex CLI parses it, and the same bytes from the bridge.
#[test]
fn catalog_is_what_codex_lists_and_what_the_bridge_serves() {
    let mock = MockUpstream::start();
    // The mock's live /models adds ids aimux has no metadata for (hidden extras).
    mock.set_models(json!({"object": "list", "data": [
        {"id": "m1", "object": "model"}, {"id": "live-only", "object": "model"}
    ]}));
    let config = format!(
        "{AIMUX_CONFIG}\n[providers.b]\nbase_url = \"{{mock}}\"\nenv_key = \"MOCK_KEY\"\n\
         models = [{{ id = \"vl\", context = 32000, vision = true }}]\n"
    );
    let link = Link::start(&mock, &config, Some("tok-123"));
    let file = link.path("catalog.json");
    let f = file.display().to_string();

    let out = link.aimux(&["gen-catalog", "--out", &f]);
    assert!(out.success(), "{}", link.explain(&out, &mock));
    assert!(
        out.stderr.contains("from the running proxy"),
        "{}",
        out.stderr
    );
    let text = fs::read_to_string(&file).unwrap();
    let ours: Value = serde_json::from_str(&text).unwrap();
    let slugs = |v: &Value| -> Vec<(String, String)> {
        v["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["slug"].as_str().unwrap().to_owned(),
                    m["visibility"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let want: Vec<(String, String)> = [
        ("fast", "list"),
        ("aimux:reviewer", "list"),
        ("a/m1", "list"),
        ("b/vl", "list"),
        ("a/live-only", "hide"),
        ("b/m1", "hide"),
        ("b/live-only", "hide"),
    ]
    .iter()
    .map(|(s, v)| ((*s).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(slugs(&ours), want);

    // Codex parses it and lists exactly these models, with our metadata.
    let out = link.codex(&[
        "debug",
        "models",
        "-c",
        &format!("model_catalog_json={f:?}"),
    ]);
    assert!(out.success(), "{}", out.dump());
    let listed: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("codex debug models printed no JSON ({e})\n{}", out.dump()));
    let mut got = slugs(&listed);
    let mut expected = want.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "{}", out.stdout);
    let by_slug = |slug: &str| {
        listed["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["slug"] == slug)
            .cloned()
            .unwrap()
    };
    let m1 = by_slug("a/m1");
    assert_eq!(m1["context_window"], 64000);
    assert_eq!(m1["input_modalities"], json!(["text"]));
    assert_eq!(m1["apply_patch_tool_type"], "freeform");
    assert_eq!(
        m1["supported_reasoning_levels"].as_array().unwrap().len(),
        3
    );
    let vl = by_slug("b/vl");
    assert_eq!(vl["input_modalities"], json!(["text", "image"]));
    assert_eq!(vl["supported_reasoning_levels"], json!([]));
    assert_eq!(by_slug("fast")["context_window"], 64000, "a route inherits");

    // The bridge serves the same bytes (with its token).
    let served = http_get(
        &format!(
            "{}/v1/aimux/catalog?client_version=0.169.0",
            link.bridge.url
        ),
        Some("tok-123"),
    );
    assert_eq!(served.0, 200);
    assert_eq!(served.1, text, "bridge catalog == gen-catalog file");
    assert_eq!(
        http_get(&format!("{}/v1/aimux/catalog", link.bridge.url), None).0,
        401
    );

    // --check: 0 when current, 1 when the file differs.
    let out = link.aimux(&["gen-catalog", "--check", "--out", &f]);
    assert!(out.success(), "{}", out.dump());
    fs::write(&file, text.replace("64000", "1")).unwrap();
    let out = link.aimux(&["gen-catalog", "--check", "--out", &f]);
    assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{}", out.dump());
    assert!(out.stderr.contains("differs"), "{}", out.stderr);
}

/// A GET from a plain `#[test]`: (status, body).
fn http_get(url: &str, token: Option<&str>) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new().get(url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    })
}

/// `setup --catalog url`: Codex fetches the catalog from the bridge instead of a file.
#[test]
fn catalog_url_profile() {
    let mock = MockUpstream::with_replies([Reply::text("hi from the url catalog")]);
    let link = Link::start(&mock, AIMUX_CONFIG, Some("tok-url"));
    let out = link.aimux(&["setup", "--catalog", "url", "--model", "fast"]);
    assert!(out.success(), "{}", out.dump());
    let profile = link.profile();
    assert!(!profile.contains("\nmodel_catalog_json"), "{profile}");
    assert!(
        profile.ends_with(&format!(
            "wire_api = \"responses\"\nmodel_catalog_url = \"http://127.0.0.1:{}/v1/aimux/catalog\"\n\
             env_key = \"AIMUX_TOKEN\"\nenv_key_instructions = \"{}\"\n",
            link.bridge.port,
            aimux::codex_config::profile::TOKEN_HINT
        )),
        "{profile}"
    );
    let out = link.exec(Some("aimux"), "Say hi.");
    let why = link.explain(&out, &mock);
    assert!(out.success(), "{why}");
    assert_eq!(
        link.last_message().trim_end(),
        "hi from the url catalog",
        "{why}"
    );
    assert!(!out.stderr.contains("Model metadata for"), "{why}");
    let cache = fs::read_to_string(link.codex_home().join("models_cache.json")).unwrap_or_default();
    assert!(
        cache.contains("\"aimux:reviewer\""),
        "Codex cached the bridge's catalog\n{cache:.300}\n{why}"
    );
    // A re-run without --catalog keeps the URL mode.
    let again = link.aimux(&["setup"]);
    assert!(
        again.stderr.starts_with("aimux setup: nothing to change"),
        "{}",
        again.stderr
    );
}

/// `desktop on` switches the base config (a real `codex exec` without `-p` then goes through
/// the bridge, with the token in http_headers); `off` gives back the identical bytes.
#[test]
fn desktop_on_then_off_round_trip_with_a_real_turn() {
    let mock = MockUpstream::with_replies([Reply::text("desktop mode works")]);
    let link = Link::start(&mock, AIMUX_CONFIG, Some("tok-desk"));
    let config = link.codex_home().join("config.toml");

    let status = link.aimux(&["desktop", "status"]);
    assert_eq!(status.stdout, "off\n", "{}", status.dump());
    let on = link.aimux(&["desktop", "on"]);
    assert!(on.success(), "{}", link.explain(&on, &mock));
    assert!(on.stderr.contains("Restart Codex Desktop"), "{}", on.stderr);
    let switched = fs::read_to_string(&config).unwrap();
    let ch = link.codex_home().display().to_string();
    assert_eq!(
        switched,
        BASE_CONFIG
            .replace(
                "check_for_update_on_startup = false\n",
                &format!(
                    "check_for_update_on_startup = false\nmodel = \"fast\"\nmodel_provider = \"aimux\"\n\
                     model_catalog_json = \"{ch}/aimux-catalog.json\"\n\
                     model_instructions_file = \"{ch}/aimux-instructions.md\"\n"
                )
            )
            + &format!(
                "\n[model_providers.aimux]\nname = \"aimux\"\nbase_url = \"http://127.0.0.1:{}/v1\"\n\
                 wire_api = \"responses\"\n\n[model_providers.aimux.http_headers]\n\
                 Authorization = \"Bearer tok-desk\"\n",
                link.bridge.port
            )
    );
    let again = link.aimux(&["desktop", "on"]);
    assert!(again.stderr.contains("already on"), "{}", again.stderr);
    assert_eq!(fs::read_to_string(&config).unwrap(), switched);
    assert_eq!(link.aimux(&["desktop", "status"]).stdout, "on\n");

    let out = link.exec(None, "Say it works.");
    let why = link.explain(&out, &mock);
    assert!(out.success(), "codex exec on the base config\n{why}");
    assert_eq!(
        link.last_message().trim_end(),
        "desktop mode works",
        "{why}"
    );

    let off = link.aimux(&["desktop", "off"]);
    assert!(off.success(), "{}", off.dump());
    assert_eq!(
        fs::read_to_string(&config).unwrap(),
        BASE_CONFIG,
        "identical bytes"
    );
    assert_eq!(link.aimux(&["desktop", "status"]).stdout, "off\n");
    let backups = fs::read_dir(link.path("aimux/backups")).unwrap().count();
    assert_eq!(backups, 2, "one timestamped backup per change");
}

/// websearch on/off edits both configs in place; setup warns about legacy profiles; env prints
/// the exports.
#[test]
fn websearch_env_and_legacy_warnings() {
    let mock = MockUpstream::start();
    let link = Link::start(&mock, &format!("# mine\n{AIMUX_CONFIG}"), None);
    fs::write(
        link.codex_home().join("config.toml"),
        format!("{BASE_CONFIG}\n[profiles.aimux]\nmodel = \"old\"\n"),
    )
    .unwrap();
    let out = link.aimux(&["setup"]);
    assert!(out.success(), "{}", out.dump());
    assert!(
        out.stderr.contains("legacy [profiles.aimux] table"),
        "{}",
        out.stderr
    );

    let on = link.aimux(&["websearch", "on"]);
    assert!(on.success(), "{}", on.dump());
    let aimux_config = fs::read_to_string(link.path("aimux/config.toml")).unwrap();
    assert!(
        aimux_config.starts_with("# mine\n")
            && aimux_config.ends_with("\n[websearch]\nenabled = true\n"),
        "{aimux_config}"
    );
    assert!(link.profile().contains("\nweb_search = \"live\"\n"));
    assert_eq!(link.aimux(&["websearch", "status"]).stdout, "on\n");
    assert!(
        link.aimux(&["websearch", "on"])
            .stderr
            .contains("already on")
    );
    let off = link.aimux(&["websearch", "off"]);
    assert!(off.success());
    assert!(link.profile().contains("\nweb_search = \"disabled\"\n"));
    assert_eq!(link.aimux(&["websearch", "status"]).stdout, "off\n");
    // setup keeps following the switch.
    assert!(link.aimux(&["setup"]).success());
    assert!(link.profile().contains("\nweb_search = \"disabled\"\n"));

    let env = link.aimux(&["env", "--shell", "bash"]);
    assert_eq!(
        env.stdout,
        format!(
            "export OPENAI_BASE_URL=http://127.0.0.1:{}/v1\nexport OPENAI_API_KEY=aimux\n",
            link.bridge.port
        )
    );
}

/// The README's `aimux env` snippet, run as written: `eval "$(aimux env)"`, then the official
/// `openai` Python package (Responses API) and curl (Chat Completions) through the bridge, with
/// the bridge token as the key.
#[test]
fn env_exports_drive_the_openai_sdk_and_curl() {
    let mock = MockUpstream::with_replies([
        Reply::text("hi from the sdk"),
        Reply::completion("hi from curl"),
    ]);
    let link = Link::start(&mock, AIMUX_CONFIG, Some("tok-env"));
    let python = crate::common::venv_python();
    let script = format!(
        r#"set -e
eval "$("{aimux}" env)"
"{python}" - <<'EOF'
from openai import OpenAI
client = OpenAI()  # reads OPENAI_BASE_URL and OPENAI_API_KEY
r = client.responses.create(model="a/m1", input="Say hi")
print(r.output_text)
EOF
curl -sf "$OPENAI_BASE_URL/chat/completions" -H "Authorization: Bearer $OPENAI_API_KEY" \
  -H 'Content-Type: application/json' \
  -d '{{"model": "a/m1", "messages": [{{"role": "user", "content": "Say hi"}}]}}'
"#,
        aimux = env!("CARGO_BIN_EXE_aimux"),
        python = python.display()
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(&script);
    hermetic(&mut cmd, link.root.path());
    cmd.env("AIMUX_HOME", link.path("aimux"))
        .env("AIMUX_BRIDGE_PORT", link.bridge.port.to_string())
        .env("AIMUX_TOKEN", "tok-env");
    let out = run_with_timeout(cmd, Duration::from_secs(60), &link.path("tmp"));
    let why = link.explain(&out, &mock);
    assert!(out.success(), "{why}");
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("hi from the sdk"), "{why}");
    let chat: Value = serde_json::from_str(lines.next().unwrap_or_default()).unwrap();
    assert_eq!(
        chat["choices"][0]["message"]["content"], "hi from curl",
        "{why}"
    );
    assert_eq!(mock.chat_request_count(), 2, "{why}");
}
