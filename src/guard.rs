//! Loopback is not a security boundary on its own: a web page can make the browser send
//! requests to 127.0.0.1, and DNS rebinding can read the answers. Every server of aimux refuses
//! a `Host` that is not a loopback name (when bound to loopback) and a foreign `Origin`.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api_error::ApiError;

fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            name
        } else {
            host
        }
    })
}

/// Whether a `Host` header names this machine's loopback interface.
pub fn is_loopback_host(host: &str) -> bool {
    let name = host_name(host.trim());
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `Origin` is absent (not a browser) or exactly this server's own origin.
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>) -> bool {
    let Some(origin) = origin else { return true };
    let Some(host) = host else { return false };
    ["http://", "https://"]
        .iter()
        .any(|scheme| origin.eq_ignore_ascii_case(&format!("{scheme}{host}")))
}

/// The check, given whether the server is bound to loopback only.
pub fn check(
    loopback_only: bool,
    host: Option<&str>,
    origin: Option<&str>,
) -> Result<(), ApiError> {
    if loopback_only && !host.is_some_and(is_loopback_host) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            Some("forbidden_host"),
            format!(
                "refused Host {:?}: this server answers only to loopback names",
                host.unwrap_or("")
            ),
        ));
    }
    if !origin_allowed(origin, host) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            Some("forbidden_origin"),
            format!(
                "refused cross-origin request from {:?}",
                origin.unwrap_or("")
            ),
        ));
    }
    Ok(())
}

/// Axum middleware: `from_fn_with_state(loopback_only, guard)`.
pub async fn guard(
    axum::extract::State(loopback_only): axum::extract::State<bool>,
    req: Request,
    next: Next,
) -> Response {
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match check(loopback_only, host, origin) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        for h in [
            "127.0.0.1:8403",
            "localhost:8403",
            "LOCALHOST",
            "[::1]:8403",
            "127.0.0.2",
            "[::1]",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "evil.example:8403",
            "192.168.1.2:8403",
            "localhost.evil.com",
            "",
            "0.0.0.0:8403",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn checks() {
        let h = Some("127.0.0.1:8403");
        assert!(check(true, h, None).is_ok());
        assert!(check(true, h, Some("http://127.0.0.1:8403")).is_ok());
        assert!(check(true, h, Some("http://evil.example")).is_err());
        assert!(check(true, h, Some("http://localhost:3000")).is_err());
        assert!(check(true, h, Some("null")).is_err());
        assert!(check(true, Some("evil.example:8403"), None).is_err());
        assert!(check(true, None, None).is_err());
        // Bound to a LAN address with a token: any Host, still same-origin only.
        assert!(check(false, Some("10.0.0.5:8403"), None).is_ok());
        assert!(check(false, Some("10.0.0.5:8403"), Some("http://evil.example")).is_err());
    }
}
