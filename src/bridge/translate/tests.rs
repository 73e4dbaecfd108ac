//! Table-driven tests of both directions, fed with what Codex 0.169 really sends and what Chat
//! providers really stream.

use super::chat::Chunk;
use super::responses::ResponsesRequest;
use super::stream::{Outcome, StreamTranslator};
use super::*;
use serde_json::{Value, json};

/// Parses from bytes, as the bridge does: long strings are read as raw tokens, which a
/// `serde_json::Value` source would re-serialize first.
fn parse(req: &Value) -> ResponsesRequest {
    serde_json::from_str(&req.to_string()).expect("request parses")
}

fn translate(req: Value) -> (Value, Translated) {
    let parsed = parse(&req);
    let t = translate_request(parsed).expect("request translates");
    (serde_json::to_value(&t.chat).expect("serializes"), t)
}

fn messages(req: Value) -> Value {
    translate(req).0["messages"].clone()
}

fn dev(text: &str) -> Value {
    json!({"type":"message","role":"developer","content":[{"type":"input_text","text":text}]})
}
fn user(text: &str) -> Value {
    json!({"type":"message","role":"user","content":[{"type":"input_text","text":text}]})
}
fn assistant(text: &str) -> Value {
    json!({"type":"message","role":"assistant","content":[{"type":"output_text","text":text}]})
}
fn call(id: &str, name: &str, args: &str) -> Value {
    json!({"type":"function_call","name":name,"arguments":args,"call_id":id})
}
fn output(id: &str, out: &str) -> Value {
    json!({"type":"function_call_output","call_id":id,"output":out})
}

