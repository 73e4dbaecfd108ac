//! HTTP-level tests of the real `aimux bridge` binary against a scripted mock upstream.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Bridge, BridgeOptions, MockUpstream, Reply, SseItem, SseReply, chat};

fn client() -> reqwest::Client {
    reqwest::Client::builder().build().expect("client")
}

async fn post(bridge: &Bridge, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}/v1/responses", bridge.url))
        .json(body)
        .send()
        .await
        .expect("request reaches the bridge")
}

/// The `data` payloads of an SSE body, parsed.
fn sse_events(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|block| block.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| serde_json::from_str(d).expect("event is JSON"))
        .collect()
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("?"))
        .collect()
}

fn simple_request(stream: bool) -> Value {
    json!({
        "model": "test-model",
        "stream": stream,
        "input": [
            {"type":"message","role":"developer","content":[{"type":"input_text","text":"You are terse."}]},
            {"type":"message","role":"user","content":[{"type":"input_text","text":"Say hello"}]}
        ],
        "tools": [{"type":"web_search","external_web_access":false}],
        "store": false,
        "include": ["reasoning.encrypted_content"]
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_text_and_asks_for_usage() {
    let mock = MockUpstream::with_replies([
        Reply::text_parts("Hello from aimux", 4).with_header("openai-model", "other-model")
    ]);
    let bridge = Bridge::spawn(&mock.base_url(), &[]);
    let resp = post(&bridge, &simple_request(true)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    assert!(resp.headers().get("openai-model").is_none());
    let events = sse_events(&resp.text().await.unwrap());
    let k = kinds(&events);
    assert_eq!(k.first(), Some(&"response.created"));
    assert_eq!(k.last(), Some(&"response.completed"));
    assert_eq!(
        k.iter()
            .filter(|k| **k == "response.output_text.delta")
            .count(),
        4
    );
    let done: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "response.output_item.done")
        .collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["item"]["content"][0]["text"], "Hello from aimux");
    let usage = &events.last().unwrap()["response"]["usage"];
    assert_eq!(usage["input_tokens"], 11);
    assert_eq!(usage["output_tokens"], 7);

    let sent = &mock.chat_requests()[0].body;
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"]["include_usage"], true);
    assert_eq!(
        sent["messages"][0],
        json!({"role":"system","content":"You are terse."})
    );
    assert_eq!(
        sent["messages"][1],
        json!({"role":"user","content":"Say hello"})
    );
    assert!(
        sent.get("tools").is_none(),
        "hosted web_search is not sent: {sent}"
    );
    for key in ["store", "include", "input"] {
        assert!(sent.get(key).is_none(), "{key} leaked upstream");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn non_streaming_request_gets_one_response_object() {
    let mock = MockUpstream::with_replies([Reply::text("Plain answer")]);
    let bridge = Bridge::spawn(&mock.base_url(), &[]);
    let resp = post(&bridge, &simple_request(false)).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["object"], "response");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["output"][0]["content"][0]["text"], "Plain answer");
    assert_eq!(body["usage"]["total_tokens"], 18);
    // The upstream is asked for one JSON answer, in the body and in `Accept`.
    let sent = &mock.requests()[0];
    assert_eq!(sent.body["stream"], false);
    assert_eq!(sent.header("accept"), Some("application/json"));
}

/// With a proxy set in the environment (as on many company machines), a loopback upstream (the
/// aimux proxy, a local model server) is still reached directly, and any other host through
/// the proxy.
#[tokio::test(flavor = "multi_thread")]
async fn proxy_variables_never_apply_to_loopback_but_do_to_other_hosts() {
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_proxy = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let proxy_env = |url: &str| -> Vec<(String, String)> {
        [
            "http_proxy",
            "HTTP_PROXY",
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
        ]
        .into_iter()
        .map(|k| (k.to_owned(), url.to_owned()))
        .collect()
    };
    let spawn = |upstream: String, envs| {
        Bridge::spawn_with(BridgeOptions {
            upstream,
            args: vec![],
            envs,
            subcommand: None,
        })
    };

    // Loopback: direct, though every proxy variable points at a closed port.
    let mock = MockUpstream::with_replies([Reply::text("direct")]);
    let bridge = spawn(mock.base_url(), proxy_env(&dead_proxy));
    let resp = post(&bridge, &simple_request(false)).await;
    assert_eq!(resp.status(), 200, "{}", bridge.stderr());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["output"][0]["content"][0]["text"], "direct");

    // Another host: through the proxy (here a mock that answers whatever it is asked to fetch).
    let proxy = MockUpstream::with_replies([Reply::text("via the proxy")]);
    let proxy_url = proxy.base_url();
    let proxy_root = proxy_url.trim_end_matches("/v1");
    let bridge = spawn(
        "http://provider.invalid/v1".to_owned(),
        proxy_env(proxy_root),
    );
    let resp = post(&bridge, &simple_request(false)).await;
    assert_eq!(resp.status(), 200, "{}", bridge.stderr());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["output"][0]["content"][0]["text"], "via the proxy");
    assert_eq!(proxy.requests()[0].header("host"), Some("provider.invalid"));
}

