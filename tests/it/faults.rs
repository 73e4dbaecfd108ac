//! Upstream faults against the real binaries: for each fault × each server (the bridge's
//! `/v1/responses` streamed and not, the proxy's `/v1/chat/completions` streamed and not), the
//! client gets a clear error (an OpenAI-shaped status before the first byte; after it, the
//! bridge's `response.failed` or the proxy's `data: {"error": ...}` event) within the configured
//! timeout, and the very next request to the same server succeeds.
//!
//! The timeouts are distinct per server and kind, so the measured time also says which timer
//! fired: bridge first byte 2 s, idle 1 s; proxy first byte 1 s, idle 2 s, provider timeout 3 s.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::faulty::{Fault, FaultyUpstream, GARBAGE, PARTIAL, RECOVERED};
use crate::common::{Bridge, BridgeOptions, venv_python};

const SECRET: &str = "faults-internal-secret";
const TOKEN: &str = "faults-client-token";

const BRIDGE_CONFIG: &str =
    "[bridge]\nfirst_byte_timeout_s = 2\nidle_timeout_s = 1\nheartbeat_ms = 200\n";

fn proxy_config(upstream: &FaultyUpstream, extra: &str) -> String {
    format!(
        "[proxy]\nretries = 0\nfirst_byte_timeout_s = 1\nidle_timeout_s = 2\n{extra}\n\
         [providers.a]\nbase_url = \"{}\"\nmodels = [\"m1\"]\ntimeout_s = 3\n",
        upstream.base_url()
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    BridgeStream,
    BridgeJson,
    ProxyStream,
    ProxyJson,
}

const SERVERS: [Server; 4] = [
    Server::BridgeStream,
    Server::BridgeJson,
    Server::ProxyStream,
    Server::ProxyJson,
];

impl Server {
    fn stream(self) -> bool {
        matches!(self, Server::BridgeStream | Server::ProxyStream)
    }

    fn is_bridge(self) -> bool {
        matches!(self, Server::BridgeStream | Server::BridgeJson)
    }
}

/// A running server with its own AIMUX_HOME.
struct Running {
    server: Bridge,
    _home: tempfile::TempDir,
}

fn spawn(kind: Server, upstream: &FaultyUpstream, proxy_extra: &str) -> Running {
    let home = tempfile::tempdir().expect("home");
    let (config, subcommand, upstream_url) = if kind.is_bridge() {
        (BRIDGE_CONFIG.to_owned(), None, upstream.base_url())
    } else {
        (
            proxy_config(upstream, proxy_extra),
            Some("proxy".to_owned()),
            String::new(),
        )
    };
    std::fs::write(home.path().join("config.toml"), config).expect("config");
    let server = Bridge::spawn_with(BridgeOptions {
        upstream: upstream_url,
        args: vec![],
        envs: vec![
            ("AIMUX_HOME".into(), home.path().display().to_string()),
            ("AIMUX_INTERNAL_SECRET".into(), SECRET.into()),
            ("AIMUX_TOKEN".into(), TOKEN.into()),
        ],
        subcommand,
    });
    Running {
        server,
        _home: home,
    }
}

/// What the client got, read to the end.
#[derive(Debug)]
enum Got {
    /// A non-200 status and its JSON body.
    Status(u16, Value),
    /// A 200 stream's `data` payloads (`[DONE]` as the string "[DONE]").
    Stream(Vec<Value>),
    /// A 200 JSON body.
    Json(Value),
}

async fn request(kind: Server, server: &Bridge) -> (Got, Duration) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let stream = kind.stream();
    let req = if kind.is_bridge() {
        client
            .post(format!("{}/v1/responses", server.url))
            .bearer_auth(TOKEN)
            .json(&json!({
                "model": "test-model",
                "stream": stream,
                "input": [{"type": "message", "role": "user",
                           "content": [{"type": "input_text", "text": "hi"}]}],
            }))
    } else {
        client
            .post(format!("{}/v1/chat/completions", server.url))
            .bearer_auth(TOKEN)
            .json(&json!({
                "model": "m1",
                "stream": stream,
                "messages": [{"role": "user", "content": "hi"}],
            }))
    };
    let started = Instant::now();
    let resp = req.send().await.expect("the server answers");
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .expect("the body ends cleanly (no torn stream)");
    let took = started.elapsed();
    let got = if status != 200 {
        Got::Status(
            status,
            serde_json::from_slice(&body)
                .unwrap_or_else(|e| panic!("{kind:?}: error body is not JSON ({e}): {body:?}")),
        )
    } else if stream {
        Got::Stream(sse_data(&String::from_utf8_lossy(&body)))
    } else {
        Got::Json(serde_json::from_slice(&body).expect("200 JSON body"))
    };
    (got, took)
}

