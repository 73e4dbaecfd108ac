//! The bridge's HTTP surface: `app()` builds the router (testable without a socket);
//! [`crate::serve`] runs it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde_json::json;

use super::translate::chat::{ChatRequest, TRANSLATED_HEADER};
use super::translate::{
    Outcome, RoundTurn, StreamTranslator, TranslateOptions, UpstreamError, WEB_SEARCH_FUNCTION,
    translate_request_with,
};
use crate::api_error::ApiError;
use crate::proxy::server::WRONG_API_RESPONSES;
use crate::serve::ThreadClient;
use crate::sse::SseDecoder;
use crate::upstream::{
    accept, body_or_error, constant_time_eq, not_found, secs, stream_error, transport_error,
    unix_secs,
};

/// A refusal (401, 404, 400 ...) normally arrives well within this; waiting for it lets the
/// client get a real HTTP error. Codex's idle timer (300 s by default) is far longer.
const COMMIT_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct BridgeState {
    client: ThreadClient,
    upstream: String,
    /// Parsed once: reqwest would parse a string on every request.
    chat_url: reqwest::Url,
    models_url: String,
    token: Option<String>,
    heartbeat: Duration,
    /// How long a streamed request waits for the upstream's answer before committing to a 200
    /// stream (after which errors can only be `response.failed`).
    commit_wait: Duration,
    started: Instant,
    /// Bridge-executed web search, when on.
    web_search: Option<WebSearchMode>,
    /// Result text per query, so searches in a conversation's history need not run again.
    search_cache: Mutex<HashMap<String, String>>,
    /// Models the proxy said are served by Responses-API providers: passed through untranslated.
    responses_models: Mutex<std::collections::HashSet<String>>,
    /// The loopback dashboard at `/dashboard`, when this bridge serves it.
    dashboard: Option<crate::dashboard::DashboardCtx>,
    /// Largest request body accepted, in bytes.
    max_body: usize,
    /// How long an upstream request may go without its first body byte.
    first_byte_timeout: Duration,
    /// How long a started answer may go without a byte.
    idle_timeout: Duration,
    /// Whether the upstream is a local aimux proxy (it gets the internal secret).
    to_proxy: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct WebSearchMode {
    /// Search rounds one response may take before the model must answer.
    pub max_rounds: u32,
}

/// Queries remembered before the cache starts over.
const SEARCH_CACHE_MAX: usize = 512;

impl BridgeState {
    /// `upstream` is a Chat Completions base URL (normalized by [`normalize_upstream`]).
    pub fn new(
        upstream: &str,
        token: Option<String>,
        heartbeat: Duration,
        internal_secret: Option<String>,
    ) -> anyhow::Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        let to_proxy = internal_secret.is_some();
        if let Some(secret) = internal_secret {
            headers.insert(
                crate::secret::HEADER,
                reqwest::header::HeaderValue::from_str(&secret)?,
            );
        }
        let client = ThreadClient::new(move || {
            crate::upstream::client_builder()
                .default_headers(headers.clone())
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(Duration::from_secs(600))
                .tcp_nodelay(true)
                .pool_idle_timeout(Duration::from_secs(90))
        })?;
        Ok(BridgeState {
            client,
            upstream: upstream.to_owned(),
            chat_url: reqwest::Url::parse(&format!("{upstream}/chat/completions"))?,
            models_url: format!("{upstream}/models"),
            token,
            heartbeat,
            commit_wait: heartbeat.max(COMMIT_WAIT),
            started: Instant::now(),
            web_search: None,
            search_cache: Mutex::new(HashMap::new()),
            responses_models: Mutex::new(std::collections::HashSet::new()),
            max_body: crate::settings::max_body_bytes(None),
            first_byte_timeout: crate::settings::DEFAULT_FIRST_BYTE_TIMEOUT,
            idle_timeout: crate::settings::DEFAULT_IDLE_TIMEOUT,
            dashboard: None,
            to_proxy,
        })
    }

    /// Turns on bridge-executed web search (the proxy at `upstream` runs the queries).
    pub fn with_web_search(mut self, mode: WebSearchMode) -> Self {
        self.web_search = Some(mode);
        self
    }

    /// Serves the dashboard at `/dashboard` (see [`crate::dashboard`]).
    pub fn with_dashboard(mut self, ctx: crate::dashboard::DashboardCtx) -> Self {
        self.dashboard = Some(ctx);
        self
    }

    /// Sets the largest request body accepted.
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Sets the first-byte and mid-stream idle timeouts.
    pub fn with_timeouts(mut self, first_byte: Duration, idle: Duration) -> Self {
        self.first_byte_timeout = first_byte;
        self.idle_timeout = idle;
        self
    }

    fn first_byte_error(&self) -> UpstreamError {
        UpstreamError::timed_out(format!(
            "upstream timed out waiting for the first byte after {} ([bridge] \
             first_byte_timeout_s)",
            secs(self.first_byte_timeout)
        ))
    }

    fn idle_error(&self) -> UpstreamError {
        UpstreamError::timed_out(format!(
            "upstream stalled mid-answer: no data for {} ([bridge] idle_timeout_s)",
            secs(self.idle_timeout)
        ))
    }

    /// The upstream request for a Chat request the bridge translated: marked as its own writing
    /// ([`TRANSLATED_HEADER`]) for an aimux proxy, which then reads no more of it than it needs.
    fn post_translated(&self, body: Vec<u8>, stream: bool) -> reqwest::RequestBuilder {
        let request = self
            .client
            .get()
            .post(self.chat_url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, accept(stream));
        let request = if self.to_proxy {
            request.header(TRANSLATED_HEADER, "1")
        } else {
            request
        };
        request.body(body)
    }

    fn speaks_responses(&self, model: &str) -> bool {
        self.responses_models
            .lock()
            .is_ok_and(|m| m.contains(model))
    }

    fn remember_responses_model(&self, model: &str) {
        if let Ok(mut m) = self.responses_models.lock() {
            m.insert(model.to_owned());
        }
    }

    fn cached_search(&self, query: &str) -> Option<String> {
        self.search_cache.lock().ok()?.get(query).cloned()
    }

    fn remember_search(&self, query: &str, text: &str) {
        if let Ok(mut cache) = self.search_cache.lock() {
            if cache.len() >= SEARCH_CACHE_MAX {
                cache.clear();
            }
            cache.insert(query.to_owned(), text.to_owned());
        }
    }
}

