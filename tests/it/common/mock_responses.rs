//! [`MockResponses`]: a scripted OpenAI Responses API server for the real Codex CLI to talk to
//! (what `codex exec` sees as its model provider in the `codex` backend tests).
//!
//! It serves, on `127.0.0.1:<random port>`:
//! * `POST /v1/responses`: answered from the script, as SSE following the contract's minimal
//!   streams (section 3.4): `response.output_item.done` per item, then `response.completed` with
//!   an `id` and usage (or `response.failed`);
//! * anything else: 404.
//!
//! Every request (any path) is recorded as a [`ResponsesRequest`] in arrival order.
//!
//! The script is a FIFO queue of [`ResponsesReply`]s, one popped per `/responses` request, then
//! an optional handler closure; with neither, the request gets HTTP 500 (loud, and with the test
//! profile's zero retries, fatal for the turn).
//!
//! The server runs on its own Tokio runtime in a background thread (usable from sync and async
//! tests); dropping the [`MockResponses`] stops it and drops hanging replies.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

/// One scripted answer to a `/responses` request.
#[derive(Debug, Clone)]
pub enum ResponsesReply {
    /// `200 text/event-stream`: each value as one `data:` event, then the end of the body.
    Events(Vec<Value>),
    /// Accept the request and never answer.
    Hang,
    /// A plain JSON HTTP reply (errors).
    Http { status: u16, body: Value },
}

impl ResponsesReply {
    /// One assistant message `text`, completed with usage (10 in, 0 cached, 5 out, 0 reasoning).
    pub fn text(text: &str) -> ResponsesReply {
        ResponsesReply::Events(vec![
            responses::message(text),
            responses::completed(responses::usage(10, 0, 5, 0)),
        ])
    }

    /// A `response.failed` event with `code` and `message`.
    pub fn failed(code: &str, message: &str) -> ResponsesReply {
        ResponsesReply::Events(vec![responses::failed(code, message)])
    }
}

/// Builders for Responses SSE events.
pub mod responses {
    use serde_json::{Value, json};

    /// `response.output_item.done` with an assistant message.
    pub fn message(text: &str) -> Value {
        json!({
            "type": "response.output_item.done",
            "item": {"type": "message", "role": "assistant",
                     "content": [{"type": "output_text", "text": text}]}
        })
    }

    /// `response.output_item.done` with a reasoning item whose summary is `text`.
    pub fn reasoning(text: &str) -> Value {
        json!({
            "type": "response.output_item.done",
            "item": {"type": "reasoning", "id": "rs_mock",
                     "summary": [{"type": "summary_text", "text": text}]}
        })
    }

    /// A Responses `usage` object.
    pub fn usage(input: u64, cached: u64, output: u64, reasoning: u64) -> Value {
        json!({
            "input_tokens": input,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": input + output
        })
    }

    /// `response.completed` with `usage`.
    pub fn completed(usage: Value) -> Value {
        json!({"type": "response.completed", "response": {"id": "resp_mock", "usage": usage}})
    }

    /// `response.failed` with `code` and `message`.
    pub fn failed(code: &str, message: &str) -> Value {
        json!({
            "type": "response.failed",
            "response": {"id": "resp_mock", "error": {"code": code, "message": message}}
        })
    }
}

