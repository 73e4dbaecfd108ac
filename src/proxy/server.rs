//! The proxy's HTTP surface: `POST /v1/chat/completions` routed by model with fallback before
//! the first byte, `GET /v1/models` aggregated over providers, `GET /health`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::backend::{Backend, BackendEvent};
use super::codex_exec::CodexRequest;
use super::config::{AgentFile, RouteTarget, Wire};
use super::gate::{SseGate, error_event};
use super::registry::{Provider, ProviderKind, Registry};
use super::render::{ChunkWriter, completion};
use super::router::{Plan, Router as ModelRouter, Target};
use super::usage::UsageRecord;
use crate::api_error::ApiError;
use crate::bridge::translate::UpstreamError;
use crate::bridge::translate::chat::{TRANSLATED_HEADER, parse_chunk};
use crate::secret;
use crate::serve::ThreadClient;
use crate::upstream::{
    body_or_error, constant_time_eq, not_found, secs, stream_error, transport_error, unix_millis,
    unix_secs,
};

/// A provider's whole-request timeout when its `timeout_s` is unset (non-streamed requests).
const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(600);

const MODELS_TTL: Duration = Duration::from_secs(60);

/// Where usage records go (the usage store's recorder); never blocks.
pub type UsageSink = Arc<dyn Fn(UsageRecord) + Send + Sync>;

pub struct ProxyOptions {
    pub routes: BTreeMap<String, RouteTarget>,
    pub agents: BTreeMap<String, AgentFile>,
    /// Accepted from the bridge in `x-aimux-internal`.
    pub secret: String,
    /// Accepted from any client as `Authorization: Bearer`.
    pub token: Option<String>,
    /// Extra attempts on the last candidate for 429/5xx/connection errors.
    pub retries: u32,
    pub first_byte_timeout: Duration,
    /// How long a started answer may go without a byte.
    pub idle_timeout: Duration,
    pub connect_timeout: Duration,
    pub codex: Option<Arc<dyn Backend>>,
    pub usage: Option<UsageSink>,
    /// Where `POST /v1/aimux/search` sends queries; `Err` says why search is unavailable.
    pub websearch: Result<crate::websearch::Provider, String>,
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
}

pub struct ProxyState {
    registry: RwLock<Arc<Registry>>,
    opts: ProxyOptions,
    client: ThreadClient,
    started: Instant,
    models_cache: Mutex<Option<(Instant, Value)>>,
}

impl ProxyState {
    pub fn new(registry: Registry, opts: ProxyOptions) -> anyhow::Result<Self> {
        let connect_timeout = opts.connect_timeout;
        let client = ThreadClient::new(move || {
            crate::upstream::client_builder()
                .connect_timeout(connect_timeout)
                .tcp_nodelay(true)
                .pool_idle_timeout(Duration::from_secs(90))
        })?;
        Ok(ProxyState {
            registry: RwLock::new(Arc::new(registry)),
            opts,
            client,
            started: Instant::now(),
            models_cache: Mutex::new(None),
        })
    }

    pub fn registry(&self) -> Arc<Registry> {
        match self.registry.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Probes the local presets (Ollama, LM Studio, vLLM, llama.cpp, ...) and adds those that
    /// answer. Runs in the background after the proxy is already serving.
    pub async fn detect_local(&self) {
        let candidates = self.registry().local_candidates.clone();
        let probes = candidates.into_iter().map(|(name, preset)| async move {
            let url = format!("{}/models", preset.base_url);
            let resp = self
                .client
                .get()
                .get(&url)
                .timeout(Duration::from_millis(800))
                .send()
                .await
                .ok()?;
            let body: Value = resp.json().await.ok()?;
            let ids: Vec<String> = body["data"]
                .as_array()?
                .iter()
                .filter_map(|m| m["id"].as_str().map(str::to_owned))
                .collect();
            Some((name, preset, ids))
        });
        let found: Vec<_> = futures_util::future::join_all(probes)
            .await
            .into_iter()
            .flatten()
            .collect();
        if found.is_empty() {
            return;
        }
        let mut reg = (*self.registry()).clone();
        for (name, preset, ids) in found {
            tracing::info!(
                "detected local {name} at {} ({} models)",
                preset.base_url,
                ids.len()
            );
            reg.add_detected(&name, preset, ids);
        }
        if let Ok(mut slot) = self.registry.write() {
            *slot = Arc::new(reg);
        }
    }
}

pub fn app(state: Arc<ProxyState>, loopback_only: bool) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/responses", post(responses_api))
        .route("/v1/models", get(models))
        .route("/v1/aimux/search", post(web_search))
        .route("/health", get(health))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.opts.max_body))
        .layer(axum::middleware::from_fn_with_state(
            loopback_only,
            crate::guard::guard,
        ))
        .with_state(state)
}

/// An authorized caller.
struct Caller {
    /// The name usage is recorded under: "bridge", or the client's user agent.
    name: String,
    /// Whether it is the bridge, proved by the internal secret (a token client may call
    /// itself anything).
    bridge: bool,
}

/// Who is calling: the bridge (internal secret) or a client with the token. Anything else is
/// refused, so another local process cannot spend the user's keys through this port.
fn authorize(state: &ProxyState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    if let Some(s) = headers.get(secret::HEADER).and_then(|v| v.to_str().ok())
        && constant_time_eq(s, &state.opts.secret)
    {
        return Ok(Caller {
            name: "bridge".to_owned(),
            bridge: true,
        });
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (&state.opts.token, bearer) {
        (Some(token), Some(b)) if constant_time_eq(b.trim(), token) => Ok(Caller {
            name: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .and_then(|ua| ua.split('/').next())
                .unwrap_or("client")
                .to_owned(),
            bridge: false,
        }),
        (Some(_), Some(_)) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            Some("invalid_api_key"),
            "the bearer token does not match AIMUX_TOKEN",
        )),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("missing_api_key"),
            "the aimux proxy only serves the aimux bridge (internal secret) or clients with \
             `Authorization: Bearer <AIMUX_TOKEN>`; point your tool at the bridge instead",
        )),
    }
}

