//! [`MockUpstream`]: a scripted OpenAI Chat Completions server for the bridge to talk to.
//!
//! It serves, on `127.0.0.1:<random port>`:
//! * `POST /v1/chat/completions`: answered from the script (see below);
//! * `GET /v1/models`: a configurable JSON body ([`MockUpstream::set_models`]), by default an
//!   OpenAI-style list holding [`crate::common::TEST_MODEL`];
//! * anything else: 404.
//!
//! Every request (any path) is recorded as a [`RecordedRequest`] (method, path, headers, body
//! parsed as JSON) in arrival order.
//!
//! The script is either a FIFO queue of [`Reply`]s (one popped per chat request; an empty queue
//! answers HTTP 500 `mock upstream: no scripted reply left` so a surplus request is loud) or a
//! handler closure ([`MockUpstream::with_handler`]) for tests whose request count is not fixed
//! (e.g. Codex tool round trips). Replies pushed with [`MockUpstream::push`] are used before the
//! handler.
//!
//! SSE replies are written as a streamed body, one HTTP chunk per event, with optional per-event
//! delays, on a socket with `TCP_NODELAY`, so the bridge sees events as they are "generated".
//!
//! The server runs on its own Tokio runtime in a background thread, so it can be used from
//! synchronous tests and from async tests; dropping the [`MockUpstream`] stops it (hanging
//! replies are simply dropped).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::serve::ListenerExt;
use serde_json::{Value, json};

/// One scripted answer to a chat-completions request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `200 text/event-stream` (or another status, see [`SseReply::status`]).
    Sse(SseReply),
    /// A plain (non-SSE) HTTP response: errors (400, 429 + Retry-After, 500, ...) or a
    /// non-streaming `chat.completion` body.
    Http(HttpReply),
    /// Accept the request and never answer (the connection stays open until the mock is dropped
    /// or the client gives up).
    Hang,
}

/// A streamed SSE reply: `data: <item>\n\n` per item, then the [`SseEnd`].
#[derive(Debug, Clone)]
pub struct SseReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub items: Vec<SseItem>,
    pub end: SseEnd,
}

/// One SSE event of an [`SseReply`].
#[derive(Debug, Clone)]
pub struct SseItem {
    /// Written as `data: {payload}\n\n` unless `raw`.
    pub payload: String,
    /// When true, `payload` is written verbatim (e.g. `": keepalive\n\n"` or malformed lines).
    pub raw: bool,
    /// Sleep this long before writing the item.
    pub delay: Option<Duration>,
}

/// How an [`SseReply`] ends after its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseEnd {
    /// `data: [DONE]\n\n`, then a clean end of body (the default).
    Done,
    /// Clean end of body without `data: [DONE]`.
    Eof,
    /// Keep the stream open forever (until the mock is dropped / the client disconnects).
    Hang,
    /// Abort the connection mid-body, 50 ms after the last item (the body errors, hyper closes
    /// the socket without the terminating chunk, so the client sees a truncated chunked stream).
    Reset,
}

/// A plain HTTP reply.
#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub content_type: String,
    pub body: String,
}

impl SseItem {
    /// A `data: <json>` event.
    pub fn json(v: &Value) -> Self {
        SseItem {
            payload: v.to_string(),
            raw: false,
            delay: None,
        }
    }
    /// Bytes written verbatim (include your own `\n\n`).
    pub fn raw(s: impl Into<String>) -> Self {
        SseItem {
            payload: s.into(),
            raw: true,
            delay: None,
        }
    }
    /// Sleep `d` before this item.
    pub fn after(mut self, d: Duration) -> Self {
        self.delay = Some(d);
        self
    }
}

