//! Who may use the dashboard, as a pure function of the request's headers.
//!
//! Loopback is not a security boundary on its own: a web page on any site can make the browser
//! send a "simple" POST (`text/plain`, no preflight) to 127.0.0.1, and DNS rebinding can give a
//! foreign page the loopback address under its own name. So every dashboard request needs a
//! loopback `Host` (whatever address the bridge is bound to), and a request that changes
//! anything needs all of: `Content-Type: application/json` (not sendable cross-origin without a
//! CORS preflight, which the bridge never grants), an `Origin` that is exactly this server's, no
//! `Sec-Fetch-Site` other than `same-origin`, and the CSRF token embedded in the page at this
//! start. With a bridge token set, every API call but `session` and `login` also needs the
//! session cookie that `login` sets (or the token itself as a bearer, for scripts).

use axum::http::{HeaderMap, Method, StatusCode, header};

use crate::guard::{is_loopback_host, origin_allowed};
use crate::upstream::constant_time_eq;

/// The session cookie (`Path=/dashboard`, so the browser sends it nowhere else).
pub const COOKIE: &str = "aimux_dashboard";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-aimux-csrf";

/// The per-start secrets the checks compare against.
#[derive(Debug, Clone)]
pub struct Keys {
    /// Embedded in the page; required on every state-changing request.
    pub csrf: String,
    /// The bridge token, when the bridge has one.
    pub token: Option<String>,
    /// The cookie value `login` hands out (random per start, never the token itself).
    pub session: String,
}

/// What a request is, for the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The page and its assets.
    Page,
    /// `GET /dashboard/api/session`: whether a login is needed.
    Session,
    /// `POST /dashboard/api/login`.
    Login,
    /// Any other API read.
    Read,
    /// Any other API write.
    Write,
}

impl Kind {
    pub fn of(method: &Method, path: &str) -> Kind {
        let Some(api) = path.strip_prefix("/dashboard/api/") else {
            return Kind::Page;
        };
        let write = !matches!(*method, Method::GET | Method::HEAD);
        match (api, write) {
            ("session", false) => Kind::Session,
            ("login", true) => Kind::Login,
            (_, false) => Kind::Read,
            (_, true) => Kind::Write,
        }
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }
}

fn header(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().trim_matches('"'))
}

/// The session cookie or the bridge token as a bearer, when a token is set.
pub fn authenticated(headers: &HeaderMap, keys: &Keys) -> bool {
    let Some(token) = &keys.token else {
        return true;
    };
    if cookie(headers, COOKIE).is_some_and(|c| constant_time_eq(c, &keys.session)) {
        return true;
    }
    header(headers, header::AUTHORIZATION)
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .is_some_and(|t| constant_time_eq(t.trim(), token))
}

fn is_json(headers: &HeaderMap) -> bool {
    header(headers, header::CONTENT_TYPE).is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|e| e.trim().eq_ignore_ascii_case("application/json"))
    })
}

/// The checks every state change must pass (login included), in the order a browser attack
/// would hit them.
fn check_write(headers: &HeaderMap, keys: &Keys) -> Result<(), Refusal> {
    let host = header(headers, header::HOST);
    let origin = header(headers, header::ORIGIN);
    if origin.is_none() || !origin_allowed(origin, host) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            format!(
                "dashboard changes need this page's own Origin (got {:?})",
                origin.unwrap_or("none")
            ),
        ));
    }
    if let Some(site) = header(headers, "sec-fetch-site")
        && !site.eq_ignore_ascii_case("same-origin")
    {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            format!("refused a {site} request"),
        ));
    }
    if !is_json(headers) {
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "dashboard changes need `Content-Type: application/json`",
        ));
    }
    let csrf = header(headers, CSRF_HEADER);
    if !csrf.is_some_and(|c| constant_time_eq(c, &keys.csrf)) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "csrf_token_invalid",
            "missing or stale CSRF token: reload the dashboard",
        ));
    }
    Ok(())
}