fn error_with_route(e: ApiError, route: Option<&str>) -> Response {
    let mut r = e.into_response();
    if let Some(route) = route.and_then(|v| HeaderValue::from_str(v).ok()) {
        r.headers_mut().insert("x-aimux-route", route);
    }
    r
}

struct Ctx {
    started: Instant,
    client: String,
    requested: String,
    stream: bool,
}

/// A request body's top level: each value is the client's JSON text, borrowed from the body
/// (a multi-megabyte history is neither rebuilt nor copied) unless an agent replaced it.
type RawMap<'a> = BTreeMap<String, Cow<'a, RawValue>>;

/// Parses the top level of a request body, borrowing the values.
fn parse_top_level(body: &[u8]) -> serde_json::Result<RawMap<'_>> {
    let borrowed: BTreeMap<String, &RawValue> = serde_json::from_slice(body)?;
    Ok(borrowed
        .into_iter()
        .map(|(k, v)| (k, Cow::Borrowed(v)))
        .collect())
}

/// A request body that is not JSON (or not an object).
fn invalid_body(e: &serde_json::Error) -> ApiError {
    ApiError::invalid_request(format!("invalid request body: {e}"))
}

/// A top-level string field.
fn raw_str(raw: &RawMap, key: &str) -> Option<String> {
    raw.get(key)
        .and_then(|v| serde_json::from_str::<String>(v.get()).ok())
}

/// A request body as the proxy forwards it.
enum Payload<'a> {
    /// Parsed at the top level (and perhaps edited).
    Parsed(RawMap<'a>),
    /// A Chat request the bridge wrote ([`TRANSLATED_HEADER`]), read only as far as
    /// its leading `model` and `stream`: `rest` is the body from the comma after the model on.
    Bridged { body: &'a [u8], rest: &'a [u8] },
}

impl<'a> Payload<'a> {
    /// The top level, parsed now if it was not.
    fn parsed(&self) -> serde_json::Result<Cow<'_, RawMap<'a>>> {
        match self {
            Payload::Parsed(raw) => Ok(Cow::Borrowed(raw)),
            Payload::Bridged { body, .. } => parse_top_level(body).map(Cow::Owned),
        }
    }

    /// The body to send, with `model` as the provider's.
    fn with_model(&self, model: &RawValue) -> serde_json::Result<Vec<u8>> {
        match self {
            Payload::Parsed(raw) => WithModel { raw, model }.to_vec(),
            Payload::Bridged { rest, .. } => {
                let mut out = Vec::with_capacity(MODEL_KEY.len() + model.get().len() + rest.len());
                out.extend_from_slice(MODEL_KEY);
                out.extend_from_slice(model.get().as_bytes());
                out.extend_from_slice(rest);
                Ok(out)
            }
        }
    }
}

const MODEL_KEY: &[u8] = br#"{"model":"#;

/// What the proxy reads of a request the bridge wrote.
#[derive(Debug, PartialEq)]
struct BridgedHead<'a> {
    model: String,
    stream: bool,
    rest: &'a [u8],
}

/// The leading `"model"` and `"stream"` of a Chat request body as the bridge writes it (those
/// two fields first, no space between tokens but before the model's value, which changes nothing:
/// `ChatRequest`), or `None` for any other shape, which is then parsed.
/// Parsing the rest, often megabytes of history the bridge has just written from its own types,
/// would only repeat the bridge's work; the provider reads it in any case.
fn bridged_head(body: &[u8]) -> Option<BridgedHead<'_>> {
    let after_key = body.strip_prefix(MODEL_KEY)?;
    let mut values = serde_json::Deserializer::from_slice(after_key).into_iter::<String>();
    let model = values.next()?.ok()?;
    let rest = &after_key[values.byte_offset()..];
    let flag = rest.strip_prefix(br#","stream":"#)?;
    let stream = if flag.starts_with(b"true,") {
        true
    } else if flag.starts_with(b"false,") {
        false
    } else {
        return None;
    };
    Some(BridgedHead {
        model,
        stream,
        rest,
    })
}

/// A request body with its `model` replaced.
struct WithModel<'a> {
    raw: &'a RawMap<'a>,
    model: &'a RawValue,
}

impl WithModel<'_> {
    /// The body as JSON, written into one buffer sized for it (escapes in keys aside).
    fn to_vec(&self) -> serde_json::Result<Vec<u8>> {
        // Each entry is its key, its value and four bytes of quotes, colon and comma.
        let len: usize = self
            .raw
            .iter()
            .map(|(k, v)| k.len() + v.get().len() + 4)
            .sum();
        let mut out = Vec::with_capacity(len + self.model.get().len() + 16);
        serde_json::to_writer(&mut out, self)?;
        Ok(out)
    }
}

