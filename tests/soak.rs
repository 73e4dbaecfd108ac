//! Soak: 200 concurrent streaming requests for 20 s through the full link
//! (client → `aimux bridge` → `aimux proxy` → a mock provider), loopback only (issue 6).
//!
//! Every request carries a seed; the mock derives the whole answer (text, chunking, delays,
//! usage) from it, so each response is distinct and the client knows the exact bytes to expect:
//!
//! * Responses API streams (`/v1/responses`, translated by the bridge): the concatenated
//!   `response.output_text.delta` text, the `output_text.done` text and the `response.completed`
//!   output must equal the mock's text exactly, the usage must be the mock's, the events must be
//!   numbered 0, 1, 2, … with `response.created` first and exactly one terminal event, last.
//! * Chat Completions streams (`/v1/chat/completions`): the bridge and the proxy pass the
//!   provider's bytes through unchanged, so the body must equal what the mock wrote, byte for byte.
//!
//! No request may fail, and the proxy's usage store must have recorded each one with the mock's
//! token counts. Afterwards both servers' memory must come back to the post-warm-up baseline (a
//! per-request leak fails it) and their sockets and other file descriptors must be released.
//! Numbers (requests/s, latency percentiles, RSS, fds, CPU) are printed; run with
//! `cargo test --test soak -- --nocapture` to see them (`AIMUX_SOAK_SECS=60` soaks longer).
//!
//! It is its own test binary so that it never shares the machine with the `it` binary's tests
//! (cargo runs test binaries one after another); its two link tests take turns.

#![cfg(target_os = "linux")]

#[path = "it/common/bridge.rs"]
#[allow(dead_code)]
mod bridge;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::serve::ListenerExt;
use serde_json::{Value, json};

use bridge::{Bridge, BridgeOptions};

/// Concurrent client tasks, each issuing one streaming request after another.
const CONCURRENCY: usize = 200;
/// How long the measured load runs.
const SOAK: Duration = Duration::from_secs(20);
/// Full-concurrency load before the baseline is taken: it fills the connection pools, starts the
/// runtimes' worker threads and lets the allocator reach its working set, so that what is left
/// above the baseline afterwards grows with the number of requests, i.e. is a leak.
const WARM_UP: Duration = Duration::from_secs(3);
/// One request (headers and the whole body) must finish within this; a hung stream fails the
/// test with its seed instead of hanging CI.
const REQUEST_DEADLINE: Duration = Duration::from_secs(15);
/// Every `CHAT_EVERY`th request is a Chat Completions stream, the rest Responses streams.
const CHAT_EVERY: u64 = 4;
/// How long the servers get to give memory and sockets back after the load stops.
const SETTLE: Duration = Duration::from_secs(10);

const MODEL: &str = "m1";
const MOCK_KEY: &str = "sk-soak-mock-key";
const SECRET: &str = "soak-internal-secret";
const SEED_TAG: &str = "soak-seed-";
/// A request whose prompt holds this is held by the mock until `CONCURRENCY` of them are in
/// flight (see [`load`]).
const BARRIER_TAG: &str = "soak-barrier ";

// ---- what the mock sends for a seed (the client computes the same) ----

/// The content chunks for `seed`: 20–50 of them, with JSON-escaped and multi-byte characters,
/// and the usage the mock reports.
fn script(seed: u64) -> (Vec<String>, u64, u64) {
    let n = 20 + (seed % 31) as usize;
    let parts = (0..n)
        .map(|i| match (seed + i as u64) % 4 {
            0 => format!("{seed}.{i} "),
            1 => format!("\"q{i}\"\n"),
            2 => format!("ünï{i}–✓ "),
            _ => format!("\\t{}\t", seed.wrapping_mul(2_654_435_761) % 997),
        })
        .collect();
    (parts, 7 + seed % 1000, n as u64)
}

fn expected_text(seed: u64) -> String {
    script(seed).0.concat()
}

