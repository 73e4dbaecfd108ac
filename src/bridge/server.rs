//! The bridge's HTTP surface: `app()` builds the router (testable without a socket), `serve()`
//! runs it on a bound listener until a shutdown future resolves.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;

use super::translate::chat::Chunk;
use super::translate::{StreamTranslator, UpstreamError, translate_request};
use crate::api_error::ApiError;
use crate::sse::SseDecoder;
use crate::upstream::{constant_time_eq, not_found, transport_error, unix_secs};

/// Largest request body accepted (long Codex sessions with images run to tens of megabytes).
const MAX_BODY: usize = 256 * 1024 * 1024;

/// A refusal (401, 404, 400 ...) normally arrives well within this; waiting for it lets the
/// client get a real HTTP error. Codex's idle timer (300 s by default) is far longer.
const COMMIT_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct BridgeState {
    client: reqwest::Client,
    upstream: String,
    chat_url: String,
    models_url: String,
    token: Option<String>,
    heartbeat: Duration,
    /// How long a streamed request waits for the upstream's answer before committing to a 200
    /// stream (after which errors can only be `response.failed`).
    commit_wait: Duration,
    started: Instant,
}

impl BridgeState {
    /// `upstream` is a Chat Completions base URL (normalized by [`normalize_upstream`]).
    pub fn new(
        upstream: &str,
        token: Option<String>,
        heartbeat: Duration,
        internal_secret: Option<String>,
    ) -> anyhow::Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(secret) = internal_secret {
            headers.insert(
                crate::secret::HEADER,
                reqwest::header::HeaderValue::from_str(&secret)?,
            );
        }
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(600))
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()?;
        Ok(BridgeState {
            client,
            upstream: upstream.to_owned(),
            chat_url: format!("{upstream}/chat/completions"),
            models_url: format!("{upstream}/models"),
            token,
            heartbeat,
            commit_wait: heartbeat.max(COMMIT_WAIT),
            started: Instant::now(),
        })
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
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            loopback_only,
            crate::guard::guard,
        ))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then gives in-flight requests up to `drain` to finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        // Without TCP_NODELAY every small SSE write waits for the client's delayed ACK.
        let _ = tcp.set_nodelay(true);
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = tx.send(());
    });
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        result = &mut server => return result,
        _ = rx => {}
    }
    match tokio::time::timeout(drain, server).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!("in-flight requests did not finish within {drain:?}; closing them");
            Ok(())
        }
    }
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
    body: Bytes,
) -> Response {
    match responses_inner(state, headers, body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
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
    let translated = translate_request(request)
        .map_err(|e| ApiError::invalid_request(e.message.clone()).with_param(e.param))?;
    let chat_body = serde_json::to_vec(&translated.chat)
        .map_err(|e| ApiError::invalid_request(format!("cannot encode upstream request: {e}")))?;
    let estimated_input = (body.len() as u64).div_ceil(4);
    let translator = StreamTranslator::new(
        model.clone(),
        translated.tools,
        stream,
        unix_secs(),
        estimated_input,
    );
    let send = state
        .client
        .post(&state.chat_url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "text/event-stream")
        .body(chat_body)
        .send();
    let mut ctx = RequestLog {
        model,
        started,
        route: None,
    };
    if !stream {
        return complete_json(&state, send, translator, ctx).await;
    }

    // Wait for the upstream's answer, so that a refusal (400, 401, 429 ...) becomes a real HTTP
    // error the client can act on; past that, commit to a 200 stream and keep it alive.
    let mut send = Box::pin(send);
    let first = tokio::select! {
        result = &mut send => Some(result),
        _ = tokio::time::sleep(state.commit_wait) => None,
    };
    if let Some(Ok(resp)) = &first {
        ctx.saw(resp);
    }
    let pending = match first {
        Some(Ok(resp)) if resp.status().is_success() => Pending::Ready(resp),
        Some(Ok(resp)) => {
            let error = upstream_error(resp).await;
            ctx.log(error.status, Some(&error.message));
            return Err(ApiError::from(&error));
        }
        Some(Err(e)) => {
            let error = transport_error(&state.chat_url, &e);
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
    let mut response = sse_response(state, pending, translator, ctx);
    for (name, value) in route_headers {
        response.headers_mut().insert(name, value);
    }
    Ok(response)
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
    sse: Option<bool>,
    decoder: SseDecoder,
    whole: Vec<u8>,
    saw_done: bool,
}

impl UpstreamReader {
    fn new(resp: &reqwest::Response) -> Self {
        UpstreamReader {
            declared_sse: content_type_is_sse(resp),
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
                    let sse = self.declared_sse || *first != b'{';
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
        self.decoder.push(bytes, |d| feed(t, d, saw_done, out));
    }

    /// The body ended (or the answer completed).
    fn end(&mut self, t: &mut StreamTranslator, out: &mut Vec<u8>) {
        if self.sse == Some(false) {
            feed_whole(t, &self.whole, out);
            return;
        }
        let saw_done = &mut self.saw_done;
        self.decoder.finish(|d| feed(t, d, saw_done, out));
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

/// Feeds one SSE `data` payload to the translator.
fn feed(translator: &mut StreamTranslator, data: &[u8], saw_done: &mut bool, out: &mut Vec<u8>) {
    if *saw_done {
        return;
    }
    if data == b"[DONE]" {
        *saw_done = true;
        return;
    }
    match serde_json::from_slice::<Chunk>(data) {
        Ok(chunk) => translator.push(chunk, out),
        Err(e) => tracing::warn!(
            "skipping unreadable upstream chunk ({e}): {}",
            String::from_utf8_lossy(&data[..data.len().min(200)])
        ),
    }
}

/// A whole (non-SSE) upstream body: a Chat completion object.
fn feed_whole(translator: &mut StreamTranslator, body: &[u8], out: &mut Vec<u8>) {
    match serde_json::from_slice::<Chunk>(body) {
        Ok(chunk) => {
            translator.push(chunk, out);
            translator.end_of_stream(true);
        }
        Err(e) => translator.fail(UpstreamError::invalid_stream(&e.to_string())),
    }
}

/// The client asked for `stream: false`: read the whole upstream answer, reply with one JSON
/// Response object. Nothing has been sent yet, so every failure is a proper HTTP error.
async fn complete_json(
    state: &BridgeState,
    send: impl Future<Output = reqwest::Result<reqwest::Response>>,
    mut translator: StreamTranslator,
    mut ctx: RequestLog,
) -> Result<Response, ApiError> {
    let result = async {
        let mut resp = send
            .await
            .map_err(|e| transport_error(&state.chat_url, &e))?;
        ctx.saw(&resp);
        if !resp.status().is_success() {
            return Err(upstream_error(resp).await);
        }
        let mut sink = Vec::new();
        let mut reader = UpstreamReader::new(&resp);
        loop {
            match resp.chunk().await {
                Ok(Some(bytes)) => {
                    if reader.push(&bytes, &mut translator, &mut sink) {
                        reader.end(&mut translator, &mut sink);
                        drain_in_background(resp);
                        break;
                    }
                }
                Ok(None) => {
                    reader.end(&mut translator, &mut sink);
                    break;
                }
                Err(e) => {
                    reader.error(
                        transport_error(&state.chat_url, &e),
                        &mut translator,
                        &mut sink,
                    );
                    break;
                }
            }
        }
        Ok(translator.finish(&mut sink))
    }
    .await;
    match result {
        Ok(response) => {
            if let Some(super::translate::Outcome::Failed(e)) = translator.outcome() {
                ctx.log(e.status, Some(&e.message));
                return Err(ApiError::from(e));
            }
            ctx.log(200, None);
            let mut response = axum::Json(response).into_response();
            if let Some(route) = ctx
                .route
                .as_deref()
                .and_then(|r| HeaderValue::from_str(r).ok())
            {
                response.headers_mut().insert("x-aimux-route", route);
            }
            Ok(response)
        }
        Err(error) => {
            ctx.log(error.status, Some(&error.message));
            Err(ApiError::from(&error))
        }
    }
}

fn sse_response(
    state: Arc<BridgeState>,
    pending: Pending,
    mut translator: StreamTranslator,
    mut ctx: RequestLog,
) -> Response {
    let heartbeat = state.heartbeat;
    let body = async_stream::stream! {
        let mut out = Vec::with_capacity(8 * 1024);
        translator.start(&mut out);
        yield Ok::<Bytes, Infallible>(Bytes::from(std::mem::take(&mut out)));
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        let resp = match pending {
            Pending::Ready(resp) => Ok(resp),
            Pending::Waiting(mut send) => loop {
                tokio::select! {
                    result = &mut send => break match result {
                        Ok(resp) if resp.status().is_success() => Ok(resp),
                        Ok(resp) => Err(upstream_error(resp).await),
                        Err(e) => Err(transport_error(&state.chat_url, &e)),
                    },
                    _ = ticker.tick() => {
                        translator.heartbeat(&mut out);
                        yield Ok(Bytes::from(std::mem::take(&mut out)));
                    }
                }
            },
        };

        match resp {
            Err(error) => translator.fail(error),
            Ok(mut resp) => {
                ctx.saw(&resp);
                let mut reader = UpstreamReader::new(&resp);
                // Whether Codex got an event since the last tick: upstream bytes that produce no
                // event (freeform-tool arguments, keep-alive comments) do not reset its timer.
                let mut sent = false;
                loop {
                    tokio::select! {
                        biased;
                        chunk = resp.chunk() => match chunk {
                            Ok(Some(bytes)) => {
                                let complete = reader.push(&bytes, &mut translator, &mut out);
                                if !out.is_empty() {
                                    sent = true;
                                    yield Ok(Bytes::from(std::mem::take(&mut out)));
                                }
                                if complete {
                                    reader.end(&mut translator, &mut out);
                                    drain_in_background(resp);
                                    break;
                                }
                            }
                            Ok(None) => {
                                reader.end(&mut translator, &mut out);
                                break;
                            }
                            Err(e) => {
                                reader.error(transport_error(&state.chat_url, &e), &mut translator, &mut out);
                                break;
                            }
                        },
                        _ = ticker.tick() => {
                            if !sent {
                                translator.heartbeat(&mut out);
                                yield Ok(Bytes::from(std::mem::take(&mut out)));
                            }
                            sent = false;
                        }
                    }
                }
            }
        }
        translator.finish(&mut out);
        match translator.outcome() {
            Some(super::translate::Outcome::Failed(e)) => ctx.log(e.status, Some(&e.message)),
            _ => ctx.log(200, None),
        }
        yield Ok(Bytes::from(out));
    };
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
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
const PASS_HEADERS: &[header::HeaderName] = &[
    header::CONTENT_TYPE,
    header::RETRY_AFTER,
    header::CACHE_CONTROL,
];

fn passthrough(resp: reqwest::Response) -> Response {
    let mut builder = Response::builder().status(resp.status().as_u16());
    for name in PASS_HEADERS {
        if let Some(value) = resp.headers().get(name) {
            builder = builder.header(name, value.as_bytes());
        }
    }
    builder
        .body(Body::from_stream(resp.bytes_stream()))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

/// `/v1/chat/completions` is forwarded unchanged (streamed through, chunk by chunk).
async fn chat_completions(
    State(state): State<Arc<BridgeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = check_auth(&state, &headers).and_then(|()| check_json(&headers)) {
        return e.into_response();
    }
    let sent = state
        .client
        .post(&state.chat_url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    match sent {
        Ok(resp) => passthrough(resp),
        Err(e) => ApiError::from(&transport_error(&state.chat_url, &e)).into_response(),
    }
}

async fn models(State(state): State<Arc<BridgeState>>, headers: HeaderMap) -> Response {
    if let Err(e) = check_auth(&state, &headers) {
        return e.into_response();
    }
    match state.client.get(&state.models_url).send().await {
        Ok(resp) => passthrough(resp),
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
    let resp = match state.client.get(&state.models_url).send().await {
        Ok(resp) if resp.status().is_success() => resp,
        Ok(resp) => return passthrough(resp),
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