impl serde::Serialize for WithModel<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("model", self.model)?;
        for (k, v) in self.raw.iter().filter(|(k, _)| *k != "model") {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

fn raw_json<T: serde::Serialize>(v: &T) -> Box<RawValue> {
    // Serializing a String/Value/number cannot fail.
    serde_json::value::to_raw_value(v).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// Which API a request speaks; a provider is tried only for the one it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Chat,
    Responses,
}

impl Api {
    fn wire(self) -> Wire {
        match self {
            Api::Chat => Wire::Chat,
            Api::Responses => Wire::Responses,
        }
    }
}

async fn chat_completions(
    State(state): State<Arc<ProxyState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let len = body.as_ref().map_or(0, Bytes::len);
    crate::memory::release_after(len, serve_api(state, headers, body, Api::Chat).await)
}

/// `POST /v1/responses` for providers that speak only the Responses API (`wire = "responses"`),
/// passed through unchanged; the bridge sends Codex's requests here when the proxy says so.
async fn responses_api(
    State(state): State<Arc<ProxyState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let len = body.as_ref().map_or(0, Bytes::len);
    crate::memory::release_after(len, serve_api(state, headers, body, Api::Responses).await)
}

async fn serve_api(
    state: Arc<ProxyState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    api: Api,
) -> Response {
    let started = Instant::now();
    let caller = match authorize(&state, &headers) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let body = match body_or_error(body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    // Requests the bridge wrote itself are read only as far as their leading `model` and
    // `stream`; anything else (a client's body the bridge passed on included) has its top level
    // parsed. Either way a multi-megabyte history is forwarded without being rebuilt.
    let translated = caller.bridge && headers.contains_key(TRANSLATED_HEADER);
    let bridged = translated.then(|| bridged_head(&body)).flatten();
    let (requested, stream, mut payload) = match bridged {
        Some(head) => {
            let payload = Payload::Bridged {
                body: &body,
                rest: head.rest,
            };
            (head.model, head.stream, payload)
        }
        None => {
            let raw = match parse_top_level(&body) {
                Ok(m) => m,
                Err(e) => {
                    return invalid_body(&e).into_response();
                }
            };
            let Some(requested) = raw_str(&raw, "model") else {
                return ApiError::invalid_request("`model` is required")
                    .with_param(Some("model"))
                    .into_response();
            };
            let stream = raw
                .get("stream")
                .and_then(|v| serde_json::from_str::<bool>(v.get()).ok())
                .unwrap_or(false);
            (requested, stream, Payload::Parsed(raw))
        }
    };
    let agent_header = headers.get("x-aimux-agent").and_then(|v| v.to_str().ok());

    let registry = state.registry();
    let router = ModelRouter {
        registry: &registry,
        routes: &state.opts.routes,
        agents: &state.opts.agents,
    };
    let mut plan = match router.plan(&requested, agent_header) {
        Ok(p) => p,
        Err(e) => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            return ApiError::new(status, "invalid_request_error", Some(e.code), e.message)
                .into_response();
        }
    };
    let first = plan
        .targets
        .first()
        .map(|t| (t.provider.name.clone(), t.provider.wire));
    plan.targets.retain(|t| t.provider.wire == api.wire());
    if plan.targets.is_empty() {
        let (provider, _) = first.unwrap_or_default();
        let (code, message) = match api {
            Api::Chat => (
                WRONG_API_RESPONSES,
                format!(
                    "model {requested:?} is served by provider {provider}, which speaks only the \
                     Responses API: send it to /v1/responses (the aimux bridge does this for you)"
                ),
            ),
            Api::Responses => (
                "use_chat_completions",
                format!(
                    "model {requested:?} is served by provider {provider}, which speaks Chat \
                     Completions: send it to /v1/chat/completions (the aimux bridge translates)"
                ),
            ),
        };
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some(code),
            message,
        )
        .into_response();
    }
    // An agent edits the request and the codex backend reads its messages: parsed once, here.
    let codex = plan
        .targets
        .iter()
        .any(|t| matches!(t.provider.kind, ProviderKind::Codex));
    if plan.agent.is_some() || codex {
        let mut raw = match payload.parsed() {
            Ok(raw) => raw.into_owned(),
            Err(e) => {
                return invalid_body(&e).into_response();
            }
        };
        if let Some((_, agent)) = &plan.agent {
            let applied = match api {
                Api::Chat => apply_agent(&mut raw, agent),
                Api::Responses => apply_agent_instructions(&mut raw, agent),
            };
            if let Err(e) = applied {
                return e.into_response();
            }
        }
        payload = Payload::Parsed(raw);
    }
    let session = headers
        .get("x-aimux-session")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ctx = Ctx {
        started,
        client: caller.name,
        requested,
        stream,
    };
    route(&state, plan, payload, ctx, session, api).await
}

/// The code of the 400 that tells the bridge to pass a Responses request through.
pub const WRONG_API_RESPONSES: &str = "use_responses_api";

/// An agent's system prompt for a Responses request: ahead of the client's `instructions`.
fn apply_agent_instructions(raw: &mut RawMap<'_>, agent: &AgentFile) -> Result<(), ApiError> {
    if let Some(system) = &agent.system {
        let theirs: Option<String> = raw
            .get("instructions")
            .and_then(|v| serde_json::from_str(v.get()).ok());
        let joined = match theirs {
            Some(t) if !t.is_empty() => format!("{system}\n\n{t}"),
            _ => system.clone(),
        };
        raw.insert("instructions".into(), Cow::Owned(raw_json(&joined)));
    }
    Ok(())
}

/// An agent's system prompt goes first (merged with the client's own system message, since some
/// providers accept only one), and its defaults fill what the client left unset.
fn apply_agent(raw: &mut RawMap<'_>, agent: &AgentFile) -> Result<(), ApiError> {
    if let Some(system) = &agent.system {
        let mut messages: Vec<Value> = match raw.get("messages") {
            Some(m) => serde_json::from_str(m.get())
                .map_err(|e| ApiError::invalid_request(format!("invalid `messages`: {e}")))?,
            None => Vec::new(),
        };
        match messages.first_mut() {
            Some(first) if first["role"] == "system" && first["content"].is_string() => {
                let theirs = first["content"].as_str().unwrap_or_default();
                first["content"] = json!(format!("{system}\n\n{theirs}"));
            }
            _ => messages.insert(0, json!({"role": "system", "content": system})),
        }
        raw.insert("messages".into(), Cow::Owned(raw_json(&messages)));
    }
    let defaults: [(&str, Option<Value>); 3] = [
        ("temperature", agent.temperature.map(|v| json!(v))),
        ("max_tokens", agent.max_tokens.map(|v| json!(v))),
        (
            "reasoning_effort",
            agent.reasoning_effort.as_ref().map(|v| json!(v)),
        ),
    ];
    for (key, value) in defaults {
        if let Some(v) = value
            && !raw.contains_key(key)
        {
            raw.insert(key.into(), Cow::Owned(raw_json(&v)));
        }
    }
    Ok(())
}

/// How one attempt at one target ended.
enum Attempt {
    /// The answer started (a first byte is on its way): no fallback after this.
    Committed(Response),
    /// A definitive answer to pass on (a 4xx from the provider).
    Final(Response),
    /// Failed before any byte: try again or fall over. `retry` is false for errors that another
    /// attempt at the same target cannot fix (a missing key).
    Failed { error: UpstreamError, retry: bool },
}

