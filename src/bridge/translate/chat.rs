//! The subset of the Chat Completions API aimux writes (requests) and reads (stream chunks).

use super::raw::RawStr;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

#[derive(Debug, Serialize)]
pub struct ChatRequest {
    // `model` and `stream` lead, in this order: the proxy reads the bridge's requests that far
    // and passes the rest on unparsed (`proxy::server::bridged_head`).
    pub model: String,
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    pub messages: Vec<Message>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ChatTool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
}

/// Marks a request as a [`ChatRequest`] the bridge wrote itself, which the proxy then reads only
/// as far as `model` and `stream`. Sent with the internal secret on translated requests only: the
/// bridge's Chat passthrough, which forwards a client's body, never sets it.
pub const TRANSLATED_HEADER: &str = "x-aimux-translated";

#[derive(Debug, Serialize)]
pub struct StreamOptions {
    pub include_usage: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub role: Role,
    /// Always written for user/system/tool messages; `null` for an assistant turn that only calls tools.
    pub content: Option<MessageContent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<RawStr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    pub fn text(role: Role, text: RawStr) -> Self {
        Message {
            role,
            content: Some(MessageContent::Text(text)),
            reasoning_content: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

/// A plain string when the message is text only (several providers reject part arrays there),
/// parts only when it carries images or files. Text is the client's string tokens, passed
/// through (see [`RawStr`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MessageContent {
    Text(RawStr),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    Text { text: RawStr },
    ImageUrl { image_url: ImageUrl },
    File { file: FileData },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageUrl {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_data: Option<RawStr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionCall,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionCall {
    pub name: String,
    pub arguments: RawStr,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatTool {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: ChatFunction,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatFunction {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub parameters: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

// ---- what comes back ----

/// `null` reads as the default: providers write `null` where the spec has a value.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A string, or `None` for `null`/anything else (some servers send reasoning as an object).
/// Borrowed from the chunk when it has no escapes.
pub(crate) fn lenient_str<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    d.deserialize_any(TextVisitor { other: Other::Skip })
}

/// Tool-call arguments: normally a string; a few servers send a JSON object, taken as its text.
fn arguments<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    d.deserialize_any(TextVisitor {
        other: Other::AsJson,
    })
}

/// What [`TextVisitor`] makes of a value that is not a string.
#[derive(Clone, Copy)]
enum Other {
    /// `None`.
    Skip,
    /// Its JSON text (`null` is still `None`).
    AsJson,
}

struct TextVisitor {
    other: Other,
}

impl TextVisitor {
    fn json<E>(
        &self,
        value: impl FnOnce() -> Result<Value, E>,
    ) -> Result<Option<Cow<'static, str>>, E> {
        match self.other {
            Other::Skip => value().map(|_| None),
            Other::AsJson => value().map(|v| Some(Cow::Owned(v.to_string()))),
        }
    }
}

impl<'de> serde::de::Visitor<'de> for TextVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        self.json(|| Ok(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        self.json(|| Ok(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        self.json(|| Ok(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        self.json(|| Ok(Value::from(v)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.json(|| Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.json(|| Value::deserialize(serde::de::value::MapAccessDeserializer::new(map)))
    }
}

/// One streamed chunk, or a whole non-streaming completion (its `message` read as the delta).
/// Strings borrow from the chunk's bytes; the rare parts are boxed, so a chunk is cheap to move.
#[derive(Debug, Default, Deserialize)]
pub struct Chunk<'a> {
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub model: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "null_default")]
    pub choices: Vec<Choice<'a>>,
    #[serde(default)]
    pub usage: Option<Box<Usage>>,
    /// Some providers (OpenRouter, LiteLLM) report failures inside a 200 stream.
    #[serde(default)]
    pub error: Option<Box<Value>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Choice<'a> {
    #[serde(default, deserialize_with = "null_default")]
    pub index: u32,
    #[serde(borrow, default, deserialize_with = "null_default")]
    pub delta: Delta<'a>,
    /// A non-streaming completion's answer.
    #[serde(borrow, default)]
    pub message: Option<Box<Delta<'a>>>,
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub finish_reason: Option<Cow<'a, str>>,
    /// Moonshot puts the streamed usage here.
    #[serde(default)]
    pub usage: Option<Box<Usage>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Delta<'a> {
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub content: Option<Cow<'a, str>>,
    /// DeepSeek, Kimi, GLM, Qwen, vLLM.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub reasoning_content: Option<Cow<'a, str>>,
    /// OpenRouter, Ollama.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub reasoning: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub refusal: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub tool_calls: Option<Vec<ToolCallDelta<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ToolCallDelta<'a> {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub function: Option<FunctionDelta<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct FunctionDelta<'a> {
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub name: Option<Cow<'a, str>>,
    /// Normally a string; a few servers send the arguments as a JSON object.
    #[serde(borrow, default, deserialize_with = "arguments")]
    pub arguments: Option<Cow<'a, str>>,
}

/// Reads a chunk: the common shapes directly (see [`super::fast_chunk`]), the rest with serde.
/// The bytes are checked as UTF-8 once, so serde need not check each string again; bytes that
/// are not UTF-8 go to serde's byte parser, which tolerates them in fields it skips.
pub fn parse_chunk(data: &[u8]) -> serde_json::Result<Chunk<'_>> {
    match std::str::from_utf8(data) {
        Ok(text) => read_common_chunk(text).map_or_else(|| serde_json::from_str(text), Ok),
        Err(_) => serde_json::from_slice(data),
    }
}

pub use super::fast_chunk::read as read_common_chunk;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct Usage {
    #[serde(default, deserialize_with = "null_default")]
    pub prompt_tokens: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: Option<u64>,
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    pub completion_tokens_details: Option<CompletionDetails>,
    /// DeepSeek's name for cached prompt tokens.
    #[serde(default)]
    pub prompt_cache_hit_tokens: Option<u64>,
}

/// Token counts in one shape whatever the provider's field names.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TokenCounts {
    pub input: u64,
    pub cached: u64,
    pub output: u64,
    pub reasoning: u64,
    pub total: u64,
}

impl Usage {
    /// A usage from plain counts (Responses-API answers, the codex backend).
    pub fn from_counts(
        input: u64,
        cached: Option<u64>,
        output: u64,
        reasoning: Option<u64>,
    ) -> Usage {
        Usage {
            prompt_tokens: input,
            completion_tokens: output,
            total_tokens: Some(input + output),
            prompt_tokens_details: Some(PromptDetails {
                cached_tokens: cached,
            }),
            completion_tokens_details: Some(CompletionDetails {
                reasoning_tokens: reasoning,
            }),
            prompt_cache_hit_tokens: None,
        }
    }

    pub fn tokens(&self) -> TokenCounts {
        TokenCounts {
            input: self.prompt_tokens,
            cached: self
                .prompt_tokens_details
                .as_ref()
                .and_then(|d| d.cached_tokens)
                .or(self.prompt_cache_hit_tokens)
                .unwrap_or(0),
            output: self.completion_tokens,
            reasoning: self
                .completion_tokens_details
                .as_ref()
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
            total: self
                .total_tokens
                .unwrap_or(self.prompt_tokens + self.completion_tokens),
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct PromptDetails {
    #[serde(default)]
    pub cached_tokens: Option<u64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct CompletionDetails {
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_strings_borrow_unless_escaped_and_tolerate_other_types() {
        let c = parse_chunk(
            br#"{"model":"m","choices":[{"index":0,"delta":{"content":"plain","reasoning_content":"a\"b","reasoning":{"x":1},"refusal":null},"finish_reason":7}]}"#,
        )
        .unwrap();
        assert!(matches!(c.model, Some(Cow::Borrowed("m"))));
        let d = &c.choices[0].delta;
        assert!(matches!(d.content, Some(Cow::Borrowed("plain"))));
        assert!(matches!(&d.reasoning_content, Some(Cow::Owned(s)) if s == "a\"b"));
        assert_eq!(d.reasoning, None);
        assert_eq!(d.refusal, None);
        assert_eq!(c.choices[0].finish_reason, None);
    }

    #[test]
    fn tool_arguments_of_any_json_type_read_as_text() {
        let cases: &[(&str, Option<&str>)] = &[
            (r#""{\"a\":1}""#, Some(r#"{"a":1}"#)),
            (r#"{"a":[1,true,null]}"#, Some(r#"{"a":[1,true,null]}"#)),
            ("[1,2]", Some("[1,2]")),
            ("5", Some("5")),
            ("-2", Some("-2")),
            ("1.5", Some("1.5")),
            ("true", Some("true")),
            ("null", None),
        ];
        for (args, want) in cases {
            let text = format!(
                r#"{{"choices":[{{"delta":{{"tool_calls":[{{"index":0,"function":{{"arguments":{args}}}}}]}}}}]}}"#
            );
            let chunk = parse_chunk(text.as_bytes()).unwrap();
            let calls = chunk.choices[0].delta.tool_calls.as_ref().unwrap();
            let got = calls[0].function.as_ref().unwrap().arguments.as_deref();
            assert_eq!(got, *want, "{args}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_in_skipped_fields_are_tolerated() {
        let mut data = br#"{"id":"x"#.to_vec();
        data.push(0xfe);
        data.extend_from_slice(br#"","choices":[{"delta":{"content":"hi"}}]}"#);
        let chunk = parse_chunk(&data).unwrap();
        assert_eq!(chunk.choices[0].delta.content.as_deref(), Some("hi"));
    }
}