impl SseReply {
    /// SSE reply from Chat chunk JSON values, ending with `data: [DONE]`.
    pub fn new(chunks: impl IntoIterator<Item = Value>) -> Self {
        SseReply {
            status: 200,
            headers: Vec::new(),
            items: chunks.into_iter().map(|c| SseItem::json(&c)).collect(),
            end: SseEnd::Done,
        }
    }
    /// SSE reply from arbitrary items.
    pub fn from_items(items: Vec<SseItem>) -> Self {
        SseReply {
            status: 200,
            headers: Vec::new(),
            items,
            end: SseEnd::Done,
        }
    }
    /// Sleep `d` before every item.
    pub fn delay_each(mut self, d: Duration) -> Self {
        for it in &mut self.items {
            it.delay = Some(d);
        }
        self
    }
    /// Sleep `d` before item number `index` only.
    pub fn delay_before(mut self, index: usize, d: Duration) -> Self {
        self.items[index].delay = Some(d);
        self
    }
    /// End without `data: [DONE]`.
    pub fn without_done(mut self) -> Self {
        self.end = SseEnd::Eof;
        self
    }
    /// After the items, keep the stream open forever.
    pub fn then_hang(mut self) -> Self {
        self.end = SseEnd::Hang;
        self
    }
    /// After the items, abort the connection.
    pub fn then_reset(mut self) -> Self {
        self.end = SseEnd::Reset;
        self
    }
    /// Add a response header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    /// Use another HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

impl From<SseReply> for Reply {
    fn from(r: SseReply) -> Self {
        Reply::Sse(r)
    }
}

impl HttpReply {
    /// Add a response header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

impl From<HttpReply> for Reply {
    fn from(r: HttpReply) -> Self {
        Reply::Http(r)
    }
}

impl Reply {
    /// SSE reply of the given Chat chunks, terminated by `data: [DONE]`.
    pub fn sse(chunks: impl IntoIterator<Item = Value>) -> Reply {
        Reply::Sse(SseReply::new(chunks))
    }

    /// A complete streamed text answer: role chunk, `text` split into `parts` deltas, a `stop`
    /// finish chunk, a usage chunk (`prompt_tokens` 11, `completion_tokens` 7) and `[DONE]`.
    pub fn text_parts(text: &str, parts: usize) -> Reply {
        let mut chunks = vec![chat::role()];
        chunks.extend(chat::split(text, parts).into_iter().map(|p| chat::text(&p)));
        chunks.push(chat::finish("stop"));
        chunks.push(chat::usage(11, 7));
        Reply::sse(chunks)
    }

    /// [`Reply::text_parts`] with 3 deltas.
    pub fn text(text: &str) -> Reply {
        Reply::text_parts(text, 3)
    }

    /// A streamed answer with one or more tool calls `(id, name, arguments_json)`; each call's
    /// header (index, id, name) comes in one chunk and its arguments in two further chunks;
    /// then a `tool_calls` finish chunk and usage.
    pub fn tool_calls(calls: &[(&str, &str, &str)]) -> Reply {
        let mut chunks = vec![chat::role()];
        for (i, (id, name, args)) in calls.iter().enumerate() {
            chunks.push(chat::tool_call_start(i, id, name));
            for part in chat::split(args, 2) {
                chunks.push(chat::tool_call_args(i, &part));
            }
        }
        chunks.push(chat::finish("tool_calls"));
        chunks.push(chat::usage(20, 10));
        Reply::sse(chunks)
    }

    /// A non-SSE JSON response with `status`.
    pub fn json(status: u16, body: Value) -> Reply {
        Reply::Http(HttpReply::json(status, body))
    }

    /// An OpenAI-style JSON error: `{"error":{"message","type","code"}}` with `status`.
    pub fn error(status: u16, message: &str, kind: &str, code: Option<&str>) -> Reply {
        Reply::json(
            status,
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
        )
    }

    /// A non-streaming `chat.completion` body (HTTP 200) whose assistant message is `text`.
    pub fn completion(text: &str) -> Reply {
        Reply::json(200, chat::completion(text))
    }

    /// SSE `chunks` followed by a connection abort (no `[DONE]`).
    pub fn reset_mid_stream(chunks: impl IntoIterator<Item = Value>) -> Reply {
        Reply::Sse(SseReply::new(chunks).then_reset())
    }

    /// Add a response header (SSE or HTTP replies; ignored for [`Reply::Hang`]).
    pub fn with_header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Sse(s) => Reply::Sse(s.with_header(name, value)),
            Reply::Http(h) => Reply::Http(h.with_header(name, value)),
            Reply::Hang => Reply::Hang,
        }
    }
}