/// A base URL as users paste it: `http://host:port`, `.../v1`, or the full
/// `.../v1/chat/completions`. Returns the base without a trailing slash; a URL with no path gets
/// `/v1`.
pub fn normalize_upstream(raw: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| format!("invalid upstream URL {raw:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("upstream URL {raw:?} must be http:// or https://"));
    }
    let mut s = url.as_str().trim_end_matches('/').to_owned();
    for suffix in ["/chat/completions", "/responses"] {
        if let Some(stripped) = s.strip_suffix(suffix) {
            s = stripped.to_owned();
        }
    }
    if url.path() == "/" || url.path().is_empty() {
        s.push_str("/v1");
    }
    Ok(s)
}

/// The router; `loopback_only` turns on the `Host` check (see [`crate::guard`]).
pub fn app(state: Arc<BridgeState>, loopback_only: bool) -> Router {
    Router::new()
        .route(
            "/v1/responses",
            post(responses).get(responses_other).head(responses_other),
        )
        .route(
            "/responses",
            post(responses).get(responses_other).head(responses_other),
        )
        .route("/v1/chat/completions", post(chat_completions))
        .route("/chat/completions", post(chat_completions))
        .route("/v1/models", get(models))
        .route("/models", get(models))
        .route("/v1/aimux/catalog", get(catalog))
        .route("/health", get(health))
        .merge(
            state
                .dashboard
                .clone()
                .map(crate::dashboard::router)
                .unwrap_or_default(),
        )
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.max_body))
        .layer(axum::middleware::from_fn_with_state(
            loopback_only,
            crate::guard::guard,
        ))
        .with_state(state)
}

// ---- auth and request checks ----

fn check_auth(state: &BridgeState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = &state.token else {
        return Ok(());
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match presented {
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("missing_api_key"),
            "this aimux bridge requires a token: send `Authorization: Bearer <AIMUX_TOKEN>`",
        )),
        Some(p) if constant_time_eq(p, token) => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            Some("invalid_api_key"),
            "the bearer token does not match this aimux bridge's token",
        )),
    }
}

fn check_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            Some("unsupported_media_type"),
            format!("request body must be JSON with `Content-Type: application/json` (got {ct:?})"),
        ))
    }
}

// ---- /v1/responses ----