/// One request the mock received.
#[derive(Debug, Clone)]
pub struct ResponsesRequest {
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Null` if not JSON).
    pub body: Value,
}

impl ResponsesRequest {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `body.input`.
    pub fn input(&self) -> Vec<Value> {
        self.body["input"].as_array().cloned().unwrap_or_default()
    }

    /// The `message` input items with `role`.
    pub fn messages(&self, role: &str) -> Vec<Value> {
        self.input()
            .into_iter()
            .filter(|i| i["type"] == "message" && i["role"] == role)
            .collect()
    }

    /// The text parts of a message item, concatenated.
    pub fn text_of(item: &Value) -> String {
        item["content"]
            .as_array()
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|p| p["text"].as_str())
                    .collect::<Vec<_>>()
                    .join("")
            })
            .unwrap_or_default()
    }

    /// The text of every user message, in order (Codex's own `<environment_context>` included).
    pub fn user_texts(&self) -> Vec<String> {
        self.messages("user").iter().map(Self::text_of).collect()
    }

    /// Every `input_image` content part of the input.
    pub fn input_images(&self) -> Vec<Value> {
        self.input()
            .iter()
            .filter_map(|i| i["content"].as_array().cloned())
            .flatten()
            .filter(|p| p["type"] == "input_image")
            .collect()
    }
}

type Handler = Box<dyn Fn(&ResponsesRequest) -> ResponsesReply + Send + Sync>;

struct Shared {
    queue: Mutex<VecDeque<ResponsesReply>>,
    handler: Mutex<Option<Handler>>,
    requests: Mutex<Vec<ResponsesRequest>>,
}

/// A scripted Responses server. See the module docs.
pub struct MockResponses {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl MockResponses {
    /// Start with a FIFO queue of replies.
    pub fn with_replies(replies: impl IntoIterator<Item = ResponsesReply>) -> MockResponses {
        let shared = Arc::new(Shared {
            queue: Mutex::new(replies.into_iter().collect()),
            handler: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
        });
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let app_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("mock-responses".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("mock responses runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind mock responses");
                    addr_tx
                        .send(listener.local_addr().expect("local addr"))
                        .ok();
                    let app = Router::new().fallback(
                        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                            handle(app_shared.clone(), method, uri, headers, body)
                        },
                    );
                    tokio::select! {
                        r = axum::serve(listener, app) => { r.expect("mock responses serve"); }
                        _ = shutdown_rx => {}
                    }
                });
                rt.shutdown_background();
            })
            .expect("spawn mock responses thread");
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("mock responses did not start");
        MockResponses {
            addr,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// Start with an empty queue and `f` answering every request.
    pub fn with_handler(
        f: impl Fn(&ResponsesRequest) -> ResponsesReply + Send + Sync + 'static,
    ) -> MockResponses {
        let mock = Self::with_replies([]);
        *mock.shared.handler.lock().expect("handler lock") = Some(Box::new(f));
        mock
    }

    /// Append a reply to the queue.
    pub fn push(&self, reply: ResponsesReply) {
        self.shared
            .queue
            .lock()
            .expect("queue lock")
            .push_back(reply);
    }

    /// `http://127.0.0.1:PORT/v1`: the provider's `base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<ResponsesRequest> {
        self.shared.requests.lock().expect("requests lock").clone()
    }

    /// The `POST .../responses` requests so far.
    pub fn responses_requests(&self) -> Vec<ResponsesRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/responses"))
            .collect()
    }

    /// Requests (method, path, body) for assertion messages.
    pub fn dump(&self) -> String {
        self.requests()
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut body = r.body.clone();
                if let Some(o) = body.as_object_mut() {
                    o.remove("tools");
                }
                format!(
                    "#{i} {} {}\n{}",
                    r.method,
                    r.path,
                    serde_json::to_string_pretty(&body).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for MockResponses {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rec = ResponsesRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
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
    };
    let is_responses = method == Method::POST && uri.path().ends_with("/responses");
    let reply = if is_responses {
        let queued = shared.queue.lock().expect("queue lock").pop_front();
        queued.or_else(|| {
            shared
                .handler
                .lock()
                .expect("handler lock")
                .as_ref()
                .map(|h| h(&rec))
        })
    } else {
        None
    };
    shared.requests.lock().expect("requests lock").push(rec);
    if !is_responses {
        return json_response(
            404,
            json!({"error": {"message": "mock responses: no route"}}),
        );
    }
    match reply {
        None => json_response(
            500,
            json!({"error": {"message": "mock responses: no scripted reply left"}}),
        ),
        Some(ResponsesReply::Http { status, body }) => json_response(status, body),
        Some(ResponsesReply::Hang) => {
            std::future::pending::<()>().await;
            unreachable!()
        }
        Some(ResponsesReply::Events(events)) => {
            let text: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
            let mut resp = Response::new(Body::from(text));
            resp.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            resp
        }
    }
}

fn json_response(status: u16, body: Value) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
