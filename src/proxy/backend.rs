//! What a non-HTTP backend (the `codex exec` backend) produces: a stream of events that the proxy
//! renders as Chat Completions SSE chunks or as one `chat.completion` object.

use crate::bridge::translate::UpstreamError;

/// One event of a backend's answer, in order. The stream ends after `Done` or `Error`; a backend
/// that stops sending without either has failed.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendEvent {
    /// Answer text (becomes `delta.content`).
    Content(String),
    /// Reasoning text (becomes `delta.reasoning_content`).
    Reasoning(String),
    /// Token usage for the whole answer (may come once, before `Done`).
    Usage(TokenUsage),
    /// The answer finished; `finish_reason` is `stop` (or `length`).
    Done { finish_reason: String },
    /// The answer failed. Before any `Content`/`Reasoning`, the proxy answers with the error's
    /// HTTP status; after, the stream ends with an error chunk.
    Error(UpstreamError),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    pub input: u64,
    pub cached_input: u64,
    pub output: u64,
    pub reasoning: u64,
}

/// A backend that answers Chat requests itself (the `codex exec` backend).
pub trait Backend: Send + Sync {
    /// Starts one answer; errors before any output come back as `Err`. Dropping the receiver
    /// cancels the answer.
    fn start(
        &self,
        request: super::codex_exec::CodexRequest,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<tokio::sync::mpsc::Receiver<BackendEvent>, UpstreamError>,
                > + Send
                + '_,
        >,
    >;
}