/// The whole decision for one request.
pub fn check(kind: Kind, headers: &HeaderMap, keys: &Keys) -> Result<(), Refusal> {
    let host = header(headers, header::HOST);
    if !host.is_some_and(is_loopback_host) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            format!(
                "the dashboard answers only to a loopback Host (127.0.0.1, localhost, [::1]); got {:?}",
                host.unwrap_or("")
            ),
        ));
    }
    // A foreign Origin is refused on every request (the bridge's guard does the same).
    let origin = header(headers, header::ORIGIN);
    if !origin_allowed(origin, host) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            format!(
                "refused cross-origin request from {:?}",
                origin.unwrap_or("")
            ),
        ));
    }
    match kind {
        Kind::Page | Kind::Session => Ok(()),
        Kind::Login => check_write(headers, keys),
        Kind::Read => need_login(headers, keys),
        Kind::Write => {
            check_write(headers, keys)?;
            need_login(headers, keys)
        }
    }
}

fn need_login(headers: &HeaderMap, keys: &Keys) -> Result<(), Refusal> {
    if authenticated(headers, keys) {
        Ok(())
    } else {
        Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "login_required",
            "this bridge has a token: sign in to the dashboard with it",
        ))
    }
}

/// `Set-Cookie` for a signed-in browser: HttpOnly (no script reads it), SameSite=Strict (no
/// other site's request carries it), only for the dashboard's paths.
pub fn session_cookie(session: &str) -> String {
    format!("{COOKIE}={session}; Path=/dashboard; HttpOnly; SameSite=Strict")
}

