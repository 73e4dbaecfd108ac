//! The `codex` backend (`aimux::proxy::codex_exec`) with the real Codex CLI 0.169.0: each test
//! gets its own `CODEX_HOME` whose provider `mock` is a scripted [`MockResponses`] server, and
//! the backend forces `-c model_provider="mock"`, so no OpenAI login or network is needed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aimux::bridge::translate::UpstreamError;
use aimux::proxy::backend::{BackendEvent, TokenUsage};
use aimux::proxy::codex_exec::{CodexExec, CodexExecSettings, CodexRequest};
use serde_json::{Value, json};
use tokio::sync::mpsc::Receiver;

use crate::common::TEST_MODEL;
use crate::common::codex_exec_home::ExecHome;
use crate::common::mock_responses::{MockResponses, ResponsesReply, ResponsesRequest, responses};

/// A valid 1×1 PNG.
const PNG_1X1: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

/// Generous upper bound for one short Codex turn against the mock.
const TURN: Duration = Duration::from_secs(60);

/// Poll `f` every 20 ms (without blocking the runtime) until it returns `Some`.
async fn eventually<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every event until the channel closes (panics after [`TURN`]).
async fn collect(mut rx: Receiver<BackendEvent>) -> Vec<BackendEvent> {
    let mut out = Vec::new();
    let all = async {
        while let Some(ev) = rx.recv().await {
            out.push(ev);
        }
    };
    if tokio::time::timeout(TURN, all).await.is_err() {
        panic!("backend events did not end within {TURN:?}");
    }
    out
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

fn request(messages: Vec<Value>) -> CodexRequest {
    CodexRequest {
        model: Some(TEST_MODEL.to_string()),
        messages,
        ..CodexRequest::default()
    }
}

fn backend(settings: CodexExecSettings) -> CodexExec {
    CodexExec::new(settings).expect("valid codex backend settings")
}

async fn run(exec: &CodexExec, req: CodexRequest) -> Vec<BackendEvent> {
    let rx = exec
        .start(req)
        .await
        .unwrap_or_else(|e| panic!("start failed: {e:?}"));
    collect(rx).await
}

fn explain(events: &[BackendEvent], mock: &MockResponses) -> String {
    format!(
        "events: {events:#?}\n--- mock requests ---\n{}",
        mock.dump()
    )
}

/// The one request the mock got, or a panic explaining what happened.
fn only_request(events: &[BackendEvent], mock: &MockResponses) -> ResponsesRequest {
    let reqs = mock.responses_requests();
    assert_eq!(reqs.len(), 1, "{}", explain(events, mock));
    reqs.into_iter().next().expect("one request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_backend_streams_text_with_usage() {
    let mock = MockResponses::with_replies([ResponsesReply::Events(vec![
        responses::reasoning("Thinking about greetings"),
        responses::message("Hello"),
        responses::message("World"),
        responses::completed(responses::usage(100, 40, 7, 3)),
    ])]);
    let home = ExecHome::new(&mock.base_url());
    let exec = backend(home.settings());
    let events = run(&exec, request(vec![user("Say hello")])).await;
    let why = explain(&events, &mock);
    assert_eq!(
        events,
        vec![
            BackendEvent::Reasoning("Thinking about greetings".into()),
            BackendEvent::Content("Hello".into()),
            BackendEvent::Content("\n\nWorld".into()),
            BackendEvent::Usage(TokenUsage {
                input: 100,
                cached_input: 40,
                output: 7,
                reasoning: 3,
            }),
            BackendEvent::Done {
                finish_reason: "stop".into()
            },
        ],
        "{why}"
    );
    let req = only_request(&events, &mock);
    assert_eq!(req.body["model"], TEST_MODEL, "{why}");
    assert_eq!(exec.running(), 0, "slot released");
    let left = home.processes();
    assert!(
        left.is_empty(),
        "codex left running:\n{}",
        ExecHome::describe(&left)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_backend_prompt_carries_system_and_user_text() {
    let mock = MockResponses::with_replies([ResponsesReply::text("ok")]);
    let home = ExecHome::new(&mock.base_url());
    let exec = backend(home.settings());
    let events = run(
        &exec,
        CodexRequest {
            model: None, // the config's default model
            reasoning_effort: Some("high".into()),
            ..request(vec![
                json!({"role": "system", "content": "SYSTEM-MARKER-7d2: answer in French."}),
                json!({"role": "user", "content": [{"type": "text", "text": "USER-MARKER-a91: hello"}]}),
            ])
        },
    )
    .await;
    let why = explain(&events, &mock);
    assert!(
        matches!(events.last(), Some(BackendEvent::Done { .. })),
        "{why}"
    );
    let req = only_request(&events, &mock);
    let prompt = req.user_texts().pop().unwrap_or_default();
    assert_eq!(
        prompt,
        "<system>\nSYSTEM-MARKER-7d2: answer in French.\n</system>\n\nUSER-MARKER-a91: hello",
        "{why}"
    );
    assert_eq!(req.body["model"], TEST_MODEL, "{why}");
    assert_eq!(req.body["reasoning"]["effort"], "high", "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_backend_keeps_user_mcp_servers_off() {
    let mock = MockResponses::with_replies([ResponsesReply::text("ok")]);
    let home = ExecHome::new(&mock.base_url());
    let marker = home.home().join("mcp-started");
    home.append_config(&format!(
        "[mcp_servers.marker]\ncommand = \"sh\"\nargs = [\"-c\", {}]\n",
        serde_json::Value::from(format!("touch '{}'", marker.display()))
    ));
    let exec = backend(home.settings());
    let events = run(&exec, request(vec![user("hi")])).await;
    let why = explain(&events, &mock);
    assert!(
        matches!(events.last(), Some(BackendEvent::Done { .. })),
        "{why}"
    );
    assert!(!marker.exists(), "the user's MCP server was started\n{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_backend_passes_images() {
    let mock = MockResponses::with_replies([ResponsesReply::text("a red pixel")]);
    let home = ExecHome::new(&mock.base_url());
    let exec = backend(home.settings());
    let data_url = format!("data:image/png;base64,{PNG_1X1}");
    let events = run(
        &exec,
        request(vec![json!({"role": "user", "content": [
            {"type": "text", "text": "What is in this image?"},
            {"type": "image_url", "image_url": {"url": data_url}}
        ]})]),
    )
    .await;
    let why = explain(&events, &mock);
    assert_eq!(
        events.first(),
        Some(&BackendEvent::Content("a red pixel".into())),
        "{why}"
    );
    let req = only_request(&events, &mock);
    let images = req.input_images();
    assert_eq!(images.len(), 1, "{why}");
    assert!(
        images[0]["image_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("data:image/png;base64,")),
        "{why}"
    );
    let prompt = req.user_texts().pop().unwrap_or_default();
    assert!(
        prompt.contains("What is in this image?\n[Image #1]"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_backend_session_resumes_the_thread() {
    let mock = MockResponses::with_replies([
        ResponsesReply::text("Answer one"),
        ResponsesReply::text("Answer two"),
        ResponsesReply::text("Answer three"),
    ]);
    let home = ExecHome::new(&mock.base_url());
    let exec = backend(home.settings());
    let system = json!({"role": "system", "content": "Be brief."});
    let in_session = |messages: Vec<Value>| CodexRequest {
        session: Some("chat-42".into()),
        ..request(messages)
    };

    let first = run(
        &exec,
        in_session(vec![system.clone(), user("FIRST-QUESTION-b3")]),
    )
    .await;
    assert_eq!(
        first.first(),
        Some(&BackendEvent::Content("Answer one".into())),
        "{}",
        explain(&first, &mock)
    );

    // The client sends the whole conversation; only the new message goes to Codex.
    let second = run(
        &exec,
        in_session(vec![
            system.clone(),
            user("FIRST-QUESTION-b3"),
            json!({"role": "assistant", "content": "Answer one"}),
            user("SECOND-QUESTION-c4"),
        ]),
    )
    .await;
    let why = explain(&second, &mock);
    assert_eq!(
        second.first(),
        Some(&BackendEvent::Content("Answer two".into())),
        "{why}"
    );
    let reqs = mock.responses_requests();
    assert_eq!(reqs.len(), 2, "{why}");
    let thread = reqs[0].header("session-id").map(str::to_owned);
    assert!(thread.is_some(), "{why}");
    assert_eq!(
        reqs[1].header("session-id").map(str::to_owned),
        thread,
        "same thread\n{why}"
    );
    // Codex replays the earlier turn from its own history...
    let users = reqs[1].user_texts();
    assert!(
        users
            .iter()
            .any(|t| t.contains("FIRST-QUESTION-b3") && t.contains("Be brief.")),
        "{why}"
    );
    let assistant: Vec<String> = reqs[1]
        .messages("assistant")
        .iter()
        .map(ResponsesRequest::text_of)
        .collect();
    assert_eq!(assistant, vec!["Answer one".to_string()], "{why}");
    // ...and the new prompt is only the new message.
    assert_eq!(
        users.last().map(String::as_str),
        Some("SECOND-QUESTION-c4"),
        "{why}"
    );

    // An edited history does not extend the thread: a new one starts, with the full history.
    let third = run(
        &exec,
        in_session(vec![
            system,
            user("EDITED-QUESTION-d5"),
            json!({"role": "assistant", "content": "Answer one"}),
            user("SECOND-QUESTION-c4"),
        ]),
    )
    .await;
    let why = explain(&third, &mock);
    assert_eq!(
        third.first(),
        Some(&BackendEvent::Content("Answer three".into())),
        "{why}"
    );
    let reqs = mock.responses_requests();
    assert_eq!(reqs.len(), 3, "{why}");
    assert_ne!(
        reqs[2].header("session-id").map(str::to_owned),
        thread,
        "new thread\n{why}"
    );
    let prompt = reqs[2].user_texts().pop().unwrap_or_default();
    assert!(
        prompt.contains("EDITED-QUESTION-d5")
            && prompt.contains("<conversation_history>")
            && prompt.ends_with("SECOND-QUESTION-c4"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_backend_timeout_kills_the_child() {
    let mock = MockResponses::with_replies([ResponsesReply::Hang]);
    let home = ExecHome::new(&mock.base_url());
    // Long enough for a loaded machine to start Codex and reach the mock before it fires.
    let exec = backend(CodexExecSettings {
        timeout: Duration::from_secs(8),
        ..home.settings()
    });
    let started = Instant::now();
    let rx = exec
        .start(request(vec![user("never answered")]))
        .await
        .expect("start");
    // The child is up and waiting on the mock: its processes are visible.
    eventually(TURN, "codex to reach the mock", || {
        (!mock.responses_requests().is_empty()).then_some(())
    })
    .await;
    assert!(!home.processes().is_empty(), "no codex process found");
    let events = collect(rx).await;
    let elapsed = started.elapsed();
    match events.as_slice() {
        [BackendEvent::Error(UpstreamError { status, code, .. })] => {
            assert_eq!((*status, code.as_str()), (504, "timeout"), "{events:?}");
        }
        other => panic!("want one timeout error, got {other:?}"),
    }
    assert!(
        elapsed < Duration::from_secs(20),
        "timeout took {elapsed:?}"
    );
    let left = home.processes();
    assert!(left.is_empty(), "codex processes left behind: {left:?}");
    assert_eq!(exec.running(), 0, "slot released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_backend_disconnect_kills_the_child() {
    let mock = MockResponses::with_replies([ResponsesReply::Hang]);
    let home = ExecHome::new(&mock.base_url());
    let exec = backend(home.settings());
    let rx = exec
        .start(request(vec![user("the client will hang up")]))
        .await
        .expect("start");
    eventually(TURN, "codex to reach the mock", || {
        (!mock.responses_requests().is_empty()).then_some(())
    })
    .await;
    assert!(!home.processes().is_empty(), "no codex process found");
    drop(rx);
    eventually(Duration::from_secs(10), "codex processes to die", || {
        home.processes().is_empty().then_some(())
    })
    .await;
    eventually(Duration::from_secs(10), "the slot to be released", || {
        (exec.running() == 0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_backend_queue_full_is_429() {
    let mock = MockResponses::with_handler(|_| ResponsesReply::Hang);
    let home = ExecHome::new(&mock.base_url());
    let exec = Arc::new(backend(CodexExecSettings {
        concurrency: 1,
        queue: 1,
        ..home.settings()
    }));
    let running = exec
        .start(request(vec![user("first")]))
        .await
        .expect("first request runs");
    assert_eq!(exec.running(), 1);
    let queued = tokio::spawn({
        let exec = exec.clone();
        async move { exec.start(request(vec![user("second")])).await }
    });
    eventually(
        Duration::from_secs(10),
        "the second request to queue",
        || (exec.waiting() == 1).then_some(()),
    )
    .await;
    let err = exec
        .start(request(vec![user("third")]))
        .await
        .expect_err("queue is full");
    assert_eq!(
        (err.status, err.code.as_str()),
        (429, "rate_limit_exceeded"),
        "{err:?}"
    );
    assert!(err.retry_after.is_some(), "{err:?}");
    // The first client goes away: the queued request gets the slot.
    drop(running);
    let second = tokio::time::timeout(TURN, queued)
        .await
        .expect("queued request started")
        .expect("task")
        .expect("second request runs");
    assert_eq!(exec.waiting(), 0);
    drop(second);
    eventually(Duration::from_secs(10), "codex processes to die", || {
        (home.processes().is_empty() && exec.running() == 0).then_some(())
    })
    .await;
}

#[test]
fn codex_backend_loop_guard_refuses_aimux() {
    let home = ExecHome::new("http://127.0.0.1:9/v1");
    let err = CodexExec::new(CodexExecSettings {
        provider: "aimux".into(),
        ..home.settings()
    })
    .err()
    .expect("provider aimux refused");
    assert!(err.contains("loop") && err.contains("openai"), "{err}");

    // A provider whose base_url is the aimux bridge is refused too.
    let looping = ExecHome::new("http://127.0.0.1:8403/v1");
    let err = CodexExec::new(looping.settings())
        .err()
        .expect("loopback aimux port refused");
    assert!(
        err.contains("model_providers.mock.base_url") && err.contains("loop"),
        "{err}"
    );
    // ...and so is one on a custom port the settings name as aimux's own.
    let custom = ExecHome::new("http://localhost:9555/v1");
    let err = CodexExec::new(CodexExecSettings {
        aimux_urls: vec!["http://127.0.0.1:9555".into()],
        ..custom.settings()
    })
    .err()
    .expect("configured aimux URL refused");
    assert!(err.contains("loop"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_backend_turn_failed_is_an_error_event() {
    let mock = MockResponses::with_replies([ResponsesReply::failed(
        "context_length_exceeded",
        "Your input exceeds the context window of this model.",
    )]);
    let home = ExecHome::new(&mock.base_url());
    let exec = backend(home.settings());
    let events = run(&exec, request(vec![user("a very long prompt")])).await;
    let why = explain(&events, &mock);
    match events.as_slice() {
        [BackendEvent::Error(e)] => {
            assert_eq!(
                (e.status, e.code.as_str()),
                (400, "context_length_exceeded"),
                "{why}"
            );
            assert!(e.message.contains("context window"), "{why}");
        }
        _ => panic!("want one error event\n{why}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_backend_upstream_failure_is_codex_exec_failed() {
    let mock = MockResponses::with_replies([ResponsesReply::Http {
        status: 400,
        body: json!({"error": {"message": "UPSTREAM-REJECTED-e6", "type": "invalid_request_error"}}),
    }]);
    let home = ExecHome::new(&mock.base_url());
    let exec = backend(home.settings());
    let events = run(&exec, request(vec![user("hi")])).await;
    let why = explain(&events, &mock);
    match events.as_slice() {
        [BackendEvent::Error(e)] => {
            assert_eq!(
                (e.status, e.code.as_str()),
                (502, "codex_exec_failed"),
                "{why}"
            );
            assert!(e.message.contains("UPSTREAM-REJECTED-e6"), "{why}");
        }
        _ => panic!("want one error event\n{why}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_backend_start_errors() {
    let home = ExecHome::new("http://127.0.0.1:9/v1");
    // No such binary: 502 with a hint.
    let exec = backend(CodexExecSettings {
        bin: home.home().join("no-such-codex"),
        ..home.settings()
    });
    let err = exec
        .start(request(vec![user("hi")]))
        .await
        .expect_err("missing binary");
    assert_eq!((err.status, err.code.as_str()), (502, "codex_not_found"));
    assert!(
        err.message.contains("npm install -g @openai/codex"),
        "{err:?}"
    );
    assert_eq!(exec.running(), 0);

    // Bad requests: 400 before anything runs.
    let bad: Vec<CodexRequest> = vec![
        request(vec![]),
        request(vec![json!({"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
        ]})]),
        CodexRequest {
            model: Some("--dangerously-bypass-approvals-and-sandbox".into()),
            ..request(vec![user("hi")])
        },
    ];
    for req in bad {
        let err = exec.start(req.clone()).await.expect_err("bad request");
        assert_eq!(err.status, 400, "{req:?}: {err:?}");
    }
}