fn sse_data(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|block| {
            let data: Vec<&str> = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .map(|d| {
            serde_json::from_str(&d).unwrap_or_else(|e| {
                if d == "[DONE]" {
                    Value::String(d)
                } else {
                    panic!(
                        "the client got an event that is not JSON ({e}): {}",
                        short(&d)
                    )
                }
            })
        })
        .collect()
}

/// The answer's text, from whichever shape the server speaks.
fn answer_text(kind: Server, got: &Got) -> Option<String> {
    match (kind, got) {
        (Server::BridgeStream, Got::Stream(events)) => {
            let completed = events.iter().find(|e| e["type"] == "response.completed")?;
            let text = completed["response"]["output"]
                .as_array()?
                .iter()
                .find(|i| i["type"] == "message")?["content"][0]["text"]
                .as_str()?
                .to_owned();
            let deltas: String = events
                .iter()
                .filter(|e| e["type"] == "response.output_text.delta")
                .filter_map(|e| e["delta"].as_str())
                .collect();
            assert_eq!(deltas, text, "the deltas and the final item disagree");
            Some(text)
        }
        (Server::BridgeJson, Got::Json(r)) => r["output"]
            .as_array()?
            .iter()
            .find(|i| i["type"] == "message")?["content"][0]["text"]
            .as_str()
            .map(str::to_owned),
        (Server::ProxyStream, Got::Stream(events)) => {
            assert_eq!(events.last(), Some(&json!("[DONE]")), "a complete stream");
            Some(
                events
                    .iter()
                    .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
                    .collect(),
            )
        }
        (Server::ProxyJson, Got::Json(r)) => r["choices"][0]["message"]["content"]
            .as_str()
            .map(str::to_owned),
        _ => None,
    }
}

/// What a fault must give on one server.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// An OpenAI-shaped error with this status and code, its message holding every fragment.
    Status(u16, &'static str, &'static [&'static str]),
    /// Bridge stream: `response.failed` with this error code, message holding every fragment.
    Failed(&'static str, &'static [&'static str]),
    /// Proxy stream: text so far, then `data: {"error": ...}` with this code, and the end.
    ErrorEvent(&'static str, &'static [&'static str]),
    /// The whole answer: `x` repeated this many times.
    Intact(usize),
}

struct Case {
    server: Server,
    want: Want,
    /// Seconds the outcome must take: at least `.0`, under `.1`.
    within: (f64, f64),
}

const fn case(server: Server, want: Want, within: (f64, f64)) -> Case {
    Case {
        server,
        want,
        within,
    }
}

fn check(kind: Server, got: &Got, want: Want) -> Result<(), String> {
    let has_all = |message: &str, fragments: &[&str]| {
        fragments
            .iter()
            .all(|f| message.contains(f))
            .then_some(())
            .ok_or_else(|| format!("message {message:?} lacks one of {fragments:?}"))
    };
    match (want, got) {
        (Want::Status(status, code, fragments), Got::Status(got_status, body)) => {
            let e = &body["error"];
            if *got_status != status || e["code"] != code {
                return Err(format!("want {status} {code}, got {got_status} {body}"));
            }
            if !e["type"].is_string() || !e["message"].is_string() {
                return Err(format!("not OpenAI's error shape: {body}"));
            }
            has_all(e["message"].as_str().unwrap_or(""), fragments)
        }
        (Want::Failed(code, fragments), Got::Stream(events)) => {
            let last = events.last().ok_or("an empty stream")?;
            if last["type"] != "response.failed" {
                return Err(format!("the last event is not response.failed: {last}"));
            }
            if events.iter().any(|e| {
                e["type"] == "response.completed" || e["type"] == "response.output_item.done"
            }) {
                return Err("a failed response committed output".into());
            }
            let e = &last["response"]["error"];
            if e["code"] != code {
                return Err(format!("want code {code}: {last}"));
            }
            has_all(e["message"].as_str().unwrap_or(""), fragments)
        }
        (Want::ErrorEvent(code, fragments), Got::Stream(events)) => {
            let last = events.last().ok_or("an empty stream")?;
            let e = &last["error"];
            if e["code"] != code || !e["type"].is_string() {
                return Err(format!(
                    "the stream does not end with a {code} error: {last}"
                ));
            }
            if events.iter().any(|e| e == "[DONE]") {
                return Err("a broken stream must not say [DONE]".into());
            }
            has_all(e["message"].as_str().unwrap_or(""), fragments)
        }
        (Want::Intact(n), got) => {
            let text =
                answer_text(kind, got).ok_or_else(|| format!("no answer in {}", short(got)))?;
            (text.len() == n && text.bytes().all(|b| b == b'x'))
                .then_some(())
                .ok_or_else(|| format!("got {} bytes of text, want {n} x", text.len()))
        }
        (want, got) => Err(format!("want {want:?}, got {}", short(got))),
    }
}

/// Runs one fault (`None`: nothing listens) against every listed server (concurrently), then a
/// normal request to each.
async fn run_fault(fault: Option<Fault>, cases: &[Case], after: impl Fn(&FaultyUpstream, Server)) {
    let runs = cases.iter().map(|c| async {
        let kind = c.server;
        let mut upstream = match fault {
            None => FaultyUpstream::refusing([]),
            Some(f) => FaultyUpstream::start([f]),
        };
        let running = spawn(kind, &upstream, "");
        let (got, took) = request(kind, &running.server).await;
        let mut problems = Vec::new();
        if let Err(e) = check(kind, &got, c.want) {
            problems.push(e);
        }
        let secs = took.as_secs_f64();
        eprintln!("{fault:?} × {kind:?}: {secs:.2}s");
        if secs < c.within.0 || secs >= c.within.1 {
            problems.push(format!(
                "took {secs:.2}s, want between {}s and {}s",
                c.within.0, c.within.1
            ));
        }
        after(&upstream, kind);
        if fault.is_none() {
            upstream.listen();
        }
        // The server keeps serving.
        let (next, _) = request(kind, &running.server).await;
        match answer_text(kind, &next) {
            Some(text) if text == RECOVERED => {}
            _ => problems.push(format!("the next request failed: {}", short(&next))),
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{fault:?} × {kind:?}:\n  {}\n  (got {})\n--- server stderr ---\n{}",
                problems.join("\n  "),
                short(&got),
                tail(&running.server.stderr())
            ))
        }
    });
    let results = futures_util::future::join_all(runs).await;
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Debug output cut to a readable length (a 10 MB answer must not flood the log).
fn short(v: &impl std::fmt::Debug) -> String {
    let s = format!("{v:?}");
    match s.char_indices().nth(600) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().rev().take(15).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// The server let go of a connection the upstream kept open.
fn released(upstream: &FaultyUpstream, kind: Server) {
    assert!(
        upstream.wait_closed(1, Duration::from_secs(5)),
        "{kind:?} kept the upstream connection open after giving up"
    );
}

fn nothing(_: &FaultyUpstream, _: Server) {}

#[tokio::test(flavor = "multi_thread")]
async fn connection_refused() {
    let want = Want::Status(
        502,
        "upstream_unreachable",
        &["cannot reach upstream", "refused"],
    );
    let cases: Vec<Case> = SERVERS.iter().map(|&s| case(s, want, (0.0, 1.0))).collect();
    run_fault(None, &cases, nothing).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_mid_stream() {
    let broke: &[&str] = &["broke off", "reset"];
    run_fault(
        Some(Fault::Reset),
        &[
            case(
                Server::BridgeStream,
                Want::Failed("server_error", broke),
                (0.0, 1.0),
            ),
            case(
                Server::BridgeJson,
                Want::Status(502, "upstream_stream_error", broke),
                (0.0, 1.0),
            ),
            case(
                Server::ProxyStream,
                Want::ErrorEvent("upstream_stream_error", broke),
                (0.0, 1.0),
            ),
            case(
                Server::ProxyJson,
                Want::Status(502, "upstream_stream_error", broke),
                (0.0, 1.0),
            ),
        ],
        nothing,
    )
    .await;
}

const BRIDGE_FIRST_BYTE: &[&str] = &[
    "timed out waiting for the first byte after 2s",
    "first_byte_timeout_s",
];
const PROXY_FIRST_BYTE: &[&str] = &[
    "timed out waiting for the first byte after 1s",
    "first_byte_timeout_s",
];
const PROXY_WHOLE: &[&str] = &["no complete answer after 3s", "[providers.a] timeout_s"];

#[tokio::test(flavor = "multi_thread")]
async fn hang_before_the_first_byte() {
    run_fault(
        Some(Fault::HangBeforeHeaders),
        &[
            case(
                Server::BridgeStream,
                Want::Status(504, "upstream_timeout", BRIDGE_FIRST_BYTE),
                (2.0, 3.0),
            ),
            case(
                Server::BridgeJson,
                Want::Status(504, "upstream_timeout", BRIDGE_FIRST_BYTE),
                (2.0, 3.0),
            ),
            case(
                Server::ProxyStream,
                Want::Status(504, "upstream_timeout", PROXY_FIRST_BYTE),
                (1.0, 2.0),
            ),
            case(
                Server::ProxyJson,
                Want::Status(504, "upstream_timeout", PROXY_WHOLE),
                (3.0, 4.0),
            ),
        ],
        released,
    )
    .await;
}

/// Headers, then silence: the bridge has committed to a 200 stream (and sent heartbeats), so
/// the timeout must arrive as `response.failed` naming it.
#[tokio::test(flavor = "multi_thread")]
async fn hang_after_the_headers() {
    run_fault(
        Some(Fault::HangAfterHeaders),
        &[
            case(
                Server::BridgeStream,
                Want::Failed("server_error", BRIDGE_FIRST_BYTE),
                (2.0, 3.0),
            ),
            case(
                Server::BridgeJson,
                Want::Status(504, "upstream_timeout", BRIDGE_FIRST_BYTE),
                (2.0, 3.0),
            ),
            case(
                Server::ProxyStream,
                Want::Status(504, "upstream_timeout", PROXY_FIRST_BYTE),
                (1.0, 2.0),
            ),
            case(
                Server::ProxyJson,
                Want::Status(504, "upstream_timeout", PROXY_WHOLE),
                (3.0, 4.0),
            ),
        ],
        released,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn heartbeats_come_before_a_late_failure() {
    let upstream = FaultyUpstream::start([Fault::HangAfterHeaders]);
    let running = spawn(Server::BridgeStream, &upstream, "");
    let (got, _) = request(Server::BridgeStream, &running.server).await;
    let Got::Stream(events) = got else {
        panic!("want a stream: {}", short(&got))
    };
    let heartbeats = events
        .iter()
        .filter(|e| e["type"] == "response.in_progress")
        .count();
    assert!(heartbeats >= 5, "{heartbeats} heartbeats in 2 s at 200 ms");
    assert_eq!(events.last().unwrap()["type"], "response.failed");
}

const BRIDGE_IDLE: &[&str] = &["no data for 1s", "idle_timeout_s"];
const PROXY_IDLE: &[&str] = &["no data for 2s", "idle_timeout_s"];

#[tokio::test(flavor = "multi_thread")]
async fn hang_mid_stream() {
    run_fault(
        Some(Fault::HangMidAnswer),
        &[
            case(
                Server::BridgeStream,
                Want::Failed("server_error", BRIDGE_IDLE),
                (1.0, 2.0),
            ),
            case(
                Server::BridgeJson,
                Want::Status(504, "upstream_timeout", BRIDGE_IDLE),
                (1.0, 2.0),
            ),
            case(
                Server::ProxyStream,
                Want::ErrorEvent("upstream_timeout", PROXY_IDLE),
                (2.0, 3.0),
            ),
            case(
                Server::ProxyJson,
                Want::Status(504, "upstream_timeout", PROXY_IDLE),
                (2.0, 3.0),
            ),
        ],
        released,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_sse() {
    let invalid: &[&str] = &["sent invalid JSON", "502 Bad Gateway"];
    run_fault(
        Some(Fault::Garbage),
        &[
            case(
                Server::BridgeStream,
                Want::Failed("server_error", invalid),
                (0.0, 1.0),
            ),
            case(
                Server::BridgeJson,
                Want::Status(502, "invalid_upstream_response", invalid),
                (0.0, 1.0),
            ),
            case(
                Server::ProxyStream,
                Want::ErrorEvent("invalid_upstream_response", invalid),
                (0.0, 1.0),
            ),
            case(
                Server::ProxyJson,
                Want::Status(502, "invalid_upstream_response", invalid),
                (0.0, 1.0),
            ),
        ],
        nothing,
    )
    .await;
    assert!(GARBAGE.contains("502 Bad Gateway"));
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_json() {
    let invalid: &[&str] = &["sent invalid JSON", "EOF while parsing"];
    run_fault(
        Some(Fault::TruncatedJson),
        &[
            case(
                Server::BridgeStream,
                Want::Failed("server_error", invalid),
                (0.0, 1.0),
            ),
            case(
                Server::BridgeJson,
                Want::Status(502, "invalid_upstream_response", invalid),
                (0.0, 1.0),
            ),
            case(
                Server::ProxyStream,
                Want::ErrorEvent("upstream_stream_error", &["in the middle of an event"]),
                (0.0, 1.0),
            ),
            case(
                Server::ProxyJson,
                Want::Status(502, "invalid_upstream_response", invalid),
                (0.0, 1.0),
            ),
        ],
        nothing,
    )
    .await;
}

/// One 10 MB event (a single content delta) is delivered whole, quickly. The bound is for the
/// debug build the tests run, on a busy machine: the bridge's stream re-sends the text in four
/// events (1.2–1.9 s debug; the proxy 0.2–0.3 s). Anything quadratic in 10 MB would be far past
/// it; `sse::tests::one_huge_event_is_linear` guards the decoder's part on its own.
#[tokio::test(flavor = "multi_thread")]
async fn ten_megabyte_event() {
    const N: usize = 10 * 1024 * 1024;
    // One server at a time: the time is the server's, not four sharing two cores.
    for server in SERVERS {
        run_fault(
            Some(Fault::Huge(N)),
            &[case(server, Want::Intact(N), (0.0, 5.0))],
            nothing,
        )
        .await;
    }
}

/// The proxy's stream error is one the official OpenAI SDK raises as an `APIError` with the
/// message (not a JSON decode error or a silent end).
#[test]
fn proxy_stream_error_is_an_api_error_in_the_openai_sdk() {
    let python = venv_python();
    let upstream = FaultyUpstream::start([Fault::Reset]);
    let running = spawn(Server::ProxyStream, &upstream, "");
    let script = r#"
import sys, openai
client = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
text = ""
try:
    for chunk in client.chat.completions.create(
        model="m1", messages=[{"role": "user", "content": "hi"}], stream=True
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
except openai.APIError as e:
    print(f"APIError after {text!r}: {e.message}")
    sys.exit(0)
print(f"no error, text {text!r}")
sys.exit(1)
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script, &format!("{}/v1", running.server.url), TOKEN])
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("APIError after '{PARTIAL}'"))
            && stdout.contains("a/m1 broke off"),
        "{stdout}"
    );
}

/// A client that hangs up mid-stream makes the proxy close the upstream connection (the bridge's
/// twin is `bridge_http::client_disconnect_cancels_the_upstream_request`).
#[tokio::test(flavor = "multi_thread")]
async fn proxy_client_disconnect_closes_the_upstream() {
    let upstream = FaultyUpstream::start([Fault::HangMidAnswer]);
    // Idle timeout far longer than the wait below: only the disconnect can close it.
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[providers.a]\nbase_url = \"{}\"\nmodels = [\"m1\"]\n",
            upstream.base_url()
        ),
    )
    .unwrap();
    let proxy = Bridge::spawn_with(BridgeOptions {
        upstream: String::new(),
        args: vec![],
        envs: vec![
            ("AIMUX_HOME".into(), home.path().display().to_string()),
            ("AIMUX_INTERNAL_SECRET".into(), SECRET.into()),
        ],
        subcommand: Some("proxy".into()),
    });
    let mut resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", proxy.url))
        .header("x-aimux-internal", SECRET)
        .json(&json!({"model": "m1", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut seen = String::new();
    while !seen.contains(PARTIAL) {
        let chunk = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
            .await
            .expect("the partial answer arrives")
            .unwrap()
            .expect("more body");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(!upstream.wait_closed(1, Duration::ZERO));
    drop(resp);
    let closed =
        tokio::task::spawn_blocking(move || upstream.wait_closed(1, Duration::from_secs(10)))
            .await
            .unwrap();
    assert!(
        closed,
        "the proxy kept the upstream request open after the client left"
    );
}

/// The proxy's twin of `bridge_http::oversize_bodies_get_an_openai_shaped_413_...`.
#[tokio::test(flavor = "multi_thread")]
async fn proxy_oversize_body_is_a_413_and_the_proxy_keeps_serving() {
    let upstream = FaultyUpstream::start([]);
    let running = spawn(Server::ProxyJson, &upstream, "max_body_mb = 1");
    let client = reqwest::Client::new();
    let big = json!({"model": "m1", "messages": [{"role": "user", "content": "x".repeat(2 * 1024 * 1024)}]});
    let resp = client
        .post(format!("{}/v1/chat/completions", running.server.url))
        .bearer_auth(TOKEN)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request_too_large", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_body_mb")
    );
    assert_eq!(upstream.request_count(), 0);
    let (next, _) = request(Server::ProxyJson, &running.server).await;
    assert_eq!(
        answer_text(Server::ProxyJson, &next).as_deref(),
        Some(RECOVERED)
    );
}

/// The bridge's pass-through route (`/v1/chat/completions`, forwarded as is) has the same
/// timers: a 504 when the upstream says nothing for `first_byte_timeout_s`, and a body cut off
/// when it goes silent mid-answer for `idle_timeout_s`; the next request is served.
#[tokio::test(flavor = "multi_thread")]
async fn bridge_pass_through_times_out() {
    let upstream = FaultyUpstream::start([
        Fault::HangBeforeHeaders,
        Fault::HangMidAnswer,
        Fault::Normal,
    ]);
    let running = spawn(Server::BridgeStream, &upstream, "");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let send = || {
        client
            .post(format!("{}/v1/chat/completions", running.server.url))
            .bearer_auth(TOKEN)
            .json(&json!({
                "model": "m1",
                "stream": true,
                "messages": [{"role": "user", "content": "hi"}],
            }))
            .send()
    };

    let started = Instant::now();
    let resp = send().await.expect("an answer");
    let took = started.elapsed();
    assert_eq!(resp.status(), 504);
    let body: Value = resp.json().await.expect("JSON error");
    assert_eq!(body["error"]["code"], "upstream_timeout", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("first_byte_timeout_s"), "{message}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(3),
        "first byte: {took:?}"
    );

    let started = Instant::now();
    let resp = send().await.expect("headers");
    assert_eq!(resp.status(), 200);
    let read = resp.bytes().await;
    let took = started.elapsed();
    assert!(
        read.is_err(),
        "a stalled body must not end cleanly: {read:?}"
    );
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(2),
        "idle: {took:?}"
    );

    let resp = send().await.expect("an answer");
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.expect("whole body");
    assert!(text.contains(RECOVERED), "{text}");
}