async fn responses(
    State(state): State<Arc<BridgeState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body_or_error(body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let len = body.len();
    let response = match responses_inner(state, headers, body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    };
    crate::memory::release_after(len, response)
}

async fn responses_inner(
    state: Arc<BridgeState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    check_auth(&state, &headers)?;
    check_json(&headers)?;
    let request: super::translate::responses::ResponsesRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid_request(format!("invalid request body: {e}")))?;
    let stream = request.stream;
    let model = request.model.clone();
    if state.speaks_responses(&model) {
        return Ok(responses_passthrough(&state, body, stream).await);
    }
    let mut opts = TranslateOptions {
        web_search: state.web_search.is_some(),
        ..TranslateOptions::default()
    };
    if opts.web_search {
        opts.search_results = past_searches(&state, request.input.web_search_queries()).await;
    }
    let translated = translate_request_with(request, &opts)
        .map_err(|e| ApiError::invalid_request(e.message.clone()).with_param(e.param))?;
    // The Chat request is about as long as the Responses one: one buffer, not a doubling series.
    let mut chat_body = Vec::with_capacity(body.len() + body.len() / 8 + 4096);
    serde_json::to_writer(&mut chat_body, &translated.chat)
        .map_err(|e| ApiError::invalid_request(format!("cannot encode upstream request: {e}")))?;
    let estimated_input = (body.len() as u64).div_ceil(4);
    let translator = StreamTranslator::new(
        model.clone(),
        translated.tools,
        stream,
        unix_secs(),
        estimated_input,
    );
    let first_byte_by = tokio::time::Instant::now() + state.first_byte_timeout;
    let send: SendFuture = Box::pin(state.post_translated(chat_body, stream).send());
    let mut ctx = RequestLog {
        model: model.clone(),
        started,
        route: None,
    };
    let rounds = state.web_search.map_or(0, |w| w.max_rounds);
    if !stream {
        let job = Job {
            state: state.clone(),
            chat: translated.chat,
            translator,
            ctx,
            rounds,
            first_byte_by,
        };
        return match complete_json(job, send).await {
            Err(e) if e.code() == Some(WRONG_API_RESPONSES) => {
                state.remember_responses_model(&model);
                Ok(responses_passthrough(&state, body, stream).await)
            }
            other => other,
        };
    }

    // Wait for the upstream's answer, so that a refusal (400, 401, 429 ...) becomes a real HTTP
    // error the client can act on; past that, commit to a 200 stream and keep it alive.
    let mut send = send;
    let commit_by = (tokio::time::Instant::now() + state.commit_wait).min(first_byte_by);
    let first = tokio::select! {
        result = &mut send => Some(result),
        _ = tokio::time::sleep_until(commit_by) => None,
    };
    if let Some(Ok(resp)) = &first {
        ctx.saw(resp);
    }
    let pending = match first {
        Some(Ok(resp)) if resp.status().is_success() => Pending::Ready(resp),
        Some(Ok(resp)) => {
            let error = upstream_error(resp).await;
            if error.code == WRONG_API_RESPONSES {
                // The provider speaks only the Responses API: no translation needed.
                state.remember_responses_model(&ctx.model);
                return Ok(responses_passthrough(&state, body, stream).await);
            }
            ctx.log(error.status, Some(&error.message));
            return Err(ApiError::from(&error));
        }
        Some(Err(e)) => {
            let error = transport_error(state.chat_url.as_str(), &e);
            ctx.log(error.status, Some(&error.message));
            return Err(ApiError::from(&error));
        }
        // Nothing yet, and the first-byte wait is over: still a proper HTTP error.
        None if tokio::time::Instant::now() >= first_byte_by => {
            let error = state.first_byte_error();
            ctx.log(error.status, Some(&error.message));
            return Err(ApiError::from(&error));
        }
        None => Pending::Waiting(send),
    };
    let route_headers: Vec<(&str, HeaderValue)> = match &pending {
        Pending::Ready(resp) => ROUTE_HEADERS
            .iter()
            .filter_map(|name| {
                let value = resp.headers().get(*name)?;
                Some((*name, HeaderValue::from_bytes(value.as_bytes()).ok()?))
            })
            .collect(),
        Pending::Waiting(_) => Vec::new(),
    };
    let job = Job {
        state,
        chat: translated.chat,
        translator,
        ctx,
        rounds,
        first_byte_by,
    };
    let body = drive(job, pending).filter_map(|step| async move {
        match step {
            Step::Bytes(b) => Some(Ok::<Bytes, Infallible>(b)),
            Step::End(..) => None,
        }
    });
    let mut response = Response::new(Body::from_stream(body));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    for (name, value) in route_headers {
        h.insert(name, value);
    }
    Ok(response)
}

/// A Responses request for a model whose provider speaks the Responses API: passed to the
/// proxy's `/v1/responses` as is, answer streamed back as is.
async fn responses_passthrough(state: &BridgeState, body: Bytes, stream: bool) -> Response {
    let url = format!("{}/responses", state.upstream);
    let send = state
        .client
        .get()
        .post(&url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, accept(stream))
        .body(body)
        .send();
    match tokio::time::timeout(state.first_byte_timeout, send).await {
        Ok(Ok(resp)) => passthrough(state, resp),
        Ok(Err(e)) => ApiError::from(&transport_error(&url, &e)).into_response(),
        Err(_) => ApiError::from(&state.first_byte_error()).into_response(),
    }
}

