//! The usage store: one SQLite row per proxied request.

/// One finished (or failed) request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageRecord {
    /// Unix time in milliseconds when the request arrived.
    pub ts_ms: i64,
    /// Who asked: `bridge`, or the client's name (`user-agent` product) for direct calls.
    pub client: String,
    /// The model id the client asked for (`deepseek/deepseek-chat`, `smart`, `aimux:coder`).
    pub requested_model: String,
    /// The provider that served it (`deepseek`), empty when none did.
    pub provider: String,
    /// The provider's model id (`deepseek-chat`).
    pub model: String,
    /// HTTP status the client got (200 for a stream that started).
    pub status: u16,
    pub latency_ms: u64,
    /// Time to the first byte of the answer; `None` when there was none.
    pub ttft_ms: Option<u64>,
    pub input_tokens: u64,
    pub cached_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
    /// Estimated cost in USD from preset prices; `None` when the price is unknown.
    pub cost_usd: Option<f64>,
    /// The error code when the request failed (`rate_limit_exceeded`, `upstream_unreachable`, ...).
    pub error_code: Option<String>,
}
