//! The official `openai` Python SDK (pinned 3.54.0, venv under `.tools/venv`) against
//! `aimux bridge --token T` in front of the scripted [`MockUpstream`].
//!
//! Each test scripts the upstream, runs one scenario of `tests/python/sdk_client.py` and checks
//! both the script's verdict (exit 0) and what the upstream received.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{
    Bridge, CommandOutput, MockUpstream, RecordedRequest, Reply, chat, repo_root, run_with_timeout,
    venv_python,
};

const TOKEN: &str = "sdk-test-token-7d1e";
// Keep in sync with tests/python/sdk_client.py.
const TEXT: &str = "Hello from aimux via the OpenAI SDK";
const INSTRUCTIONS: &str = "You are terse. SDK-INSTRUCTIONS-MARKER.";
const PROMPT: &str = "Say hello.";
const TOOL_CALL_ID: &str = "call_weather_1";
const BAD_REQUEST_MESSAGE: &str = "Invalid value for 'temperature': must be <= 2.";

struct SdkRun {
    mock: MockUpstream,
    bridge: Bridge,
    out: CommandOutput,
}

impl SdkRun {
    fn dump(&self) -> String {
        format!(
            "{}\n--- upstream requests ---\n{}\n--- bridge stderr ---\n{}",
            self.out.dump(),
            self.mock.dump(),
            self.bridge.stderr()
        )
    }

    fn assert_ok(&self) {
        assert!(self.out.success(), "sdk_client.py failed\n{}", self.dump());
    }

    fn chat(&self, n: usize) -> Vec<RecordedRequest> {
        let reqs = self.mock.chat_requests();
        assert_eq!(
            reqs.len(),
            n,
            "expected {n} upstream chat requests\n{}",
            self.dump()
        );
        reqs
    }
}

fn run_sdk(scenario: &str, api_key: &str, replies: Vec<Reply>) -> SdkRun {
    let python = venv_python();
    let mock = MockUpstream::with_replies(replies);
    let bridge = Bridge::spawn(&mock.base_url(), &["--token", TOKEN]);
    let script = repo_root().join("tests/python/sdk_client.py");
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .arg("--base-url")
        .arg(bridge.base_url())
        .arg("--api-key")
        .arg(api_key)
        .arg(scenario);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("OPENAI_") {
            cmd.env_remove(&k);
        }
    }
    cmd.env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_with_timeout(cmd, Duration::from_secs(60), bridge.dir());
    SdkRun { mock, bridge, out }
}

/// Common upstream-side checks for a request the bridge translated from a Responses call.
fn assert_translated(req: &RecordedRequest, run: &SdkRun) {
    assert_eq!(req.body["model"], "test-model", "model\n{}", run.dump());
    // A streamed request is streamed upstream with usage; a plain one gets one JSON answer.
    if req.body["stream"] == true {
        assert_eq!(
            req.body["stream_options"]["include_usage"],
            true,
            "include_usage\n{}",
            run.dump()
        );
    } else {
        assert_eq!(req.body["stream"], false, "stream\n{}", run.dump());
        assert!(req.body.get("stream_options").is_none(), "{}", run.dump());
    }
    assert!(
        !req.roles().iter().any(|r| r == "developer"),
        "no developer role upstream\n{}",
        run.dump()
    );
    assert_ne!(
        req.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str()),
        "the bridge's own --token must not be forwarded upstream\n{}",
        run.dump()
    );
}

#[test]
fn sdk_non_streamed_create() {
    let run = run_sdk("create", TOKEN, vec![Reply::text_parts(TEXT, 4)]);
    run.assert_ok();
    let reqs = run.chat(1);
    let req = &reqs[0];
    assert_translated(req, &run);
    let msgs = req.messages();
    assert_eq!(
        req.roles(),
        ["system", "user"],
        "instructions -> system, input -> user\n{}",
        run.dump()
    );
    assert!(
        RecordedRequest::content_text(&msgs[0]).contains(INSTRUCTIONS),
        "{}",
        run.dump()
    );
    assert!(
        RecordedRequest::content_text(&msgs[1]).contains(PROMPT),
        "{}",
        run.dump()
    );
}

#[test]
fn sdk_streamed_create() {
    let run = run_sdk("stream_create", TOKEN, vec![Reply::text_parts(TEXT, 5)]);
    run.assert_ok();
    let reqs = run.chat(1);
    assert_translated(&reqs[0], &run);
    assert_eq!(reqs[0].roles(), ["user"], "{}", run.dump());
}

#[test]
fn sdk_stream_helper_final_response() {
    // Small per-chunk delays so the helper really consumes an incremental stream.
    let reply = match Reply::text_parts(TEXT, 6) {
        Reply::Sse(s) => Reply::Sse(s.delay_each(Duration::from_millis(5))),
        other => other,
    };
    let run = run_sdk("stream_helper", TOKEN, vec![reply]);
    run.assert_ok();
    let reqs = run.chat(1);
    assert_translated(&reqs[0], &run);
    assert_eq!(reqs[0].roles(), ["system", "user"], "{}", run.dump());
}

fn weather_call_reply() -> Reply {
    let args = json!({"city": "Paris", "unit": "celsius"}).to_string();
    let parts = chat::split(&args, 3);
    let mut chunks = vec![
        chat::role(),
        chat::tool_call_start(0, TOOL_CALL_ID, "get_weather"),
    ];
    chunks.extend(parts.iter().map(|p| chat::tool_call_args(0, p)));
    chunks.push(chat::finish("tool_calls"));
    chunks.push(chat::usage(30, 12));
    Reply::sse(chunks)
}

#[test]
fn sdk_function_tool_call() {
    let run = run_sdk(
        "tool_call",
        TOKEN,
        vec![weather_call_reply(), weather_call_reply()],
    );
    run.assert_ok();
    let reqs = run.chat(2);
    for req in &reqs {
        assert_translated(req, &run);
        let tool = req
            .tool("get_weather")
            .unwrap_or_else(|| panic!("get_weather not offered upstream\n{}", run.dump()));
        assert_eq!(tool["type"], "function", "{}", run.dump());
        let params: &Value = &tool["function"]["parameters"];
        assert_eq!(
            params["required"],
            json!(["city", "unit"]),
            "parameters kept\n{}",
            run.dump()
        );
        assert_eq!(
            params["properties"]["city"]["type"],
            "string",
            "{}",
            run.dump()
        );
    }
}

#[test]
fn sdk_upstream_400_is_bad_request_error() {
    let reply = Reply::error(
        400,
        BAD_REQUEST_MESSAGE,
        "invalid_request_error",
        Some("invalid_value"),
    );
    let run = run_sdk("bad_request", TOKEN, vec![reply]);
    run.assert_ok();
    run.chat(1);
}

#[test]
fn sdk_wrong_token_is_rejected() {
    let run = run_sdk("wrong_token", "not-the-token", vec![Reply::text(TEXT)]);
    run.assert_ok();
    run.chat(0);
}