impl HttpReply {
    /// `application/json` reply.
    pub fn json(status: u16, body: Value) -> HttpReply {
        HttpReply {
            status,
            headers: Vec::new(),
            content_type: "application/json".to_string(),
            body: body.to_string(),
        }
    }
    /// A reply with any content type and raw body.
    pub fn raw(status: u16, content_type: &str, body: &str) -> HttpReply {
        HttpReply {
            status,
            headers: Vec::new(),
            content_type: content_type.to_string(),
            body: body.to_string(),
        }
    }
}

/// Builders for OpenAI Chat Completions stream chunks (`chat.completion.chunk`) and bodies.
pub mod chat {
    use serde_json::{Map, Value, json};

    /// Model name put into mock chunks.
    pub const MOCK_MODEL: &str = "test-model";

    /// A chunk with one choice carrying `delta` and `finish_reason`.
    pub fn chunk(delta: Value, finish_reason: Option<&str>) -> Value {
        json!({
            "id": "chatcmpl-mock",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000u64,
            "model": MOCK_MODEL,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}]
        })
    }

    /// The usual first chunk: `{"role":"assistant","content":""}`.
    pub fn role() -> Value {
        chunk(json!({"role": "assistant", "content": ""}), None)
    }

    /// A text delta.
    pub fn text(s: &str) -> Value {
        chunk(json!({"content": s}), None)
    }

    /// One text delta chunk per part of `text` split into `parts`.
    pub fn text_deltas(text: &str, parts: usize) -> Vec<Value> {
        split(text, parts).iter().map(|p| self::text(p)).collect()
    }

    /// A DeepSeek-style `reasoning_content` delta.
    pub fn reasoning(s: &str) -> Value {
        chunk(json!({"content": null, "reasoning_content": s}), None)
    }

    /// One reasoning delta chunk per part of `text` split into `parts`.
    pub fn reasoning_deltas(text: &str, parts: usize) -> Vec<Value> {
        split(text, parts).iter().map(|p| reasoning(p)).collect()
    }

    /// The fully general tool-call delta entry (`{"index", "id"?, "type"?, "function": {"name"?,
    /// "arguments"?}}`). `id` also adds `"type":"function"`.
    pub fn tool_call_entry(
        index: usize,
        id: Option<&str>,
        name: Option<&str>,
        args: Option<&str>,
    ) -> Value {
        let mut tc = Map::new();
        tc.insert("index".into(), json!(index));
        if let Some(id) = id {
            tc.insert("id".into(), json!(id));
            tc.insert("type".into(), json!("function"));
        }
        let mut f = Map::new();
        if let Some(n) = name {
            f.insert("name".into(), json!(n));
        }
        if let Some(a) = args {
            f.insert("arguments".into(), json!(a));
        }
        tc.insert("function".into(), Value::Object(f));
        Value::Object(tc)
    }

    /// A chunk whose delta carries the given tool-call entries (several calls in one chunk are
    /// allowed), and optionally a finish reason in the same chunk.
    pub fn tool_calls_chunk(entries: Vec<Value>, finish_reason: Option<&str>) -> Value {
        chunk(json!({"tool_calls": entries}), finish_reason)
    }

    /// A single tool-call delta; any of id/name/args may be omitted.
    pub fn tool_call_delta(
        index: usize,
        id: Option<&str>,
        name: Option<&str>,
        args: Option<&str>,
    ) -> Value {
        tool_calls_chunk(vec![tool_call_entry(index, id, name, args)], None)
    }

    /// The header of tool call `index`: id, name and empty arguments.
    pub fn tool_call_start(index: usize, id: &str, name: &str) -> Value {
        tool_call_delta(index, Some(id), Some(name), Some(""))
    }

    /// An arguments fragment for tool call `index`.
    pub fn tool_call_args(index: usize, args: &str) -> Value {
        tool_call_delta(index, None, None, Some(args))
    }

    /// A whole tool call (id, name, full arguments) in one chunk.
    pub fn tool_call_whole(index: usize, id: &str, name: &str, args: &str) -> Value {
        tool_call_delta(index, Some(id), Some(name), Some(args))
    }

    /// A finish chunk with an empty delta (`"stop"`, `"tool_calls"`, `"length"`, ...).
    pub fn finish(reason: &str) -> Value {
        chunk(json!({}), Some(reason))
    }

    /// The `stream_options.include_usage` chunk: `choices: []` and usage.
    pub fn usage(prompt_tokens: u64, completion_tokens: u64) -> Value {
        json!({
            "id": "chatcmpl-mock",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000u64,
            "model": MOCK_MODEL,
            "choices": [],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens
            }
        })
    }

    /// A non-streaming `chat.completion` body with an assistant text message.
    pub fn completion(text: &str) -> Value {
        json!({
            "id": "chatcmpl-mock",
            "object": "chat.completion",
            "created": 1_700_000_000u64,
            "model": MOCK_MODEL,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
        })
    }

    /// Split `s` into `parts` non-empty pieces (by chars; fewer if `s` is short).
    pub fn split(s: &str, parts: usize) -> Vec<String> {
        let chars: Vec<char> = s.chars().collect();
        if chars.is_empty() || parts <= 1 {
            return vec![s.to_string()];
        }
        let parts = parts.min(chars.len());
        let base = chars.len() / parts;
        let extra = chars.len() % parts;
        let mut out = Vec::with_capacity(parts);
        let mut pos = 0;
        for i in 0..parts {
            let len = base + usize::from(i < extra);
            out.push(chars[pos..pos + len].iter().collect());
            pos += len;
        }
        out
    }
}

