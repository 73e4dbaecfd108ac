//! `codex exec --json` output → what the backend does with it, and Codex failure messages →
//! OpenAI-style errors.

use serde_json::Value;

use crate::bridge::translate::UpstreamError;
use crate::proxy::backend::TokenUsage;

/// One JSONL line of `codex exec --json`, reduced to what the backend needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExecEvent {
    /// `thread.started`: the thread id (what `exec resume` takes).
    ThreadStarted(String),
    /// `item.completed` of an `agent_message`: one whole answer message.
    AgentMessage(String),
    /// `item.completed` of a `reasoning` item.
    Reasoning(String),
    /// `turn.completed` with its usage (zeros when absent).
    TurnCompleted(TokenUsage),
    /// `turn.failed`: the turn's error message.
    TurnFailed(String),
    /// A top-level `error` line (Codex prints one per retry, `Reconnecting... n/5 (...)`).
    StreamError(String),
    /// Anything else: command executions, file changes, warnings, non-JSON lines.
    Other,
}

pub(crate) fn parse_line(line: &str) -> ExecEvent {
    let Ok(v) = serde_json::from_str::<Value>(line.trim()) else {
        return ExecEvent::Other;
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    match v["type"].as_str().unwrap_or_default() {
        "thread.started" => match v["thread_id"].as_str() {
            Some(id) if !id.is_empty() => ExecEvent::ThreadStarted(id.to_owned()),
            _ => ExecEvent::Other,
        },
        "item.completed" => match v["item"]["type"].as_str().unwrap_or_default() {
            "agent_message" => ExecEvent::AgentMessage(text(&v["item"]["text"])),
            "reasoning" => ExecEvent::Reasoning(text(&v["item"]["text"])),
            _ => ExecEvent::Other,
        },
        "turn.completed" => {
            let u = &v["usage"];
            let n = |k: &str| u[k].as_u64().unwrap_or(0);
            ExecEvent::TurnCompleted(TokenUsage {
                input: n("input_tokens"),
                cached_input: n("cached_input_tokens"),
                output: n("output_tokens"),
                reasoning: n("reasoning_output_tokens"),
            })
        }
        "turn.failed" => {
            let e = &v["error"];
            let msg = e["message"]
                .as_str()
                .or_else(|| e.as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| e.to_string());
            ExecEvent::TurnFailed(msg)
        }
        "error" => ExecEvent::StreamError(
            v["message"]
                .as_str()
                .or_else(|| v["error"]["message"].as_str())
                .unwrap_or("unknown error")
                .to_owned(),
        ),
        _ => ExecEvent::Other,
    }
}

const CONTEXT_PATTERNS: &[&str] = &[
    "context_length_exceeded",
    "context window",
    "context length",
    "ran out of room",
    "maximum context",
    "prompt is too long",
    "input is too long",
    "too many tokens",
];

const QUOTA_PATTERNS: &[&str] = &[
    "insufficient_quota",
    "quota exceeded",
    "exceeded your current quota",
    "usage limit",
    "billing",
    "out of credits",
    "insufficient credits",
];

const RATE_PATTERNS: &[&str] = &["rate limit", "rate_limit", "too many requests"];

const AUTH_PATTERNS: &[&str] = &[
    "401",
    "403 forbidden",
    "unauthorized",
    "not logged in",
    "codex login",
    "no codex credentials",
    "missing environment variable",
    "invalid api key",
    "incorrect api key",
    "authentication",
    "token_expired",
    "refresh token",
];

const MODEL_PATTERNS: &[&str] = &[
    "model_not_found",
    "model is not supported",
    "model not found",
    "unknown model",
    "does not exist or you do not have access",
    "not supported when using codex",
];

fn contains_any(haystack: &str, needles: &[&str]) -> bool {
    let lower = haystack.to_lowercase();
    needles.iter().any(|n| lower.contains(n))
}

fn error(status: u16, kind: &str, code: &str, message: String) -> UpstreamError {
    UpstreamError {
        status,
        kind: kind.to_owned(),
        code: code.to_owned(),
        message,
        retry_after: None,
    }
}

/// A failed Codex turn (or run), from Codex's message.
pub(crate) fn classify_failure(message: &str) -> UpstreamError {
    let message = message.trim();
    let text = format!("codex exec failed: {message}");
    if contains_any(message, CONTEXT_PATTERNS) {
        error(
            400,
            "invalid_request_error",
            "context_length_exceeded",
            text,
        )
    } else if contains_any(message, QUOTA_PATTERNS) {
        error(400, "insufficient_quota", "insufficient_quota", text)
    } else if contains_any(message, MODEL_PATTERNS) {
        error(400, "invalid_request_error", "model_not_found", text)
    } else if contains_any(message, AUTH_PATTERNS) {
        error(
            502,
            "server_error",
            "codex_auth_failed",
            format!("{text} (is the Codex CLI logged in? run `codex login`)"),
        )
    } else if contains_any(message, RATE_PATTERNS) {
        error(429, "rate_limit_error", "rate_limit_exceeded", text)
    } else {
        error(502, "server_error", "codex_exec_failed", text)
    }
}

/// The run hit its wall-clock limit.
pub(crate) fn timeout_error(limit: std::time::Duration) -> UpstreamError {
    error(
        504,
        "server_error",
        "timeout",
        format!(
            "codex exec did not finish within {}s and was stopped",
            limit.as_secs_f64()
        ),
    )
}

/// What to show from a failed run's stderr: its meaningful lines (no backtrace, no progress
/// notes), without the `Error: ` prefix, the last few of them, at most 2000 bytes.
pub(crate) fn stderr_summary(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr
        .lines()
        .take_while(|l| !l.trim_start().starts_with("Stack backtrace:"))
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("Reading prompt from stdin")
                && !l.starts_with("Reading additional input from stdin")
        })
        .map(|l| l.strip_prefix("Error: ").unwrap_or(l))
        .collect();
    if lines.is_empty() {
        return None;
    }
    let mut out = lines[lines.len().saturating_sub(8)..].join("\n");
    if out.len() > 2000 {
        let mut cut = out.len() - 2000;
        while !out.is_char_boundary(cut) {
            cut += 1;
        }
        out = format!("…{}", &out[cut..]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exec_json_lines() {
        let usage = TokenUsage {
            input: 2200,
            cached_input: 800,
            output: 55,
            reasoning: 30,
        };
        let cases: &[(&str, ExecEvent)] = &[
            (
                r#"{"type":"thread.started","thread_id":"01a2-x"}"#,
                ExecEvent::ThreadStarted("01a2-x".into()),
            ),
            (r#"{"type":"turn.started"}"#, ExecEvent::Other),
            (
                r#"{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"**Plan** do it"}}"#,
                ExecEvent::Reasoning("**Plan** do it".into()),
            ),
            (
                r#"{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"Hi!"}}"#,
                ExecEvent::AgentMessage("Hi!".into()),
            ),
            (
                r#"{"type":"item.started","item":{"id":"item_1","type":"agent_message","text":""}}"#,
                ExecEvent::Other,
            ),
            (
                r#"{"type":"item.completed","item":{"id":"item_2","type":"command_execution","command":"ls","aggregated_output":"x","exit_code":0,"status":"completed"}}"#,
                ExecEvent::Other,
            ),
            (
                r#"{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Codex is ignoring 1 unrecognized configuration setting."}}"#,
                ExecEvent::Other,
            ),
            (
                r#"{"type":"turn.completed","usage":{"input_tokens":2200,"cached_input_tokens":800,"cache_write_input_tokens":0,"output_tokens":55,"reasoning_output_tokens":30}}"#,
                ExecEvent::TurnCompleted(usage),
            ),
            (
                r#"{"type":"turn.completed"}"#,
                ExecEvent::TurnCompleted(TokenUsage::default()),
            ),
            (
                r#"{"type":"turn.failed","error":{"message":"upstream exploded"}}"#,
                ExecEvent::TurnFailed("upstream exploded".into()),
            ),
            (
                r#"{"type":"error","message":"Reconnecting... 1/5 (high demand)"}"#,
                ExecEvent::StreamError("Reconnecting... 1/5 (high demand)".into()),
            ),
            ("Reading prompt from stdin...", ExecEvent::Other),
            ("", ExecEvent::Other),
        ];
        for (line, want) in cases {
            assert_eq!(&parse_line(line), want, "{line}");
        }
    }

    #[test]
    fn classifies_failures() {
        // (Codex message, status, code)
        let cases: &[(&str, u16, &str)] = &[
            (
                "Codex ran out of room in the model's context window. Start a new thread or clear earlier history before retrying.",
                400,
                "context_length_exceeded",
            ),
            (
                "Quota exceeded. Check your plan and billing details.",
                400,
                "insufficient_quota",
            ),
            (
                "You've hit your usage limit. Upgrade to Pro or try again at 3:05 PM.",
                400,
                "insufficient_quota",
            ),
            (
                "unexpected status 401 Unauthorized: Invalid API key, url: https://api.openai.com/v1/responses",
                502,
                "codex_auth_failed",
            ),
            (
                "exceeded retry limit, last status: 429 Too Many Requests",
                429,
                "rate_limit_exceeded",
            ),
            (
                "The 'gpt-9' model is not supported when using Codex with a ChatGPT account.",
                400,
                "model_not_found",
            ),
            (
                "stream disconnected before completion: upstream exploded",
                502,
                "codex_exec_failed",
            ),
            (
                "Model provider `nosuch` not found",
                502,
                "codex_exec_failed",
            ),
        ];
        for (msg, status, code) in cases {
            let e = classify_failure(msg);
            assert_eq!((e.status, e.code.as_str()), (*status, *code), "{msg}");
            assert!(e.message.contains(msg), "{msg}: {}", e.message);
        }
        let t = timeout_error(std::time::Duration::from_secs(300));
        assert_eq!((t.status, t.code.as_str()), (504, "timeout"));
        assert!(t.message.contains("300s"), "{}", t.message);
    }

    #[test]
    fn summarises_stderr() {
        let cases: &[(&str, Option<&str>)] = &[
            ("", None),
            ("Reading prompt from stdin...\n", None),
            (
                "Error: Model provider `nosuch` not found\n\nStack backtrace:\n   0: <unknown>\n",
                Some("Model provider `nosuch` not found"),
            ),
            (
                "Reading prompt from stdin...\nenv: 'node': No such file or directory\n",
                Some("env: 'node': No such file or directory"),
            ),
        ];
        for (stderr, want) in cases {
            assert_eq!(stderr_summary(stderr).as_deref(), *want, "{stderr:?}");
        }
        let long = "x".repeat(5000);
        assert!(stderr_summary(&long).is_some_and(|s| s.len() <= 2004));
    }
}