fn backoff(attempt: u32, retry_after: Option<&str>) -> Option<Duration> {
    match retry_after.and_then(|v| v.trim().parse::<f64>().ok()) {
        // Honour the provider's wait when it is short; a long one goes back to the client.
        Some(secs) if secs <= 30.0 => Some(Duration::from_secs_f64(secs.max(0.0))),
        Some(_) => None,
        None => Some(Duration::from_millis(250u64 << attempt.min(5))),
    }
}

async fn route(
    state: &ProxyState,
    plan: Plan,
    payload: Payload<'_>,
    ctx: Ctx,
    session: Option<String>,
    api: Api,
) -> Response {
    let mut last: Option<(UpstreamError, Target)> = None;
    let n = plan.targets.len();
    for (i, target) in plan.targets.into_iter().enumerate() {
        let attempts = if i + 1 == n {
            state.opts.retries + 1
        } else {
            1
        };
        for attempt in 0..attempts {
            let outcome = match &target.provider.kind {
                ProviderKind::Codex => {
                    attempt_codex(state, &target, &payload, &ctx, session.clone()).await
                }
                ProviderKind::Http { .. } => {
                    attempt_http(state, &target, &payload, &ctx, api).await
                }
            };
            match outcome {
                Attempt::Committed(r) | Attempt::Final(r) => return r,
                Attempt::Failed { error, retry } => {
                    tracing::warn!(route = %target.route(), code = %error.code, "attempt failed: {}", error.message);
                    let wait = if retry && attempt + 1 < attempts {
                        backoff(attempt, error.retry_after.as_deref())
                    } else {
                        None
                    };
                    last = Some((error, target.clone()));
                    match wait {
                        Some(d) => tokio::time::sleep(d).await,
                        None => break,
                    }
                }
            }
        }
    }
    let Some((error, target)) = last else {
        return ApiError::new(
            StatusCode::BAD_GATEWAY,
            "server_error",
            Some("no_route"),
            "no provider to try",
        )
        .into_response();
    };
    ctx.record(
        state,
        Some(&target),
        error.status,
        None,
        None,
        Some(&error.code),
    );
    error_with_route(ApiError::from(&error), Some(&target.route()))
}

fn scrub(text: &str, provider: &Provider) -> String {
    match provider.secret() {
        Some(s) if !s.expose().is_empty() => text.replace(s.expose(), "[redacted]"),
        _ => text.to_owned(),
    }
}

fn committed_headers(r: &mut Response, target: &Target, overhead: Duration) {
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&target.route()) {
        h.insert("x-aimux-route", v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{:.2}", overhead.as_secs_f64() * 1000.0)) {
        h.insert("x-aimux-overhead-ms", v);
    }
}

