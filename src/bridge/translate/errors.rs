//! Upstream failures → errors Codex (and any OpenAI client) can act on.
//!
//! Codex retries 5xx up to 30 times and hides a 500's message, retries most other 4xx six times,
//! and treats 400 as final. So a permanent upstream error becomes a 400 that keeps its message and
//! code; rate limits stay 429 with `Retry-After`; only transient failures become 502/504.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamError {
    /// HTTP status to answer with when nothing has been streamed yet.
    pub status: u16,
    /// OpenAI error `type`.
    pub kind: String,
    /// OpenAI error `code`; for `response.failed` one of the codes Codex understands.
    pub code: String,
    pub message: String,
    pub retry_after: Option<String>,
}

/// Seconds a client should wait after a 429 that came without `Retry-After`.
pub const DEFAULT_RETRY_AFTER: &str = "2";

const CONTEXT_PATTERNS: &[&str] = &[
    "context_length_exceeded",
    "context length",
    "context window",
    "maximum context",
    "context_window",
    "too many tokens",
    "prompt is too long",
    "input is too long",
    "reduce the length",
    "exceeds the model's maximum",
    "exceeded model token limit",
    "available context size",
    "exceed_context",
    "maximum number of tokens",
    "exceeds max length",
];

const QUOTA_PATTERNS: &[&str] = &[
    "insufficient_quota",
    "insufficient balance",
    "insufficient credits",
    "exceeded your current quota",
    "billing",
    "payment required",
];

fn contains_any(haystack: &str, needles: &[&str]) -> bool {
    let lower = haystack.to_ascii_lowercase();
    needles.iter().any(|n| lower.contains(n))
}

