//! The loopback dashboard at `/dashboard`, served by the bridge.
//!
//! One page (HTML, CSS and JS embedded from `templates/dashboard/`, nothing from a CDN) over a
//! small JSON API under `/dashboard/api/`:
//!
//! | route | what |
//! |---|---|
//! | `GET  /dashboard` | the page, with this start's CSRF token in a `<meta>` |
//! | `GET  /dashboard/assets/{app.js,app.css,icon.svg}` | its assets |
//! | `GET  /dashboard/api/session` | `{"auth_required","authenticated"}` |
//! | `POST /dashboard/api/login` `{"token"}` | checks the bridge token, sets the session cookie |
//! | `POST /dashboard/api/logout` | drops it |
//! | `GET  /dashboard/api/link` | bridge, proxy, providers and supervisor: health, uptime, versions |
//! | `GET  /dashboard/api/settings` | desktop mode, web search, the default model, the catalog |
//! | `GET  /dashboard/api/models` | the routable models for the picker |
//! | `GET  /dashboard/api/usage?days=7` | per day, per model, errors per provider |
//! | `GET  /dashboard/api/recent?limit=40` | the latest requests |
//! | `POST /dashboard/api/desktop` `{"on"}` | `aimux desktop on\|off` |
//! | `POST /dashboard/api/websearch` `{"on"}` | `aimux websearch on\|off` |
//! | `POST /dashboard/api/model` `{"model"}` | `aimux setup --model M`, then `desktop on` when it is on |
//! | `POST /dashboard/api/catalog` | `aimux gen-catalog` |
//!
//! Every switch runs the same function as its command ([`crate::commands`]), so the files end up
//! byte-for-byte as the CLI would leave them. Who may call what is decided in [`security`]; what
//! the page is sent never holds a secret ([`redact`] scrubs every message).

mod redact;
pub mod security;
pub mod view;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cli::SetupArgs;
use crate::codex_config::desktop::DesktopStatus;
use crate::codex_config::profile::{PROVIDER, catalog_path, profile_path};
use crate::codex_config::{self, get_str};
use crate::commands::{desktop, gen_catalog, setup, websearch};
use crate::proxy::usage::{self, UsageReader};
use crate::settings::{self, Env, FileConfig};
use crate::supervisor::health::{self, Health};
use redact::Redactor;
use security::{Keys, Kind};

const PAGE: &str = include_str!("../../templates/dashboard/index.html");
const APP_JS: &str = include_str!("../../templates/dashboard/app.js");
const APP_CSS: &str = include_str!("../../templates/dashboard/app.css");
const ICON: &str = include_str!("../../templates/dashboard/icon.svg");

/// The page may load only its own assets and talk only to its own origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What the bridge hands the dashboard at start.
#[derive(Clone)]
pub struct DashboardCtx {
    /// The bridge's environment (`CODEX_HOME`, `AIMUX_TOKEN`, `PATH` for `codex` ...).
    pub env: Env,
    /// `$AIMUX_HOME`: aimux's config, the usage store, the supervisor's state file.
    pub aimux_home: PathBuf,
    /// The bridge's upstream base URL (`http://127.0.0.1:8404/v1`): whose `/health` is shown.
    pub upstream: String,
    /// The bridge token, when it has one: then the dashboard asks for it once.
    pub token: Option<String>,
    /// Embedded in the page; every change must carry it. Fresh at each start.
    pub csrf: String,
}

/// Never prints the environment, the token or the CSRF token.
impl std::fmt::Debug for DashboardCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DashboardCtx")
            .field("aimux_home", &self.aimux_home)
            .field("upstream", &self.upstream)
            .field("token", &self.token.as_ref().map(|_| "[set]"))
            .finish_non_exhaustive()
    }
}

impl DashboardCtx {
    /// A context with a fresh CSRF token.
    pub fn new(env: Env, aimux_home: PathBuf, upstream: String, token: Option<String>) -> Self {
        DashboardCtx {
            env,
            aimux_home,
            upstream,
            token,
            csrf: security::fresh_secret(),
        }
    }
}