/// The mock's SSE events for `seed` (each written as one HTTP chunk, a few ms apart). Built
/// with `format!` rather than `serde_json` (checked against it in [`mock_events_are_valid_json`])
/// because the debug-build test process shares two cores with both servers.
fn mock_events(seed: u64) -> Vec<Bytes> {
    let (parts, prompt, completion) = script(seed);
    let head = format!(
        r#"data: {{"id":"chatcmpl-soak-{seed}","object":"chat.completion.chunk","created":1700000000,"model":"{MODEL}","choices":"#
    );
    let chunk = |delta: &str, finish: &str| {
        Bytes::from(format!(
            r#"{head}[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}{}"#,
            "\n\n"
        ))
    };
    let mut out = vec![chunk(r#"{"role":"assistant","content":""}"#, "null")];
    for p in &parts {
        out.push(chunk(
            &format!(r#"{{"content":{}}}"#, json_string(p)),
            "null",
        ));
    }
    out.push(chunk("{}", r#""stop""#));
    out.push(Bytes::from(format!(
        r#"{head}[],"usage":{{"prompt_tokens":{prompt},"completion_tokens":{completion},"total_tokens":{}}}}}{}"#,
        prompt + completion,
        "\n\n"
    )));
    out.push(Bytes::from_static(b"data: [DONE]\n\n"));
    out
}

/// `s` as a JSON string literal (the characters [`script`] uses).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[test]
fn mock_events_are_valid_json() {
    for seed in [0, 1, 2, 3, 17, 4242] {
        let events = mock_events(seed);
        let (parts, prompt, completion) = script(seed);
        assert_eq!(events.len(), parts.len() + 4);
        let mut text = String::new();
        for e in &events[..events.len() - 1] {
            let e = std::str::from_utf8(e).unwrap();
            let data = e
                .strip_prefix("data: ")
                .unwrap()
                .strip_suffix("\n\n")
                .unwrap();
            let v: Value = serde_json::from_str(data).unwrap();
            assert_eq!(v["model"], MODEL);
            text.push_str(v["choices"][0]["delta"]["content"].as_str().unwrap_or(""));
            if v["choices"] == json!([]) {
                assert_eq!(
                    v["usage"],
                    json!({"prompt_tokens": prompt, "completion_tokens": completion,
                           "total_tokens": prompt + completion})
                );
            }
        }
        assert_eq!(text, expected_text(seed));
        assert_eq!(&events[events.len() - 1][..], b"data: [DONE]\n\n");
        assert_eq!(
            serde_json::from_str::<Value>(&json_string(&text)).unwrap(),
            json!(text)
        );
    }
}

fn chunk_delay(seed: u64, i: usize) -> Duration {
    Duration::from_millis(1 + (seed + i as u64 * 7) % 4)
}

// ---- the mock provider ----

/// A deterministic Chat Completions provider on its own runtime thread. Dropping it (or
/// [`MockProvider::stop`]) drops the runtime, which closes every connection, idle ones included.
struct MockProvider {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    served: Arc<AtomicU64>,
}

impl MockProvider {
    fn start() -> MockProvider {
        let served = Arc::new(AtomicU64::new(0));
        let counter = served.clone();
        let barrier = Arc::new(tokio::sync::Barrier::new(CONCURRENCY));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("soak-mock".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("mock runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind mock");
                    addr_tx.send(listener.local_addr().expect("mock addr")).ok();
                    let listener = listener.tap_io(|tcp| {
                        let _ = tcp.set_nodelay(true);
                    });
                    let app = axum::Router::new()
                        .route(
                            "/v1/chat/completions",
                            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                                counter.fetch_add(1, Ordering::Relaxed);
                                mock_chat(headers, body, barrier.clone())
                            }),
                        )
                        // Codex histories run to megabytes (axum's default limit is 2 MB).
                        .layer(axum::extract::DefaultBodyLimit::max(64 << 20));
                    tokio::select! {
                        r = axum::serve(listener, app) => r.expect("mock serve"),
                        _ = stop_rx => {}
                    }
                });
                rt.shutdown_timeout(Duration::from_secs(2));
            })
            .expect("spawn mock thread");
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("mock did not start");
        MockProvider {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
            served,
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        self.stop();
    }
}

fn mock_error(status: StatusCode, message: String) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error"}});
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("mock error response")
}

/// Checks what the proxy sent (key, model, streaming), then streams the seed's events.
async fn mock_chat(
    headers: HeaderMap,
    body: Bytes,
    barrier: Arc<tokio::sync::Barrier>,
) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {MOCK_KEY}")) {
        return mock_error(StatusCode::UNAUTHORIZED, format!("mock: bad key {auth:?}"));
    }
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return mock_error(StatusCode::BAD_REQUEST, format!("mock: bad json: {e}")),
    };
    if req["model"] != MODEL || req["stream"] != true {
        return mock_error(
            StatusCode::BAD_REQUEST,
            format!("mock: want model {MODEL} streaming, got {req}"),
        );
    }
    let Some(seed) = find_seed(&body) else {
        return mock_error(StatusCode::BAD_REQUEST, "mock: no seed".into());
    };
    let tag = BARRIER_TAG.as_bytes();
    if body.windows(tag.len()).any(|w| w == tag)
        && tokio::time::timeout(Duration::from_secs(10), barrier.wait())
            .await
            .is_err()
    {
        return mock_error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("mock: {CONCURRENCY} barrier requests were never in flight at once"),
        );
    }
    let stream = async_stream::stream! {
        for (i, event) in mock_events(seed).into_iter().enumerate() {
            tokio::time::sleep(chunk_delay(seed, i)).await;
            yield Ok::<Bytes, Infallible>(event);
        }
    };
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .expect("mock stream response")
}

