//! [`CodexHome`]: a throwaway Codex CLI setup pointed at an `aimux bridge`, and
//! [`CodexHome::run_exec`] to drive `codex exec --json`.
//!
//! Layout of the private temp dir (root):
//! * `codex-home/`: `CODEX_HOME`, holding `<profile>.config.toml` and `catalog.json`;
//! * `home/`: `HOME`;
//! * `tmp/`: `TMPDIR` (deliberately not inside `codex-home/`, or Codex refuses to create its
//!   helper binaries);
//! * `work/`: the workdir (`-C`), where the mock upstream's commands write files;
//! * `last-message.txt`: the `-o` file.
//!
//! The profile is hermetic: `check_for_update_on_startup = false`, `[analytics] enabled =
//! false` and `[features] plugins = false, apps = false` (with plugins on, Codex runs
//! `git ls-remote https://github.com/openai/plugins.git` at startup). `run_exec` passes
//! `--strict-config`, so a key Codex does not know fails the run instead of being ignored.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use serde_json::{Value, json};

use super::process::run_with_timeout;
use super::tools::codex_bin;

/// The model slug written to the profile and the catalog.
pub const TEST_MODEL: &str = "test-model";

/// The catalog's `base_instructions`; Codex sends it as the first `developer` message, so the
/// upstream should see it inside the single leading `system` message.
pub const BASE_INSTRUCTIONS: &str = "You are the aimux end-to-end test agent. BASE-INSTRUCTIONS-MARKER-5f1c. Follow the user's request.";

/// What goes into the profile file and the catalog.
#[derive(Debug, Clone)]
pub struct CodexConfig {
    /// Profile name (`-p`); the file is `<profile>.config.toml`.
    pub profile: String,
    pub model: String,
    pub request_max_retries: u32,
    pub stream_max_retries: u32,
    pub stream_idle_timeout_ms: u64,
    /// Written as `experimental_bearer_token` (for a bridge started with `--token`).
    pub bearer_token: Option<String>,
    /// `[features]` flags. Default: `plugins = false`, `apps = false` (no plugin-marketplace
    /// sync over the network).
    pub features: BTreeMap<String, bool>,
    /// Appended verbatim to the end of the profile file, after the `[model_providers.aimux]`,
    /// `[analytics]` and `[features]` tables (so use table syntax, and not those tables).
    pub extra_toml: String,
    /// Merged (shallowly) into the catalog's model entry.
    pub catalog_overrides: Value,
}

impl Default for CodexConfig {
    fn default() -> Self {
        CodexConfig {
            profile: "aimuxtest".to_string(),
            model: TEST_MODEL.to_string(),
            request_max_retries: 0,
            stream_max_retries: 0,
            stream_idle_timeout_ms: 20_000,
            bearer_token: None,
            features: BTreeMap::from([("apps".to_string(), false), ("plugins".to_string(), false)]),
            extra_toml: String::new(),
            catalog_overrides: json!({}),
        }
    }
}

/// Options for one `codex exec` run.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Killed after this long (`ExecOutput::timed_out`).
    pub timeout: Duration,
    /// Extra `codex exec` options, inserted before the prompt.
    pub extra_args: Vec<String>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            timeout: Duration::from_secs(90),
            extra_args: Vec::new(),
        }
    }
}

/// The result of [`CodexHome::run_exec`].
#[derive(Debug)]
pub struct ExecOutput {
    /// `None` if it was killed on timeout.
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    /// JSONL events (`--json`).
    pub stdout: String,
    pub stderr: String,
    /// Content of the `-o` file, if Codex wrote it.
    pub last_message: Option<String>,
    pub elapsed: Duration,
}