#[test]
fn request_messages_table() {
    let cases: Vec<(&str, Value, Value)> = vec![
        (
            "plain string input",
            json!({"model":"m","input":"hi"}),
            json!([{"role":"user","content":"hi"}]),
        ),
        (
            "every developer/system message merged into one leading system message, instructions first",
            json!({"model":"m","instructions":"base","input":[
                dev("perm"), user("env"), {"type":"message","role":"system","content":"late"}, user("go")]}),
            json!([{"role":"system","content":"base\n\nperm\n\nlate"},
                   {"role":"user","content":"env"},{"role":"user","content":"go"}]),
        ),
        (
            "easy message form without type",
            json!({"model":"m","input":[{"role":"user","content":"hello"}]}),
            json!([{"role":"user","content":"hello"}]),
        ),
        (
            "text-only parts become a plain string; images keep parts in order",
            json!({"model":"m","input":[{"type":"message","role":"user","content":[
                {"type":"input_text","text":"<image>"},
                {"type":"input_image","image_url":"data:image/png;base64,AAA","detail":"high"},
                {"type":"input_text","text":"what is this"}]}]}),
            json!([{"role":"user","content":[
                {"type":"text","text":"<image>"},
                {"type":"image_url","image_url":{"url":"data:image/png;base64,AAA","detail":"high"}},
                {"type":"text","text":"what is this"}]}]),
        ),
        (
            "parallel calls grouped into one assistant message, outputs in call order",
            json!({"model":"m","input":[user("go"), assistant("Running both."),
                call("c1","exec_command","{\"cmd\":\"a\"}"), call("c2","exec_command","{\"cmd\":\"b\"}"),
                output("c2","B"), output("c1","A")]}),
            json!([{"role":"user","content":"go"},
                   {"role":"assistant","content":"Running both.","tool_calls":[
                       {"id":"c1","type":"function","function":{"name":"exec_command","arguments":"{\"cmd\":\"a\"}"}},
                       {"id":"c2","type":"function","function":{"name":"exec_command","arguments":"{\"cmd\":\"b\"}"}}]},
                   {"role":"tool","content":"A","tool_call_id":"c1"},
                   {"role":"tool","content":"B","tool_call_id":"c2"}]),
        ),
        (
            "reasoning goes back as reasoning_content on the assistant turn that called the tool",
            json!({"model":"m","input":[user("go"),
                {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"sum"}],
                 "content":[{"type":"reasoning_text","text":"raw thoughts"}],"encrypted_content":null},
                call("c1","exec_command","{}"), output("c1","ok")]}),
            json!([{"role":"user","content":"go"},
                   {"role":"assistant","content":"","reasoning_content":"raw thoughts","tool_calls":[
                       {"id":"c1","type":"function","function":{"name":"exec_command","arguments":"{}"}}]},
                   {"role":"tool","content":"ok","tool_call_id":"c1"}]),
        ),
        (
            "custom tool call history is the wrapper function; namespace calls are flattened",
            json!({"model":"m","input":[
                {"type":"custom_tool_call","call_id":"c1","name":"apply_patch","input":"*** Begin Patch\n*** End Patch\n"},
                {"type":"custom_tool_call_output","call_id":"c1","output":"Success"},
                {"type":"function_call","call_id":"c2","name":"close_agent","namespace":"multi_agent_v1","arguments":"{}"},
                output("c2","closed")]}),
            json!([{"role":"assistant","content":"","tool_calls":[
                       {"id":"c1","type":"function","function":{"name":"apply_patch",
                        "arguments":"{\"input\":\"*** Begin Patch\\n*** End Patch\\n\"}"}}]},
                   {"role":"tool","content":"Success","tool_call_id":"c1"},
                   {"role":"assistant","content":"","tool_calls":[
                       {"id":"c2","type":"function","function":{"name":"multi_agent_v1__close_agent","arguments":"{}"}}]},
                   {"role":"tool","content":"closed","tool_call_id":"c2"}]),
        ),
        (
            "image tool output: text in the tool message, the image in a user message after it",
            json!({"model":"m","input":[call("c1","view_image","{\"path\":\"p.png\"}"),
                {"type":"function_call_output","call_id":"c1","output":[
                    {"type":"input_image","image_url":"data:image/png;base64,BBB","detail":"high"}]}]}),
            json!([{"role":"assistant","content":"","tool_calls":[
                       {"id":"c1","type":"function","function":{"name":"view_image","arguments":"{\"path\":\"p.png\"}"}}]},
                   {"role":"tool","content":"[1 image(s), attached in the next message]","tool_call_id":"c1"},
                   {"role":"user","content":[{"type":"text","text":"Images returned by the tool calls above:"},
                       {"type":"image_url","image_url":{"url":"data:image/png;base64,BBB","detail":"high"}}]}]),
        ),
        (
            "hosted-tool history items are dropped; a call without output gets a placeholder",
            json!({"model":"m","input":[
                {"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"q"}},
                assistant("found it"), call("c9","exec_command","{}")]}),
            json!([{"role":"assistant","content":"found it","tool_calls":[
                       {"id":"c9","type":"function","function":{"name":"exec_command","arguments":"{}"}}]},
                   {"role":"tool","content":request::MISSING_OUTPUT,"tool_call_id":"c9"}]),
        ),
        (
            "consecutive reasoning items join; reasoning alone makes no message",
            json!({"model":"m","input":[user("go"),
                {"type":"reasoning","summary":[],"content":[{"type":"reasoning_text","text":"r1"}]},
                {"type":"reasoning","summary":[],"content":[{"type":"reasoning_text","text":"r2"}]},
                call("c1","exec_command","{}"), output("c1","ok"),
                {"type":"reasoning","summary":[{"type":"summary_text","text":"dangling"}]}, user("next")]}),
            json!([{"role":"user","content":"go"},
                   {"role":"assistant","content":"","reasoning_content":"r1\n\nr2","tool_calls":[
                       {"id":"c1","type":"function","function":{"name":"exec_command","arguments":"{}"}}]},
                   {"role":"tool","content":"ok","tool_call_id":"c1"},
                   {"role":"user","content":"next"}]),
        ),
        (
            "text after a call joins the call's turn; reasoning on a text-only turn is not sent",
            json!({"model":"m","input":[user("go"), call("c1","exec_command","{}"), assistant("running"),
                output("c1","ok"),
                {"type":"reasoning","summary":[],"content":[{"type":"reasoning_text","text":"why"}]},
                assistant("done")]}),
            json!([{"role":"user","content":"go"},
                   {"role":"assistant","content":"running","tool_calls":[
                       {"id":"c1","type":"function","function":{"name":"exec_command","arguments":"{}"}}]},
                   {"role":"tool","content":"ok","tool_call_id":"c1"},
                   {"role":"assistant","content":"done"}]),
        ),
        (
            "a call duplicated by a retried stream is sent once",
            json!({"model":"m","input":[call("c1","exec_command","{}"), call("c1","exec_command","{}"),
                output("c1","ok"), call("c1","exec_command","{}"), output("c1","ok")]}),
            json!([{"role":"assistant","content":"","tool_calls":[
                       {"id":"c1","type":"function","function":{"name":"exec_command","arguments":"{}"}}]},
                   {"role":"tool","content":"ok","tool_call_id":"c1"}]),
        ),
        (
            "an output without its call is kept as text, not as an orphan tool message",
            json!({"model":"m","input":[user("hi"), output("ghost","data")]}),
            json!([{"role":"user","content":"hi"},{"role":"user","content":"Output of tool call ghost:\ndata"}]),
        ),
    ];
    for (name, req, want) in cases {
        assert_eq!(messages(req), want, "case: {name}");
    }
}