fn find_seed(body: &[u8]) -> Option<u64> {
    let tag = SEED_TAG.as_bytes();
    let at = body.windows(tag.len()).position(|w| w == tag)? + tag.len();
    let digits: String = body[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| b as char)
        .collect();
    digits.parse().ok()
}

// ---- the client side ----

#[derive(Default)]
struct Stats {
    responses_ok: AtomicU64,
    chat_ok: AtomicU64,
    failed: AtomicU64,
    /// Prompt and completion tokens the provider reported for the successful requests.
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
    /// (time to headers, time to the end of the body) of each successful request.
    latencies: Mutex<Vec<(Duration, Duration)>>,
    errors: Mutex<Vec<String>>,
}

impl Stats {
    fn ok(&self) -> u64 {
        self.responses_ok.load(Ordering::Relaxed) + self.chat_ok.load(Ordering::Relaxed)
    }
}

/// One streaming request; `Err` says what was wrong with it.
async fn one_request(
    client: &reqwest::Client,
    bridge: &str,
    seed: u64,
    barrier: bool,
) -> Result<(bool, Duration, Duration), String> {
    let chat = seed % CHAT_EVERY == 0;
    let held = if barrier { BARRIER_TAG } else { "" };
    let prompt = format!("{held}{SEED_TAG}{seed} please");
    let (url, body) = if chat {
        (
            format!("{bridge}/v1/chat/completions"),
            json!({"model": MODEL, "stream": true, "stream_options": {"include_usage": true},
                   "messages": [{"role": "user", "content": prompt}]}),
        )
    } else {
        (
            format!("{bridge}/v1/responses"),
            json!({"model": MODEL, "stream": true, "input": prompt}),
        )
    };
    let started = Instant::now();
    let resp = client
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("send: {e:?}"))?;
    let ttfb = started.elapsed();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = resp.bytes().await.map_err(|e| format!("body: {e:?}"))?;
    let total = started.elapsed();
    if status != 200 || !ct.starts_with("text/event-stream") {
        return Err(format!(
            "HTTP {status} ({ct}): {}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    if chat {
        let want: Vec<u8> = mock_events(seed).concat();
        if bytes[..] != want[..] {
            return Err(format!(
                "chat body differs from the provider's bytes\n--- got ---\n{}\n--- want ---\n{}",
                String::from_utf8_lossy(&bytes),
                String::from_utf8_lossy(&want)
            ));
        }
    } else {
        check_responses_stream(seed, &bytes)?;
    }
    Ok((chat, ttfb, total))
}

/// One Responses stream event, the fields the check needs (borrowed where no escapes occur;
/// parsing every event into a `Value` costs the debug-build client more CPU than the bridge).
#[derive(serde::Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    sequence_number: u64,
    #[serde(default)]
    delta: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    response: Option<Value>,
}

/// Checks a translated Responses stream against the seed's script.
fn check_responses_stream(seed: u64, bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let fail = |why: String| Err(format!("{why}\n--- stream ---\n{text}"));
    if !text.ends_with("\n\n") {
        return fail("stream does not end at an event boundary".into());
    }
    let (_, prompt, completion) = script(seed);
    let want = expected_text(seed);
    let mut events: Vec<Event> = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        let mut kind = None;
        let mut data = None;
        for line in block.lines() {
            if let Some(k) = line.strip_prefix("event: ") {
                kind = Some(k);
            } else if let Some(d) = line.strip_prefix("data: ") {
                data = Some(d);
            } else if !line.starts_with(':') {
                return fail(format!("unexpected SSE line {line:?}"));
            }
        }
        let Some(data) = data else { continue };
        let e: Event = match serde_json::from_str(data) {
            Ok(e) => e,
            Err(e) => return fail(format!("bad event JSON ({e}): {data}")),
        };
        if kind.is_some_and(|k| k != e.kind) {
            return fail(format!("`event: {kind:?}` but type {}", e.kind));
        }
        if e.sequence_number != events.len() as u64 {
            return fail(format!(
                "event {} has sequence_number {}",
                events.len(),
                e.sequence_number
            ));
        }
        events.push(e);
    }
    let types: Vec<&str> = events.iter().map(|e| e.kind).collect();
    if types.first() != Some(&"response.created") {
        return fail("first event is not response.created".into());
    }
    let terminal = types
        .iter()
        .filter(|t| {
            matches!(
                **t,
                "response.completed" | "response.failed" | "response.incomplete"
            )
        })
        .count();
    if terminal != 1 || types.last() != Some(&"response.completed") {
        return fail(format!(
            "want exactly one terminal event, response.completed, last: {types:?}"
        ));
    }
    let deltas: String = events
        .iter()
        .filter(|e| e.kind == "response.output_text.delta")
        .map(|e| e.delta.as_deref().unwrap_or(""))
        .collect();
    if deltas != want {
        return fail(format!("deltas {deltas:?} != {want:?}"));
    }
    let done: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind == "response.output_text.done")
        .collect();
    if done.len() != 1 || done[0].text.as_deref() != Some(want.as_str()) {
        return fail("output_text.done missing or wrong".into());
    }
    let response = events[events.len() - 1]
        .response
        .clone()
        .unwrap_or_default();
    let want_usage = json!({
        "input_tokens": prompt, "output_tokens": completion,
        "total_tokens": prompt + completion,
    });
    if response["status"] != "completed"
        || response["model"] != MODEL
        || response["output"].as_array().map(Vec::len) != Some(1)
        || response["output"][0]["content"][0]["text"] != want.as_str()
        || ["input_tokens", "output_tokens", "total_tokens"]
            .iter()
            .any(|k| response["usage"][k] != want_usage[k])
    {
        return fail(format!("response.completed is off: {response}"));
    }
    Ok(())
}

