//! Backend events → Chat Completions wire format (SSE chunks or one `chat.completion`). Pure.

use serde_json::{Value, json};

use super::backend::{BackendEvent, TokenUsage};

/// Builds the chunks of one streamed answer.
pub struct ChunkWriter {
    id: String,
    model: String,
    created: u64,
    started: bool,
}

impl ChunkWriter {
    pub fn new(id: String, model: String, created: u64) -> Self {
        ChunkWriter {
            id,
            model,
            created,
            started: false,
        }
    }

    fn chunk(&self, delta: Value, finish: Option<&str>, usage: Option<Value>) -> Vec<u8> {
        let mut v = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        if let Some(u) = usage {
            v["choices"] = json!([]);
            v["usage"] = u;
        }
        let mut out = b"data: ".to_vec();
        out.extend_from_slice(v.to_string().as_bytes());
        out.extend_from_slice(b"\n\n");
        out
    }

    /// The SSE bytes for one event (empty when the event writes nothing).
    pub fn event(&mut self, event: &BackendEvent) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.started && matches!(event, BackendEvent::Content(_) | BackendEvent::Reasoning(_)) {
            self.started = true;
            out.extend(self.chunk(json!({"role": "assistant", "content": ""}), None, None));
        }
        match event {
            BackendEvent::Content(text) => {
                out.extend(self.chunk(json!({"content": text}), None, None))
            }
            BackendEvent::Reasoning(text) => {
                out.extend(self.chunk(json!({"reasoning_content": text}), None, None))
            }
            BackendEvent::Usage(u) => out.extend(self.chunk(json!({}), None, Some(usage_json(u)))),
            BackendEvent::Done { finish_reason } => {
                out.extend(self.chunk(json!({}), Some(finish_reason), None));
                out.extend_from_slice(b"data: [DONE]\n\n");
            }
            BackendEvent::Error(e) => {
                let body = json!({"error": {"message": e.message, "type": e.kind, "code": e.code}});
                out.extend_from_slice(format!("data: {body}\n\n").as_bytes());
            }
        }
        out
    }
}

pub fn usage_json(u: &TokenUsage) -> Value {
    json!({
        "prompt_tokens": u.input,
        "completion_tokens": u.output,
        "total_tokens": u.input + u.output,
        "prompt_tokens_details": {"cached_tokens": u.cached_input},
        "completion_tokens_details": {"reasoning_tokens": u.reasoning},
    })
}

/// One `chat.completion` from all events of a finished answer.
pub fn completion(id: &str, model: &str, created: u64, events: &[BackendEvent]) -> Value {
    let mut content = String::new();
    let mut reasoning = String::new();
    let mut usage = TokenUsage::default();
    let mut finish = "stop".to_owned();
    for e in events {
        match e {
            BackendEvent::Content(t) => content.push_str(t),
            BackendEvent::Reasoning(t) => reasoning.push_str(t),
            BackendEvent::Usage(u) => usage = *u,
            BackendEvent::Done { finish_reason } => finish.clone_from(finish_reason),
            BackendEvent::Error(_) => {}
        }
    }
    let mut message = json!({"role": "assistant", "content": content});
    if !reasoning.is_empty() {
        message["reasoning_content"] = json!(reasoning);
    }
    json!({
        "id": id, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage_json(&usage),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_and_completion_shapes() {
        let events = vec![
            BackendEvent::Reasoning("think".into()),
            BackendEvent::Content("Hi".into()),
            BackendEvent::Usage(TokenUsage {
                input: 5,
                cached_input: 1,
                output: 2,
                reasoning: 1,
            }),
            BackendEvent::Done {
                finish_reason: "stop".into(),
            },
        ];
        let mut w = ChunkWriter::new("c1".into(), "codex".into(), 7);
        let sse: Vec<u8> = events.iter().flat_map(|e| w.event(e)).collect();
        let text = String::from_utf8(sse).unwrap();
        let data: Vec<&str> = text
            .split("\n\n")
            .filter_map(|b| b.strip_prefix("data: "))
            .collect();
        assert_eq!(data.len(), 6, "{text}");
        assert_eq!(data[5], "[DONE]");
        let first: Value = serde_json::from_str(data[0]).unwrap();
        assert_eq!(first["choices"][0]["delta"]["role"], "assistant");
        let usage: Value = serde_json::from_str(data[3]).unwrap();
        assert_eq!(usage["usage"]["total_tokens"], 7);
        assert_eq!(usage["choices"], json!([]));

        let c = completion("c1", "codex", 7, &events);
        assert_eq!(c["choices"][0]["message"]["content"], "Hi");
        assert_eq!(c["choices"][0]["message"]["reasoning_content"], "think");
        assert_eq!(c["usage"]["prompt_tokens_details"]["cached_tokens"], 1);
    }
}