/// `(message, type, code)` from the shapes providers use: `{"error":{...}}`, `{"error":"..."}`,
/// `{"message":...}`, `{"detail":...}`.
fn parse_body(body: &str) -> (Option<String>, Option<String>, Option<String>) {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return (None, None, None);
    };
    let err = match v.get("error") {
        Some(e @ Value::Object(_)) => e,
        Some(Value::String(s)) => return (Some(s.clone()), None, None),
        _ => &v,
    };
    let text = |key: &str| match err.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let message = text("message").or_else(|| match err.get("detail") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other @ (Value::Array(_) | Value::Object(_))) => Some(other.to_string()),
        _ => None,
    });
    (message, text("type"), text("code"))
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn reason_phrase(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

impl UpstreamError {
    /// An upstream HTTP error response.
    pub fn from_status(status: u16, body: &str, retry_after: Option<String>) -> Self {
        let (message, kind, code) = parse_body(body);
        let detail = message.unwrap_or_else(|| {
            let raw = body.trim();
            if raw.is_empty() {
                "(empty body)".to_owned()
            } else {
                truncate(raw, 2000)
            }
        });
        let message = format!(
            "upstream returned {status} {}: {detail}",
            reason_phrase(status)
        );
        let signal = format!(
            "{} {} {}",
            code.as_deref().unwrap_or(""),
            kind.as_deref().unwrap_or(""),
            detail
        );
        if contains_any(&signal, CONTEXT_PATTERNS) && (400..500).contains(&status) && status != 429
        {
            return Self::new(
                400,
                "invalid_request_error",
                "context_length_exceeded",
                message,
            );
        }
        if status == 402 || contains_any(&signal, QUOTA_PATTERNS) && (400..500).contains(&status) {
            return Self::new(400, "insufficient_quota", "insufficient_quota", message);
        }
        match status {
            // Codex retries a 429 only when it carries Retry-After.
            429 => UpstreamError {
                retry_after: retry_after.or_else(|| Some(DEFAULT_RETRY_AFTER.to_owned())),
                ..Self::new(
                    429,
                    "rate_limit_error",
                    code.as_deref().unwrap_or("rate_limit_exceeded"),
                    message,
                )
            },
            408 => Self::new(504, "server_error", "upstream_timeout", message),
            400..=499 => Self::new(
                400,
                kind.as_deref().unwrap_or("invalid_request_error"),
                code.as_deref().unwrap_or("upstream_rejected"),
                message,
            ),
            _ => UpstreamError {
                retry_after,
                ..Self::new(502, "server_error", "server_error", message)
            },
        }
    }

    /// An `error` object inside a 200 stream.
    pub fn from_stream_error(error: &Value) -> Self {
        let body = serde_json::json!({ "error": error }).to_string();
        let numeric = error
            .get("code")
            .and_then(Value::as_u64)
            .filter(|c| (400..600).contains(c));
        // Without an HTTP-like code, a context or quota error still reads as the client's problem.
        let status = match numeric {
            Some(code) => code as u16,
            None if contains_any(&body, CONTEXT_PATTERNS)
                || contains_any(&body, QUOTA_PATTERNS) =>
            {
                400
            }
            None => 502,
        };
        Self::from_status(status, &body, None)
    }

    pub fn unreachable(url: &str, cause: &str) -> Self {
        Self::new(
            502,
            "server_error",
            "upstream_unreachable",
            format!("cannot reach upstream {url}: {cause}"),
        )
    }

    pub fn timeout(what: &str) -> Self {
        Self::new(
            504,
            "server_error",
            "upstream_timeout",
            format!("upstream {what} timed out"),
        )
    }

    /// A configured timeout fired; `message` names it (and the setting that sets it).
    pub fn timed_out(message: String) -> Self {
        Self::new(504, "server_error", "upstream_timeout", message)
    }

    /// The connection broke after the answer had started (reset, truncated body).
    pub fn broken(url: &str, cause: &str) -> Self {
        Self::new(
            502,
            "server_error",
            "upstream_stream_error",
            format!("upstream {url} broke off the answer: {cause}"),
        )
    }

    /// A `data` payload (or a whole body) that is not JSON at all; `who` is `upstream` or
    /// `upstream <route>`.
    pub fn invalid_json(who: &str, error: &serde_json::Error, data: &[u8]) -> Self {
        let excerpt = String::from_utf8_lossy(&data[..data.len().min(120)]).into_owned();
        let more = if data.len() > 120 { "…" } else { "" };
        Self::new(
            502,
            "server_error",
            "invalid_upstream_response",
            format!("{who} sent invalid JSON ({error}): {excerpt:?}{more}"),
        )
    }

    pub fn truncated() -> Self {
        Self::new(
            502,
            "server_error",
            "server_error",
            "upstream closed the stream before it finished".into(),
        )
    }

    /// The upstream ended the answer with a `finish_reason` that means it was cut off.
    pub fn stopped(reason: &str) -> Self {
        Self::new(
            502,
            "server_error",
            "server_error",
            format!("upstream stopped the answer early (finish_reason {reason:?})"),
        )
    }

    pub fn invalid_stream(detail: &str) -> Self {
        Self::new(
            502,
            "server_error",
            "server_error",
            format!("upstream sent an unreadable stream: {detail}"),
        )
    }

    fn new(status: u16, kind: &str, code: &str, message: String) -> Self {
        UpstreamError {
            status,
            kind: kind.to_owned(),
            code: code.to_owned(),
            message,
            retry_after: None,
        }
    }

    /// The code for a `response.failed` event. Codex ends the turn on `context_length_exceeded`
    /// and `insufficient_quota`, waits and retries on `rate_limit_exceeded` when the message says
    /// "try again in Ns", and retries anything else.
    pub fn stream_code(&self) -> &str {
        match self.code.as_str() {
            "context_length_exceeded" | "insufficient_quota" => &self.code,
            _ if self.status == 429 => "rate_limit_exceeded",
            _ => "server_error",
        }
    }

    /// The message for a `response.failed` event (with Codex's retry hint for rate limits).
    pub fn stream_message(&self) -> String {
        match (&self.retry_after, self.status) {
            (Some(secs), 429) => format!("{} (try again in {secs}s)", self.message),
            _ => self.message.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping() {
        // (status, body, want status, want code)
        let cases: &[(u16, &str, u16, &str)] = &[
            (
                400,
                r#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
                400,
                "context_length_exceeded",
            ),
            (
                400,
                r#"{"error":{"message":"Prompt is too long: 300000 tokens > 200000 maximum"}}"#,
                400,
                "context_length_exceeded",
            ),
            (
                402,
                r#"{"error":{"message":"Insufficient Balance"}}"#,
                400,
                "insufficient_quota",
            ),
            (
                429,
                r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
                400,
                "insufficient_quota",
            ),
            (
                429,
                r#"{"error":{"message":"slow down"}}"#,
                429,
                "rate_limit_exceeded",
            ),
            (
                401,
                r#"{"error":{"message":"Invalid API key"}}"#,
                400,
                "upstream_rejected",
            ),
            (
                404,
                r#"{"error":{"message":"model not found","code":"model_not_found"}}"#,
                400,
                "model_not_found",
            ),
            (500, "oops", 502, "server_error"),
            (503, r#"{"detail":"overloaded"}"#, 502, "server_error"),
            (408, "", 504, "upstream_timeout"),
        ];
        for (status, body, want_status, want_code) in cases {
            let e = UpstreamError::from_status(*status, body, None);
            assert_eq!(
                (e.status, e.code.as_str()),
                (*want_status, *want_code),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn message_is_kept_visible() {
        let e = UpstreamError::from_status(401, r#"{"error":{"message":"Invalid API key"}}"#, None);
        assert_eq!(
            e.message,
            "upstream returned 401 Unauthorized: Invalid API key"
        );
        let e = UpstreamError::from_status(500, "plain text failure", None);
        assert_eq!(
            e.message,
            "upstream returned 500 Internal Server Error: plain text failure"
        );
    }

    #[test]
    fn stream_codes_and_retry_hint() {
        let e = UpstreamError::from_status(429, "{}", Some("2".into()));
        assert_eq!(e.stream_code(), "rate_limit_exceeded");
        assert!(e.stream_message().ends_with("(try again in 2s)"));
        assert_eq!(UpstreamError::truncated().stream_code(), "server_error");
        let e = UpstreamError::from_stream_error(&serde_json::json!({
            "message": "context_length_exceeded: too long", "code": 400
        }));
        assert_eq!(e.stream_code(), "context_length_exceeded");
    }
}