/// Runs `CONCURRENCY` tasks (one new client) that each issue requests until `duration` has
/// passed; returns the wall time until the last one finished. The client (and so every
/// connection to the bridge) is gone when it returns.
///
/// With `barrier`, each task's first request is held by the mock until all `CONCURRENCY` are in
/// flight at once: every hop then has opened `CONCURRENCY` connections, so the servers' pools are
/// full before the memory baseline is taken, whatever the machine's speed.
async fn load(
    bridge: &str,
    duration: Duration,
    barrier: bool,
    next_seed: &Arc<AtomicU64>,
    stats: &Arc<Stats>,
) -> Duration {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let started = Instant::now();
    let stop_at = started + duration;
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let client = client.clone();
            let bridge = bridge.to_owned();
            let next_seed = next_seed.clone();
            let stats = stats.clone();
            tokio::spawn(async move {
                let mut held = barrier;
                while Instant::now() < stop_at {
                    let seed = next_seed.fetch_add(1, Ordering::Relaxed);
                    let request = one_request(&client, &bridge, seed, held);
                    held = false;
                    let outcome = tokio::time::timeout(REQUEST_DEADLINE, request)
                        .await
                        .unwrap_or_else(|_| {
                            Err(format!("no complete answer within {REQUEST_DEADLINE:?}"))
                        });
                    match outcome {
                        Ok((chat, ttfb, total)) => {
                            let n = if chat {
                                &stats.chat_ok
                            } else {
                                &stats.responses_ok
                            };
                            n.fetch_add(1, Ordering::Relaxed);
                            let (_, prompt, completion) = script(seed);
                            stats.prompt_tokens.fetch_add(prompt, Ordering::Relaxed);
                            stats
                                .completion_tokens
                                .fetch_add(completion, Ordering::Relaxed);
                            stats.latencies.lock().unwrap().push((ttfb, total));
                        }
                        Err(e) => {
                            stats.failed.fetch_add(1, Ordering::Relaxed);
                            let mut errors = stats.errors.lock().unwrap();
                            if errors.len() < 5 {
                                errors.push(format!("seed {seed}: {e}"));
                            }
                        }
                    }
                }
            })
        })
        .collect();
    let all = futures_util::future::join_all(tasks);
    let limit = duration + REQUEST_DEADLINE + Duration::from_secs(5);
    let joined = tokio::time::timeout(limit, all)
        .await
        .unwrap_or_else(|_| panic!("the load did not finish within {limit:?}"));
    for j in joined {
        j.expect("client task panicked");
    }
    started.elapsed()
}

// ---- /proc ----

/// A `kB` field of `/proc/PID/status` in bytes.
fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
        * 1024
}

fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks as f64 / 100.0
}

fn rss(pid: u32) -> u64 {
    status_kb(pid, "VmRSS")
}