async fn attempt_http(
    state: &ProxyState,
    target: &Target,
    payload: &Payload<'_>,
    ctx: &Ctx,
    api: Api,
) -> Attempt {
    let ProviderKind::Http {
        key,
        key_source,
        key_required,
        timeout,
        outbound,
        ..
    } = &target.provider.kind
    else {
        return Attempt::Failed {
            error: UpstreamError::invalid_stream("not an HTTP provider"),
            retry: false,
        };
    };
    // Requests that cannot be sent as configured: the provider's own fault, not retried on it.
    let refused = |code: &str, message: String| Attempt::Failed {
        error: UpstreamError {
            status: 400,
            kind: "invalid_request_error".into(),
            code: code.into(),
            message,
            retry_after: None,
        },
        retry: false,
    };
    if *key_required && key.is_none() {
        let hint = match key_source {
            Some(var) => format!(
                "set {var} or add [{}] api_key to credentials.toml",
                target.provider.name
            ),
            None => format!("add [{}] api_key to credentials.toml", target.provider.name),
        };
        let message = format!("provider {} has no API key: {hint}", target.provider.name);
        return refused("missing_api_key", message);
    }
    if let Some(problem) = &outbound.problem {
        return refused("invalid_provider_config", problem.clone());
    }
    let model = raw_json(&target.model);
    let body = match payload.with_model(&model) {
        Ok(b) => b,
        Err(e) => return Attempt::Final(ApiError::invalid_request(e.to_string()).into_response()),
    };
    let url = match api {
        Api::Chat => &outbound.chat_url,
        Api::Responses => &outbound.responses_url,
    };
    let req = state
        .client
        .get()
        .post(url.clone())
        .headers(outbound.headers.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, crate::upstream::accept(ctx.stream))
        .body(body);
    let overhead = ctx.started.elapsed();
    let route = target.route();
    let whole_wait = timeout.unwrap_or(DEFAULT_PROVIDER_TIMEOUT);
    let whole_by = tokio::time::Instant::now() + whole_wait;
    let whole_error = || {
        UpstreamError::timed_out(format!(
            "upstream {route} timed out: no complete answer after {} ([providers.{}] timeout_s)",
            secs(whole_wait),
            target.provider.name
        ))
    };
    let (wait, wait_error) = if ctx.stream {
        let error = UpstreamError::timed_out(format!(
            "upstream {route} timed out waiting for the first byte after {} ([proxy] \
             first_byte_timeout_s)",
            secs(state.opts.first_byte_timeout)
        ));
        (state.opts.first_byte_timeout, error)
    } else {
        (whole_wait, whole_error())
    };
    let idle = state.opts.idle_timeout;
    let first = tokio::time::timeout(wait, async {
        let mut resp = req
            .send()
            .await
            .map_err(|e| transport_error(url.as_str(), &e))?;
        if !resp.status().is_success() {
            return Ok((resp, None));
        }
        match resp.chunk().await {
            Ok(Some(first)) => Ok((resp, Some(first))),
            Ok(None) => Err(UpstreamError::invalid_stream("empty response body")),
            Err(e) => Err(stream_error(&route, &e)),
        }
    })
    .await;
    let (resp, first) = match first {
        Err(_) => {
            return Attempt::Failed {
                error: wait_error,
                retry: true,
            };
        }
        Ok(Err(error)) => return Attempt::Failed { error, retry: true },
        Ok(Ok(pair)) => pair,
    };
    let status = resp.status().as_u16();
    let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
    let Some(first) = first else {
        let retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = scrub(&resp.text().await.unwrap_or_default(), &target.provider);
        if status == 429 || status == 408 || status >= 500 {
            return Attempt::Failed {
                error: UpstreamError::from_status(status, &text, retry_after),
                retry: true,
            };
        }
        // A 4xx is the client's to see, as the provider wrote it.
        ctx.record(
            state,
            Some(target),
            status,
            None,
            None,
            Some("upstream_rejected"),
        );
        let mut r = Response::builder().status(status);
        if let Some(ct) = content_type {
            r = r.header(header::CONTENT_TYPE, ct);
        }
        let mut r = r
            .body(Body::from(text))
            .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response());
        committed_headers(&mut r, target, overhead);
        return Attempt::Final(r);
    };
    let ttft = ctx.started.elapsed().as_millis() as u64;
    let is_sse = content_type
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("text/event-stream"));
    let mut r = Response::builder().status(status);
    if let Some(ct) = content_type {
        r = r.header(header::CONTENT_TYPE, ct);
    }
    if !is_sse {
        // A whole answer: read all of it and check it is JSON before anything is sent, so a
        // broken one can still fail over and the client gets a clear status.
        let mut body = first.to_vec();
        let mut upstream = resp;
        loop {
            let by = whole_by.min(tokio::time::Instant::now() + idle);
            match tokio::time::timeout_at(by, upstream.chunk()).await {
                Ok(Ok(Some(bytes))) => body.extend_from_slice(&bytes),
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    return Attempt::Failed {
                        error: stream_error(&route, &e),
                        retry: true,
                    };
                }
                Err(_) => {
                    let error = if tokio::time::Instant::now() >= whole_by {
                        whole_error()
                    } else {
                        stalled(&route, idle)
                    };
                    return Attempt::Failed { error, retry: true };
                }
            }
        }
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
            return Attempt::Failed {
                error: UpstreamError::invalid_json(&format!("upstream {route}"), &e, &body),
                retry: true,
            };
        }
        let usage = usage_of(&body);
        ctx.record(
            state,
            Some(target),
            status,
            Some(ttft),
            usage.as_ref(),
            None,
        );
        let mut r = r
            .body(Body::from(body))
            .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response());
        committed_headers(&mut r, target, overhead);
        return Attempt::Committed(r);
    }
    let chat = api == Api::Chat;
    let mut tap = Tap {
        state_usage: state.opts.usage.clone(),
        record: Some((ctx.snapshot(), target.clone(), status, ttft)),
        gate: SseGate::new(chat),
        error: Some("client_disconnected"),
    };
    let mut upstream = resp.bytes_stream();
    let broken_error = |route: &str, broken: super::gate::Broken| UpstreamError {
        status: 502,
        kind: "server_error".into(),
        code: broken.code.into(),
        message: format!("upstream {route} {}", broken.detail),
        retry_after: None,
    };
    let body = async_stream::stream! {
        let mut next = Some(first);
        loop {
            let bytes = match next.take() {
                Some(bytes) => bytes,
                None => match tokio::time::timeout(idle, upstream.next()).await {
                    Ok(Some(Ok(bytes))) => bytes,
                    Ok(None) => {
                        match tap.gate.finish() {
                            Ok(rest) => {
                                if !rest.is_empty() {
                                    yield Ok::<Bytes, std::io::Error>(rest);
                                }
                                tap.finished();
                            }
                            Err((rest, broken)) => {
                                if !rest.is_empty() {
                                    yield Ok(rest);
                                }
                                tap.failed(broken.code);
                                yield Ok(error_event(chat, &broken_error(&route, broken)));
                            }
                        }
                        break;
                    }
                    Ok(Some(Err(e))) => {
                        let error = stream_error(&route, &e);
                        tracing::warn!("{}", error.message);
                        tap.failed("upstream_stream_error");
                        yield Ok(error_event(chat, &error));
                        break;
                    }
                    Err(_) => {
                        let error = stalled(&route, idle);
                        tracing::warn!("{}", error.message);
                        tap.failed("upstream_timeout");
                        yield Ok(error_event(chat, &error));
                        break;
                    }
                },
            };
            match tap.gate.push(bytes) {
                Ok(out) => {
                    if !out.is_empty() {
                        yield Ok(out);
                    }
                }
                Err((out, broken)) => {
                    if !out.is_empty() {
                        yield Ok(out);
                    }
                    tap.failed(broken.code);
                    let error = broken_error(&route, broken);
                    tracing::warn!("{}", error.message);
                    yield Ok(error_event(chat, &error));
                    break;
                }
            }
        }
    };
    let mut r = r
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response());
    committed_headers(&mut r, target, overhead);
    Attempt::Committed(r)
}

/// The error for a started answer that went `idle` without a byte.
fn stalled(route: &str, idle: Duration) -> UpstreamError {
    UpstreamError::timed_out(format!(
        "upstream {route} stalled mid-answer: no data for {} ([proxy] idle_timeout_s)",
        secs(idle)
    ))
}

/// Watches a passed-through stream (through its [`SseGate`], which also picks up the usage), and
/// records the request when the body is done (or dropped because the client left).
struct Tap {
    state_usage: Option<UsageSink>,
    record: Option<(CtxSnapshot, Target, u16, u64)>,
    gate: SseGate,
    error: Option<&'static str>,
}

impl Tap {
    /// The body reached its end: the request succeeded unless the stream broke.
    fn finished(&mut self) {
        if self.error == Some("client_disconnected") {
            self.error = None;
        }
    }

    fn failed(&mut self, code: &'static str) {
        self.error = Some(code);
    }
}

