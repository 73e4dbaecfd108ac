//! The subset of the Chat Completions API aimux writes (requests) and reads (stream chunks).

use super::raw::RawStr;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Serialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ChatTool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
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
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A string, or `None` for `null`/anything else (some servers send reasoning as an object).
fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// One streamed chunk, or a whole non-streaming completion (its `message` read as the delta).
#[derive(Debug, Default, Deserialize)]
pub struct Chunk {
    #[serde(default, deserialize_with = "lenient_string")]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<Usage>,
    /// Some providers (OpenRouter, LiteLLM) report failures inside a 200 stream.
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Choice {
    #[serde(default, deserialize_with = "null_default")]
    pub index: u32,
    #[serde(default, deserialize_with = "null_default")]
    pub delta: Delta,
    /// A non-streaming completion's answer. Boxed, like the rare `usage` below: a chunk's
    /// choices are moved around per streamed chunk, and small moves are cheap ones.
    #[serde(default)]
    pub message: Option<Box<Delta>>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub finish_reason: Option<String>,
    /// Moonshot puts the streamed usage here.
    #[serde(default)]
    pub usage: Option<Box<Usage>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Delta {
    #[serde(default, deserialize_with = "lenient_string")]
    pub content: Option<String>,
    /// DeepSeek, Kimi, GLM, Qwen, vLLM.
    #[serde(default, deserialize_with = "lenient_string")]
    pub reasoning_content: Option<String>,
    /// OpenRouter, Ollama.
    #[serde(default, deserialize_with = "lenient_string")]
    pub reasoning: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub refusal: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ToolCallDelta {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<FunctionDelta>,
}

#[derive(Debug, Default, Deserialize)]
pub struct FunctionDelta {
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    /// Normally a string; a few servers send the arguments as a JSON object.
    #[serde(default)]
    pub arguments: Option<Value>,
}

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