struct Inner {
    env: Env,
    home: PathBuf,
    upstream: String,
    keys: Keys,
    redactor: Redactor,
    started: Instant,
    http: reqwest::Client,
    /// One change at a time: two clicks never interleave their edits of the same file.
    writes: tokio::sync::Mutex<()>,
    usage: Mutex<Option<UsageReader>>,
}

type Shared = Arc<Inner>;

impl Inner {
    fn config_path(&self) -> PathBuf {
        self.home.join("config.toml")
    }

    fn load_file(&self) -> anyhow::Result<FileConfig> {
        settings::load_file(&self.config_path())
    }

    /// The usage store's reader, opened once the database exists.
    fn reader(&self) -> anyhow::Result<Option<UsageReader>> {
        let mut slot = self
            .usage
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.is_none() {
            *slot = UsageReader::open_existing(&self.home.join("usage.db"))?;
        }
        Ok(slot.clone())
    }

    fn scrub(&self, text: &str) -> String {
        let mut r = self.redactor.clone();
        r.add_files(&self.home);
        r.clean(text)
    }
}

/// The dashboard's routes, for the bridge to merge into its router (any state type: they carry
/// their own).
pub fn router<S: Clone + Send + Sync + 'static>(ctx: DashboardCtx) -> Router<S> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let redactor = Redactor::new(&ctx.env, &vars, ctx.token.as_deref());
    let shared: Shared = Arc::new(Inner {
        keys: Keys {
            csrf: ctx.csrf,
            token: ctx.token,
            session: security::fresh_secret(),
        },
        env: ctx.env,
        home: ctx.aimux_home,
        upstream: ctx.upstream,
        redactor,
        started: Instant::now(),
        http: health::client(),
        writes: tokio::sync::Mutex::new(()),
        usage: Mutex::new(None),
    });
    Router::new()
        .route("/dashboard", get(page))
        .route("/dashboard/", get(page))
        .route("/dashboard/assets/{file}", get(asset))
        .route("/dashboard/api/session", get(session))
        .route("/dashboard/api/login", post(login))
        .route("/dashboard/api/logout", post(logout))
        .route("/dashboard/api/link", get(link))
        .route("/dashboard/api/settings", get(settings_view))
        .route("/dashboard/api/models", get(models))
        .route("/dashboard/api/usage", get(usage_view))
        .route("/dashboard/api/recent", get(recent))
        .route("/dashboard/api/desktop", post(switch_desktop))
        .route("/dashboard/api/websearch", post(switch_websearch))
        .route("/dashboard/api/model", post(set_model))
        .route("/dashboard/api/catalog", post(update_models))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

// ---- the gate and the responses ----

async fn gate(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let kind = Kind::of(req.method(), req.uri().path());
    let mut response = match security::check(kind, req.headers(), &s.keys) {
        Ok(()) => next.run(req).await,
        Err(r) => error(r.status, r.code, &r.message),
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CONTENT_SECURITY_POLICY, CSP),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"message": message, "code": code}})),
    )
        .into_response()
}

/// An action's failure: the user's (400) or aimux's (500), scrubbed.
fn failure(s: &Inner, e: &anyhow::Error) -> Response {
    let user = crate::error::exit_code(e) == 1;
    let status = if user {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    error(
        status,
        if user { "invalid_request" } else { "internal" },
        &s.scrub(&format!("{e:#}")),
    )
}

fn done(s: &Inner, lines: &[String]) -> Response {
    let messages: Vec<String> = lines
        .iter()
        .map(|l| s.scrub(l.trim()))
        .filter(|l| !l.is_empty())
        .collect();
    axum::Json(json!({"ok": true, "messages": messages})).into_response()
}

fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, serde_json::Error> {
    serde_json::from_slice(bytes)
}

fn bad_body(e: &serde_json::Error) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        &format!("invalid request body: {e}"),
    )
}

