//! [`FaultyUpstream`]: a raw-TCP Chat Completions upstream that breaks on purpose.
//!
//! Each request (one per connection; every answer says `connection: close`) takes the next
//! [`Fault`] from the script ([`Fault::Normal`] once it is empty) and is answered as SSE when its
//! JSON body has `"stream": true`, else as one `chat.completion` JSON body. Raw TCP, because the
//! interesting faults (a reset, a body cut short, headers and then silence) are below what an
//! HTTP server library lets you script.
//!
//! Connections the mock keeps open (the hangs) are watched until the other side closes them;
//! [`FaultyUpstream::wait_closed`] proves the server under test let go of the upstream.
//!
//! Runs on its own Tokio runtime (2 workers), so it works from any test; dropping it stops it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::chat;

/// The text every [`Fault::Normal`] answer carries.
pub const RECOVERED: &str = "recovered after the fault";
/// Text sent before a mid-answer fault.
pub const PARTIAL: &str = "partial ";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A well-formed answer with [`RECOVERED`].
    Normal,
    /// Some of the answer ([`PARTIAL`]), then a TCP reset (SO_LINGER 0).
    Reset,
    /// Read the request, then say nothing.
    HangBeforeHeaders,
    /// `200 OK` headers, then nothing.
    HangAfterHeaders,
    /// Headers and part of the answer ([`PARTIAL`]; half the JSON body), then nothing.
    HangMidAnswer,
    /// A good start, then an HTML error page where an event should be (a whole HTML body when
    /// not streaming).
    Garbage,
    /// A `data:` line with half a JSON object, then a clean end of body (a JSON body cut in half
    /// with a matching `content-length` when not streaming).
    TruncatedJson,
    /// One event (or body) whose text is this many bytes of `x`.
    Huge(usize),
}

pub const GARBAGE: &str = "<html><body><h1>502 Bad Gateway</h1></body></html>";

struct Shared {
    script: Mutex<VecDeque<Fault>>,
    requests: Mutex<Vec<Value>>,
    /// Kept-open connections the other side has closed.
    closed: AtomicUsize,
}

pub struct FaultyUpstream {
    port: u16,
    shared: Arc<Shared>,
    rt: Option<tokio::runtime::Runtime>,
    listening: bool,
}

impl FaultyUpstream {
    /// Listening at once.
    pub fn start(script: impl IntoIterator<Item = Fault>) -> FaultyUpstream {
        let mut up = Self::refusing(script);
        up.listen();
        up
    }

    /// A reserved port nobody listens on yet (connections are refused) until [`Self::listen`].
    pub fn refusing(script: impl IntoIterator<Item = Fault>) -> FaultyUpstream {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("reserve a port")
            .port();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("faulty upstream runtime");
        FaultyUpstream {
            port,
            shared: Arc::new(Shared {
                script: Mutex::new(script.into_iter().collect()),
                requests: Mutex::new(Vec::new()),
                closed: AtomicUsize::new(0),
            }),
            rt: Some(rt),
            listening: false,
        }
    }

    /// Starts accepting on the port.
    pub fn listen(&mut self) {
        assert!(!self.listening, "already listening");
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", self.port))
            .unwrap_or_else(|e| panic!("bind 127.0.0.1:{}: {e}", self.port));
        std_listener.set_nonblocking(true).expect("nonblocking");
        let shared = self.shared.clone();
        let rt = self.rt.as_ref().expect("runtime");
        rt.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("tokio listener");
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let _ = sock.set_nodelay(true);
                tokio::spawn(serve(sock, shared.clone()));
            }
        });
        self.listening = true;
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// The JSON bodies of the requests so far.
    pub fn requests(&self) -> Vec<Value> {
        self.shared.requests.lock().expect("requests").clone()
    }

    pub fn request_count(&self) -> usize {
        self.shared.requests.lock().expect("requests").len()
    }

    /// Waits (polling, bounded) until `n` kept-open connections were closed by the other side.
    pub fn wait_closed(&self, n: usize, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if self.shared.closed.load(Ordering::SeqCst) >= n {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for FaultyUpstream {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Reads one request (head and `content-length` body); `None` if the client went away.
async fn read_request(sock: &mut TcpStream) -> Option<Value> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 64 * 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    Some(serde_json::from_slice(&buf[head_end..head_end + len]).unwrap_or(Value::Null))
}

const SSE_HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                        transfer-encoding: chunked\r\nconnection: close\r\n\r\n";

fn json_head(len: usize) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\
         connection: close\r\n\r\n"
    )
}

/// One HTTP chunk holding `data`.
fn chunk(data: &str) -> String {
    format!("{:x}\r\n{data}\r\n", data.len())
}

fn event(v: &Value) -> String {
    chunk(&format!("data: {v}\n\n"))
}

const LAST_CHUNK: &str = "0\r\n\r\n";

async fn send(sock: &mut TcpStream, s: &str) -> bool {
    sock.write_all(s.as_bytes()).await.is_ok() && sock.flush().await.is_ok()
}

