//! The `codex` backend: Chat Completions served by `codex exec --json`, so OpenAI-compatible tools
//! can use the user's Codex login without an API key.

use std::path::PathBuf;
use std::time::Duration;

/// How the backend runs `codex`.
#[derive(Debug, Clone)]
pub struct CodexExecSettings {
    /// The `codex` binary (default: `codex` on PATH).
    pub bin: PathBuf,
    /// `CODEX_HOME` for the child; `None` inherits the user's.
    pub codex_home: Option<PathBuf>,
    /// Provider id forced on the child with `-c model_provider=...` so it can never route back
    /// into aimux (default `openai`, Codex's native provider).
    pub provider: String,
    /// Children running at once (default 2).
    pub concurrency: usize,
    /// Requests waiting for a slot before new ones get 429 (default 8).
    pub queue: usize,
    /// Wall-clock limit of one child (default 300 s); the process group is killed after it.
    pub timeout: Duration,
}

impl Default for CodexExecSettings {
    fn default() -> Self {
        CodexExecSettings {
            bin: PathBuf::from("codex"),
            codex_home: None,
            provider: "openai".to_owned(),
            concurrency: 2,
            queue: 8,
            timeout: Duration::from_secs(300),
        }
    }
}

/// One Chat Completions request for the backend.
#[derive(Debug, Clone, Default)]
pub struct CodexRequest {
    /// The Codex model (`codex/<model>`); `None` for the user's default (`codex`).
    pub model: Option<String>,
    /// The Chat `messages` array as the client sent it.
    pub messages: Vec<serde_json::Value>,
    /// A stable session name (the OpenAI `user` field or `x-aimux-session`).
    pub session: Option<String>,
    /// `reasoning_effort`, passed as `-c model_reasoning_effort=...`.
    pub reasoning_effort: Option<String>,
}