/// Runs blocking work (SQLite, files, process checks) off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| anyhow::anyhow!("a dashboard task failed: {e}"))?
}

// ---- the page ----

async fn page(State(s): State<Shared>) -> Response {
    let html = PAGE
        .replace("{{csrf}}", &s.keys.csrf)
        .replace("{{version}}", env!("CARGO_PKG_VERSION"));
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (ct, text) = match file.as_str() {
        "app.js" => ("text/javascript; charset=utf-8", APP_JS),
        "app.css" => ("text/css; charset=utf-8", APP_CSS),
        "icon.svg" => ("image/svg+xml", ICON),
        _ => return error(StatusCode::NOT_FOUND, "not_found", "no such asset"),
    };
    ([(header::CONTENT_TYPE, ct)], text).into_response()
}

// ---- session ----

async fn session(State(s): State<Shared>, headers: HeaderMap) -> Response {
    axum::Json(json!({
        "auth_required": s.keys.token.is_some(),
        "authenticated": security::authenticated(&headers, &s.keys),
    }))
    .into_response()
}

#[derive(Deserialize)]
struct Login {
    token: String,
}

async fn login(State(s): State<Shared>, bytes: Bytes) -> Response {
    let login: Login = match body(&bytes) {
        Ok(l) => l,
        Err(e) => return bad_body(&e),
    };
    let Some(token) = &s.keys.token else {
        return axum::Json(json!({"ok": true})).into_response();
    };
    if !crate::upstream::constant_time_eq(login.token.trim(), token) {
        // Slows down guessing from a local process.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        return error(
            StatusCode::FORBIDDEN,
            "invalid_token",
            "that is not this bridge's token",
        );
    }
    (
        [(
            header::SET_COOKIE,
            security::session_cookie(&s.keys.session),
        )],
        axum::Json(json!({"ok": true})),
    )
        .into_response()
}

async fn logout() -> Response {
    (
        [(header::SET_COOKIE, security::clear_cookie())],
        axum::Json(json!({"ok": true})),
    )
        .into_response()
}

// ---- the link ----

