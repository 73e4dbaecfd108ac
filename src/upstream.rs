//! Small pieces shared by the servers' I/O edges: upstream transport errors, constant-time token
//! comparison, the 404 handler, wall-clock stamps.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::api_error::ApiError;
use crate::bridge::translate::UpstreamError;

/// A failed upstream call (no HTTP answer): timeout, or unreachable with the innermost cause.
pub fn transport_error(url: &str, e: &reqwest::Error) -> UpstreamError {
    if e.is_timeout() {
        return UpstreamError::timeout("request");
    }
    UpstreamError::unreachable(url, &innermost(e))
}

/// The body of an upstream answer failed after it had started: a broken connection, not an
/// unreachable upstream.
pub fn stream_error(url: &str, e: &reqwest::Error) -> UpstreamError {
    if e.is_timeout() {
        return UpstreamError::timeout("read");
    }
    UpstreamError::broken(url, &innermost(e))
}

fn innermost(e: &reqwest::Error) -> String {
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    cause
}

/// A duration as people write it: `2s`, `1.5s`.
pub fn secs(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Compares in time that depends only on the lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub async fn not_found(method: Method, uri: Uri) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        Some("not_found"),
        format!("no route for {method} {}", uri.path()),
    )
    .into_response()
}

/// The request body, or the reason it was refused (413 past the configured limit) in OpenAI's
/// error shape instead of axum's plain text.
pub fn body_or_error(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::body::Bytes, ApiError> {
    body.map_err(|rejection| {
        let status = rejection.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "request_too_large"
        } else {
            "invalid_body"
        };
        ApiError::new(
            status,
            "invalid_request_error",
            Some(code),
            format!(
                "{}; hint: raise max_body_mb in config.toml if this is a real request",
                rejection.body_text()
            ),
        )
    })
}

/// Default request body limit: long Codex sessions with images run to tens of megabytes.
pub const DEFAULT_MAX_BODY_MB: u64 = 256;

pub fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn constant_time_compare() {
        assert!(super::constant_time_eq("secret", "secret"));
        assert!(!super::constant_time_eq("secret", "secreT"));
        assert!(!super::constant_time_eq("secret", "secret2"));
    }
}