/// Holds the connection until the other side closes it (bounded), then counts the close.
async fn wait_for_close(mut sock: TcpStream, shared: &Shared) {
    let mut tmp = [0u8; 4096];
    let watch = async {
        loop {
            match sock.read(&mut tmp).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(120), watch)
        .await
        .is_ok()
    {
        shared.closed.fetch_add(1, Ordering::SeqCst);
    }
}

/// A TCP reset: SO_LINGER 0, then close.
#[allow(deprecated)]
fn reset(sock: TcpStream) {
    let _ = sock.set_linger(Some(Duration::ZERO));
    drop(sock);
}

/// Lets the other side read what was sent before the next step (a reset could discard it).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn serve(mut sock: TcpStream, shared: Arc<Shared>) {
    let Some(body) = read_request(&mut sock).await else {
        return;
    };
    let stream = body["stream"] == Value::Bool(true);
    shared.requests.lock().expect("requests").push(body);
    let fault = shared
        .script
        .lock()
        .expect("script")
        .pop_front()
        .unwrap_or(Fault::Normal);
    let completion = |text: &str| chat::completion(text).to_string();
    match (fault, stream) {
        (Fault::Normal, true) => {
            let events = [
                chat::role(),
                chat::text(RECOVERED),
                chat::finish("stop"),
                chat::usage(5, 3),
            ];
            let mut out = SSE_HEAD.to_owned();
            for e in &events {
                out.push_str(&event(e));
            }
            out.push_str(&chunk("data: [DONE]\n\n"));
            out.push_str(LAST_CHUNK);
            send(&mut sock, &out).await;
        }
        (Fault::Normal, false) => {
            let body = completion(RECOVERED);
            send(&mut sock, &format!("{}{body}", json_head(body.len()))).await;
        }
        (Fault::Reset, true) => {
            let out = format!(
                "{SSE_HEAD}{}{}",
                event(&chat::role()),
                event(&chat::text(PARTIAL))
            );
            send(&mut sock, &out).await;
            settle().await;
            reset(sock);
        }
        (Fault::Reset, false) => {
            let body = completion(PARTIAL);
            let half = &body[..body.len() / 2];
            send(&mut sock, &format!("{}{half}", json_head(body.len()))).await;
            settle().await;
            reset(sock);
        }
        (Fault::HangBeforeHeaders, _) => wait_for_close(sock, &shared).await,
        (Fault::HangAfterHeaders, true) => {
            send(&mut sock, SSE_HEAD).await;
            wait_for_close(sock, &shared).await;
        }
        (Fault::HangAfterHeaders, false) => {
            send(&mut sock, &json_head(completion(PARTIAL).len())).await;
            wait_for_close(sock, &shared).await;
        }
        (Fault::HangMidAnswer, true) => {
            let out = format!(
                "{SSE_HEAD}{}{}",
                event(&chat::role()),
                event(&chat::text(PARTIAL))
            );
            send(&mut sock, &out).await;
            wait_for_close(sock, &shared).await;
        }
        (Fault::HangMidAnswer, false) => {
            let body = completion(PARTIAL);
            let half = &body[..body.len() / 2];
            send(&mut sock, &format!("{}{half}", json_head(body.len()))).await;
            wait_for_close(sock, &shared).await;
        }
        (Fault::Garbage, true) => {
            let out = format!(
                "{SSE_HEAD}{}{}",
                event(&chat::role()),
                event(&chat::text(PARTIAL))
            );
            send(&mut sock, &out).await;
            settle().await;
            let rest = format!(
                "{}{}{LAST_CHUNK}",
                chunk(&format!("data: {GARBAGE}\n\n")),
                chunk("data: [DONE]\n\n")
            );
            send(&mut sock, &rest).await;
        }
        (Fault::Garbage, false) => {
            send(&mut sock, &format!("{}{GARBAGE}", json_head(GARBAGE.len()))).await;
        }
        (Fault::TruncatedJson, true) => {
            let whole = chat::text("cut off in the middle").to_string();
            let half = &whole[..whole.len() / 2];
            let out = format!(
                "{SSE_HEAD}{}{}{LAST_CHUNK}",
                event(&chat::role()),
                chunk(&format!("data: {half}"))
            );
            send(&mut sock, &out).await;
        }
        (Fault::TruncatedJson, false) => {
            let body = completion("cut off in the middle");
            let half = &body[..body.len() / 2];
            send(&mut sock, &format!("{}{half}", json_head(half.len()))).await;
        }
        (Fault::Huge(n), true) => {
            // Built by hand: serializing 10 MB through serde_json in a debug build is slow.
            let text = "x".repeat(n);
            let big = format!(
                "data: {{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\
                 \"model\":\"{}\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\
                 \"{text}\"}},\"finish_reason\":null}}]}}\n\n",
                chat::MOCK_MODEL
            );
            let mut out = format!("{SSE_HEAD}{}{}", event(&chat::role()), chunk(&big));
            for e in [chat::finish("stop"), chat::usage(5, 3)] {
                out.push_str(&event(&e));
            }
            out.push_str(&chunk("data: [DONE]\n\n"));
            out.push_str(LAST_CHUNK);
            send(&mut sock, &out).await;
        }
        (Fault::Huge(n), false) => {
            let body = completion("HUGE").replace("HUGE", &"x".repeat(n));
            send(&mut sock, &format!("{}{body}", json_head(body.len()))).await;
        }
    }
}