#[test]
fn request_tools_and_params() {
    let (chat, t) = translate(json!({
        "model": "deepseek-chat",
        "input": [user("hi")],
        "tools": [
            {"type":"function","name":"exec_command","description":"run","strict":false,
             "parameters":{"type":"object","properties":{"cmd":{"type":"string"}},"required":["cmd"]}},
            {"type":"custom","name":"apply_patch","description":"Patch files.",
             "format":{"type":"grammar","syntax":"lark","definition":"start: begin_patch"}},
            {"type":"namespace","name":"multi_agent_v1","description":"agents",
             "tools":[{"type":"function","name":"spawn_agent","parameters":{"type":"object","properties":{}}}]},
            {"type":"web_search","external_web_access":false},
            {"type":"tool_search","execution":"client"}
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": true,
        "reasoning": {"effort": "high", "summary": "auto"},
        "store": false,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "thread-1",
        "client_metadata": {"x": "y"},
        "text": {"verbosity": "low", "format": {"type":"json_schema","name":"out","strict":true,
                 "schema":{"type":"object"}}},
        "max_output_tokens": 500,
        "stream": true
    }));
    assert!(t.web_search_offered);
    let names: Vec<&str> = chat["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["exec_command", "apply_patch", "multi_agent_v1__spawn_agent"]
    );
    let patch = &chat["tools"][1]["function"];
    assert_eq!(patch["parameters"]["required"], json!(["input"]));
    assert_eq!(patch["parameters"]["properties"]["input"]["type"], "string");
    let desc = patch["description"].as_str().unwrap();
    assert!(desc.starts_with("Patch files."), "{desc}");
    assert!(
        desc.contains("lark grammar") && desc.contains("start: begin_patch"),
        "{desc}"
    );
    assert_eq!(
        chat["tools"][0]["function"].get("strict"),
        None,
        "strict:false is not sent"
    );
    assert_eq!(chat["reasoning_effort"], "high");
    assert_eq!(chat["prompt_cache_key"], "thread-1");
    assert_eq!(chat["max_tokens"], 500);
    assert_eq!(chat["stream"], true);
    assert_eq!(chat["stream_options"], json!({"include_usage": true}));
    assert_eq!(chat["parallel_tool_calls"], true);
    assert_eq!(
        chat["response_format"],
        json!({"type":"json_schema","json_schema":{"name":"out","strict":true,"schema":{"type":"object"}}})
    );
    for absent in [
        "store",
        "include",
        "client_metadata",
        "text",
        "reasoning",
        "input",
        "verbosity",
    ] {
        assert_eq!(chat.get(absent), None, "{absent} must not be sent upstream");
    }
}

#[test]
fn request_edge_cases() {
    // Compaction requests send `tools: []`: no tools, tool_choice or parallel_tool_calls upstream.
    let (chat, _) = translate(
        json!({"model":"m","input":"x","tools":[],"tool_choice":"auto","parallel_tool_calls":false}),
    );
    for absent in [
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "max_tokens",
        "reasoning_effort",
    ] {
        assert_eq!(chat.get(absent), None, "{absent}");
    }
    // A named tool choice follows the flattened name.
    let (chat, _) = translate(json!({"model":"m","input":"x",
        "tools":[{"type":"custom","name":"apply_patch"}],"tool_choice":{"type":"custom","name":"apply_patch"}}));
    assert_eq!(
        chat["tool_choice"],
        json!({"type":"function","function":{"name":"apply_patch"}})
    );

    let bad: Vec<(Value, &str)> = vec![
        (
            json!({"model":"m","input":"x","previous_response_id":"resp_1"}),
            "previous_response_id",
        ),
        (json!({"model":"","input":"x"}), "model"),
        (
            json!({"model":"m","input":[{"type":"item_reference","id":"x"}]}),
            "item_reference",
        ),
        (
            json!({"model":"m","input":[{"type":"message","role":"critic","content":"x"}]}),
            "critic",
        ),
        (
            json!({"model":"m","input":[{"type":"message","role":"user","content":[
            {"type":"input_image","file_id":"file_1"}]}]}),
            "file_id",
        ),
    ];
    for (req, needle) in bad {
        let err = translate_request(parse(&req)).unwrap_err();
        assert!(
            err.message.contains(needle),
            "{} should mention {needle}",
            err.message
        );
    }
}

// ---- response side ----

fn tools_for_stream() -> tools::ToolMap {
    let mut map = tools::ToolMap::default();
    map.insert(tools::ToolKind::Function, None, "exec_command");
    map.insert(tools::ToolKind::Custom, None, "apply_patch");
    map.insert(
        tools::ToolKind::Function,
        Some("multi_agent_v1"),
        "close_agent",
    );
    map
}

/// Feeds one chunk given as JSON (chunks borrow from their text, so it is written out first).
pub(super) fn push_json(t: &mut StreamTranslator, chunk: &Value, out: &mut Vec<u8>) {
    let text = chunk.to_string();
    t.push(serde_json::from_str::<Chunk>(&text).unwrap(), out);
}

/// Runs chunks through a translator; returns the parsed events.
fn run_stream(chunks: &[Value], saw_done: bool) -> Vec<Value> {
    let mut t = StreamTranslator::new("m".into(), tools_for_stream(), true, 0, 0);
    let mut out = Vec::new();
    t.start(&mut out);
    for c in chunks {
        push_json(&mut t, c, &mut out);
    }
    t.end_of_stream(saw_done);
    t.finish(&mut out);
    let text = String::from_utf8(out).unwrap();
    let mut events = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        let mut lines = block.lines();
        let event_line = lines.next().unwrap();
        let data = lines.next().unwrap().strip_prefix("data: ").unwrap();
        let v: Value = serde_json::from_str(data).unwrap();
        assert_eq!(
            event_line,
            format!("event: {}", v["type"].as_str().unwrap())
        );
        events.push(v);
    }
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["sequence_number"], i, "sequence numbers are consecutive");
    }
    events
}