/// Results of searches already in the history: from the cache, else run again.
async fn past_searches(state: &BridgeState, queries: Vec<String>) -> HashMap<String, String> {
    let mut known = HashMap::new();
    let mut missing = Vec::new();
    for q in queries {
        match state.cached_search(&q) {
            Some(text) => {
                known.insert(q, text);
            }
            None if !missing.contains(&q) => missing.push(q),
            None => {}
        }
    }
    let found = futures_util::future::join_all(missing.into_iter().map(|q| async move {
        let text = run_search(state, &q, None).await;
        (q, text)
    }))
    .await;
    known.extend(found);
    known
}

/// Asks the proxy (which holds the search keys) to search; the text is what the model reads,
/// a failure included (a failed search is a tool result, not a broken turn).
async fn run_search(state: &BridgeState, query: &str, count: Option<u32>) -> String {
    if query.is_empty() {
        return "web_search needs a non-empty `query`.".to_owned();
    }
    let count = count.unwrap_or(crate::websearch::DEFAULT_COUNT);
    let url = format!("{}/aimux/search", state.upstream);
    let sent = state
        .client
        .get()
        .post(&url)
        .json(&serde_json::json!({"query": query, "count": count}))
        .timeout(Duration::from_secs(30))
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => return format!("Web search failed: {}", transport_error(&url, &e).message),
    };
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    if !status.is_success() {
        let why = body["error"]["message"].as_str().unwrap_or("no details");
        return format!("Web search failed ({status}): {why}");
    }
    let results: Vec<crate::websearch::SearchResult> =
        serde_json::from_value(body["results"].clone()).unwrap_or_default();
    let text = crate::websearch::format_results(query, &results);
    state.remember_search(query, &text);
    text
}

type SendFuture =
    std::pin::Pin<Box<dyn Future<Output = reqwest::Result<reqwest::Response>> + Send>>;

enum Pending {
    Ready(reqwest::Response),
    Waiting(SendFuture),
}

struct RequestLog {
    model: String,
    started: Instant,
    /// The proxy's `x-aimux-route`: which provider/model served the request.
    route: Option<String>,
}

/// The proxy's routing headers, passed on to the client.
const ROUTE_HEADERS: [&str; 2] = ["x-aimux-route", "x-aimux-overhead-ms"];

impl RequestLog {
    fn saw(&mut self, resp: &reqwest::Response) {
        self.route = resp
            .headers()
            .get("x-aimux-route")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
    }

    fn log(&self, status: u16, error: Option<&str>) {
        let ms = format!("{:.1}", self.started.elapsed().as_secs_f64() * 1000.0);
        let route = self.route.as_deref().unwrap_or("-");
        match error {
            None => {
                tracing::info!(model = %self.model, route = %route, status, ms = %ms, "POST /v1/responses")
            }
            Some(e) => {
                tracing::warn!(model = %self.model, route = %route, status, ms = %ms, error = e, "POST /v1/responses")
            }
        }
    }
}

async fn upstream_error(resp: reqwest::Response) -> UpstreamError {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.text().await.unwrap_or_default();
    UpstreamError::from_status(status, &body, retry_after)
}

fn content_type_is_sse(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("text/event-stream"))
}

/// Reads an upstream body into the translator: SSE chunks, or one whole `chat.completion` when
/// the upstream ignored `stream: true`. Which one is decided by the content type, else by the
/// first bytes (some proxies send SSE as `text/plain`).
struct UpstreamReader {
    declared_sse: bool,
    declared_json: bool,
    sse: Option<bool>,
    decoder: SseDecoder,
    whole: Vec<u8>,
    saw_done: bool,
}

impl UpstreamReader {
    fn new(resp: &reqwest::Response) -> Self {
        UpstreamReader {
            declared_sse: content_type_is_sse(resp),
            declared_json: resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.contains("application/json")),
            sse: None,
            decoder: SseDecoder::new(),
            whole: Vec::new(),
            saw_done: false,
        }
    }

    /// Feeds bytes; true once the answer is complete (`[DONE]`, or an error chunk).
    fn push(&mut self, bytes: &[u8], t: &mut StreamTranslator, out: &mut Vec<u8>) -> bool {
        let sse = match self.sse {
            Some(sse) => sse,
            None => match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
                None => {
                    self.whole.extend_from_slice(bytes);
                    return false;
                }
                Some(first) => {
                    // A JSON body that is not JSON (an HTML error page) must read as broken JSON,
                    // not as an SSE stream without events; but a body that starts like an SSE
                    // line (`data:`, `event:`, `id:`, `retry:`, `:`) is SSE whatever its label.
                    let sse_line = matches!(*first, b'd' | b'e' | b'i' | b'r' | b':');
                    let sse =
                        self.declared_sse || sse_line || (!self.declared_json && *first != b'{');
                    self.sse = Some(sse);
                    if sse && !self.whole.is_empty() {
                        let pending = std::mem::take(&mut self.whole);
                        self.decode(&pending, t, out);
                    }
                    sse
                }
            },
        };
        if sse {
            self.decode(bytes, t, out);
            self.saw_done || t.outcome().is_some()
        } else {
            self.whole.extend_from_slice(bytes);
            false
        }
    }

    fn decode(&mut self, bytes: &[u8], t: &mut StreamTranslator, out: &mut Vec<u8>) {
        let saw_done = &mut self.saw_done;
        self.decoder.push(bytes, |d| t.feed(d, saw_done, out));
    }

    /// The body ended (or the answer completed).
    fn end(&mut self, t: &mut StreamTranslator, out: &mut Vec<u8>) {
        if self.sse == Some(false) {
            t.feed_whole(&self.whole, out);
            return;
        }
        let saw_done = &mut self.saw_done;
        self.decoder.finish(|d| t.feed(d, saw_done, out));
        t.end_of_stream(self.saw_done);
    }

    /// The body broke. After the upstream said it finished, that is just a rough close.
    fn error(&mut self, error: UpstreamError, t: &mut StreamTranslator, out: &mut Vec<u8>) {
        if self.saw_done || t.finished() {
            self.end(t, out);
        } else {
            t.fail(error);
        }
    }
}

