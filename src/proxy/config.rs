//! The proxy's part of `config.toml`: `[proxy]`, `[providers.NAME]`, `[routes]`, `[agents.NAME]`,
//! `[codex]`. Unknown keys are errors that name the key.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

use super::presets::ModelInfo;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyFile {
    pub host: Option<String>,
    pub port: Option<u16>,
    /// Retries of the last (or only) candidate on 429/5xx/connect errors, with backoff.
    pub retries: Option<u32>,
    /// Seconds to wait for a provider's first byte before failing over.
    pub first_byte_timeout_s: Option<u64>,
    /// Seconds a streamed answer that has started may go without a byte (default 300).
    pub idle_timeout_s: Option<u64>,
    /// Largest request body accepted, in MiB (default 256).
    pub max_body_mb: Option<u64>,
    /// Seconds a client may take to send a request's headers, and how long an idle keep-alive
    /// connection is kept (default 100).
    pub header_timeout_s: Option<u64>,
    pub connect_timeout_s: Option<u64>,
    /// An external proxy for `aimux start` to supervise instead of `aimux proxy` (a ClawRouter or
    /// LiteLLM process, ...): a shell command line (run with `sh -c`) or an argv array.
    pub command: Option<ExternalCommand>,
    /// The external proxy's Chat Completions base URL (`http://127.0.0.1:4000/v1`); required
    /// with `command`, and where the bridge forwards to.
    pub url: Option<String>,
}

/// `[proxy] command`: `"litellm --port 4000"` (through `sh -c`) or `["litellm", "--port", "4000"]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ExternalCommand {
    Shell(String),
    Argv(Vec<String>),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Wire {
    #[default]
    Chat,
    Responses,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    /// A shipped preset to start from (`deepseek`, `zhipu`, `ollama`, ...); defaults to the
    /// provider's own name when that is a preset.
    pub preset: Option<String>,
    pub base_url: Option<String>,
    /// The environment variable holding the API key.
    pub env_key: Option<String>,
    #[serde(default)]
    pub wire: Wire,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Models in addition to the preset's: ids or full entries.
    #[serde(default)]
    pub models: Vec<ModelEntry>,
    pub timeout_s: Option<u64>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ModelEntry {
    Id(String),
    Info(ModelInfo),
}

impl ModelEntry {
    pub fn into_info(self) -> ModelInfo {
        match self {
            ModelEntry::Id(id) => ModelInfo {
                id,
                ..ModelInfo::default()
            },
            ModelEntry::Info(info) => info,
        }
    }
}

/// `alias = "provider/model"` or a fallback chain `name = ["a/x", "b/y"]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RouteTarget {
    One(String),
    Chain(Vec<String>),
}

impl RouteTarget {
    pub fn targets(&self) -> Vec<&str> {
        match self {
            RouteTarget::One(t) => vec![t.as_str()],
            RouteTarget::Chain(ts) => ts.iter().map(String::as_str).collect(),
        }
    }
}

/// `[agents.NAME]`: a model plus a system prompt and defaults, chosen with `aimux:NAME`,
/// `agent:NAME` or the `x-aimux-agent` header.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentFile {
    pub model: String,
    pub system: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
    pub reasoning_effort: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodexFile {
    /// Default: on when `codex` is on PATH and logged in.
    pub enabled: Option<bool>,
    pub bin: Option<PathBuf>,
    pub codex_home: Option<PathBuf>,
    /// Provider forced on the child (`openai` by default).
    pub provider: Option<String>,
    pub concurrency: Option<usize>,
    pub queue: Option<usize>,
    pub timeout_s: Option<u64>,
}