fn done_items(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e["type"] == "response.output_item.done")
        .map(|e| e["item"].clone())
        .collect()
}

fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

fn delta(d: Value) -> Value {
    json!({"choices":[{"index":0,"delta":d}]})
}
fn finish(reason: &str) -> Value {
    json!({"choices":[{"index":0,"delta":{},"finish_reason":reason}]})
}
fn tc(index: u32, id: Option<&str>, name: Option<&str>, args: Option<&str>) -> Value {
    let mut f = serde_json::Map::new();
    if let Some(n) = name {
        f.insert("name".into(), json!(n));
    }
    if let Some(a) = args {
        f.insert("arguments".into(), json!(a));
    }
    let mut call = json!({"index": index, "function": f});
    if let Some(id) = id {
        call["id"] = json!(id);
        call["type"] = json!("function");
    }
    delta(json!({"tool_calls":[call]}))
}

#[test]
fn text_stream_is_incremental_and_complete() {
    let events = run_stream(
        &[
            delta(json!({"role":"assistant","content":""})),
            delta(json!({"content":"Hel"})),
            delta(json!({"content":"lo"})),
            finish("stop"),
            json!({"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":5,"total_tokens":105,
                   "prompt_tokens_details":{"cached_tokens":80}}}),
        ],
        true,
    );
    assert_eq!(
        types(&events),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let items = done_items(&events);
    assert_eq!(items[0]["content"][0]["text"], "Hello");
    assert_eq!(items[0]["role"], "assistant");
    let completed = events.last().unwrap();
    assert!(
        completed["response"]["id"]
            .as_str()
            .unwrap()
            .starts_with("resp_")
    );
    assert_eq!(
        completed["response"]["usage"],
        json!({"input_tokens":100,"input_tokens_details":{"cached_tokens":80},"output_tokens":5,
               "output_tokens_details":{"reasoning_tokens":0},"total_tokens":105})
    );
}