#[tokio::test(flavor = "multi_thread")]
async fn non_streaming_upstream_reply_becomes_a_stream() {
    let mock = MockUpstream::with_replies([Reply::completion("Whole reply")]);
    let bridge = Bridge::spawn(&mock.base_url(), &[]);
    let events = sse_events(
        &post(&bridge, &simple_request(true))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(kinds(&events).last(), Some(&"response.completed"));
    let done = events
        .iter()
        .find(|e| e["type"] == "response.output_item.done")
        .expect("an item");
    assert_eq!(done["item"]["content"][0]["text"], "Whole reply");
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_errors_map_to_statuses_codex_can_act_on() {
    // (reply, want status, want code, want Retry-After, message fragment)
    let cases: Vec<(Reply, u16, &str, Option<&str>, &str)> = vec![
        (
            Reply::error(
                400,
                "This model's maximum context length is 8192 tokens",
                "invalid_request_error",
                Some("context_length_exceeded"),
            ),
            400,
            "context_length_exceeded",
            None,
            "maximum context length",
        ),
        (
            Reply::error(402, "Insufficient Balance", "payment_required", None),
            400,
            "insufficient_quota",
            None,
            "Insufficient Balance",
        ),
        (
            Reply::error(429, "Rate limit reached", "rate_limit_error", None)
                .with_header("retry-after", "7"),
            429,
            "rate_limit_exceeded",
            Some("7"),
            "Rate limit reached",
        ),
        (
            Reply::error(401, "Invalid API key sk-...", "authentication_error", None),
            400,
            "upstream_rejected",
            None,
            "Invalid API key",
        ),
        (
            Reply::error(500, "boom", "server_error", None),
            502,
            "server_error",
            None,
            "boom",
        ),
        (
            Reply::error(503, "overloaded", "server_error", None),
            502,
            "server_error",
            None,
            "overloaded",
        ),
    ];
    let n = cases.len();
    let mock = MockUpstream::with_replies(
        cases
            .iter()
            .flat_map(|c| [c.0.clone(), c.0.clone()])
            .collect::<Vec<_>>(),
    );
    let bridge = Bridge::spawn(&mock.base_url(), &[]);
    for (_, status, code, retry_after, fragment) in &cases {
        for stream in [true, false] {
            let resp = post(&bridge, &simple_request(stream)).await;
            assert_eq!(resp.status().as_u16(), *status, "{code} stream={stream}");
            assert_eq!(
                resp.headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap()),
                *retry_after,
                "{code}"
            );
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"]["code"], *code, "{body}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(message.contains(fragment), "{message}");
        }
    }
    assert_eq!(mock.chat_request_count(), 2 * n);
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_upstream_is_a_502_naming_the_url() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bridge = Bridge::spawn(&format!("http://127.0.0.1:{port}/v1"), &[]);
    let resp = post(&bridge, &simple_request(true)).await;
    assert_eq!(resp.status(), 502);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "upstream_unreachable");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&port.to_string())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failure_after_first_byte_is_response_failed_without_items() {
    let mock = MockUpstream::with_replies([Reply::reset_mid_stream([
        chat::role(),
        chat::text("partial "),
    ])]);
    let bridge = Bridge::spawn(&mock.base_url(), &[]);
    let resp = post(&bridge, &simple_request(true)).await;
    assert_eq!(resp.status(), 200);
    let events = sse_events(&resp.text().await.unwrap());
    assert!(
        !kinds(&events).contains(&"response.output_item.done"),
        "no item may be committed for a failed response: {events:?}"
    );
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.failed");
    assert_eq!(last["response"]["error"]["code"], "server_error");
}

