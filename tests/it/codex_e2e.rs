//! End to end: the real Codex CLI 0.169.0 (`codex exec --json`) → `aimux bridge` → the scripted
//! [`MockUpstream`] (Chat Completions). Each test checks what Codex did (exit status, JSONL
//! events, last message, files) and what the upstream received.
//!
//! The mock's commands are harmless (`echo`, a file written inside the temp workdir).

use std::fs;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{
    BASE_INSTRUCTIONS, Bridge, CodexConfig, CodexHome, ExecOptions, ExecOutput, MockUpstream,
    RecordedRequest, Reply, chat,
};

/// Everything needed to explain a failure: Codex's output, the upstream requests, the bridge log.
fn explain(out: &ExecOutput, mock: &MockUpstream, bridge: &Bridge) -> String {
    format!(
        "{}\n--- upstream requests ({}) ---\n{}\n--- bridge stderr ---\n{}",
        out.dump(),
        mock.chat_request_count(),
        mock.dump(),
        bridge.stderr()
    )
}

fn exec_opts() -> ExecOptions {
    ExecOptions {
        timeout: Duration::from_secs(60),
        ..ExecOptions::default()
    }
}

/// True once the conversation already carries a tool result (i.e. this is the follow-up).
fn has_tool_result(body: &Value) -> bool {
    body["messages"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["role"] == "tool"))
}

/// The index of the only assistant message carrying `tool_calls`.
fn tool_call_message_index(req: &RecordedRequest, why: &str) -> usize {
    let msgs = req.messages();
    let idx: Vec<usize> = msgs
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            m["role"] == "assistant" && m["tool_calls"].as_array().is_some_and(|t| !t.is_empty())
        })
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        idx.len(),
        1,
        "{why}: expected exactly one assistant message with tool_calls, roles {:?}",
        req.roles()
    );
    idx[0]
}

fn parse_args(call: &Value) -> Value {
    let s = call["function"]["arguments"]
        .as_str()
        .unwrap_or_else(|| panic!("arguments not a string: {call}"));
    serde_json::from_str(s).unwrap_or_else(|e| panic!("arguments are not JSON ({e}): {s}"))
}

/// Starts mock + bridge + codex home; returns them for the test to drive.
fn setup(mock: MockUpstream, config: CodexConfig) -> (MockUpstream, Bridge, CodexHome) {
    let bridge = Bridge::spawn(&mock.base_url(), &[]);
    let home = CodexHome::with_config(&bridge.url, config);
    (mock, bridge, home)
}

