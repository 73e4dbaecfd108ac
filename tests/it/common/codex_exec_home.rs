//! [`ExecHome`]: a throwaway `CODEX_HOME` for the `codex` backend (`aimux::proxy::codex_exec`),
//! whose base `config.toml` defines a provider `mock` pointing at a [`super::MockResponses`]
//! server, so `codex exec -c model_provider="mock"` needs no OpenAI login and makes no network
//! calls beyond loopback.
//!
//! Layout of the private temp dir: `codex-home/` (`config.toml`, `catalog.json`), `home/`
//! (`HOME`), `tmp/` (`TMPDIR`, outside `codex-home/` so Codex creates its helper binaries).
//! The config is hermetic like [`super::CodexHome`]'s profile: no update check, no analytics,
//! `[features] plugins = false, apps = false`, zero retries so failures are fast.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use aimux::proxy::codex_exec::CodexExecSettings;
use serde_json::json;

use super::codex::{BASE_INSTRUCTIONS, TEST_MODEL};
use super::tools::codex_bin;

/// The provider id the config defines (and the settings force).
pub const MOCK_PROVIDER: &str = "mock";

/// A temp `CODEX_HOME` (plus `HOME`, `TMPDIR`) whose provider `mock` is a mock server.
pub struct ExecHome {
    root: tempfile::TempDir,
}

impl ExecHome {
    /// Config pointing provider `mock` at `base_url` (`http://127.0.0.1:PORT/v1`).
    pub fn new(base_url: &str) -> ExecHome {
        let root = tempfile::Builder::new()
            .prefix("aimux-codex-exec-")
            .tempdir()
            .expect("codex exec temp root");
        let home = ExecHome { root };
        for d in [home.codex_home(), home.home(), home.tmp()] {
            fs::create_dir_all(&d).expect("create codex exec test dir");
        }
        let catalog = json!({"models": [{
            "slug": TEST_MODEL,
            "display_name": "Test Model (codex backend)",
            "supported_reasoning_levels": [
                {"effort": "low", "description": "Fast"},
                {"effort": "high", "description": "Deep"}
            ],
            "shell_type": "shell_command",
            "visibility": "list",
            "supported_in_api": true,
            "priority": 1,
            "base_instructions": BASE_INSTRUCTIONS,
            "support_verbosity": false,
            "truncation_policy": {"mode": "tokens", "limit": 10000},
            "context_window": 128000,
            "experimental_supported_tools": [],
            "input_modalities": ["text", "image"]
        }]});
        let catalog_path = home.codex_home().join("catalog.json");
        fs::write(&catalog_path, catalog.to_string()).expect("write catalog");
        let toml_str = |s: &str| serde_json::Value::from(s).to_string();
        let config = format!(
            "model = {model}\n\
             model_catalog_json = {catalog}\n\
             check_for_update_on_startup = false\n\
             \n\
             [model_providers.{MOCK_PROVIDER}]\n\
             name = \"mock responses\"\n\
             base_url = {base}\n\
             wire_api = \"responses\"\n\
             request_max_retries = 0\n\
             stream_max_retries = 0\n\
             stream_idle_timeout_ms = 60000\n\
             \n\
             [analytics]\n\
             enabled = false\n\
             \n\
             [features]\n\
             plugins = false\n\
             apps = false\n",
            model = toml_str(TEST_MODEL),
            catalog = toml_str(&catalog_path.to_string_lossy()),
            base = toml_str(base_url),
        );
        fs::write(home.codex_home().join("config.toml"), config).expect("write config");
        home
    }

    /// Append `text` to `config.toml` (e.g. more tables).
    pub fn append_config(&self, text: &str) {
        let path = self.codex_home().join("config.toml");
        let mut config = fs::read_to_string(&path).expect("read config");
        config.push('\n');
        config.push_str(text);
        fs::write(&path, config).expect("write config");
    }

    /// `CODEX_HOME`.
    pub fn codex_home(&self) -> PathBuf {
        self.root.path().join("codex-home")
    }
    /// `HOME` for the child.
    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }
    /// `TMPDIR` for the child.
    pub fn tmp(&self) -> PathBuf {
        self.root.path().join("tmp")
    }

    /// Backend settings for this home: the pinned real Codex CLI, provider `mock`,
    /// concurrency 2, queue 8, timeout 60 s.
    pub fn settings(&self) -> CodexExecSettings {
        let s = |p: PathBuf| p.to_string_lossy().into_owned();
        CodexExecSettings {
            bin: codex_bin(),
            codex_home: Some(self.codex_home()),
            provider: MOCK_PROVIDER.to_string(),
            concurrency: 2,
            queue: 8,
            timeout: Duration::from_secs(60),
            aimux_urls: Vec::new(),
            env: vec![
                ("HOME".into(), s(self.home())),
                ("TMPDIR".into(), s(self.tmp())),
                ("XDG_CONFIG_HOME".into(), s(self.home().join(".config"))),
                ("XDG_CACHE_HOME".into(), s(self.home().join(".cache"))),
            ],
        }
    }

    /// `pid state ppid pgrp cmdline` of each of `pids`, for assertion messages.
    pub fn describe(pids: &[u32]) -> String {
        pids.iter()
            .map(|pid| {
                let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                let fields: Vec<&str> = stat
                    .rfind(')')
                    .map(|i| stat[i + 1..].split_whitespace().take(3).collect())
                    .unwrap_or_default();
                let cmd = fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
                    .unwrap_or_default();
                format!("{pid} {} {}", fields.join(" "), cmd.trim())
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Pids of the live (non-zombie) processes whose environment has this `CODEX_HOME`: the
    /// `codex` launcher, the native binary and anything they started (Linux `/proc`).
    pub fn processes(&self) -> Vec<u32> {
        let needle = format!("CODEX_HOME={}", self.codex_home().display()).into_bytes();
        let Ok(dir) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                let zombie = fs::read_to_string(format!("/proc/{pid}/stat"))
                    .ok()
                    .and_then(|s| {
                        let rest = &s[s.rfind(')')? + 1..];
                        rest.split_whitespace()
                            .next()
                            .map(|st| st == "Z" || st == "X")
                    })
                    .unwrap_or(true);
                !zombie
                    && fs::read(format!("/proc/{pid}/environ"))
                        .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == needle.as_slice()))
            })
            .collect()
    }
}