#[tokio::test(flavor = "multi_thread")]
async fn deltas_are_forwarded_as_they_arrive() {
    let gap = Duration::from_millis(300);
    let mut reply = SseReply::new([
        chat::role(),
        chat::text("one "),
        chat::text("two "),
        chat::text("three"),
    ]);
    reply.items.push(SseItem::json(&chat::finish("stop")));
    let reply = reply.delay_before(2, gap).delay_before(3, gap);
    let mock = MockUpstream::with_replies([Reply::Sse(reply)]);
    let bridge = Bridge::spawn(&mock.base_url(), &[]);
    let mut resp = post(&bridge, &simple_request(true)).await;
    let start = Instant::now();
    let mut seen = Vec::new();
    let mut buf = String::new();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            for e in sse_events(&block) {
                if e["type"] == "response.output_text.delta" {
                    seen.push((e["delta"].as_str().unwrap().to_owned(), start.elapsed()));
                }
            }
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    // The first delta reached the client before the upstream had produced the later ones.
    assert!(
        seen[2].1 - seen[0].1 >= gap,
        "deltas arrived together, so something buffered: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_upstream_gets_in_progress_heartbeats() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        "[bridge]\nheartbeat_ms = 100\n",
    )
    .unwrap();
    let reply = SseReply::new([chat::role(), chat::text("late"), chat::finish("stop")])
        .delay_before(0, Duration::from_millis(800));
    let mock = MockUpstream::with_replies([Reply::Sse(reply)]);
    let bridge = Bridge::spawn_with(BridgeOptions {
        upstream: mock.base_url(),
        args: vec![],
        envs: vec![("AIMUX_HOME".into(), home.path().display().to_string())],
        subcommand: None,
    });
    let events = sse_events(
        &post(&bridge, &simple_request(true))
            .await
            .text()
            .await
            .unwrap(),
    );
    let heartbeats = kinds(&events)
        .iter()
        .filter(|k| **k == "response.in_progress")
        .count();
    assert!(
        heartbeats >= 4,
        "expected repeated response.in_progress, got {:?}",
        kinds(&events)
    );
    assert_eq!(kinds(&events).last(), Some(&"response.completed"));
}