#[test]
fn codex_text_turn() {
    let (mock, bridge, home) = setup(
        MockUpstream::with_replies([Reply::text_parts("Hello from aimux", 4)]),
        CodexConfig::default(),
    );
    let out = home.run_exec("Please greet me. PROMPT-MARKER-a1", &exec_opts());
    let why = explain(&out, &mock, &bridge);
    assert!(out.success(), "codex exec should succeed\n{why}");
    assert_eq!(
        out.last_message.as_deref().map(str::trim_end),
        Some("Hello from aimux"),
        "{why}"
    );
    let messages = out.completed_items("agent_message");
    assert!(
        messages.iter().any(|m| m["text"] == "Hello from aimux"),
        "agent_message item\n{why}"
    );

    let reqs = mock.chat_requests();
    assert_eq!(reqs.len(), 1, "one upstream request\n{why}");
    let req = &reqs[0];
    assert_eq!(req.body["model"], "test-model", "{why}");
    assert_eq!(req.body["stream"], true, "{why}");
    assert_eq!(req.body["stream_options"]["include_usage"], true, "{why}");

    let roles = req.roles();
    assert_eq!(
        roles.first().map(String::as_str),
        Some("system"),
        "first message must be system\n{why}"
    );
    assert_eq!(
        roles.iter().filter(|r| *r == "system").count(),
        1,
        "exactly one system message\n{why}"
    );
    assert!(
        !roles.iter().any(|r| r == "developer"),
        "no developer role upstream\n{why}"
    );
    let msgs = req.messages();
    let system = RecordedRequest::content_text(&msgs[0]);
    assert!(
        system.contains(BASE_INSTRUCTIONS),
        "system message must carry the catalog's base instructions\n{why}"
    );
    // Codex's second developer message (skills + permissions) is merged in, after the base prompt.
    let perms = system.find("<permissions instructions>");
    assert!(
        perms.is_some_and(|p| Some(p) > system.find(BASE_INSTRUCTIONS)),
        "Codex's other developer messages must be merged into the system message, in order\n{why}"
    );
    assert!(
        roles[1..].iter().all(|r| r == "user"),
        "then only user messages, got {roles:?}\n{why}"
    );
    assert!(
        msgs.iter().any(|m| m["role"] == "user"
            && RecordedRequest::content_text(m).contains("PROMPT-MARKER-a1")),
        "the prompt must reach the upstream as a user message\n{why}"
    );

    // Tools: apply_patch wrapped as a function with one required string `input`; no hosted
    // web_search; everything is a plain function tool; namespaced tools flattened.
    let tools = req.tools();
    assert!(
        tools.iter().all(|t| t["type"] == "function"),
        "only function tools upstream\n{why}"
    );
    let names = req.tool_names();
    assert!(
        names.iter().any(|n| n == "exec_command"),
        "exec_command offered\n{why}"
    );
    assert!(
        !names.iter().any(|n| n.contains("web_search")),
        "web_search must not be sent upstream\n{why}"
    );
    let ap = req
        .tool("apply_patch")
        .unwrap_or_else(|| panic!("apply_patch function missing\n{why}"));
    let params = &ap["function"]["parameters"];
    assert_eq!(params["type"], "object", "{why}");
    assert_eq!(
        params["properties"]["input"]["type"], "string",
        "apply_patch.input must be a string\n{why}"
    );
    assert!(
        params["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x == "input")),
        "apply_patch.input must be required\n{why}"
    );
    assert!(
        names.iter().all(|n| !n.contains('.') && n.len() <= 64),
        "tool names must be plain identifiers: {names:?}\n{why}"
    );
    assert!(
        names.iter().any(|n| n == "multi_agent_v1__spawn_agent"),
        "namespace tools must be flattened to <namespace>__<name>: {names:?}\n{why}"
    );
}

#[test]
fn codex_shell_tool_round_trip() {
    let mock = MockUpstream::with_handler(|body| {
        if has_tool_result(body) {
            Reply::text("The command printed tool-ran-42.")
        } else {
            Reply::tool_calls(&[(
                "call_shell_1",
                "exec_command",
                r#"{"cmd":"echo tool-ran-42"}"#,
            )])
        }
    });
    let (mock, bridge, home) = setup(mock, CodexConfig::default());
    let out = home.run_exec("Run echo tool-ran-42 for me.", &exec_opts());
    let why = explain(&out, &mock, &bridge);
    assert!(out.success(), "codex exec should succeed\n{why}");
    assert_eq!(
        out.last_message.as_deref().map(str::trim_end),
        Some("The command printed tool-ran-42."),
        "{why}"
    );
    let cmds = out.completed_items("command_execution");
    assert_eq!(cmds.len(), 1, "Codex ran one command\n{why}");
    assert!(
        cmds[0]["command"]
            .as_str()
            .is_some_and(|c| c.contains("echo tool-ran-42")),
        "{why}"
    );
    assert!(
        cmds[0]["aggregated_output"]
            .as_str()
            .is_some_and(|o| o.contains("tool-ran-42")),
        "{why}"
    );
    assert_eq!(cmds[0]["exit_code"], 0, "{why}");
    // Upstream usage must reach Codex (summed over the turn's two requests: 20+11 in, 10+7 out),
    // or Codex can never auto-compact.
    let done: Vec<Value> = out
        .events()
        .into_iter()
        .filter(|e| e["type"] == "turn.completed")
        .collect();
    assert_eq!(done.len(), 1, "{why}");
    assert_eq!(
        done[0]["usage"]["input_tokens"], 31,
        "usage forwarded\n{why}"
    );
    assert_eq!(
        done[0]["usage"]["output_tokens"], 17,
        "usage forwarded\n{why}"
    );

    let reqs = mock.chat_requests();
    assert_eq!(reqs.len(), 2, "tool call + follow-up\n{why}");
    let follow = &reqs[1];
    let msgs = follow.messages();
    let i = tool_call_message_index(follow, &why);
    let calls = msgs[i]["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(calls.len(), 1, "{why}");
    assert_eq!(
        calls[0]["id"], "call_shell_1",
        "tool_call id unchanged\n{why}"
    );
    assert_eq!(calls[0]["type"], "function", "{why}");
    assert_eq!(calls[0]["function"]["name"], "exec_command", "{why}");
    assert_eq!(
        parse_args(&calls[0]),
        json!({"cmd": "echo tool-ran-42"}),
        "{why}"
    );
    let tool = &msgs[i + 1];
    assert_eq!(
        tool["role"], "tool",
        "tool result right after the call\n{why}"
    );
    assert_eq!(tool["tool_call_id"], "call_shell_1", "{why}");
    assert!(
        RecordedRequest::content_text(tool).contains("tool-ran-42"),
        "tool output reaches upstream\n{why}"
    );
    assert!(!follow.roles().iter().any(|r| r == "developer"), "{why}");
}

const PATCH: &str = "*** Begin Patch\n*** Add File: hello.txt\n+hello from aimux\n*** End Patch\n";

#[test]
fn codex_apply_patch_round_trip() {
    let mock = MockUpstream::with_handler(|body| {
        if has_tool_result(body) {
            Reply::text("Created hello.txt.")
        } else {
            Reply::tool_calls(&[(
                "call_patch_1",
                "apply_patch",
                &json!({"input": PATCH}).to_string(),
            )])
        }
    });
    let (mock, bridge, home) = setup(mock, CodexConfig::default());
    let out = home.run_exec("Create hello.txt saying hello from aimux.", &exec_opts());
    let why = explain(&out, &mock, &bridge);
    assert!(out.success(), "codex exec should succeed\n{why}");
    let file = home.workdir().join("hello.txt");
    assert_eq!(
        fs::read_to_string(&file).ok().as_deref(),
        Some("hello from aimux\n"),
        "apply_patch must have created {}\n{why}",
        file.display()
    );
    assert!(
        !out.completed_items("file_change").is_empty(),
        "a file_change item\n{why}"
    );
    assert_eq!(
        out.last_message.as_deref().map(str::trim_end),
        Some("Created hello.txt."),
        "{why}"
    );

    let reqs = mock.chat_requests();
    assert_eq!(reqs.len(), 2, "patch call + follow-up\n{why}");
    let follow = &reqs[1];
    let msgs = follow.messages();
    let i = tool_call_message_index(follow, &why);
    let calls = msgs[i]["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(calls.len(), 1, "{why}");
    assert_eq!(calls[0]["id"], "call_patch_1", "{why}");
    assert_eq!(calls[0]["function"]["name"], "apply_patch", "{why}");
    assert_eq!(
        parse_args(&calls[0]),
        json!({"input": PATCH}),
        "the custom call goes back wrapped as {{input}}\n{why}"
    );
    let tool = &msgs[i + 1];
    assert_eq!(tool["role"], "tool", "{why}");
    assert_eq!(tool["tool_call_id"], "call_patch_1", "{why}");
    let result = RecordedRequest::content_text(tool);
    assert!(
        result.contains("hello.txt"),
        "tool result mentions the file: {result:?}\n{why}"
    );
    assert!(
        !result.trim().eq_ignore_ascii_case("aborted"),
        "Codex rejected the call as a function call\n{why}"
    );
}

/// Two `exec_command` calls in one reply: call 0's arguments split over two chunks; call 1's
/// header arrives alone and its whole arguments only in the final chunk (with finish_reason).
fn parallel_reply() -> Reply {
    let a_args = r#"{"cmd":"echo par-one-1"}"#;
    let b_args = r#"{"cmd":"echo par-two-2"}"#;
    Reply::sse(vec![
        chat::role(),
        chat::tool_call_start(0, "call_par_a", "exec_command"),
        chat::tool_call_args(0, &a_args[..9]),
        chat::tool_call_args(0, &a_args[9..]),
        chat::tool_call_delta(1, Some("call_par_b"), Some("exec_command"), None),
        chat::tool_calls_chunk(
            vec![chat::tool_call_entry(1, None, None, Some(b_args))],
            Some("tool_calls"),
        ),
        chat::usage(40, 20),
    ])
}

#[test]
fn codex_parallel_tool_calls() {
    let mock = MockUpstream::with_handler(|body| {
        if has_tool_result(body) {
            Reply::text("Both commands ran.")
        } else {
            parallel_reply()
        }
    });
    let (mock, bridge, home) = setup(mock, CodexConfig::default());
    let out = home.run_exec("Run two echo commands.", &exec_opts());
    let why = explain(&out, &mock, &bridge);
    assert!(out.success(), "codex exec should succeed\n{why}");
    let cmds = out.completed_items("command_execution");
    assert_eq!(cmds.len(), 2, "both calls ran\n{why}");
    for marker in ["par-one-1", "par-two-2"] {
        assert!(
            cmds.iter().any(|c| c["aggregated_output"]
                .as_str()
                .is_some_and(|o| o.contains(marker))),
            "{marker} ran\n{why}"
        );
    }

    let reqs = mock.chat_requests();
    assert_eq!(reqs.len(), 2, "{why}");
    let follow = &reqs[1];
    let msgs = follow.messages();
    let i = tool_call_message_index(follow, &why);
    let calls = msgs[i]["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        calls.len(),
        2,
        "ONE assistant message with both tool_calls\n{why}"
    );
    assert_eq!(calls[0]["id"], "call_par_a", "{why}");
    assert_eq!(calls[1]["id"], "call_par_b", "{why}");
    assert_eq!(
        parse_args(&calls[0]),
        json!({"cmd": "echo par-one-1"}),
        "{why}"
    );
    assert_eq!(
        parse_args(&calls[1]),
        json!({"cmd": "echo par-two-2"}),
        "{why}"
    );
    assert!(
        calls
            .iter()
            .all(|c| c["function"]["name"] == "exec_command"),
        "{why}"
    );
    for (k, (id, marker)) in [("call_par_a", "par-one-1"), ("call_par_b", "par-two-2")]
        .iter()
        .enumerate()
    {
        let t = &msgs[i + 1 + k];
        assert_eq!(
            t["role"], "tool",
            "tool message {k} follows the assistant message\n{why}"
        );
        assert_eq!(t["tool_call_id"], *id, "tool messages in call order\n{why}");
        assert!(RecordedRequest::content_text(t).contains(marker), "{why}");
    }
    assert_eq!(
        msgs.iter().filter(|m| m["role"] == "tool").count(),
        2,
        "{why}"
    );
}

const REASONING: &str = "The user wants a shell check. I will run echo reasoning-ok-7 first.";

#[test]
fn codex_reasoning_content_round_trip() {
    let mock = MockUpstream::with_handler(|body| {
        if has_tool_result(body) {
            Reply::text("Reasoned, ran, done.")
        } else {
            let mut chunks = vec![chat::chunk(
                json!({"role": "assistant", "content": null, "reasoning_content": ""}),
                None,
            )];
            chunks.extend(chat::reasoning_deltas(REASONING, 4));
            chunks.push(chat::tool_call_whole(
                0,
                "call_reason_1",
                "exec_command",
                r#"{"cmd":"echo reasoning-ok-7"}"#,
            ));
            chunks.push(chat::finish("tool_calls"));
            chunks.push(chat::usage(50, 25));
            Reply::sse(chunks)
        }
    });
    let (mock, bridge, home) = setup(mock, CodexConfig::default());
    let out = home.run_exec("Think, then run echo.", &exec_opts());
    let why = explain(&out, &mock, &bridge);
    assert!(out.success(), "codex exec should succeed\n{why}");
    assert!(
        !out.completed_items("reasoning").is_empty(),
        "Codex shows a reasoning item\n{why}"
    );
    assert_eq!(out.completed_items("command_execution").len(), 1, "{why}");

    let reqs = mock.chat_requests();
    assert_eq!(reqs.len(), 2, "{why}");
    let follow = &reqs[1];
    let msgs = follow.messages();
    let i = tool_call_message_index(follow, &why);
    assert_eq!(msgs[i]["tool_calls"][0]["id"], "call_reason_1", "{why}");
    assert_eq!(
        msgs[i]["reasoning_content"], REASONING,
        "the assistant tool-call message must carry the streamed reasoning_content back\n{why}"
    );
    assert_eq!(msgs[i + 1]["role"], "tool", "{why}");
    assert!(
        RecordedRequest::content_text(&msgs[i + 1]).contains("reasoning-ok-7"),
        "{why}"
    );
}

#[test]
fn codex_context_length_exceeded_is_final() {
    let mock = MockUpstream::with_replies([Reply::error(
        400,
        "This model's maximum context length is 8192 tokens. However, your messages resulted in 9500 tokens. Please reduce the length of the messages.",
        "invalid_request_error",
        Some("context_length_exceeded"),
    )]);
    // Retries enabled: a wrong (retryable) mapping would show up as extra upstream requests.
    let config = CodexConfig {
        request_max_retries: 1,
        stream_max_retries: 2,
        ..CodexConfig::default()
    };
    let (mock, bridge, home) = setup(mock, config);
    let out = home.run_exec("Summarize this huge thing.", &exec_opts());
    let why = explain(&out, &mock, &bridge);
    assert!(!out.timed_out, "{why}");
    assert!(!out.success(), "codex exec must fail\n{why}");
    assert!(
        out.combined()
            .contains("ran out of room in the model's context window"),
        "Codex should report that it ran out of room in the context window\n{why}"
    );
    assert_eq!(
        mock.chat_request_count(),
        1,
        "context_length_exceeded must not be retried\n{why}"
    );
}

#[test]
fn codex_text_and_tool_call_in_one_reply() {
    let mock = MockUpstream::with_handler(|body| {
        if has_tool_result(body) {
            Reply::text("All checked.")
        } else {
            let mut chunks = vec![chat::role()];
            chunks.extend(chat::text_deltas("Let me check the shell.", 3));
            chunks.push(chat::tool_call_start(0, "call_mixed_1", "exec_command"));
            chunks.push(chat::tool_call_args(0, r#"{"cmd":"echo mixed-ok-3"}"#));
            chunks.push(chat::finish("tool_calls"));
            chunks.push(chat::usage(20, 10));
            Reply::sse(chunks)
        }
    });
    let (mock, bridge, home) = setup(mock, CodexConfig::default());
    let out = home.run_exec("Say something, then run echo.", &exec_opts());
    let why = explain(&out, &mock, &bridge);
    assert!(out.success(), "codex exec should succeed\n{why}");
    // Codex saw the text first, then the command.
    let kinds: Vec<String> = out
        .events()
        .iter()
        .filter(|e| e["type"] == "item.completed")
        .map(|e| e["item"]["type"].as_str().unwrap_or("").to_string())
        .collect();
    let first_text = kinds.iter().position(|k| k == "agent_message");
    let first_cmd = kinds.iter().position(|k| k == "command_execution");
    assert!(
        first_text.is_some() && first_cmd.is_some() && first_text < first_cmd,
        "text then command: {kinds:?}\n{why}"
    );
    assert!(
        out.completed_items("agent_message")
            .iter()
            .any(|m| m["text"] == "Let me check the shell."),
        "{why}"
    );

    let reqs = mock.chat_requests();
    assert_eq!(reqs.len(), 2, "{why}");
    let follow = &reqs[1];
    let msgs = follow.messages();
    let i = tool_call_message_index(follow, &why);
    // The text survives, on the tool-call message itself or on an assistant message just before.
    let text_here = RecordedRequest::content_text(&msgs[i]) == "Let me check the shell.";
    let text_before = i > 0
        && msgs[i - 1]["role"] == "assistant"
        && RecordedRequest::content_text(&msgs[i - 1]) == "Let me check the shell.";
    assert!(
        text_here || text_before,
        "assistant text kept before the tool call\n{why}"
    );
    assert_eq!(msgs[i]["tool_calls"][0]["id"], "call_mixed_1", "{why}");
    assert_eq!(msgs[i + 1]["role"], "tool", "{why}");
    assert!(
        RecordedRequest::content_text(&msgs[i + 1]).contains("mixed-ok-3"),
        "{why}"
    );
}

#[test]
fn codex_namespaced_tool_call_round_trip() {
    let mock = MockUpstream::with_handler(|body| {
        if has_tool_result(body) {
            Reply::text("Closed (or not).")
        } else {
            Reply::tool_calls(&[(
                "call_ns_1",
                "multi_agent_v1__close_agent",
                r#"{"target":"nope-agent"}"#,
            )])
        }
    });
    let (mock, bridge, home) = setup(mock, CodexConfig::default());
    let out = home.run_exec("Close the helper agent.", &exec_opts());
    let why = explain(&out, &mock, &bridge);
    assert!(out.success(), "codex exec should succeed\n{why}");

    let reqs = mock.chat_requests();
    assert_eq!(reqs.len(), 2, "{why}");
    let follow = &reqs[1];
    let msgs = follow.messages();
    let i = tool_call_message_index(follow, &why);
    assert_eq!(msgs[i]["tool_calls"][0]["id"], "call_ns_1", "{why}");
    assert_eq!(
        msgs[i]["tool_calls"][0]["function"]["name"], "multi_agent_v1__close_agent",
        "the replayed call is flattened again\n{why}"
    );
    let result = RecordedRequest::content_text(&msgs[i + 1]);
    assert_eq!(msgs[i + 1]["tool_call_id"], "call_ns_1", "{why}");
    assert!(
        !result.contains("unsupported call") && result.contains("invalid agent id"),
        "Codex must receive the call with its namespace restored, got {result:?}\n{why}"
    );
}
