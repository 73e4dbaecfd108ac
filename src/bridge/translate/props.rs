//! Property tests: whatever bytes or chunks arrive, translation never panics and always ends a
//! response with exactly one terminal event.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::responses::ResponsesRequest;
use super::stream::StreamTranslator;
use super::tools::{ToolKind, ToolMap};
use crate::sse::SseDecoder;

fn decode(pieces: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    for p in pieces {
        d.push(p, |data| out.push(data.to_vec()));
    }
    d.finish(|data| out.push(data.to_vec()));
    out
}

/// A plausible chunk: text, reasoning, tool-call fragments, finish reasons, usage, nulls.
fn chunk() -> impl Strategy<Value = Value> {
    let text = "[a-z {}\"<>/]{0,12}";
    prop_oneof![
        text.prop_map(|t| json!({"choices":[{"index":0,"delta":{"content":t}}]})),
        text.prop_map(|t| json!({"choices":[{"index":0,"delta":{"reasoning_content":t}}]})),
        (
            0u32..3,
            proptest::option::of("[a-c]{1,3}"),
            proptest::option::of(prop_oneof![
                Just("exec_command".to_owned()),
                Just("apply_patch".to_owned()),
                "[a-z_]{0,8}"
            ]),
            proptest::option::of(text)
        )
            .prop_map(
                |(i, id, name, args)| json!({"choices":[{"index":0,"delta":{"tool_calls":[
                {"index": i, "id": id, "function": {"name": name, "arguments": args}}]}}]})
            ),
        prop_oneof![
            Just("stop"),
            Just("tool_calls"),
            Just("length"),
            Just("weird")
        ]
        .prop_map(|r| json!({"choices":[{"index":0,"delta":{},"finish_reason":r}]})),
        (0u64..1000).prop_map(
            |n| json!({"choices":[],"usage":{"prompt_tokens":n,"completion_tokens":null}})
        ),
        Just(json!({"choices":null})),
        Just(json!({"error":{"message":"boom"}})),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sse_decoding_does_not_depend_on_how_bytes_are_split(
        bytes in proptest::collection::vec(prop_oneof![
            Just(b'\n'), Just(b'\r'), Just(b':'), Just(b' '), Just(b'd'), Just(b'a'), Just(b't'), any::<u8>()
        ], 0..200),
        cut in 0usize..200,
    ) {
        let cut = cut.min(bytes.len());
        // A lone CR at the split point is ambiguous only until the next byte arrives.
        let whole = decode(&[&bytes]);
        let split = decode(&[&bytes[..cut], &bytes[cut..]]);
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn any_chunk_sequence_ends_in_one_terminal_event(
        chunks in proptest::collection::vec(chunk(), 0..12),
        saw_done in any::<bool>(),
    ) {
        let mut tools = ToolMap::default();
        tools.insert(ToolKind::Function, None, "exec_command");
        tools.insert(ToolKind::Custom, None, "apply_patch");
        let mut t = StreamTranslator::new("m".into(), tools, true, 0, 0);
        let mut out = Vec::new();
        t.start(&mut out);
        for c in chunks {
            super::tests::push_json(&mut t, &c, &mut out);
        }
        t.end_of_stream(saw_done);
        t.finish(&mut out);
        let text = String::from_utf8(out).expect("events are UTF-8");
        let mut terminal = 0;
        for block in text.split("\n\n").filter(|b| !b.is_empty()) {
            let data = block.lines().find_map(|l| l.strip_prefix("data: ")).expect("every event has data");
            let v: Value = serde_json::from_str(data).expect("every event is JSON");
            let kind = v["type"].as_str().unwrap_or_default();
            if matches!(kind, "response.completed" | "response.incomplete" | "response.failed") {
                terminal += 1;
            }
            if kind == "response.output_item.done" && v["item"]["type"] == "function_call" {
                prop_assert!(!v["item"]["call_id"].as_str().unwrap_or_default().is_empty());
                prop_assert!(!v["item"]["name"].as_str().unwrap_or_default().is_empty());
            }
        }
        prop_assert_eq!(terminal, 1);
    }

    #[test]
    fn arbitrary_requests_translate_or_fail_cleanly(
        roles in proptest::collection::vec(prop_oneof![
            Just("user"), Just("assistant"), Just("developer"), Just("system"), Just("tool")
        ], 0..6),
        kinds in proptest::collection::vec(prop_oneof![
            Just("message"), Just("function_call"), Just("function_call_output"),
            Just("reasoning"), Just("custom_tool_call"), Just("web_search_call"), Just("mystery")
        ], 0..8),
    ) {
        let input: Vec<Value> = kinds.iter().enumerate().map(|(i, k)| json!({
            "type": k, "role": roles.get(i).copied().unwrap_or("user"), "content": "x",
            "call_id": format!("c{}", i % 3), "name": "exec_command", "arguments": "{}",
            "input": "raw", "output": "o", "summary": [], "action": {"query": "q"}
        })).collect();
        let req: ResponsesRequest =
            serde_json::from_str(&json!({"model": "m", "input": input}).to_string())
                .expect("the flat item form accepts every shape");
        if let Ok(t) = super::translate_request(req) {
            let messages = serde_json::to_value(&t.chat).expect("serializes")["messages"].clone();
            // Every tool message answers a call made just before it.
            let mut open: Vec<String> = Vec::new();
            for m in messages.as_array().expect("messages") {
                match m["role"].as_str() {
                    Some("assistant") => {
                        open = m["tool_calls"].as_array().map(|c| c.iter()
                            .map(|c| c["id"].as_str().unwrap_or_default().to_owned()).collect())
                            .unwrap_or_default();
                    }
                    Some("tool") => {
                        let id = m["tool_call_id"].as_str().unwrap_or_default();
                        prop_assert!(open.iter().any(|o| o == id), "orphan tool message {}", id);
                    }
                    _ => open.clear(),
                }
            }
        }
    }
}