/// The answer is complete but the body is not closed yet (the chunked terminator after
/// `[DONE]`): read the rest off the request path, so the connection goes back to the pool,
/// and give up on an upstream that keeps it open.
fn drain_in_background(mut resp: reqwest::Response) {
    tokio::spawn(async move {
        let drain = async { while let Ok(Some(_)) = resp.chunk().await {} };
        let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
    });
}

/// One `/v1/responses` request on its way through one or more upstream rounds (a round per web
/// search the model asks for).
struct Job {
    state: Arc<BridgeState>,
    /// The translated request; search rounds append to its messages.
    chat: ChatRequest,
    translator: StreamTranslator,
    ctx: RequestLog,
    /// Search rounds still allowed.
    rounds: u32,
    /// When the first round's upstream request must have sent its first byte.
    first_byte_by: tokio::time::Instant,
}

enum Step {
    Bytes(Bytes),
    /// The final response object (JSON), or why there is none; the route taken.
    End(Result<Vec<u8>, UpstreamError>, Option<String>),
}

/// Drives a response: reads each upstream round into the translator, runs the model's web
/// searches between rounds, keeps Codex's idle timer fed, and ends with the closing events.
fn drive(job: Job, first: Pending) -> impl futures_util::Stream<Item = Step> {
    let Job {
        state,
        mut chat,
        mut translator,
        mut ctx,
        mut rounds,
        first_byte_by,
    } = job;
    let heartbeat = state.heartbeat;
    async_stream::stream! {
        let mut out = Vec::with_capacity(8 * 1024);
        translator.start(&mut out);
        if !out.is_empty() {
            yield Step::Bytes(Bytes::from(std::mem::take(&mut out)));
        }
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut pending = Some(first);
        // The first-byte deadline of the current round, then the idle deadline once bytes flow.
        let mut deadline = Box::pin(tokio::time::sleep_until(first_byte_by));

        while let Some(next) = pending.take() {
            let resp = match next {
                Pending::Ready(resp) => Ok(resp),
                Pending::Waiting(mut send) => loop {
                    tokio::select! {
                        result = &mut send => break match result {
                            Ok(resp) if resp.status().is_success() => Ok(resp),
                            Ok(resp) => Err(upstream_error(resp).await),
                            Err(e) => Err(transport_error(state.chat_url.as_str(), &e)),
                        },
                        _ = deadline.as_mut() => break Err(state.first_byte_error()),
                        _ = ticker.tick() => {
                            translator.heartbeat(&mut out);
                            if !out.is_empty() {
                                yield Step::Bytes(Bytes::from(std::mem::take(&mut out)));
                            }
                        }
                    }
                },
            };
            let mut resp = match resp {
                Ok(resp) => resp,
                Err(error) => {
                    translator.fail(error);
                    break;
                }
            };
            ctx.saw(&resp);
            let mut reader = UpstreamReader::new(&resp);
            // Whether the client got an event since the last tick: upstream bytes that produce no
            // event (freeform-tool arguments, keep-alive comments) do not reset Codex's timer.
            let mut sent = false;
            let mut got_bytes = false;
            loop {
                tokio::select! {
                    biased;
                    chunk = resp.chunk() => match chunk {
                        Ok(Some(bytes)) => {
                            got_bytes = true;
                            deadline.as_mut().reset(tokio::time::Instant::now() + state.idle_timeout);
                            let complete = reader.push(&bytes, &mut translator, &mut out);
                            if !out.is_empty() {
                                sent = true;
                                yield Step::Bytes(Bytes::from(std::mem::take(&mut out)));
                            }
                            if complete {
                                reader.end(&mut translator, &mut out);
                                // A failed answer's connection is dropped, not drained.
                                if !matches!(translator.outcome(), Some(Outcome::Failed(_))) {
                                    drain_in_background(resp);
                                }
                                break;
                            }
                        }
                        Ok(None) => {
                            reader.end(&mut translator, &mut out);
                            break;
                        }
                        Err(e) => {
                            reader.error(stream_error(state.chat_url.as_str(), &e), &mut translator, &mut out);
                            break;
                        }
                    },
                    _ = deadline.as_mut() => {
                        let error = if got_bytes { state.idle_error() } else { state.first_byte_error() };
                        reader.error(error, &mut translator, &mut out);
                        break;
                    }
                    _ = ticker.tick() => {
                        if !sent {
                            translator.heartbeat(&mut out);
                            if !out.is_empty() {
                                yield Step::Bytes(Bytes::from(std::mem::take(&mut out)));
                            }
                        }
                        sent = false;
                    }
                }
            }

            // The model asked the bridge to search: run the searches, show them to the client,
            // and (when nothing else waits on the client) let the model continue with the results.
            if translator.outcome() != Some(&Outcome::Completed) {
                break;
            }
            let searches = translator.pending_searches();
            if searches.is_empty() {
                break;
            }
            let mut run = Box::pin(futures_util::future::join_all(
                searches.iter().map(|s| run_search(&state, &s.query, s.count)),
            ));
            let texts = loop {
                tokio::select! {
                    texts = &mut run => break texts,
                    _ = ticker.tick() => {
                        translator.heartbeat(&mut out);
                        if !out.is_empty() {
                            yield Step::Bytes(Bytes::from(std::mem::take(&mut out)));
                        }
                    }
                }
            };
            let mut results = HashMap::new();
            for (search, text) in searches.iter().zip(texts) {
                translator.record_search(&mut out, search.index, &search.query);
                results.insert(search.query.clone(), text);
            }
            if !out.is_empty() {
                yield Step::Bytes(Bytes::from(std::mem::take(&mut out)));
            }
            // Calls the client must run end the response here; the searches go back to the model
            // with the next request (their results are cached for its history).
            if translator.has_client_calls() || rounds == 0 {
                break;
            }
            rounds -= 1;
            let appended = append_round(&mut chat, translator.round_turn(), &results, rounds == 0);
            translator.next_round();
            match appended.and_then(|()| serde_json::to_vec(&chat)) {
                Ok(body) => {
                    deadline.as_mut().reset(tokio::time::Instant::now() + state.first_byte_timeout);
                    pending = Some(Pending::Waiting(Box::pin(
                        state.post_translated(body, chat.stream).send(),
                    )));
                }
                Err(e) => translator.fail(UpstreamError::invalid_stream(&e.to_string())),
            }
        }

        let response = translator.finish(&mut out);
        let end = match translator.outcome() {
            Some(Outcome::Failed(e)) => {
                ctx.log(e.status, Some(&e.message));
                Err(e.clone())
            }
            _ => {
                ctx.log(200, None);
                Ok(response)
            }
        };
        if !out.is_empty() {
            yield Step::Bytes(Bytes::from(out));
        }
        yield Step::End(end, ctx.route.take());
    }
}