async fn link(State(s): State<Shared>) -> Response {
    let proxy_health = health::health(&s.http, &s.upstream, None).await;
    let (proxy, listed) = match &proxy_health {
        Health::Ok(v) => (
            json!({
                "status": "ok",
                "service": v.get("service"),
                "version": v.get("version"),
                "uptime_s": v.get("uptime_s"),
            }),
            v.get("providers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        ),
        Health::Answered(code) => (json!({"status": "answering", "http_status": code}), vec![]),
        Health::Unreachable(e) => (json!({"status": "unreachable", "error": e}), vec![]),
    };
    let home = s.home.clone();
    let reader = s.reader();
    let now = usage::now_ms();
    let traffic = blocking(move || {
        let (models, recent) = match reader? {
            Some(r) => (r.by_model(1, now)?, r.recent(200)?),
            None => (Vec::new(), Vec::new()),
        };
        Ok((models, recent, supervisor(&home)))
    })
    .await;
    let (models, recent, supervisor) = match traffic {
        Ok(t) => t,
        Err(e) => return failure(&s, &e),
    };
    let mut body = json!({
        "now_ms": now,
        "bridge": {
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_s": s.started.elapsed().as_secs(),
            "pid": std::process::id(),
            "upstream": s.upstream,
            "token": s.keys.token.is_some(),
        },
        "proxy": proxy,
        "providers": view::providers(&listed, &models, &recent),
        "supervisor": supervisor,
    });
    body["proxy"]["url"] = json!(s.upstream.trim_end_matches("/v1"));
    axum::Json(body).into_response()
}

/// The supervisor's state file, when `aimux start` runs (or ran) this link.
fn supervisor(home: &Path) -> Value {
    use crate::supervisor::procs::{self, Identity};
    use crate::supervisor::state::{State as RunState, unix_now};
    let paths = crate::supervisor::Paths::new(home);
    let Ok(Some(state)) = RunState::read(&paths.state()) else {
        return Value::Null;
    };
    let alive = procs::check(&state.supervisor) == Identity::Same;
    let child = |c: &crate::supervisor::state::ChildState| json!({"phase": c.phase, "restarts": c.restarts, "requests": c.requests, "since": c.since});
    json!({
        "running": alive,
        "status": if alive { json!(state.status) } else { json!("stale") },
        "pid": state.supervisor.pid,
        "detached": state.detached,
        "started_at": state.started_at,
        "uptime_s": alive.then(|| unix_now().saturating_sub(state.started_at)),
        "restarts": state.proxy.restarts + state.bridge.restarts,
        "requests": state.proxy.requests.max(state.bridge.requests),
        "proxy": child(&state.proxy),
        "bridge": child(&state.bridge),
    })
}

// ---- settings ----

fn section(s: &Inner, result: anyhow::Result<Value>) -> Value {
    result.unwrap_or_else(|e| json!({"error": s.scrub(&format!("{e:#}"))}))
}

fn settings_json(s: &Inner) -> Value {
    let config_path = s.config_path();
    let codex_home = codex_config::codex_home(&s.env);
    let desktop = desktop::current(&s.env, &s.home).map(|c| {
        let (status, modified) = match &c.status {
            DesktopStatus::Off => ("off", Vec::new()),
            DesktopStatus::On => ("on", Vec::new()),
            DesktopStatus::Modified(keys) => ("modified", keys.clone()),
        };
        json!({
            "on": status != "off",
            "status": status,
            "modified_keys": modified,
            "config": c.config,
            "since": c.since,
            "model": c.model,
            "foreign_aimux": c.foreign_aimux,
        })
    });
    let web = websearch::status(&s.env, &config_path).map(|w| {
        json!({
            "on": w.enabled,
            "profile": w.profile,
            "codex_mode": w.codex_mode,
        })
    });
    let profile = codex_home
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("cannot find Codex's home: set CODEX_HOME (or HOME)"))
        .and_then(|h| {
            let path = profile_path(h);
            let loaded = codex_config::read(&path)?;
            let url = get_str(
                &loaded.doc,
                &["model_providers", PROVIDER, "model_catalog_url"],
            );
            Ok(json!({
                "path": path,
                "exists": loaded.exists,
                "model": get_str(&loaded.doc, &["model"]),
                "catalog_from": if url.is_some() { "url" } else { "file" },
            }))
        });
    let catalog = codex_home.as_deref().map(|h| {
        let path = catalog_path(h);
        let meta = std::fs::metadata(&path).ok();
        let models = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["models"].as_array().map(Vec::len));
        let modified_ms = meta
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64);
        json!({"path": path, "exists": models.is_some(), "models": models, "modified_ms": modified_ms})
    });
    json!({
        "aimux_config": config_path,
        "codex_home": codex_home,
        "desktop": section(s, desktop),
        "websearch": section(s, web),
        "profile": section(s, profile),
        "catalog": catalog,
    })
}

async fn settings_view(State(s): State<Shared>) -> Response {
    let shared = Arc::clone(&s);
    match blocking(move || Ok(settings_json(&shared))).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => failure(&s, &e),
    }
}

async fn models(State(s): State<Shared>) -> Response {
    let file = match s.load_file() {
        Ok(f) => f,
        Err(e) => return failure(&s, &e),
    };
    match gen_catalog::build_catalog(&s.env, &file, &s.config_path(), &s.home).await {
        Ok((catalog, source)) => axum::Json(json!({
            "live": source.is_live(),
            "source": source.describe(),
            "models": view::picker(&catalog),
        }))
        .into_response(),
        Err(e) => failure(&s, &e),
    }
}

// ---- usage ----

#[derive(Deserialize)]
struct Days {
    days: Option<u32>,
}