fn threads(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// A process's file descriptors: TCP sockets by (local port, remote port, state), the rest
/// counted.
#[derive(Debug, Default)]
struct Fds {
    total: usize,
    other: usize,
    tcp: Vec<(u16, u16, u8)>,
}

const TCP_LISTEN: u8 = 0x0A;

impl Fds {
    fn of(pid: u32) -> Fds {
        let sockets = tcp_sockets();
        let mut fds = Fds::default();
        let dir = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap_or_else(|e| panic!("reading /proc/{pid}/fd: {e}"));
        for entry in dir.flatten() {
            let Ok(target) = std::fs::read_link(entry.path()) else {
                continue;
            };
            fds.total += 1;
            let target = target.to_string_lossy().into_owned();
            let inode = target
                .strip_prefix("socket:[")
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse::<u64>().ok());
            match inode.and_then(|i| sockets.get(&i)) {
                Some(&tcp) => fds.tcp.push(tcp),
                None => fds.other += 1,
            }
        }
        fds
    }

    /// Connections (not the listener) whose local port is `port`: accepted ones.
    fn inbound(&self, port: u16) -> usize {
        self.tcp
            .iter()
            .filter(|&&(l, _, st)| l == port && st != TCP_LISTEN)
            .count()
    }

    /// Descriptors of the socket listening on `port` (one per accept loop: the servers run one
    /// per core on the same socket).
    fn listening(&self, port: u16) -> usize {
        self.tcp
            .iter()
            .filter(|&&(l, _, st)| l == port && st == TCP_LISTEN)
            .count()
    }

    /// Connections to `port`.
    fn outbound(&self, port: u16) -> usize {
        self.tcp.iter().filter(|&&(_, r, _)| r == port).count()
    }
}

/// inode → (local port, remote port, state) for every TCP socket in this network namespace.
fn tcp_sockets() -> HashMap<u64, (u16, u16, u8)> {
    let mut map = HashMap::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 {
                continue;
            }
            let port = |addr: &str| {
                addr.rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
                    .unwrap_or(0)
            };
            let state = u8::from_str_radix(f[3], 16).unwrap_or(0);
            if let Ok(inode) = f[9].parse::<u64>() {
                map.insert(inode, (port(f[1]), port(f[2]), state));
            }
        }
    }
    map
}

/// `aimux usage --json` totals for the proxy's AIMUX_HOME (today and yesterday, in case the
/// test runs across midnight UTC).
fn usage_totals(home: &std::path::Path) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aimux"))
        .args(["usage", "--json", "--days", "2"])
        .env("AIMUX_HOME", home)
        .output()
        .expect("running aimux usage");
    assert!(
        out.status.success(),
        "aimux usage failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("aimux usage --json output");
    v["totals"].clone()
}