/// The next round's request: the model's turn (with its search calls) and the results.
fn append_round(
    chat: &mut ChatRequest,
    turn: RoundTurn,
    results: &HashMap<String, String>,
    last: bool,
) -> Result<(), serde_json::Error> {
    use super::translate::chat::{FunctionCall, Message, MessageContent, Role, ToolCall};
    use super::translate::raw::RawStr;
    let has_calls = !turn.calls.is_empty();
    let reasoning = match turn.reasoning.filter(|_| has_calls) {
        Some(r) => Some(RawStr::from_text(&r)?),
        None => None,
    };
    let calls = turn
        .calls
        .iter()
        .map(|c| {
            Ok(ToolCall {
                id: c.id.clone(),
                kind: "function",
                function: FunctionCall {
                    name: c.name.clone(),
                    arguments: RawStr::from_text(&c.arguments)?,
                },
            })
        })
        .collect::<Result<_, serde_json::Error>>()?;
    chat.messages.push(Message {
        role: Role::Assistant,
        content: Some(MessageContent::Text(RawStr::from_text(
            turn.text.as_deref().unwrap_or_default(),
        )?)),
        reasoning_content: reasoning,
        tool_calls: calls,
        tool_call_id: None,
    });
    for call in turn.calls {
        let text = match &call.search {
            Some(query) => results.get(query).map_or("", String::as_str),
            None => super::translate::request::MISSING_OUTPUT,
        };
        chat.messages.push(Message {
            role: Role::Tool,
            content: Some(MessageContent::Text(RawStr::from_text(text)?)),
            reasoning_content: None,
            tool_calls: Vec::new(),
            tool_call_id: Some(call.id),
        });
    }
    if last {
        // Out of search rounds: the model has to answer with what it found.
        chat.tools
            .retain(|t| t.function.name != WEB_SEARCH_FUNCTION);
        if chat.tools.is_empty() {
            chat.tool_choice = None;
            chat.parallel_tool_calls = None;
        }
    }
    Ok(())
}