impl ExecOutput {
    /// Exited by itself with status 0.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// Every stdout line that parses as JSON.
    pub fn events(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l.trim()).ok())
            .collect()
    }

    /// The `item` of every `item.completed` event whose item type is `item_type`
    /// (`agent_message`, `reasoning`, `command_execution`, `file_change`, ...).
    pub fn completed_items(&self, item_type: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["type"] == "item.completed" && e["item"]["type"] == item_type)
            .map(|e| e["item"].clone())
            .collect()
    }

    /// stdout + stderr, for "does the output mention X" checks.
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Everything, for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "codex exec: status {:?}, timed out {}, {:?}\n--- last message ---\n{:?}\n--- stdout (JSONL) ---\n{}\n--- stderr ---\n{}",
            self.status, self.timed_out, self.elapsed, self.last_message, self.stdout, self.stderr
        )
    }

    /// Panic with [`ExecOutput::dump`] unless the run succeeded.
    pub fn assert_success(&self) {
        assert!(self.success(), "codex exec failed\n{}", self.dump());
    }
}

/// A temp `CODEX_HOME` (plus HOME, TMPDIR and workdir) configured for one bridge.
pub struct CodexHome {
    root: tempfile::TempDir,
    pub config: CodexConfig,
    /// The bridge URL (`http://127.0.0.1:PORT`, no `/v1`).
    pub bridge_url: String,
}

/// Quote a string as a TOML basic string (JSON string escapes are valid TOML escapes).
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).expect("string to json")
}

impl CodexHome {
    /// Default config against the bridge at `bridge_url` (`http://127.0.0.1:PORT`).
    pub fn new(bridge_url: &str) -> CodexHome {
        Self::with_config(bridge_url, CodexConfig::default())
    }

    /// Custom config against the bridge at `bridge_url`.
    pub fn with_config(bridge_url: &str, config: CodexConfig) -> CodexHome {
        let root = tempfile::Builder::new()
            .prefix("aimux-codex-")
            .tempdir()
            .expect("codex temp root");
        let home = CodexHome {
            root,
            config,
            bridge_url: bridge_url.trim_end_matches('/').to_string(),
        };
        for d in [home.codex_home(), home.home(), home.tmp(), home.workdir()] {
            fs::create_dir_all(&d).expect("create codex test dir");
        }
        home.write_files();
        home
    }