/// Polls `f` every 50 ms until it holds or `within` passed; whether it held.
fn wait_for(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Asserts that the bridge closes every connection of a client that has gone.
fn wait_closed(port: u16, pid: u32, whose: &str) {
    if !wait_for(SETTLE, || Fds::of(pid).inbound(port) == 0) {
        panic!(
            "the bridge still holds {} of {whose} connections {SETTLE:?} after it left",
            Fds::of(pid).inbound(port)
        );
    }
}

/// RSS once it stops moving (two samples 200 ms apart within 256 KiB), at most `within`.
fn settled_rss(pid: u32, within: Duration) -> u64 {
    let deadline = Instant::now() + within;
    let mut last = rss(pid);
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let now = rss(pid);
        if now.abs_diff(last) <= 256 * 1024 || Instant::now() >= deadline {
            return now;
        }
        last = now;
    }
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Samples both servers' RSS and fd count every 50 ms until stopped; returns the peaks.
fn sample_peaks(
    pids: [u32; 2],
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> ([u64; 2], [usize; 2]) {
    let mut peak = [0u64; 2];
    let mut fds = [0usize; 2];
    while !stop.load(Ordering::Relaxed) {
        for i in 0..2 {
            peak[i] = peak[i].max(rss(pids[i]));
            let n = std::fs::read_dir(format!("/proc/{}/fd", pids[i])).map_or(0, |d| d.count());
            fds[i] = fds[i].max(n);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (peak, fds)
}

// ---- the test ----

/// Memory a server may keep above its warm baseline after the soak.
///
/// A leak grows with the requests served; what legitimately differs from the baseline does not:
/// mimalloc keeps some freed pages (per-thread free lists, segments awaiting their purge delay),
/// connection buffers are sized by the largest message seen, the idle upstream pools (filled by
/// the warm-up's barrier) may hold a few more connections (one opened while another was on its
/// way back to the pool), and the proxy's SQLite usage database keeps a page cache that grows with
/// the table up to SQLite's default `cache_size` (2 MB). Measured on a 2-core box, debug build,
/// with one accept loop and allocator heap per core: the bridge ends within -1.7…+3.0 MiB of its
/// baseline, the proxy +0.7…+4.5 MiB (+4.3 MiB after 20 s and 9 000 requests, +4.5 MiB after
/// 45 s and 15 000: a plateau, not a slope).
///
/// With 6 MiB, a leak of 1 KiB a request fails the test from about 6 000 requests (a debug build
/// does 6 000–9 000 in the 20 s here, far more in release), and 1 KiB is less than one request's
/// body or one stream's translator state, so leaking any of those per request is caught.
const RSS_TOLERANCE: u64 = 6 * 1024 * 1024;

/// The soak must get at least this many streams through, or the test says nothing (and the
/// link has a throughput problem: 1 000 streams of ~100 ms each in 20 s with 200 in flight means
/// requests spend almost all their time queued).
const MIN_REQUESTS: u64 = 1_000;

/// The issue's target is ≤ 60 MB at 64 concurrent streams. Here 200 run (each server holds ~400
/// sockets with their buffers and tasks) in an unoptimized debug build: measured peaks are
/// 52–57 MiB for each server. The bound leaves room for a slower, busier machine but fails if a
/// server buffers per stream (200 × 200 KiB is 40 MiB) or queues without bound.
const PEAK_RSS_LIMIT: u64 = 96 * 1024 * 1024;

/// The full link in front of `mock`: the proxy's AIMUX_HOME, the proxy, the bridge.
fn start_link(mock: &MockProvider) -> (tempfile::TempDir, Bridge, Bridge) {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[providers.mock]\nbase_url = \"{}\"\nenv_key = \"SOAK_MOCK_KEY\"\nmodels = [\"{MODEL}\"]\n",
            mock.base_url()
        ),
    )
    .unwrap();
    let envs = vec![
        ("AIMUX_HOME".to_string(), home.path().display().to_string()),
        ("AIMUX_INTERNAL_SECRET".to_string(), SECRET.to_string()),
        ("SOAK_MOCK_KEY".to_string(), MOCK_KEY.to_string()),
    ];
    let proxy = Bridge::spawn_with(BridgeOptions {
        upstream: String::new(),
        args: vec![],
        envs: envs.clone(),
        subcommand: Some("proxy".into()),
    });
    let bridge = Bridge::spawn_with(BridgeOptions {
        upstream: format!("{}/v1", proxy.url),
        args: vec![],
        envs,
        subcommand: None,
    });
    (home, proxy, bridge)
}

/// The two link tests take turns: each measures the servers' memory and needs the machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn soak_200_concurrent_streams_through_bridge_and_proxy() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let wall = Instant::now();
    let mut mock = MockProvider::start();
    let (home, proxy, bridge) = start_link(&mock);
    let pids = [bridge.pid, proxy.pid];
    let names = ["bridge", "proxy"];
    assert!(pids.iter().all(|&p| p != 0), "server-info without a pid");
    let cold = pids.map(rss);
    let cold_fds = pids.map(Fds::of);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let next_seed = Arc::new(AtomicU64::new(1));

    // Warm-up at full concurrency (it must be clean too), then the client goes away, as it will
    // after the soak, so that the baseline and the after-soak reading are taken in the same
    // state: no client connections, the servers' upstream pools idle and full.
    let warm = Arc::new(Stats::default());
    rt.block_on(load(&bridge.url, WARM_UP, true, &next_seed, &warm));
    let warm_errors = warm.errors.lock().unwrap().clone();
    assert!(
        warm_errors.is_empty() && warm.ok() > 0,
        "warm-up: {} ok, {} failed:\n{}",
        warm.ok(),
        warm.failed.load(Ordering::Relaxed),
        warm_errors.join("\n\n")
    );
    wait_closed(bridge.port, pids[0], "the warm-up client's");
    let baseline = pids.map(|p| settled_rss(p, Duration::from_secs(3)));
    let base_fds = pids.map(Fds::of);
    let base_threads = pids.map(threads);

    // The soak.
    let soak = std::env::var("AIMUX_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(SOAK, Duration::from_secs);
    let stats = Arc::new(Stats::default());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || sample_peaks(pids, stop))
    };
    let elapsed = rt.block_on(load(&bridge.url, soak, false, &next_seed, &stats));
    stop.store(true, Ordering::Relaxed);
    let (peak, peak_fds) = sampler.join().unwrap();

    let ok = stats.ok();
    let failed = stats.failed.load(Ordering::Relaxed);
    let latencies = stats.latencies.lock().unwrap().clone();
    let mut whole: Vec<Duration> = latencies.iter().map(|l| l.1).collect();
    let mut headers: Vec<Duration> = latencies.iter().map(|l| l.0).collect();
    whole.sort();
    headers.sort();
    println!(
        "soak: {ok} streams ok ({} responses, {} chat), {failed} failed, in {elapsed:.1?} with {CONCURRENCY} concurrent: {:.0} req/s",
        stats.responses_ok.load(Ordering::Relaxed),
        stats.chat_ok.load(Ordering::Relaxed),
        ok as f64 / elapsed.as_secs_f64()
    );
    println!(
        "soak: whole stream p50 {:.0?} p90 {:.0?} p99 {:.0?} max {:.0?}; headers p50 {:.0?} p99 {:.0?}",
        percentile(&whole, 0.50),
        percentile(&whole, 0.90),
        percentile(&whole, 0.99),
        whole.last().copied().unwrap_or_default(),
        percentile(&headers, 0.50),
        percentile(&headers, 0.99),
    );
    let errors = stats.errors.lock().unwrap().clone();
    assert!(
        failed == 0,
        "{failed} of {} requests failed; the first ones:\n{}",
        ok + failed,
        errors.join("\n\n")
    );
    assert_eq!(
        mock.served.load(Ordering::Relaxed),
        warm.ok() + ok,
        "the provider served a different number of requests than the client saw succeed"
    );

    // Load is over and the client gone: memory must come back to the baseline.
    drop(rt);
    wait_closed(bridge.port, pids[0], "the soak client's");
    let settle_deadline = Instant::now() + SETTLE;
    let after = loop {
        let left = settle_deadline.saturating_duration_since(Instant::now());
        let after = pids.map(|p| settled_rss(p, left));
        if (0..2).all(|i| after[i] <= baseline[i] + RSS_TOLERANCE) || left.is_zero() {
            break after;
        }
    };
    let after_fds = pids.map(Fds::of);
    let after_threads = pids.map(threads);
    // Then the provider goes away, which must close the proxy's pooled connections to it.
    let mock_port = mock.addr.port();
    let to_mock_before = after_fds[1].outbound(mock_port);
    mock.stop();
    let to_mock_closed = wait_for(SETTLE, || Fds::of(pids[1]).outbound(mock_port) == 0);

    // The proxy's usage store recorded every request, without an error, with the provider's
    // token counts (its writer is asynchronous: polled).
    let sum = |f: fn(&Stats) -> &AtomicU64| {
        f(&warm).load(Ordering::Relaxed) + f(&stats).load(Ordering::Relaxed)
    };
    let want_usage = json!({
        "requests": warm.ok() + ok,
        "errors": 0,
        "input_tokens": sum(|s| &s.prompt_tokens),
        "output_tokens": sum(|s| &s.completion_tokens),
    });
    let mut usage = Value::Null;
    let recorded = wait_for(SETTLE, || {
        usage = usage_totals(home.path());
        ["requests", "errors", "input_tokens", "output_tokens"]
            .iter()
            .all(|k| usage[k] == want_usage[k])
    });
    assert!(
        recorded,
        "the proxy's usage store disagrees with what was served:\n got {usage}\nwant {want_usage}"
    );

    for i in 0..2 {
        println!(
            "soak: {:<6} RSS cold {} warm baseline {} peak {} after {} ({:+.0} KiB); threads {} -> {}",
            names[i],
            mib(cold[i]),
            mib(baseline[i]),
            mib(peak[i]),
            mib(after[i]),
            (after[i] as f64 - baseline[i] as f64) / 1024.0,
            base_threads[i],
            after_threads[i],
        );
        println!(
            "soak: {:<6} fds cold {} baseline {} peak {} after {} (non-TCP {} -> {}; TCP after: {} accepted, {} to the proxy, {} to the provider)",
            names[i],
            cold_fds[i].total,
            base_fds[i].total,
            peak_fds[i],
            after_fds[i].total,
            base_fds[i].other,
            after_fds[i].other,
            after_fds[i].inbound(if i == 0 { bridge.port } else { proxy.port }),
            after_fds[i].outbound(proxy.port),
            after_fds[i].outbound(mock_port),
        );
    }
    println!(
        "soak: a leak of {} bytes a request or more would have failed the memory check",
        RSS_TOLERANCE / ok.max(1)
    );
    println!(
        "soak: CPU seconds bridge {:.1}, proxy {:.1}, test (client + provider) {:.1}; wall time {:.1?}",
        cpu_secs(pids[0]),
        cpu_secs(pids[1]),
        cpu_secs(std::process::id()),
        wall.elapsed()
    );

    assert!(
        ok >= MIN_REQUESTS,
        "only {ok} requests in {soak:?} with {CONCURRENCY} in flight"
    );
    for i in 0..2 {
        assert!(
            after[i] <= baseline[i] + RSS_TOLERANCE,
            "{} RSS did not come back: baseline {}, {} after the soak ({} requests), tolerance {}",
            names[i],
            mib(baseline[i]),
            mib(after[i]),
            warm.ok() + ok,
            mib(RSS_TOLERANCE),
        );
        assert!(
            peak[i] <= PEAK_RSS_LIMIT,
            "{} peak RSS {} over {} at {CONCURRENCY} streams",
            names[i],
            mib(peak[i]),
            mib(PEAK_RSS_LIMIT)
        );
        // Files, pipes, eventfds, the usage database: back to what they were.
        assert!(
            after_fds[i].other <= base_fds[i].other,
            "{} holds {} non-TCP fds after the soak, {} before",
            names[i],
            after_fds[i].other,
            base_fds[i].other
        );
    }
    // TCP: the client is gone, so nothing accepted by the bridge may remain. Idle pooled
    // upstream connections stay (90 s idle timeout): each accept loop (one per core) keeps its
    // own pool, which holds one connection per stream that ran on it at the same time, give or
    // take the few opened while a finished one was on its way back. So they are bounded by the
    // concurrency (twice it on two loops, measured 200–255 here), never by the request count
    // (thousands). And nothing else.
    let pool_bound = 2 * CONCURRENCY;
    let [b, p] = &after_fds;
    let categories = [
        ("bridge: accepted", b.inbound(bridge.port), 0),
        ("bridge: to the proxy", b.outbound(proxy.port), pool_bound),
        ("proxy: accepted", p.inbound(proxy.port), pool_bound),
        ("proxy: to the provider", p.outbound(mock_port), pool_bound),
    ];
    for (what, n, bound) in categories {
        assert!(
            n <= bound,
            "{what}: {n} TCP connections after {ok} requests (at most {bound} expected)"
        );
    }
    assert!(b.listening(bridge.port) >= 1 && p.listening(proxy.port) >= 1);
    assert_eq!(
        b.tcp.len(),
        b.listening(bridge.port) + b.inbound(bridge.port) + b.outbound(proxy.port),
        "the bridge holds other TCP sockets: {:?}",
        b.tcp
    );
    assert_eq!(
        p.tcp.len(),
        p.listening(proxy.port) + p.inbound(proxy.port) + p.outbound(mock_port),
        "the proxy holds other TCP sockets: {:?}",
        p.tcp
    );
    assert!(
        to_mock_before > 0 && to_mock_closed,
        "the proxy kept its pooled connections to the provider after it stopped: {} of {to_mock_before}",
        Fds::of(pids[1]).outbound(mock_port)
    );
    assert!(
        wall.elapsed() < Duration::from_secs(60),
        "the soak took {:?}",
        wall.elapsed()
    );
}