/// One request the mock received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON (`Value::Null` if empty or not JSON).
    pub body: Value,
    /// The raw body as text (lossy UTF-8).
    pub raw_body: String,
}

impl RecordedRequest {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `body.messages` (empty if absent).
    pub fn messages(&self) -> Vec<Value> {
        self.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The `role` of every message, in order.
    pub fn roles(&self) -> Vec<String> {
        self.messages()
            .iter()
            .map(|m| m["role"].as_str().unwrap_or("<none>").to_string())
            .collect()
    }

    /// `body.tools` (empty if absent).
    pub fn tools(&self) -> Vec<Value> {
        self.body["tools"].as_array().cloned().unwrap_or_default()
    }

    /// The names of all function tools offered (`tools[].function.name`).
    pub fn tool_names(&self) -> Vec<String> {
        self.tools()
            .iter()
            .filter_map(|t| t["function"]["name"].as_str().map(str::to_string))
            .collect()
    }

    /// The function tool named `name`, as sent (`{"type":"function","function":{...}}`).
    pub fn tool(&self, name: &str) -> Option<Value> {
        self.tools()
            .into_iter()
            .find(|t| t["function"]["name"] == name)
    }

    /// The text of a message's `content`, whether a string or an array of text parts.
    pub fn content_text(message: &Value) -> String {
        match &message["content"] {
            Value::String(s) => s.clone(),
            Value::Array(parts) => parts
                .iter()
                .filter_map(|p| p["text"].as_str())
                .collect::<Vec<_>>()
                .join(""),
            _ => String::new(),
        }
    }

    /// Pretty JSON of the body with `tools` shortened to their names (the full tool schemas
    /// are huge and rarely what a failure is about), for assertion messages.
    pub fn summary(&self) -> String {
        let mut body = self.body.clone();
        if let Some(obj) = body.as_object_mut()
            && obj.contains_key("tools")
        {
            obj.insert(
                "tools".into(),
                json!(format!("<names: {:?}>", self.tool_names())),
            );
        }
        serde_json::to_string_pretty(&body).unwrap_or_else(|_| self.raw_body.clone())
    }

    /// Pretty JSON of the whole body.
    pub fn pretty(&self) -> String {
        serde_json::to_string_pretty(&self.body).unwrap_or_else(|_| self.raw_body.clone())
    }
}

type Handler = Box<dyn Fn(&RecordedRequest) -> Reply + Send + Sync>;

struct Script {
    queue: VecDeque<Reply>,
    handler: Option<Handler>,
}

struct Shared {
    script: Mutex<Script>,
    requests: Mutex<Vec<RecordedRequest>>,
    arrived: Condvar,
    models: Mutex<Value>,
    unscripted: Mutex<usize>,
}

/// A scripted Chat Completions upstream. See the module docs.
pub struct MockUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl MockUpstream {
    /// Start with an empty script (add replies with [`MockUpstream::push`]).
    pub fn start() -> MockUpstream {
        Self::start_inner(VecDeque::new(), None)
    }