    /// `CODEX_HOME`.
    pub fn codex_home(&self) -> PathBuf {
        self.root.path().join("codex-home")
    }
    /// `HOME` for the codex process.
    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }
    /// `TMPDIR` for the codex process (outside `CODEX_HOME`).
    pub fn tmp(&self) -> PathBuf {
        self.root.path().join("tmp")
    }
    /// The `-C` working directory.
    pub fn workdir(&self) -> PathBuf {
        self.root.path().join("work")
    }
    /// The catalog file (`model_catalog_json`).
    pub fn catalog_path(&self) -> PathBuf {
        self.codex_home().join("catalog.json")
    }
    /// The profile file.
    pub fn profile_path(&self) -> PathBuf {
        self.codex_home()
            .join(format!("{}.config.toml", self.config.profile))
    }
    fn last_message_path(&self) -> PathBuf {
        self.root.path().join("last-message.txt")
    }

    /// The catalog model entry (the contract's "Recommended bridge entry" + overrides).
    pub fn catalog_entry(&self) -> Value {
        let mut entry = json!({
            "slug": self.config.model,
            "display_name": "Test Model (aimux bridge)",
            "description": "Routed through aimux bridge to a mock upstream",
            "default_reasoning_level": "medium",
            "supported_reasoning_levels": [
                {"effort": "low", "description": "Fast"},
                {"effort": "medium", "description": "Balanced"},
                {"effort": "high", "description": "Deep"}
            ],
            "shell_type": "shell_command",
            "visibility": "list",
            "supported_in_api": true,
            "priority": 1,
            "base_instructions": BASE_INSTRUCTIONS,
            "support_verbosity": true,
            "default_verbosity": "low",
            "apply_patch_tool_type": "freeform",
            "truncation_policy": {"mode": "tokens", "limit": 10000},
            "context_window": 128000,
            "experimental_supported_tools": [],
            "input_modalities": ["text", "image"]
        });
        if let (Some(e), Some(o)) = (
            entry.as_object_mut(),
            self.config.catalog_overrides.as_object(),
        ) {
            for (k, v) in o {
                e.insert(k.clone(), v.clone());
            }
        }
        entry
    }

    /// The profile file's TOML text.
    pub fn profile_toml(&self) -> String {
        let c = &self.config;
        let mut s = String::new();
        s.push_str(&format!("model = {}\n", toml_str(&c.model)));
        s.push_str("model_provider = \"aimux\"\n");
        s.push_str(&format!(
            "model_catalog_json = {}\n",
            toml_str(&self.catalog_path().to_string_lossy())
        ));
        // Hermetic: no update check, no analytics, no plugin-marketplace sync (which runs
        // `git ls-remote https://github.com/openai/plugins.git`): the tests must only talk to
        // loopback.
        s.push_str("check_for_update_on_startup = false\n");
        s.push_str("\n[model_providers.aimux]\n");
        s.push_str("name = \"aimux bridge (test)\"\n");
        s.push_str(&format!(
            "base_url = {}\n",
            toml_str(&format!("{}/v1", self.bridge_url))
        ));
        s.push_str("wire_api = \"responses\"\n");
        s.push_str(&format!(
            "request_max_retries = {}\n",
            c.request_max_retries
        ));
        s.push_str(&format!("stream_max_retries = {}\n", c.stream_max_retries));
        s.push_str(&format!(
            "stream_idle_timeout_ms = {}\n",
            c.stream_idle_timeout_ms
        ));
        if let Some(t) = &c.bearer_token {
            s.push_str(&format!("experimental_bearer_token = {}\n", toml_str(t)));
        }
        s.push_str("\n[analytics]\nenabled = false\n");
        s.push_str("\n[features]\n");
        for (name, on) in &c.features {
            s.push_str(&format!("{name} = {on}\n"));
        }
        if !c.extra_toml.is_empty() {
            s.push('\n');
            s.push_str(&c.extra_toml);
            s.push('\n');
        }
        s
    }

    fn write_files(&self) {
        let catalog = json!({"models": [self.catalog_entry()]});
        fs::write(
            self.catalog_path(),
            serde_json::to_string_pretty(&catalog).expect("catalog json"),
        )
        .expect("write catalog");
        fs::write(self.profile_path(), self.profile_toml()).expect("write profile");
    }

    /// Run `codex exec --skip-git-repo-check -p <profile> -s danger-full-access -C <workdir>
    /// -o <lastmsg> --json --strict-config [extra] <prompt>` with stdin = /dev/null, `OPENAI_*`/`CODEX_*`
    /// removed from the environment, then `CODEX_HOME`, `HOME`, `TMPDIR` set to the private
    /// dirs; killed after `opts.timeout`.
    pub fn run_exec(&self, prompt: &str, opts: &ExecOptions) -> ExecOutput {
        let codex = codex_bin();
        let last = self.last_message_path();
        let _ = fs::remove_file(&last);
        let mut cmd = Command::new(&codex);
        cmd.arg("exec")
            .arg("--skip-git-repo-check")
            .arg("-p")
            .arg(&self.config.profile)
            .arg("-s")
            .arg("danger-full-access")
            .arg("-C")
            .arg(self.workdir())
            .arg("-o")
            .arg(&last)
            .arg("--json")
            // Any unknown key in our profile is an error, so the settings above are real.
            .arg("--strict-config")
            .args(&opts.extra_args)
            .arg(prompt);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("OPENAI_") || k.starts_with("CODEX_") {
                cmd.env_remove(&k);
            }
        }
        cmd.env("CODEX_HOME", self.codex_home())
            .env("HOME", self.home())
            .env("TMPDIR", self.tmp())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_CACHE_HOME", self.home().join(".cache"))
            .env("NO_COLOR", "1")
            .current_dir(self.workdir());
        let out = run_with_timeout(cmd, opts.timeout, self.root.path());
        ExecOutput {
            status: out.status,
            timed_out: out.timed_out,
            stdout: out.stdout,
            stderr: out.stderr,
            last_message: fs::read_to_string(&last).ok(),
            elapsed: out.elapsed,
        }
    }

    /// The private root dir.
    pub fn root(&self) -> &Path {
        self.root.path()
    }
}