/// Big requests leave no memory behind: after four 2 MB Codex histories through the link, the
/// bridge's and the proxy's RSS, well up while they ran, come back to what it was before them
/// once the answers are sent (the allocator would otherwise keep the pages until the next
/// request, which may be hours away).
#[test]
fn big_histories_leave_no_memory_behind() {
    const HISTORY: usize = 2 << 20;
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mock = MockProvider::start();
    let (_home, proxy, bridge) = start_link(&mock);
    let pids = [bridge.pid, proxy.pid];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let send = |seed: u64, history: usize| {
        // Code-like text, with the escapes a real history is full of.
        let filler = "let s = \"a\\tb\";\n".repeat(history / 17);
        let body = json!({"model": MODEL, "stream": true, "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": filler}]},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": format!("{SEED_TAG}{seed} please")}]},
        ]});
        rt.block_on(async {
            let resp = client
                .post(format!("{}/v1/responses", bridge.url))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            let bytes = resp.bytes().await.unwrap();
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
            check_responses_stream(seed, &bytes).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        });
    };
    send(1, 0);
    let baseline = pids.map(|p| settled_rss(p, Duration::from_secs(3)));
    // The peak while they run: on a slow machine the first ones' memory may already be going
    // back (mimalloc purges some on its own) by the time the last one ends.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || sample_peaks(pids, stop))
    };
    for seed in 2..6 {
        send(seed, HISTORY);
    }
    stop.store(true, Ordering::Relaxed);
    let (busy, _) = sampler.join().unwrap();
    let mut now = busy;
    let back = wait_for(SETTLE, || {
        now = pids.map(rss);
        (0..2).all(|i| now[i] <= baseline[i] + RSS_GROWTH_LEFT)
    });
    let names = ["bridge", "proxy"];
    for i in 0..2 {
        println!(
            "big histories: {:<6} RSS before {} peak during the requests {} then {}",
            names[i],
            mib(baseline[i]),
            mib(busy[i]),
            mib(now[i])
        );
    }
    assert!(
        (0..2).all(|i| busy[i] > baseline[i] + RSS_GROWTH_LEFT + 1024 * 1024),
        "the requests should have raised both servers' RSS: before {baseline:?}, peak {busy:?}"
    );
    assert!(
        back,
        "RSS did not come back within {SETTLE:?}: before {baseline:?}, peak {busy:?}, now {now:?}"
    );
}

/// What a big request may leave in RSS once its thread has collected: the few pages a thread
/// keeps in use (buffers, its pools' connections).
const RSS_GROWTH_LEFT: u64 = 4 * 1024 * 1024;
