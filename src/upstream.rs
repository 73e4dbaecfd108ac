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

/// A unique id for a response, item or completion: `prefix` and 32 hex digits.
///
/// Ids need to be unique, not secret: a per-process random seed (one `getrandom`) mixed with a
/// counter, instead of a system call per id as a v4 UUID costs.
pub fn new_id(prefix: &str) -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEED: OnceLock<(u64, u64)> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let (s1, s2) = *SEED.get_or_init(|| {
        let u = uuid::Uuid::new_v4().as_u64_pair();
        (u.0, u.1)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // `mix` is a bijection and `seed + n * odd` is distinct for every n: so is the first half.
    let hi = mix(s1.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
    let lo = mix(s2 ^ hi);
    format!("{prefix}{hi:016x}{lo:016x}")
}

/// SplitMix64's finalizer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `Accept` header for an upstream request: SSE for a streamed one, else JSON.
pub fn accept(stream: bool) -> &'static str {
    if stream {
        "text/event-stream"
    } else {
        "application/json"
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

/// A client builder that reaches loopback hosts directly and everything else the way the
/// environment says (`https_proxy`, `http_proxy`, `all_proxy`, either case, minus `no_proxy`).
///
/// reqwest's own system-proxy support sends `http://127.0.0.1` through `http_proxy` too, so on a
/// machine with a corporate proxy set the bridge's requests to the local proxy, and the proxy's to
/// a local model server, went to a proxy elsewhere that cannot reach this machine's loopback.
pub fn client_builder() -> reqwest::ClientBuilder {
    let var = |names: [&str; 2]| {
        names
            .into_iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
    };
    let mut bypass: Vec<String> = var(["no_proxy", "NO_PROXY"])
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default();
    bypass.extend(["localhost", "127.0.0.0/8", "::1"].map(String::from));
    bypass.retain(|s| !s.is_empty());
    let bypass = reqwest::NoProxy::from_string(&bypass.join(","));
    let mut builder = reqwest::Client::builder().no_proxy();
    type MakeProxy = fn(&str) -> reqwest::Result<reqwest::Proxy>;
    let kinds: [([&str; 2], MakeProxy); 3] = [
        (["https_proxy", "HTTPS_PROXY"], |u| reqwest::Proxy::https(u)),
        (["http_proxy", "HTTP_PROXY"], |u| reqwest::Proxy::http(u)),
        (["all_proxy", "ALL_PROXY"], |u| reqwest::Proxy::all(u)),
    ];
    for (names, make) in kinds {
        match var(names).map(|url| make(&url)) {
            Some(Ok(proxy)) => builder = builder.proxy(proxy.no_proxy(bypass.clone())),
            Some(Err(e)) => tracing::warn!("ignoring {}: {e}", names[1]),
            None => {}
        }
    }
    builder
}

/// A client from [`client_builder`] as it is, for one-off calls (`setup`, `gen-catalog`,
/// `doctor`).
pub fn client() -> reqwest::Client {
    // Building fails only when the TLS backend cannot start: reqwest's default is then no worse.
    client_builder().build().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique_and_well_formed() {
        let ids: std::collections::HashSet<String> =
            (0..10_000).map(|_| super::new_id("msg_")).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(3) {
            let hex = id.strip_prefix("msg_").unwrap();
            assert_eq!(hex.len(), 32, "{id}");
            assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        }
    }
    #[test]
    fn constant_time_compare() {
        assert!(super::constant_time_eq("secret", "secret"));
        assert!(!super::constant_time_eq("secret", "secreT"));
        assert!(!super::constant_time_eq("secret", "secret2"));
    }
}