    /// Start with a FIFO queue of replies.
    pub fn with_replies(replies: impl IntoIterator<Item = Reply>) -> MockUpstream {
        Self::start_inner(replies.into_iter().collect(), None)
    }

    /// Start in handler mode: every chat request's JSON body is passed to `f`, which returns
    /// the reply (replies queued with [`MockUpstream::push`] still go first).
    pub fn with_handler(f: impl Fn(&Value) -> Reply + Send + Sync + 'static) -> MockUpstream {
        Self::start_inner(
            VecDeque::new(),
            Some(Box::new(move |r: &RecordedRequest| f(&r.body))),
        )
    }

    /// Like [`MockUpstream::with_handler`] but the closure sees the whole request (headers too).
    pub fn with_request_handler(
        f: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> MockUpstream {
        Self::start_inner(VecDeque::new(), Some(Box::new(f)))
    }

    fn start_inner(queue: VecDeque<Reply>, handler: Option<Handler>) -> MockUpstream {
        let shared = Arc::new(Shared {
            script: Mutex::new(Script { queue, handler }),
            requests: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
            models: Mutex::new(json!({
                "object": "list",
                "data": [{"id": chat::MOCK_MODEL, "object": "model", "created": 1_700_000_000u64, "owned_by": "mock"}]
            })),
            unscripted: Mutex::new(0),
        });
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let app_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("mock-upstream".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("mock upstream runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind mock upstream");
                    addr_tx
                        .send(listener.local_addr().expect("local addr"))
                        .ok();
                    let listener = listener.tap_io(|tcp| {
                        let _ = tcp.set_nodelay(true);
                    });
                    let app = Router::new().fallback(
                        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                            handle(app_shared.clone(), method, uri, headers, body)
                        },
                    );
                    tokio::select! {
                        r = axum::serve(listener, app) => { r.expect("mock upstream serve"); }
                        _ = shutdown_rx => {}
                    }
                });
                rt.shutdown_background();
            })
            .expect("spawn mock upstream thread");
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("mock upstream did not start");
        MockUpstream {
            addr,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT` (no `/v1`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v1`: what to pass as `aimux bridge --upstream`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Append a reply to the FIFO queue.
    pub fn push(&self, reply: impl Into<Reply>) {
        self.shared
            .script
            .lock()
            .expect("script lock")
            .queue
            .push_back(reply.into());
    }

    /// Replace (or set) the handler closure.
    pub fn set_handler(&self, f: impl Fn(&Value) -> Reply + Send + Sync + 'static) {
        self.shared.script.lock().expect("script lock").handler =
            Some(Box::new(move |r: &RecordedRequest| f(&r.body)));
    }

    /// Set the JSON body served by `GET /v1/models`.
    pub fn set_models(&self, body: Value) {
        *self.shared.models.lock().expect("models lock") = body;
    }

    /// Number of replies still queued.
    pub fn queued(&self) -> usize {
        self.shared.script.lock().expect("script lock").queue.len()
    }

    /// How many chat requests found neither a queued reply nor a handler (answered 500).
    pub fn unscripted_count(&self) -> usize {
        *self.shared.unscripted.lock().expect("unscripted lock")
    }

    /// Every request received so far (all paths), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().expect("requests lock").clone()
    }

    /// The `POST .../chat/completions` requests received so far.
    pub fn chat_requests(&self) -> Vec<RecordedRequest> {
        self.requests().into_iter().filter(is_chat).collect()
    }

    /// Number of chat requests received so far.
    pub fn chat_request_count(&self) -> usize {
        self.shared
            .requests
            .lock()
            .expect("requests lock")
            .iter()
            .filter(|r| is_chat(r))
            .count()
    }

    /// Block until at least `n` chat requests arrived (panics after `timeout`), then return all.
    pub fn wait_for_chat_requests(&self, n: usize, timeout: Duration) -> Vec<RecordedRequest> {
        let deadline = Instant::now() + timeout;
        let mut reqs = self.shared.requests.lock().expect("requests lock");
        loop {
            let count = reqs.iter().filter(|r| is_chat(r)).count();
            if count >= n {
                return reqs.iter().filter(|r| is_chat(r)).cloned().collect();
            }
            let now = Instant::now();
            if now >= deadline {
                panic!("mock upstream: expected {n} chat requests within {timeout:?}, got {count}");
            }
            reqs = self
                .shared
                .arrived
                .wait_timeout(reqs, deadline - now)
                .expect("requests lock")
                .0;
        }
    }

    /// All recorded requests (method, path, [`RecordedRequest::summary`]) for assertion
    /// messages.
    pub fn dump(&self) -> String {
        self.requests()
            .iter()
            .enumerate()
            .map(|(i, r)| format!("#{i} {} {}\n{}", r.method, r.path, r.summary()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn is_chat(r: &RecordedRequest) -> bool {
    r.method == "POST"
        && r.path
            .split('?')
            .next()
            .unwrap_or("")
            .ends_with("/chat/completions")
}

async fn handle(
    shared: Arc<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw_body = String::from_utf8_lossy(&body).into_owned();
    let rec = RecordedRequest {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| uri.path().to_string()),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw_body,
    };
    let chat = is_chat(&rec);
    let models = method == Method::GET && uri.path().ends_with("/models");
    // Decide the reply before publishing the request, so a test that saw request N can rely on
    // the script having been consulted for it.
    let reply = if chat {
        let mut script = shared.script.lock().expect("script lock");
        if let Some(r) = script.queue.pop_front() {
            Some(r)
        } else if let Some(h) = &script.handler {
            Some(h(&rec))
        } else {
            *shared.unscripted.lock().expect("unscripted lock") += 1;
            None
        }
    } else {
        None
    };
    {
        let mut reqs = shared.requests.lock().expect("requests lock");
        reqs.push(rec);
        shared.arrived.notify_all();
    }
    if models {
        let body = shared.models.lock().expect("models lock").to_string();
        return http_response(&HttpReply {
            status: 200,
            headers: Vec::new(),
            content_type: "application/json".into(),
            body,
        });
    }
    if !chat {
        return http_response(&HttpReply::json(
            404,
            json!({"error": {"message": format!("mock upstream: no route {method} {uri}"), "type": "not_found"}}),
        ));
    }
    match reply {
        None => http_response(&HttpReply::json(
            500,
            json!({"error": {"message": "mock upstream: no scripted reply left", "type": "mock_error"}}),
        )),
        Some(Reply::Http(h)) => http_response(&h),
        Some(Reply::Hang) => {
            std::future::pending::<()>().await;
            unreachable!()
        }
        Some(Reply::Sse(s)) => sse_response(s),
    }
}

fn apply_headers(resp: &mut Response, headers: &[(String, String)]) {
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(k.as_str()),
            HeaderValue::try_from(v.as_str()),
        ) {
            resp.headers_mut().append(name, value);
        }
    }
}