#[test]
fn tool_call_chunk_shapes() {
    // (name, chunks, expected done items as (type, name, arguments-or-input, extra))
    let cases: Vec<(&str, Vec<Value>, Vec<Value>)> = vec![
        (
            "arguments split across deltas, name only in the first",
            vec![
                tc(0, Some("call_1"), Some("exec_command"), Some("")),
                tc(0, None, None, Some("{\"cmd\":")),
                tc(0, None, None, Some("\"ls\"}")),
                finish("tool_calls"),
            ],
            vec![
                json!({"type":"function_call","call_id":"call_1","name":"exec_command","arguments":"{\"cmd\":\"ls\"}"}),
            ],
        ),
        (
            "arguments only in the last chunk",
            vec![
                tc(0, Some("call_1"), Some("exec_command"), None),
                tc(0, None, None, Some("{\"cmd\":\"pwd\"}")),
                finish("tool_calls"),
            ],
            vec![
                json!({"type":"function_call","call_id":"call_1","name":"exec_command","arguments":"{\"cmd\":\"pwd\"}"}),
            ],
        ),
        (
            "header and arguments split with only an index",
            vec![
                tc(0, Some("call_1"), None, None),
                tc(0, None, Some("exec_command"), None),
                tc(0, None, None, Some("{}")),
                finish("tool_calls"),
            ],
            vec![
                json!({"type":"function_call","call_id":"call_1","name":"exec_command","arguments":"{}"}),
            ],
        ),
        (
            "parallel calls by index",
            vec![
                tc(0, Some("a"), Some("exec_command"), Some("{\"cmd\":\"1\"}")),
                tc(1, Some("b"), Some("exec_command"), Some("{\"cmd\":")),
                tc(1, None, None, Some("\"2\"}")),
                finish("tool_calls"),
            ],
            vec![
                json!({"type":"function_call","call_id":"a","name":"exec_command","arguments":"{\"cmd\":\"1\"}"}),
                json!({"type":"function_call","call_id":"b","name":"exec_command","arguments":"{\"cmd\":\"2\"}"}),
            ],
        ),
        (
            "parallel calls all at index 0 with distinct ids",
            vec![
                tc(0, Some("a"), Some("exec_command"), Some("{}")),
                tc(0, Some("b"), Some("exec_command"), Some("{\"x\":1}")),
                finish("tool_calls"),
            ],
            vec![
                json!({"type":"function_call","call_id":"a","name":"exec_command","arguments":"{}"}),
                json!({"type":"function_call","call_id":"b","name":"exec_command","arguments":"{\"x\":1}"}),
            ],
        ),
        (
            "custom tool comes back as custom_tool_call with the raw input",
            vec![
                tc(
                    0,
                    Some("p1"),
                    Some("apply_patch"),
                    Some("{\"input\":\"*** Begin Patch\\n*** End Patch\\n\"}"),
                ),
                finish("tool_calls"),
            ],
            vec![
                json!({"type":"custom_tool_call","call_id":"p1","name":"apply_patch","input":"*** Begin Patch\n*** End Patch\n"}),
            ],
        ),
        (
            "namespaced tool is restored with its namespace",
            vec![
                tc(
                    0,
                    Some("n1"),
                    Some("multi_agent_v1__close_agent"),
                    Some("{\"id\":\"x\"}"),
                ),
                finish("tool_calls"),
            ],
            vec![
                json!({"type":"function_call","call_id":"n1","name":"close_agent","namespace":"multi_agent_v1","arguments":"{\"id\":\"x\"}"}),
            ],
        ),
        (
            "empty arguments become {}; a missing id is generated",
            vec![
                tc(0, None, Some("exec_command"), None),
                finish("tool_calls"),
            ],
            vec![json!({"type":"function_call","name":"exec_command","arguments":"{}"})],
        ),
    ];
    for (name, chunks, want) in cases {
        let items = done_items(&run_stream(&chunks, true));
        assert_eq!(items.len(), want.len(), "case: {name}: {items:#?}");
        for (got, want) in items.iter().zip(&want) {
            for (k, v) in want.as_object().unwrap() {
                assert_eq!(&got[k], v, "case: {name}: field {k} of {got}");
            }
            let call_id = got["call_id"].as_str().unwrap_or("");
            assert!(!call_id.is_empty(), "case: {name}: call_id always present");
            if got["type"] == "function_call" && want.get("namespace").is_none() {
                assert_eq!(got.get("namespace"), None, "case: {name}");
            }
        }
    }
}

#[test]
fn mixed_text_reasoning_and_tools_keep_order() {
    let events = run_stream(
        &[
            delta(json!({"reasoning_content":"I should "})),
            delta(json!({"reasoning_content":"list files."})),
            delta(json!({"content":"Listing."})),
            tc(
                0,
                Some("c1"),
                Some("exec_command"),
                Some("{\"cmd\":\"ls\"}"),
            ),
            finish("tool_calls"),
        ],
        true,
    );
    let items = done_items(&events);
    let kinds: Vec<&str> = items.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["reasoning", "message", "function_call"]);
    assert_eq!(items[0]["content"][0]["text"], "I should list files.");
    assert_eq!(items[0]["summary"][0]["text"], "I should list files.");
    // Reasoning deltas are streamed as they come.
    let deltas: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "response.reasoning_summary_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, ["I should ", "list files."]);
    // output_index matches the order items were added.
    let done_indexes: Vec<u64> = events
        .iter()
        .filter(|e| e["type"] == "response.output_item.done")
        .map(|e| e["output_index"].as_u64().unwrap())
        .collect();
    assert_eq!(done_indexes, [0, 1, 2]);
}

#[test]
fn failures_emit_no_items() {
    let cases: Vec<(&str, Vec<Value>, bool, &str)> = vec![
        (
            "stream cut before finish and [DONE]",
            vec![delta(json!({"content":"partial"}))],
            false,
            "server_error",
        ),
        (
            "error object inside the stream",
            vec![
                delta(json!({"content":"x"})),
                json!({"error":{"message":"maximum context length exceeded","code":"context_length_exceeded"}}),
            ],
            true,
            "context_length_exceeded",
        ),
    ];
    for (name, chunks, saw_done, code) in cases {
        let events = run_stream(&chunks, saw_done);
        assert!(done_items(&events).is_empty(), "case: {name}");
        let last = events.last().unwrap();
        assert_eq!(last["type"], "response.failed", "case: {name}");
        assert_eq!(last["response"]["error"]["code"], code, "case: {name}");
    }
}