/// The usage in a Chat chunk or completion, or in a Responses event or object
/// (`input_tokens`/`output_tokens` under `response`, or at the top of a Response object).
pub(super) fn usage_of(data: &[u8]) -> Option<crate::bridge::translate::chat::Usage> {
    use crate::bridge::translate::chat::Usage;
    if let Ok(chunk) = parse_chunk(data)
        && chunk
            .usage
            .as_ref()
            .is_some_and(|u| u.prompt_tokens + u.completion_tokens > 0)
    {
        return chunk.usage.map(|u| *u);
    }
    let v: Value = serde_json::from_slice(data).ok()?;
    let u = v.get("response").map_or(&v["usage"], |r| &r["usage"]);
    let input = u["input_tokens"].as_u64()?;
    let output = u["output_tokens"].as_u64().unwrap_or(0);
    let mut usage = Usage::from_counts(
        input,
        u["input_tokens_details"]["cached_tokens"].as_u64(),
        output,
        u["output_tokens_details"]["reasoning_tokens"].as_u64(),
    );
    usage.total_tokens = u["total_tokens"].as_u64().or(usage.total_tokens);
    Some(usage)
}

impl Drop for Tap {
    fn drop(&mut self) {
        let (Some(sink), Some((snap, target, status, ttft))) =
            (self.state_usage.take(), self.record.take())
        else {
            return;
        };
        snap.record(
            &sink,
            Some(&target),
            status,
            Some(ttft),
            self.gate.usage.as_ref(),
            self.error,
        );
    }
}

/// What a finished request needs from its context, detached from the handler.
struct CtxSnapshot {
    started: Instant,
    client: String,
    requested: String,
}

impl Ctx {
    fn snapshot(&self) -> CtxSnapshot {
        CtxSnapshot {
            started: self.started,
            client: self.client.clone(),
            requested: self.requested.clone(),
        }
    }

    fn record(
        &self,
        state: &ProxyState,
        target: Option<&Target>,
        status: u16,
        ttft: Option<u64>,
        usage: Option<&crate::bridge::translate::chat::Usage>,
        error: Option<&str>,
    ) {
        if let Some(sink) = &state.opts.usage {
            self.snapshot()
                .record(sink, target, status, ttft, usage, error);
        }
    }
}

impl CtxSnapshot {
    fn record(
        &self,
        sink: &UsageSink,
        target: Option<&Target>,
        status: u16,
        ttft: Option<u64>,
        usage: Option<&crate::bridge::translate::chat::Usage>,
        error: Option<&str>,
    ) {
        let t = usage.map(|u| u.tokens()).unwrap_or_default();
        let (input, cached, output, reasoning) = (t.input, t.cached, t.output, t.reasoning);
        let cost = target
            .and_then(|t| t.provider.model_info(&t.model))
            .and_then(|m| m.cost(input, cached, output));
        sink(UsageRecord {
            ts_ms: unix_millis() - self.started.elapsed().as_millis() as i64,
            client: self.client.clone(),
            requested_model: self.requested.clone(),
            provider: target.map(|t| t.provider.name.clone()).unwrap_or_default(),
            model: target.map(|t| t.model.clone()).unwrap_or_default(),
            status,
            latency_ms: self.started.elapsed().as_millis() as u64,
            ttft_ms: ttft,
            input_tokens: input,
            cached_tokens: cached,
            output_tokens: output,
            reasoning_tokens: reasoning,
            cost_usd: cost,
            error_code: error.map(str::to_owned),
        });
    }
}