fn http_response(h: &HttpReply) -> Response {
    let mut resp = Response::new(Body::from(h.body.clone()));
    *resp.status_mut() =
        StatusCode::from_u16(h.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::try_from(h.content_type.as_str())
            .unwrap_or(HeaderValue::from_static("application/json")),
    );
    apply_headers(&mut resp, &h.headers);
    resp
}

fn sse_response(s: SseReply) -> Response {
    let SseReply {
        status,
        headers,
        items,
        end,
    } = s;
    let stream = async_stream::stream! {
        for item in items {
            if let Some(d) = item.delay {
                tokio::time::sleep(d).await;
            }
            let text = if item.raw { item.payload } else { format!("data: {}\n\n", item.payload) };
            yield Ok::<Bytes, std::io::Error>(Bytes::from(text));
        }
        match end {
            SseEnd::Done => yield Ok(Bytes::from_static(b"data: [DONE]\n\n")),
            SseEnd::Eof => {}
            SseEnd::Hang => std::future::pending::<()>().await,
            SseEnd::Reset => {
                // Let hyper flush what was written so far, so the client really sees a
                // stream that breaks in the middle (not a request that fails up front).
                tokio::time::sleep(Duration::from_millis(50)).await;
                yield Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "mock upstream: reset mid-stream"));
            }
        }
    };
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    apply_headers(&mut resp, &headers);
    resp
}