async fn usage_view(State(s): State<Shared>, Query(q): Query<Days>) -> Response {
    let days = q.days.unwrap_or(7).clamp(1, 90);
    let reader = s.reader();
    let now = usage::now_ms();
    let result = blocking(move || {
        Ok(match reader? {
            Some(r) => (
                true,
                r.daily(days, now)?,
                r.by_model(days, now)?,
                r.errors_by_provider(days, now)?,
            ),
            None => (false, Vec::new(), Vec::new(), Vec::new()),
        })
    })
    .await;
    let (recording, daily, models, errors) = match result {
        Ok(r) => r,
        Err(e) => return failure(&s, &e),
    };
    let errors: Vec<Value> = view::errors_by_provider(&errors)
        .into_iter()
        .map(|(provider, errors, codes)| json!({"provider": provider, "errors": errors, "codes": codes}))
        .collect();
    axum::Json(json!({
        "recording": recording,
        "days": view::fill_days(&daily, days, now),
        "totals": usage::UsageTotals::sum(&daily),
        "models": models,
        "errors": errors,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct Limit {
    limit: Option<u32>,
}

async fn recent(State(s): State<Shared>, Query(q): Query<Limit>) -> Response {
    let limit = q.limit.unwrap_or(40).clamp(1, 500);
    let reader = s.reader();
    let result = blocking(move || match reader? {
        Some(r) => r.recent(limit),
        None => Ok(Vec::new()),
    })
    .await;
    match result {
        Ok(rows) => {
            axum::Json(json!({"requests": rows, "now_ms": usage::now_ms()})).into_response()
        }
        Err(e) => failure(&s, &e),
    }
}

// ---- the switches: the CLI's own functions ----

#[derive(Deserialize)]
struct Switch {
    on: bool,
}

async fn switch_desktop(State(s): State<Shared>, bytes: Bytes) -> Response {
    let Switch { on } = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return bad_body(&e),
    };
    let _one = s.writes.lock().await;
    let result = if on {
        match s.load_file() {
            Ok(file) => desktop::on(&s.env, &file, &s.config_path(), &s.home).await,
            Err(e) => Err(e),
        }
    } else {
        desktop::off(&s.env, &s.home)
    };
    match result {
        Ok(lines) => done(&s, &lines),
        Err(e) => failure(&s, &e),
    }
}

async fn switch_websearch(State(s): State<Shared>, bytes: Bytes) -> Response {
    let Switch { on } = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return bad_body(&e),
    };
    let _one = s.writes.lock().await;
    match websearch::switch(on, &s.env, &s.config_path(), &s.home) {
        Ok(lines) => done(&s, &lines),
        Err(e) => failure(&s, &e),
    }
}

#[derive(Deserialize)]
struct Model {
    model: String,
}

async fn set_model(State(s): State<Shared>, bytes: Bytes) -> Response {
    let Model { model } = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return bad_body(&e),
    };
    let model = model.trim().to_owned();
    if model.is_empty() {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "no model given");
    }
    let _one = s.writes.lock().await;
    match pick_model(&s, model).await {
        Ok(lines) => done(&s, &lines),
        Err(e) => failure(&s, &e),
    }
}

/// `aimux setup --model M` writes the profile; with desktop mode on, `aimux desktop on` then
/// carries the profile's model into config.toml.
async fn pick_model(s: &Inner, model: String) -> anyhow::Result<Vec<String>> {
    let file = s.load_file()?;
    let config_path = s.config_path();
    let args = SetupArgs {
        model: Some(model),
        catalog: None,
    };
    let mut lines = setup::configure(args, &s.env, &file, &config_path, &s.home)
        .await?
        .lines;
    if desktop::current(&s.env, &s.home)?.status != DesktopStatus::Off {
        lines.extend(desktop::on(&s.env, &file, &config_path, &s.home).await?);
    }
    Ok(lines)
}

async fn update_models(State(s): State<Shared>) -> Response {
    let _one = s.writes.lock().await;
    let result = match s.load_file() {
        Ok(file) => gen_catalog::update(&s.env, &file, &s.config_path(), &s.home).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(lines) => done(&s, &lines),
        Err(e) => failure(&s, &e),
    }
}