async fn attempt_codex(
    state: &ProxyState,
    target: &Target,
    payload: &Payload<'_>,
    ctx: &Ctx,
    session: Option<String>,
) -> Attempt {
    let Some(backend) = &state.opts.codex else {
        return Attempt::Failed {
            error: UpstreamError {
                status: 400,
                kind: "invalid_request_error".into(),
                code: "codex_unavailable".into(),
                message:
                    "the codex backend is off: install the Codex CLI and run `codex login`, or set \
                          [codex] enabled = true"
                        .into(),
                retry_after: None,
            },
            retry: false,
        };
    };
    let raw = match payload.parsed() {
        Ok(raw) => raw,
        Err(e) => {
            return Attempt::Final(invalid_body(&e).into_response());
        }
    };
    // The conversation: the client's header, else the request's `user`.
    let session = session.or_else(|| raw_str(&raw, "user"));
    let messages: Vec<Value> = match raw.get("messages").map(|m| serde_json::from_str(m.get())) {
        Some(Ok(m)) => m,
        Some(Err(e)) => {
            return Attempt::Final(
                ApiError::invalid_request(format!("invalid `messages`: {e}")).into_response(),
            );
        }
        None => {
            return Attempt::Final(
                ApiError::invalid_request("`messages` is required").into_response(),
            );
        }
    };
    let request = CodexRequest {
        model: (!target.model.is_empty()).then(|| target.model.clone()),
        messages,
        session,
        reasoning_effort: raw
            .get("reasoning_effort")
            .and_then(|v| serde_json::from_str(v.get()).ok()),
    };
    let overhead = ctx.started.elapsed();
    let mut rx = match backend.start(request).await {
        Ok(rx) => rx,
        Err(error) => {
            let retry = error.status == 429 || error.status >= 500;
            return Attempt::Failed { error, retry };
        }
    };
    let first = match tokio::time::timeout(
        state.opts.first_byte_timeout.max(Duration::from_secs(300)),
        rx.recv(),
    )
    .await
    {
        Err(_) => {
            return Attempt::Failed {
                error: UpstreamError::timeout("codex exec"),
                retry: false,
            };
        }
        Ok(None) => {
            return Attempt::Failed {
                error: UpstreamError::truncated(),
                retry: false,
            };
        }
        Ok(Some(BackendEvent::Error(error))) => {
            return Attempt::Failed {
                error,
                retry: false,
            };
        }
        Ok(Some(event)) => event,
    };
    let ttft = ctx.started.elapsed().as_millis() as u64;
    let id = crate::upstream::new_id("chatcmpl-");
    let model = target.route();
    let created = unix_secs();
    if !ctx.stream {
        let mut events = vec![first];
        while let Some(e) = rx.recv().await {
            if let BackendEvent::Error(error) = e {
                ctx.record(
                    state,
                    Some(target),
                    error.status,
                    Some(ttft),
                    None,
                    Some(&error.code),
                );
                return Attempt::Final(error_with_route(
                    ApiError::from(&error),
                    Some(&target.route()),
                ));
            }
            events.push(e);
        }
        let body = completion(&id, &model, created, &events);
        let usage: Option<crate::bridge::translate::chat::Usage> =
            serde_json::from_value(body["usage"].clone()).ok();
        ctx.record(state, Some(target), 200, Some(ttft), usage.as_ref(), None);
        let mut r = axum::Json(body).into_response();
        committed_headers(&mut r, target, overhead);
        return Attempt::Final(r);
    }
    let mut writer = ChunkWriter::new(id, model, created);
    let snap = ctx.snapshot();
    let sink = state.opts.usage.clone();
    let target_owned = target.clone();
    let body = async_stream::stream! {
        let mut usage = None;
        let mut error = None;
        let mut event = Some(first);
        while let Some(e) = event.take() {
            match &e {
                BackendEvent::Usage(u) => {
                    usage = Some(crate::bridge::translate::chat::Usage::from_counts(
                        u.input,
                        Some(u.cached_input),
                        u.output,
                        Some(u.reasoning),
                    ));
                }
                BackendEvent::Error(err) => error = Some(err.code.clone()),
                _ => {}
            }
            yield Ok::<Bytes, Infallible>(Bytes::from(writer.event(&e)));
            event = rx.recv().await;
        }
        if let Some(sink) = &sink {
            snap.record(sink, Some(&target_owned), 200, Some(ttft), usage.as_ref(), error.as_deref());
        }
    };
    let mut r = Response::new(Body::from_stream(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    committed_headers(&mut r, target, overhead);
    Attempt::Committed(r)
}

// ---- /v1/models ----

pub fn model_entry(provider: &Provider, id: &str) -> Value {
    let info = provider.model_info(id);
    let mut v = json!({
        "id": format!("{}/{id}", provider.name),
        "object": "model",
        "created": 0,
        "owned_by": provider.name,
    });
    if let Some(info) = info {
        if let Some(ctx) = info.context {
            v["context_window"] = json!(ctx);
        }
        v["input_modalities"] = if info.vision {
            json!(["text", "image"])
        } else {
            json!(["text"])
        };
        v["reasoning"] = json!(info.reasoning);
        if let Some([input, cached, output]) = info.price {
            v["pricing"] = json!({"input": input, "cached_input": cached, "output": output, "unit": "USD per 1M tokens"});
        }
    }
    v
}

async fn fetch_live(state: &ProxyState, provider: &Provider) -> Option<Vec<String>> {
    let ProviderKind::Http { outbound, .. } = &provider.kind else {
        return None;
    };
    if outbound.problem.is_some() {
        return None;
    }
    let req = state
        .client
        .get()
        .get(outbound.models_url.clone())
        .headers(outbound.headers.clone())
        .timeout(Duration::from_secs(3));
    let resp = req.send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let body: Value = resp.json().await.ok()?;
    Some(
        body["data"]
            .as_array()?
            .iter()
            .filter_map(|m| m["id"].as_str().map(str::to_owned))
            .collect(),
    )
}

/// Every routable model: live `/models` where the provider has it, preset metadata otherwise,
/// then routes and agents.
async fn aggregate_models(state: &ProxyState) -> Value {
    if let Ok(cache) = state.models_cache.lock()
        && let Some((at, v)) = cache.as_ref()
        && at.elapsed() < MODELS_TTL
    {
        return v.clone();
    }
    let registry = state.registry();
    let providers: Vec<Arc<Provider>> = registry.providers().cloned().collect();
    let lives = futures_util::future::join_all(providers.iter().map(|p| async move {
        if p.live_models {
            fetch_live(state, p).await
        } else {
            None
        }
    }))
    .await;
    let mut data = Vec::new();
    for (p, live) in providers.iter().zip(lives) {
        if p.is_codex() {
            data.push(json!({"id": "codex", "object": "model", "created": 0, "owned_by": "codex"}));
            continue;
        }
        if let Some(ids) = &live
            && let Ok(mut slot) = p.live.write()
        {
            slot.clone_from(ids);
        }
        let mut ids: Vec<String> = p.models.iter().map(|m| m.id.clone()).collect();
        for id in live.unwrap_or_default() {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        data.extend(ids.iter().map(|id| model_entry(p, id)));
    }
    for (name, target) in &state.opts.routes {
        data.push(json!({"id": name, "object": "model", "created": 0, "owned_by": "aimux", "route": target.targets()}));
    }
    for (name, agent) in &state.opts.agents {
        data.push(json!({"id": format!("aimux:{name}"), "object": "model", "created": 0, "owned_by": "aimux", "agent": agent.model}));
    }
    let v = json!({"object": "list", "data": data});
    if let Ok(mut cache) = state.models_cache.lock() {
        *cache = Some((Instant::now(), v.clone()));
    }
    v
}

async fn models(State(state): State<Arc<ProxyState>>, headers: HeaderMap) -> Response {
    if let Err(e) = authorize(&state, &headers) {
        return e.into_response();
    }
    axum::Json(aggregate_models(&state).await).into_response()
}

/// Runs a web search for the bridge (which holds no keys): `{"query", "count"}` →
/// `{"results": [{title, url, date, snippet}]}`.
async fn web_search(
    State(state): State<Arc<ProxyState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(e) = authorize(&state, &headers) {
        return e.into_response();
    }
    let body = match body_or_error(body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    #[derive(serde::Deserialize)]
    struct Query {
        query: String,
        count: Option<u32>,
    }
    let q: Query = match serde_json::from_slice(&body) {
        Ok(q) => q,
        Err(e) => {
            return ApiError::invalid_request(format!("invalid search request: {e}"))
                .into_response();
        }
    };
    let provider = match &state.opts.websearch {
        Ok(p) => p,
        Err(why) => {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                Some("websearch_unavailable"),
                why.clone(),
            )
            .into_response();
        }
    };
    let count = q.count.unwrap_or(crate::websearch::DEFAULT_COUNT);
    match crate::websearch::search(&state.client.get(), provider, &q.query, count).await {
        Ok(results) => axum::Json(json!({"query": q.query, "results": results})).into_response(),
        Err(e) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "server_error",
            Some("websearch_failed"),
            e,
        )
        .into_response(),
    }
}

async fn health(State(state): State<Arc<ProxyState>>) -> Response {
    let reg = state.registry();
    let providers: Vec<Value> = reg
        .providers()
        .map(|p| json!({"name": p.name, "origin": format!("{:?}", p.origin).to_lowercase()}))
        .collect();
    axum::Json(json!({
        "status": "ok",
        "service": "aimux-proxy",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": state.started.elapsed().as_secs(),
        "providers": providers,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn usage_from_chat_and_responses_shapes() {
        type Want = Option<(u64, u64, Option<u64>)>;
        let cases: &[(&str, Want)] = &[
            (
                r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
                Some((5, 2, None)),
            ),
            (
                r#"{"type":"response.completed","response":{"id":"r","usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":3,"total_tokens":13}}}"#,
                Some((10, 3, Some(4))),
            ),
            (
                r#"{"object":"response","usage":{"input_tokens":7,"output_tokens":1}}"#,
                Some((7, 1, None)),
            ),
            (
                r#"{"type":"response.output_text.delta","delta":"usage"}"#,
                None,
            ),
        ];
        for (data, want) in cases {
            let got = super::usage_of(data.as_bytes()).map(|u| {
                let cached = u.prompt_tokens_details.and_then(|d| d.cached_tokens);
                (u.prompt_tokens, u.completion_tokens, cached)
            });
            assert_eq!(got, *want, "{data}");
        }
    }

    #[test]
    fn with_model_replaces_only_the_model() {
        use super::{WithModel, parse_top_level, raw_json};
        use serde_json::{Value, json};
        let body = br#"{"model":"a/m","stream":true,"messages":[{"role":"user","content":"hi \"x\""}],"z":null}"#;
        let raw = parse_top_level(body).unwrap();
        let model = raw_json(&"m");
        let written = WithModel {
            raw: &raw,
            model: &model,
        }
        .to_vec()
        .unwrap();
        assert!(written.len() <= written.capacity() && written.capacity() <= body.len() + 32);
        let out: Value = serde_json::from_slice(&written).unwrap();
        assert_eq!(
            out,
            json!({"model":"m","stream":true,"messages":[{"role":"user","content":"hi \"x\""}],"z":null})
        );
    }

    /// The bridge's Chat requests, written the way the bridge writes them.
    fn bridge_bodies() -> Vec<Vec<u8>> {
        use crate::bridge::translate::translate_request;
        use serde_json::json;
        let requests = [
            json!({"model":"deepseek/deepseek-chat","stream":true,"instructions":"be \"brief\"",
                   "input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi\n"}]}],
                   "tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],
                   "user":"u1","reasoning":{"effort":"high"}}),
            json!({"model":"m\u{e9}\\\"","input":"hi"}),
        ];
        requests
            .iter()
            .map(|r| {
                let parsed = serde_json::from_str(&r.to_string()).unwrap();
                serde_json::to_vec(&translate_request(parsed).unwrap().chat).unwrap()
            })
            .collect()
    }

    /// The bridge's requests are read only as far as `model` and `stream`, and what the provider
    /// receives is what a full parse would have sent.
    #[test]
    fn bridge_requests_are_forwarded_as_a_full_parse_would() {
        use super::{Payload, bridged_head, parse_top_level, raw_json};
        use serde_json::Value;
        let bodies = bridge_bodies();
        let model = raw_json(&"provider-model");
        for (body, (want_model, want_stream)) in bodies
            .iter()
            .zip([("deepseek/deepseek-chat", true), ("m\u{e9}\\\"", false)])
        {
            let text = String::from_utf8_lossy(body);
            let head = bridged_head(body).unwrap_or_else(|| panic!("not read as bridged: {text}"));
            assert_eq!(
                (head.model.as_str(), head.stream),
                (want_model, want_stream)
            );
            let bridged = Payload::Bridged {
                body,
                rest: head.rest,
            }
            .with_model(&model)
            .unwrap();
            let parsed = Payload::Parsed(parse_top_level(body).unwrap())
                .with_model(&model)
                .unwrap();
            let (bridged, parsed): (Value, Value) = (
                serde_json::from_slice(&bridged).unwrap(),
                serde_json::from_slice(&parsed).unwrap(),
            );
            assert_eq!(bridged, parsed, "{text}");
            assert_eq!(bridged["model"], "provider-model");
        }
    }

    /// Any other shape is parsed instead: a body is read as the bridge's only when it starts
    /// exactly as `ChatRequest` is written.
    #[test]
    fn only_the_bridges_exact_shape_skips_the_parse() {
        use super::bridged_head;
        let accepted: &[(&str, &str, bool)] = &[
            (r#"{"model":"m","stream":true,"messages":[]}"#, "m", true),
            (r#"{"model":"m","stream":false,"messages":[]}"#, "m", false),
            (
                r#"{"model":"a\"b\u00e9","stream":false,"x":1}"#,
                "a\"bé",
                false,
            ),
            // Space before the model's value changes nothing of what is forwarded.
            (r#"{"model": "m","stream":true,"messages":[]}"#, "m", true),
        ];
        for (body, model, stream) in accepted {
            let head = bridged_head(body.as_bytes()).unwrap_or_else(|| panic!("{body}"));
            assert_eq!(
                (head.model.as_str(), head.stream),
                (*model, *stream),
                "{body}"
            );
            assert!(head.rest.starts_with(b",\"stream\":"), "{body}");
        }
        for body in [
            r#"{"stream":true,"model":"m","messages":[]}"#,
            r#"{ "model":"m","stream":true,"messages":[]}"#,
            r#"{"model":"m", "stream":true,"messages":[]}"#,
            r#"{"model":"m","messages":[],"stream":true}"#,
            r#"{"model":"m","stream":"true","messages":[]}"#,
            r#"{"model":"m","stream":truex,"messages":[]}"#,
            r#"{"model":"m","stream":true}"#,
            r#"{"model":1,"stream":true,"messages":[]}"#,
            r#"{"model":"m\x","stream":true,"messages":[]}"#,
            r#"{"model":"m"#,
            r#"{"model":"m","stream":nul"#,
            "",
        ] {
            assert_eq!(bridged_head(body.as_bytes()), None, "{body}");
        }
    }
}