/// The client asked for `stream: false`: the same drive, no events, one JSON Response object;
/// nothing has been sent yet, so every failure is a proper HTTP error.
async fn complete_json(job: Job, send: SendFuture) -> Result<Response, ApiError> {
    let mut steps = Box::pin(drive(job, Pending::Waiting(send)));
    let mut end = None;
    while let Some(step) = steps.next().await {
        if let Step::End(result, route) = step {
            end = Some((result, route));
        }
    }
    match end {
        Some((Ok(body), route)) => {
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if let Some(route) = route.as_deref().and_then(|r| HeaderValue::from_str(r).ok()) {
                response.headers_mut().insert("x-aimux-route", route);
            }
            Ok(response)
        }
        Some((Err(e), _)) => Err(ApiError::from(&e)),
        None => Err(ApiError::from(&UpstreamError::truncated())),
    }
}

async fn responses_other(method: Method) -> Response {
    let mut response = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        Some("method_not_allowed"),
        format!("{method} is not supported on /v1/responses; use POST"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

// ---- pass-through routes ----

/// Response headers worth passing back from the upstream. Never `openai-model`: a value that
/// differs from the requested model makes Codex warn that the account was flagged.
const PASS_HEADERS: &[&str] = &[
    "content-type",
    "retry-after",
    "cache-control",
    "x-aimux-route",
    "x-aimux-overhead-ms",
];

/// The upstream's answer as is. A body that goes silent for `idle_timeout_s` is cut off (the
/// client sees the connection end mid-body, as it would from the upstream): a pass-through
/// cannot know how to phrase an error in the upstream's own format.
fn passthrough(state: &BridgeState, resp: reqwest::Response) -> Response {
    let mut builder = Response::builder().status(resp.status().as_u16());
    for &name in PASS_HEADERS {
        if let Some(value) = resp.headers().get(name) {
            builder = builder.header(name, value.as_bytes());
        }
    }
    let idle = state.idle_timeout;
    let mut upstream = resp.bytes_stream();
    let body = async_stream::stream! {
        loop {
            match tokio::time::timeout(idle, upstream.next()).await {
                Ok(Some(chunk)) => yield chunk.map_err(std::io::Error::other),
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!("upstream stalled mid-answer for {idle:?}; cut off the pass-through");
                    yield Err(std::io::Error::other("upstream stalled mid-answer"));
                    break;
                }
            }
        }
    };
    builder
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

/// `/v1/chat/completions` is forwarded unchanged (streamed through, chunk by chunk).
async fn chat_completions(
    State(state): State<Arc<BridgeState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(e) = check_auth(&state, &headers).and_then(|()| check_json(&headers)) {
        return e.into_response();
    }
    let body = match body_or_error(body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let len = body.len();
    let started = Instant::now();
    let send = state
        .client
        .get()
        .post(state.chat_url.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send();
    let response = match tokio::time::timeout(state.first_byte_timeout, send).await {
        Ok(Ok(resp)) => passthrough(&state, resp),
        Ok(Err(e)) => ApiError::from(&transport_error(state.chat_url.as_str(), &e)).into_response(),
        Err(_) => ApiError::from(&state.first_byte_error()).into_response(),
    };
    let route = response
        .headers()
        .get("x-aimux-route")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let status = response.status().as_u16();
    let ms = format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0);
    tracing::info!(route = %route, status, ms = %ms, "POST /v1/chat/completions");
    crate::memory::release_after(len, response)
}

async fn models(State(state): State<Arc<BridgeState>>, headers: HeaderMap) -> Response {
    if let Err(e) = check_auth(&state, &headers) {
        return e.into_response();
    }
    match state.client.get().get(&state.models_url).send().await {
        Ok(resp) => passthrough(&state, resp),
        Err(e) => ApiError::from(&UpstreamError::unreachable(
            &state.models_url,
            &e.to_string(),
        ))
        .into_response(),
    }
}

/// `GET /v1/aimux/catalog`: the Codex model catalog of the upstream's models, the same bytes
/// `aimux gen-catalog` writes, for a profile's `model_catalog_url`.
async fn catalog(State(state): State<Arc<BridgeState>>, headers: HeaderMap) -> Response {
    if let Err(e) = check_auth(&state, &headers) {
        return e.into_response();
    }
    let resp = match state.client.get().get(&state.models_url).send().await {
        Ok(resp) if resp.status().is_success() => resp,
        Ok(resp) => return passthrough(&state, resp),
        Err(e) => {
            return ApiError::from(&UpstreamError::unreachable(
                &state.models_url,
                &e.to_string(),
            ))
            .into_response();
        }
    };
    let list: serde_json::Value = match resp.json().await {
        Ok(v) => v,
        Err(e) => {
            return ApiError::new(
                StatusCode::BAD_GATEWAY,
                "api_error",
                Some("bad_upstream_response"),
                format!("{} did not return a model list: {e}", state.models_url),
            )
            .into_response();
        }
    };
    let body = crate::catalog::build(&list).render();
    // FNV-1a: Codex keeps the ETag with its cached copy.
    let etag = body.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::ETAG, format!("\"{etag:016x}\"")),
        ],
        body,
    )
        .into_response()
}