/// `Set-Cookie` that drops the session.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// A fresh random secret (256 bits, hex).
pub fn fresh_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(token: Option<&str>) -> Keys {
        Keys {
            csrf: "csrf-1".into(),
            token: token.map(str::to_owned),
            session: "sess-1".into(),
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    const GOOD_WRITE: [(&str, &str); 4] = [
        ("host", "127.0.0.1:8403"),
        ("origin", "http://127.0.0.1:8403"),
        ("content-type", "application/json"),
        ("x-aimux-csrf", "csrf-1"),
    ];

    fn without(name: &str) -> Vec<(&'static str, &'static str)> {
        GOOD_WRITE
            .iter()
            .copied()
            .filter(|(k, _)| *k != name)
            .collect()
    }

    fn with(name: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
        let mut v = without(name);
        v.push((name, value));
        v
    }

    #[test]
    fn kinds() {
        let cases = [
            (Method::GET, "/dashboard", Kind::Page),
            (Method::GET, "/dashboard/assets/app.js", Kind::Page),
            (Method::GET, "/dashboard/api/session", Kind::Session),
            (Method::POST, "/dashboard/api/session", Kind::Write),
            (Method::POST, "/dashboard/api/login", Kind::Login),
            (Method::GET, "/dashboard/api/login", Kind::Read),
            (Method::GET, "/dashboard/api/usage", Kind::Read),
            (Method::HEAD, "/dashboard/api/usage", Kind::Read),
            (Method::POST, "/dashboard/api/websearch", Kind::Write),
            (Method::PUT, "/dashboard/api/model", Kind::Write),
        ];
        for (m, p, want) in cases {
            assert_eq!(Kind::of(&m, p), want, "{m} {p}");
        }
    }

    #[test]
    fn writes_need_origin_json_and_csrf() {
        let k = keys(None);
        assert_eq!(check(Kind::Write, &headers(&GOOD_WRITE), &k), Ok(()));
        let refused: [(Vec<(&str, &str)>, &str); 10] = [
            (without("origin"), "forbidden_origin"),
            (with("origin", "http://evil.example"), "forbidden_origin"),
            (with("origin", "null"), "forbidden_origin"),
            (with("origin", "http://localhost:8403"), "forbidden_origin"),
            (with("content-type", "text/plain"), "unsupported_media_type"),
            (without("content-type"), "unsupported_media_type"),
            (without("x-aimux-csrf"), "csrf_token_invalid"),
            (with("x-aimux-csrf", "csrf-2"), "csrf_token_invalid"),
            (with("host", "evil.example:8403"), "forbidden_host"),
            (without("host"), "forbidden_host"),
        ];
        for (h, code) in refused {
            let got = check(Kind::Write, &headers(&h), &k);
            assert_eq!(got.map_err(|r| r.code), Err(code), "{h:?}");
        }
        let mut cross = GOOD_WRITE.to_vec();
        cross.push(("sec-fetch-site", "cross-site"));
        assert_eq!(
            check(Kind::Write, &headers(&cross), &k).map_err(|r| r.code),
            Err("forbidden_origin")
        );
        let mut same = GOOD_WRITE.to_vec();
        same.push(("sec-fetch-site", "same-origin"));
        assert!(check(Kind::Write, &headers(&same), &k).is_ok());
        // `application/json; charset=utf-8` is JSON.
        let charset = with("content-type", "application/json; charset=utf-8");
        assert!(check(Kind::Write, &headers(&charset), &k).is_ok());
    }

    #[test]
    fn reads_and_pages() {
        let k = keys(None);
        let local = headers(&[("host", "localhost:8403")]);
        for kind in [Kind::Page, Kind::Session, Kind::Read] {
            assert!(check(kind, &local, &k).is_ok(), "{kind:?}");
            let rebinding = headers(&[("host", "attacker.example:8403")]);
            assert_eq!(
                check(kind, &rebinding, &k).map_err(|r| r.status),
                Err(StatusCode::FORBIDDEN)
            );
            let foreign = headers(&[("host", "localhost:8403"), ("origin", "http://x.example")]);
            assert!(check(kind, &foreign, &k).is_err());
        }
    }

    #[test]
    fn token_means_cookie_or_bearer() {
        let k = keys(Some("tok"));
        let read = |extra: &[(&str, &str)]| {
            let mut h = vec![("host", "127.0.0.1:8403")];
            h.extend_from_slice(extra);
            check(Kind::Read, &headers(&h), &k).map_err(|r| r.status)
        };
        assert_eq!(read(&[]), Err(StatusCode::UNAUTHORIZED));
        assert_eq!(read(&[("cookie", "aimux_dashboard=sess-1")]), Ok(()));
        assert_eq!(
            read(&[("cookie", "a=b; aimux_dashboard=sess-1; c=d")]),
            Ok(())
        );
        assert_eq!(
            read(&[("cookie", "aimux_dashboard=sess-2")]),
            Err(StatusCode::UNAUTHORIZED)
        );
        // The token is not a cookie value: only the session is.
        assert_eq!(
            read(&[("cookie", "aimux_dashboard=tok")]),
            Err(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(read(&[("authorization", "Bearer tok")]), Ok(()));
        assert_eq!(
            read(&[("authorization", "Bearer nope")]),
            Err(StatusCode::UNAUTHORIZED)
        );
        // The session endpoint and the page need no login; login needs the write checks only.
        let page = headers(&[("host", "127.0.0.1:8403")]);
        assert!(check(Kind::Session, &page, &k).is_ok());
        assert!(check(Kind::Page, &page, &k).is_ok());
        assert!(check(Kind::Login, &headers(&GOOD_WRITE), &k).is_ok());
        assert_eq!(
            check(Kind::Write, &headers(&GOOD_WRITE), &k).map_err(|r| r.code),
            Err("login_required")
        );
        let mut signed_in = GOOD_WRITE.to_vec();
        signed_in.push(("cookie", "aimux_dashboard=sess-1"));
        assert!(check(Kind::Write, &headers(&signed_in), &k).is_ok());
    }

    #[test]
    fn cookies() {
        let h = headers(&[("cookie", "x=1; aimux_dashboard=\"v\""), ("cookie", "y=2")]);
        assert_eq!(cookie(&h, COOKIE), Some("v"));
        assert_eq!(cookie(&h, "y"), Some("2"));
        assert_eq!(cookie(&h, "z"), None);
        let set = session_cookie("abc");
        for part in [
            "aimux_dashboard=abc",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/dashboard",
        ] {
            assert!(set.contains(part), "{set}");
        }
        assert!(clear_cookie().contains("Max-Age=0"));
        let (a, b) = (fresh_secret(), fresh_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