/// A raw upstream that answers with one chunk, then reports whether the client hung up.
#[tokio::test(flavor = "multi_thread")]
async fn client_disconnect_cancels_the_upstream_request() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut buf = [0u8; 65536];
        let mut req = Vec::new();
        // Read the headers and the (small) body.
        while !String::from_utf8_lossy(&req).contains("\"stream_options\"") {
            let n = sock.read(&mut buf).unwrap();
            req.extend_from_slice(&buf[..n]);
        }
        let chunk = format!("data: {}\n\n", chat::text("first"));
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
        sock.write_all(head.as_bytes()).unwrap();
        sock.write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes())
            .unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let closed = matches!(sock.read(&mut buf), Ok(0));
        tx.send(closed).unwrap();
    });
    let bridge = Bridge::spawn(&format!("http://127.0.0.1:{port}/v1"), &[]);
    let mut resp = post(&bridge, &simple_request(true)).await;
    // Read until the first text delta, then hang up.
    let mut seen = String::new();
    while !seen.contains("output_text.delta") {
        seen.push_str(&String::from_utf8_lossy(
            &resp.chunk().await.unwrap().unwrap(),
        ));
    }
    drop(resp);
    let closed = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(15)))
        .await
        .unwrap();
    assert_eq!(
        closed,
        Ok(true),
        "the bridge kept the upstream request open after the client left"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_openai_shaped_errors() {
    let mock = MockUpstream::start();
    let bridge = Bridge::spawn(&mock.base_url(), &[]);
    let c = client();
    let url = format!("{}/v1/responses", bridge.url);
    // (request, want status, message fragment)
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            c.post(&url)
                .header("content-type", "application/json")
                .body("{not json"),
            400,
            "invalid request body",
        ),
        (
            c.post(&url)
                .header("content-type", "application/json")
                .body(r#"{"input":"x"}"#),
            400,
            "model",
        ),
        (
            c.post(&url)
                .header("content-type", "application/json")
                .body(r#"{"model":"m","input":"x","previous_response_id":"resp_1"}"#),
            400,
            "previous_response_id",
        ),
        (
            c.post(&url)
                .header("content-type", "text/plain")
                .body(r#"{"model":"m","input":"x"}"#),
            415,
            "application/json",
        ),
        (c.get(&url), 405, "use POST"),
        (c.get(format!("{}/v1/nope", bridge.url)), 404, "no route"),
    ];
    for (req, status, fragment) in cases {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{fragment}");
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"]["type"].is_string(), "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(fragment),
            "{message} should contain {fragment}"
        );
    }
    let head = c.head(&url).send().await.unwrap();
    assert_eq!(
        head.status(),
        405,
        "HEAD answers so `codex doctor` sees the route"
    );
    assert_eq!(
        mock.chat_request_count(),
        0,
        "bad requests never reach the upstream"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn token_is_required_when_set_and_never_forwarded() {
    let mock = MockUpstream::with_replies([Reply::text("ok")]);
    let bridge = Bridge::spawn(&mock.base_url(), &["--token", "s3cret"]);
    let url = format!("{}/v1/responses", bridge.url);
    let c = client();
    let none = c
        .post(&url)
        .json(&simple_request(true))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    let wrong = c
        .post(&url)
        .bearer_auth("nope")
        .json(&simple_request(true))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let health = c
        .get(format!("{}/health", bridge.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ok = c
        .post(&url)
        .bearer_auth("s3cret")
        .json(&simple_request(true))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    ok.text().await.unwrap();
    let sent = &mock.chat_requests()[0];
    assert_eq!(
        sent.header("authorization"),
        None,
        "client credentials must not go upstream"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn models_and_chat_completions_pass_through() {
    let mock = MockUpstream::with_replies([
        Reply::text("via chat").with_header("openai-model", "x"),
        Reply::text("translated"),
    ]);
    let bridge = Bridge::spawn(&mock.base_url(), &[]);
    let c = client();
    let models: Value = c
        .get(format!("{}/v1/models", bridge.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"][0]["id"], chat::MOCK_MODEL);
    let resp = c
        .post(format!("{}/v1/chat/completions", bridge.url))
        .json(&json!({"model":"test-model","stream":true,"messages":[{"role":"user","content":"hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("openai-model").is_none());
    let text = resp.text().await.unwrap();
    assert!(text.contains("via") && text.contains("[DONE]"), "{text}");

    // Only the bridge's own translated requests are marked as such for the proxy (which then
    // reads them only as far as model and stream); a client's body passed on is not.
    let resp = c
        .post(format!("{}/v1/responses", bridge.url))
        .json(&json!({"model":"test-model","input":"hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let marked = |i: usize| {
        mock.chat_requests()[i]
            .headers
            .iter()
            .any(|(k, v)| k == "x-aimux-translated" && v == "1")
    };
    assert!(!marked(0), "the passthrough");
    assert!(marked(1), "the translated request");
}

#[test]
fn refuses_public_bind_without_token_and_busy_ports() {
    let out = Command::new(env!("CARGO_BIN_EXE_aimux"))
        .args(["bridge", "--host", "0.0.0.0", "--port", "0"])
        .env_remove("AIMUX_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("without a token"), "{stderr}");

    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_aimux"))
        .args(["bridge", "--port", &port])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("already in use") && stderr.contains("--port"),
        "{stderr}"
    );
}

#[test]
fn unknown_config_keys_are_named() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        "[bridge]\nupstreams = \"x\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_aimux"))
        .args(["bridge", "--port", "0"])
        .env("AIMUX_HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown field `upstreams`"), "{stderr}");
    assert!(stderr.contains("config.toml"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_host_and_origin_are_refused() {
    let mock = MockUpstream::with_replies([Reply::text("never")]);
    let bridge = Bridge::spawn(&mock.base_url(), &[]);
    let url = format!("{}/v1/responses", bridge.url);
    let c = client();
    let rebinding = c
        .post(&url)
        .header("host", format!("attacker.example:{}", bridge.port))
        .json(&simple_request(false))
        .send()
        .await
        .unwrap();
    assert_eq!(rebinding.status(), 403);
    let cross_site = c
        .post(&url)
        .header("origin", "http://attacker.example")
        .json(&simple_request(false))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let body: Value = cross_site.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden_origin");
    let same_origin = c
        .get(format!("{}/health", bridge.url))
        .header("origin", bridge.url.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 200);
    assert_eq!(mock.chat_request_count(), 0);
}

/// A supervisor may send SIGTERM the moment the server-info file appears: it must never be lost.
#[test]
fn sigterm_right_after_ready_always_stops_the_server() {
    let home = tempfile::tempdir().unwrap();
    for subcommand in ["bridge", "proxy"] {
        for _ in 0..10 {
            let mut server = Bridge::spawn_with(BridgeOptions {
                upstream: String::new(),
                args: vec![],
                envs: vec![
                    ("AIMUX_HOME".into(), home.path().display().to_string()),
                    ("AIMUX_INTERNAL_SECRET".into(), "s".into()),
                ],
                subcommand: Some(subcommand.into()),
            });
            server.terminate();
            let status = server.wait_exit(Duration::from_secs(10));
            assert!(
                status.is_some(),
                "aimux {subcommand} ignored SIGTERM\n{}",
                server.stderr()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn oversize_bodies_get_an_openai_shaped_413_and_the_server_keeps_serving() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        "[bridge]\nmax_body_mb = 1\n",
    )
    .unwrap();
    let mock = MockUpstream::with_replies([Reply::text("still here")]);
    let bridge = Bridge::spawn_with(BridgeOptions {
        upstream: mock.base_url(),
        args: vec![],
        envs: vec![("AIMUX_HOME".into(), home.path().display().to_string())],
        subcommand: None,
    });
    let big = json!({"model": "test-model", "input": "x".repeat(2 * 1024 * 1024)});
    let resp = post(&bridge, &big).await;
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request_too_large", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_body_mb")
    );
    let ok = post(&bridge, &simple_request(false)).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(mock.chat_request_count(), 1);
}

/// Slow-loris: a client trickling header bytes (or sending nothing) is cut off after
/// `header_timeout_s`, while the server keeps answering everyone else.
#[test]
fn slow_headers_are_timed_out_and_the_server_keeps_serving() {
    use std::net::TcpStream;
    fn health(addr: &str) -> String {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        answer.lines().next().unwrap_or_default().to_owned()
    }
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        "[bridge]\nheader_timeout_s = 2\n[proxy]\nheader_timeout_s = 2\n",
    )
    .unwrap();
    for subcommand in ["bridge", "proxy"] {
        let server = Bridge::spawn_with(BridgeOptions {
            upstream: if subcommand == "bridge" {
                "http://127.0.0.1:9/v1".into()
            } else {
                String::new()
            },
            args: vec![],
            envs: vec![
                ("AIMUX_HOME".into(), home.path().display().to_string()),
                ("AIMUX_INTERNAL_SECRET".into(), "s".into()),
            ],
            subcommand: Some(subcommand.into()),
        });
        let addr = server.url.trim_start_matches("http://").to_owned();
        let started = Instant::now();
        let mut trickler = TcpStream::connect(&addr).unwrap();
        let silent = TcpStream::connect(&addr).unwrap();
        trickler
            .write_all(b"POST /v1/responses HTTP/1.1\r\n")
            .unwrap();
        trickler
            .set_read_timeout(Some(Duration::from_millis(250)))
            .unwrap();
        // One header byte every 250 ms, until the server hangs up (bounded at 20 s).
        let mut closed_after = None;
        for byte in b"X-Slow: ".iter().cycle().take(80) {
            if trickler.write_all(&[*byte]).is_err() {
                closed_after = Some(started.elapsed());
                break;
            }
            let mut buf = [0u8; 512];
            match trickler.read(&mut buf) {
                Ok(_) => {
                    // EOF, or an error answer on the way out: either way the server is done.
                    closed_after = Some(started.elapsed());
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => {
                    closed_after = Some(started.elapsed());
                    break;
                }
            }
            // A well-behaved client is served meanwhile.
            assert_eq!(health(&addr), "HTTP/1.1 200 OK", "{subcommand}");
        }
        let closed_after = closed_after
            .unwrap_or_else(|| panic!("{subcommand} kept a slow-loris connection 20 s"));
        assert!(
            closed_after >= Duration::from_millis(1500) && closed_after < Duration::from_secs(6),
            "{subcommand} closed the trickling connection after {closed_after:?} (timeout 2 s)"
        );
        // The connection that never sent a byte is gone too.
        silent
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 64];
        let read = (&silent).read(&mut buf);
        let closed = match &read {
            Ok(n) => *n == 0,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        };
        assert!(
            closed,
            "{subcommand}: the silent connection is still open after {:?}: {read:?}",
            started.elapsed()
        );
        assert!(started.elapsed() < Duration::from_secs(8));
    }
}