#[test]
fn finish_reasons() {
    let events = run_stream(&[delta(json!({"content":"cut"})), finish("length")], true);
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.incomplete");
    assert_eq!(
        last["response"]["incomplete_details"]["reason"],
        "max_output_tokens"
    );
    // [DONE] without a finish_reason still completes; usage is estimated when missing.
    let events = run_stream(&[delta(json!({"content":"12345678"}))], true);
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.completed");
    assert_eq!(last["response"]["usage"]["output_tokens"], 2);
}

#[test]
fn leaked_tool_call_is_recovered_only_when_whole() {
    let events = run_stream(
        &[
            delta(json!({"content":"{\"name\":\"exec_command\",\"arguments\":{\"cmd\":\"ls\"}}"})),
            finish("stop"),
        ],
        true,
    );
    let items = done_items(&events);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["type"], "function_call");
    assert_eq!(items[0]["arguments"], "{\"cmd\":\"ls\"}");
    let events = run_stream(
        &[
            delta(json!({"content":"Use {\"name\":\"exec_command\"} to run."})),
            finish("stop"),
        ],
        true,
    );
    let items = done_items(&events);
    assert_eq!(items[0]["type"], "message");
}

#[test]
fn whole_completion_object_is_accepted() {
    let mut t = StreamTranslator::new("m".into(), tools_for_stream(), false, 0, 0);
    let body = json!({"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"",
        "reasoning_content":"hmm",
        "tool_calls":[{"id":"c1","type":"function","function":{"name":"exec_command","arguments":"{}"}},
                      {"id":"c2","type":"function","function":{"name":"exec_command","arguments":"{\"a\":1}"}}]},
        "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":4}});
    let mut out = Vec::new();
    push_json(&mut t, &body, &mut out);
    t.end_of_stream(true);
    let response: Value = serde_json::from_slice(&t.finish(&mut out)).unwrap();
    assert!(out.is_empty(), "no events when not streaming");
    assert_eq!(t.outcome(), Some(&Outcome::Completed));
    let output = response["output"].as_array().unwrap();
    assert_eq!(output.len(), 3);
    assert_eq!(output[1]["call_id"], "c1");
    assert_eq!(output[2]["call_id"], "c2");
    assert_eq!(response["usage"]["total_tokens"], 7);
}

#[test]
fn think_tags_become_reasoning() {
    let split = |parts: &[&str]| {
        let mut chunks: Vec<Value> = parts.iter().map(|p| delta(json!({"content": p}))).collect();
        chunks.push(finish("stop"));
        let items = done_items(&run_stream(&chunks, true));
        let get = |kind: &str, field: &str| {
            items
                .iter()
                .find(|i| i["type"] == kind)
                .map(|i| i[field][0]["text"].as_str().unwrap().to_owned())
        };
        (get("reasoning", "content"), get("message", "content"))
    };
    let some = |s: &str| Some(s.to_owned());
    // (content deltas, reasoning, answer)
    let cases: Vec<(Vec<&str>, Option<String>, Option<String>)> = vec![
        (
            vec!["<think>plan</think>answer"],
            some("plan"),
            some("answer"),
        ),
        (
            vec!["<thi", "nk>pl", "an</th", "ink>\n\nans", "wer"],
            some("plan"),
            some("answer"),
        ),
        (
            vec!["\n<think>", "a < b", "</think>", "done"],
            some("a < b"),
            some("done"),
        ),
        (vec!["plain answer"], None, some("plain answer")),
        (vec!["<b>bold</b>"], None, some("<b>bold</b>")),
        (
            vec!["The <think> tag is literal"],
            None,
            some("The <think> tag is literal"),
        ),
        (vec!["<think>never closed"], some("never closed"), None),
        (vec!["<thi"], None, some("<thi")),
    ];
    for (parts, reasoning, answer) in cases {
        assert_eq!(split(&parts), (reasoning, answer), "{parts:?}");
    }
}

#[test]
fn cut_off_answers_never_commit_broken_calls() {
    // An unknown finish_reason (DeepSeek's insufficient_system_resource) is a failure.
    let events = run_stream(
        &[
            tc(0, Some("c1"), Some("exec_command"), Some("{\"cmd\":\"ec")),
            finish("insufficient_system_resource"),
        ],
        true,
    );
    assert!(done_items(&events).is_empty());
    assert_eq!(events.last().unwrap()["type"], "response.failed");
    // The output limit cuts a call: the text survives, the truncated call does not.
    let events = run_stream(
        &[
            delta(json!({"content":"Writing."})),
            tc(0, Some("c1"), Some("exec_command"), Some("{\"cmd\":")),
            finish("length"),
        ],
        true,
    );
    let items = done_items(&events);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["type"], "message");
    assert_eq!(events.last().unwrap()["type"], "response.incomplete");
}