async fn health(State(state): State<Arc<BridgeState>>) -> Response {
    axum::Json(json!({
        "status": "ok",
        "service": "aimux-bridge",
        "version": env!("CARGO_PKG_VERSION"),
        "upstream": state.upstream,
        "uptime_s": state.started.elapsed().as_secs(),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_events() {
        let feed_all = |events: &[&str]| {
            let mut t = StreamTranslator::new("m".into(), Default::default(), true, 0, 0);
            let (mut out, mut done) = (Vec::new(), false);
            for e in events {
                t.feed(e.as_bytes(), &mut done, &mut out);
            }
            t.end_of_stream(done);
            t.outcome().cloned()
        };
        let text = r#"{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}"#;
        // JSON of another shape, and empty data, are skipped.
        assert_eq!(
            feed_all(&[" ", r#"{"type":"ping","choices":"none"}"#, text, "[DONE]"]),
            Some(Outcome::Completed)
        );
        // Not JSON at all: the answer failed, whatever came after.
        for bad in [
            "<html>502</html>",
            r#"{"choices":[{"delta":{"content":"cut"#,
        ] {
            match feed_all(&[bad, text, "[DONE]"]) {
                Some(Outcome::Failed(e)) => {
                    assert_eq!(e.code, "invalid_upstream_response");
                    assert!(e.message.contains("sent invalid JSON"), "{}", e.message);
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    /// The body decides between SSE and one JSON answer, the label only when the body cannot.
    #[test]
    fn upstream_reader_reads_the_body_it_gets() {
        let sse = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
        let json = r#"{"choices":[{"index":0,"message":{"content":"hi"},"finish_reason":"stop"}]}"#;
        let read = |content_type: &str, body: &str| {
            let resp = reqwest::Response::from(
                http::Response::builder()
                    .header(header::CONTENT_TYPE, content_type)
                    .body(body.to_owned())
                    .expect("response"),
            );
            let mut reader = UpstreamReader::new(&resp);
            let mut t = StreamTranslator::new("m".into(), Default::default(), false, 0, 0);
            let mut out = Vec::new();
            reader.push(body.as_bytes(), &mut t, &mut out);
            reader.end(&mut t, &mut out);
            let response: serde_json::Value =
                serde_json::from_slice(&t.finish(&mut out)).expect("response JSON");
            (
                t.outcome().cloned(),
                response["output"][0]["content"][0]["text"].clone(),
            )
        };
        for (content_type, body) in [
            ("text/event-stream", sse),
            // Mislabelled SSE is still SSE; a JSON answer without a label is still JSON.
            ("application/json", sse),
            ("text/plain", sse),
            ("application/json", json),
            ("", json),
        ] {
            assert_eq!(
                read(content_type, body),
                (Some(Outcome::Completed), json!("hi")),
                "{content_type}: {body}"
            );
        }
        // An HTML page labelled JSON is a broken answer, not an empty stream.
        match read("application/json", "<html>502</html>").0 {
            Some(Outcome::Failed(e)) => assert_eq!(e.code, "invalid_upstream_response"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn upstream_urls() {
        let cases: [(&str, Result<&str, ()>); 6] = [
            ("http://127.0.0.1:8404", Ok("http://127.0.0.1:8404/v1")),
            ("http://127.0.0.1:8404/", Ok("http://127.0.0.1:8404/v1")),
            ("http://127.0.0.1:8404/v1", Ok("http://127.0.0.1:8404/v1")),
            ("http://127.0.0.1:8404/v1/", Ok("http://127.0.0.1:8404/v1")),
            (
                "https://api.deepseek.com/v1/chat/completions",
                Ok("https://api.deepseek.com/v1"),
            ),
            (
                "https://open.bigmodel.cn/api/coding/paas/v4",
                Ok("https://open.bigmodel.cn/api/coding/paas/v4"),
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_upstream(raw).ok().as_deref(), want.ok(), "{raw}");
        }
        assert!(normalize_upstream("ftp://x").is_err());
        assert!(normalize_upstream("not a url").is_err());
    }
}