#[test]
fn lenient_chunks() {
    let events = run_stream(
        &[
            json!({"choices":[{"index":null,"delta":{"content":"a","reasoning_content":"","reasoning":"r","tool_calls":null},"finish_reason":null}]}),
            json!({"choices":null,"model":null}),
            json!({"choices":[{"index":0,"delta":null,"finish_reason":"stop",
                   "usage":{"prompt_tokens":9,"completion_tokens":null,"total_tokens":9}}]}),
        ],
        true,
    );
    let items = done_items(&events);
    assert_eq!(
        items[0]["content"][0]["text"], "r",
        "reasoning read from `reasoning` when reasoning_content is empty"
    );
    assert_eq!(items[1]["content"][0]["text"], "a");
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.completed");
    assert_eq!(
        last["response"]["usage"]["input_tokens"], 9,
        "usage inside the choice (Moonshot)"
    );
}

#[test]
fn web_search_history_and_tool() {
    let mut results = std::collections::HashMap::new();
    results.insert("rust sse".to_owned(), "Web search results ...".to_owned());
    let opts = TranslateOptions {
        web_search: true,
        search_results: results,
    };
    let req = json!({"model":"m","tools":[{"type":"web_search","external_web_access":true}],"input":[
        user("what is sse"),
        {"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"rust sse"}},
        {"type":"web_search_call","id":"ws_2","status":"completed","action":{"type":"search","query":"forgotten"}},
        assistant("SSE is a stream.")]});
    let t = translate_request_with(parse(&req), &opts).unwrap();
    let chat = serde_json::to_value(&t.chat).unwrap();
    assert_eq!(chat["tools"][0]["function"]["name"], "web_search");
    assert_eq!(
        chat["messages"],
        json!([{"role":"user","content":"what is sse"},
               {"role":"assistant","content":"","tool_calls":[{"id":"ws_1","type":"function",
                   "function":{"name":"web_search","arguments":"{\"query\":\"rust sse\"}"}}]},
               {"role":"tool","content":"Web search results ...","tool_call_id":"ws_1"},
               {"role":"assistant","content":"","tool_calls":[{"id":"ws_2","type":"function",
                   "function":{"name":"web_search","arguments":"{\"query\":\"forgotten\"}"}}]},
               {"role":"tool","content":request::SEARCH_RESULTS_GONE,"tool_call_id":"ws_2"},
               {"role":"assistant","content":"SSE is a stream."}])
    );
    // Off: neither the tool nor the history reconstruction.
    let (chat, _) = translate(req);
    assert_eq!(chat.get("tools"), None);
    assert_eq!(chat["messages"].as_array().unwrap().len(), 2);
}

#[test]
fn web_search_rounds_in_one_response() {
    let mut tools = tools_for_stream();
    tools.insert(tools::ToolKind::WebSearch, None, "web_search");
    let mut t = StreamTranslator::new("m".into(), tools, true, 0, 0);
    let mut out = Vec::new();
    t.start(&mut out);
    let round1 = [
        delta(json!({"reasoning_content":"need facts"})),
        tc(
            0,
            Some("c_ws"),
            Some("web_search"),
            Some("{\"query\":\"rust sse\",\"count\":3}"),
        ),
        finish("tool_calls"),
        json!({"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}),
    ];
    for c in round1 {
        push_json(&mut t, &c, &mut out);
    }
    t.end_of_stream(true);
    let searches = t.pending_searches();
    assert_eq!(searches.len(), 1);
    assert_eq!(
        (searches[0].query.as_str(), searches[0].count),
        ("rust sse", Some(3))
    );
    assert!(!t.has_client_calls());
    assert!(
        !String::from_utf8_lossy(&out).contains("\"function_call\""),
        "the search call is never shown as a function call"
    );
    t.record_search(&mut out, searches[0].index, "rust sse");
    let turn = t.round_turn();
    assert_eq!(turn.reasoning.as_deref(), Some("need facts"));
    assert_eq!(turn.calls.len(), 1);
    assert_eq!(turn.calls[0].search.as_deref(), Some("rust sse"));
    t.next_round();
    for c in [
        delta(json!({"content":"Answer."})),
        finish("stop"),
        json!({"choices":[],"usage":{"prompt_tokens":20,"completion_tokens":3,"total_tokens":23}}),
    ] {
        push_json(&mut t, &c, &mut out);
    }
    t.end_of_stream(true);
    let response: Value = serde_json::from_slice(&t.finish(&mut out)).unwrap();
    let kinds: Vec<&str> = response["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["reasoning", "web_search_call", "message"]);
    assert_eq!(response["output"][1]["action"]["query"], "rust sse");
    assert_eq!(response["usage"]["input_tokens"], 30);
    assert_eq!(response["usage"]["total_tokens"], 35);
}

/// Long strings go from the Responses request to the Chat request as the client escaped them,
/// with the same meaning as a decode-and-re-encode translation.
#[test]
fn raw_strings_pass_through_with_the_same_meaning() {
    // Escapes serde_json would write differently (`\u00e9`, `\/`), quotes, backslashes, newlines.
    let body = r#"{"model":"m","instructions":"base \u00e9\/","input":[
        {"type":"message","role":"developer","content":[{"type":"input_text","text":"p1"},
            {"type":"input_text","text":""},{"type":"input_text","text":"p\"2\""}]},
        {"type":"message","role":"user","content":[{"type":"input_text","text":"a\\b"},
            {"type":"input_text","text":"c\td"}]},
        {"type":"reasoning","summary":[{"type":"summary_text","text":""},
            {"type":"summary_text","text":"s\u0001"}]},
        {"type":"function_call","name":"exec_command","arguments":"{\"cmd\":\"ls \\\"x\\\"\"}",
            "call_id":"c1"},
        {"type":"custom_tool_call","name":"apply_patch","input":"*** Begin \u00e9\n\"q\"\\",
            "call_id":"c2"},
        {"type":"message","role":"assistant","content":[{"type":"output_text","text":"one"}]},
        {"type":"message","role":"assistant","content":"two\u2192"},
        {"type":"function_call_output","call_id":"c1","output":"out \u00e9\n\"z\""},
        {"type":"custom_tool_call_output","call_id":"c2","output":[
            {"type":"input_text","text":"x"},{"type":"input_text","text":"y\/"}]},
        {"type":"function_call_output","call_id":"orphan","output":"o\u00e9"}
    ]}"#;
    let raw = translate_request(serde_json::from_str(body).expect("parses")).expect("translates");
    let written = String::from_utf8(serde_json::to_vec(&raw.chat).expect("writes")).unwrap();
    // The big strings are copied token for token.
    for token in [
        r#""out \u00e9\n\"z\"""#,
        r#""{\"cmd\":\"ls \\\"x\\\"\"}""#,
        r#""a\\b\nc\td""#,
    ] {
        assert!(
            written.contains(token),
            "{token} not passed through: {written}"
        );
    }
    // The same request decoded and re-encoded (no escapes left to pass through) means the same.
    // Call arguments are JSON text in a string: compared as the JSON they hold, since a custom
    // tool's input keeps its escapes inside `{"input": ...}` (`\u00e9` rather than `é`).
    let arguments_parsed = |mut chat: Value| {
        for m in chat["messages"].as_array_mut().unwrap() {
            for c in m["tool_calls"].as_array_mut().into_iter().flatten() {
                let args = c["function"]["arguments"].as_str().unwrap();
                c["function"]["arguments"] = serde_json::from_str(args).unwrap();
            }
        }
        chat
    };
    let canonical = serde_json::from_str::<Value>(body).unwrap();
    let (want, _) = translate(canonical);
    let got: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(arguments_parsed(got.clone()), arguments_parsed(want));
    assert_eq!(got["messages"][0]["content"], "base é/\n\np1\n\np\"2\"");
    assert_eq!(got["messages"][1]["content"], "a\\b\nc\td");
    let calls = &got["messages"][2]["tool_calls"];
    assert_eq!(got["messages"][2]["content"], "one\ntwo→");
    assert_eq!(got["messages"][2]["reasoning_content"], "\n\ns\u{1}");
    assert_eq!(
        serde_json::from_str::<Value>(calls[1]["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({"input": "*** Begin é\n\"q\"\\"})
    );
    assert_eq!(got["messages"][4]["content"], "x\ny/");
    assert_eq!(
        got["messages"][5]["content"],
        "Output of tool call orphan:\noé"
    );
}

#[test]
fn non_string_text_is_rejected_as_before() {
    for (body, want) in [
        (
            r#"{"model":"m","input":[{"role":"user","content":5}]}"#,
            "invalid type: integer `5`, expected a string or an array of content parts",
        ),
        (
            r#"{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":[]}]}]}"#,
            "invalid type: sequence, expected a string",
        ),
        (
            r#"{"model":"m","input":[{"type":"function_call","arguments":{}}]}"#,
            "invalid type: map, expected a string",
        ),
        (
            r#"{"model":"m","instructions":true}"#,
            "invalid type: boolean `true`, expected a string",
        ),
    ] {
        let err = serde_json::from_str::<ResponsesRequest>(body)
            .unwrap_err()
            .to_string();
        // One position, the one in the request (not one inside a re-parsed token as well).
        let rest = err
            .strip_prefix(want)
            .unwrap_or_else(|| panic!("{body}: {err}"));
        assert!(
            rest.starts_with(" at line 1 column ") && rest.matches(" at ").count() == 1,
            "{body}: {err}"
        );
    }
}
