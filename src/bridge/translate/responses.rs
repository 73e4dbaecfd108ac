//! The subset of the OpenAI Responses API request that aimux reads.
//!
//! Input items are read through one flat struct ([`RawItem`]) instead of an internally tagged enum:
//! it deserializes straight from the byte stream without buffering (a Codex history can be several
//! megabytes) and it accepts the untyped "easy" message form (`{"role":"user","content":"hi"}`).

use super::raw::{RawStr, unexpected};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;

/// `POST /v1/responses` body. Fields aimux does not use (`store`, `include`, `client_metadata`,
/// `metadata`, ...) are accepted and ignored.
#[derive(Debug, Default, Deserialize)]
pub struct ResponsesRequest {
    pub model: String,
    #[serde(default)]
    pub input: Input,
    pub instructions: Option<RawStr>,
    #[serde(default)]
    pub tools: Vec<Tool>,
    pub tool_choice: Option<Value>,
    pub parallel_tool_calls: Option<bool>,
    pub reasoning: Option<Reasoning>,
    pub text: Option<TextConfig>,
    #[serde(default)]
    pub stream: bool,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_output_tokens: Option<u64>,
    pub prompt_cache_key: Option<String>,
    pub user: Option<String>,
    pub safety_identifier: Option<String>,
    pub service_tier: Option<String>,
    pub previous_response_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Reasoning {
    pub effort: Option<String>,
    pub summary: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TextConfig {
    pub format: Option<Value>,
    pub verbosity: Option<String>,
}

/// `input`: a plain string (one user message) or a list of items.
#[derive(Debug)]
pub enum Input {
    Text(String),
    Items(Vec<RawItem>),
}

impl Default for Input {
    fn default() -> Self {
        Input::Items(Vec::new())
    }
}

impl Input {
    /// The queries of the `web_search_call` items in the history.
    pub fn web_search_queries(&self) -> Vec<String> {
        match self {
            Input::Text(_) => Vec::new(),
            Input::Items(items) => items
                .iter()
                .filter(|i| i.kind.as_deref() == Some("web_search_call"))
                .filter_map(|i| i.search_query().map(str::to_owned))
                .collect(),
        }
    }
}

impl RawItem {
    pub fn search_query(&self) -> Option<&str> {
        self.action.as_ref()?.get("query")?.as_str()
    }
}

impl<'de> Deserialize<'de> for Input {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Input;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of input items")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Input, E> {
                Ok(Input::Text(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Input, E> {
                Ok(Input::Text(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Input, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(16));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Input::Items(items))
            }
        }
        d.deserialize_any(V)
    }
}

/// One input item, every type's fields in one struct. `kind` is `None` for the easy message form.
#[derive(Debug, Default, Deserialize)]
pub struct RawItem {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub id: Option<String>,
    /// `web_search_call`: `{"type": "search", "query": ...}`.
    pub action: Option<Value>,
    pub role: Option<String>,
    pub content: Option<Content>,
    pub call_id: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub arguments: Option<RawStr>,
    pub input: Option<RawStr>,
    pub output: Option<Content>,
    pub summary: Option<Vec<Part>>,
    pub encrypted_content: Option<String>,
}

/// Message content or tool output: a string or a list of typed parts.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Text(RawStr),
    Parts(Vec<Part>),
}

impl<'de> Deserialize<'de> for Content {
    /// Read as a raw token first, so that a string (a tool output can be megabytes) is never
    /// unescaped; a list of parts is then parsed from that token (parts are small, and their text
    /// is raw too).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = match RawStr::try_from(Box::<RawValue>::deserialize(d)?) {
            Ok(text) => return Ok(Content::Text(text)),
            Err(raw) => raw,
        };
        match raw.get().as_bytes().first() {
            Some(b'[') => serde_json::from_str(raw.get())
                .map(Content::Parts)
                .map_err(|e| de::Error::custom(without_position(&e))),
            Some(b'n') => Ok(Content::Parts(Vec::new())),
            _ => Err(de::Error::invalid_type(
                unexpected(raw.get()),
                &"a string or an array of content parts",
            )),
        }
    }
}

/// An error's message without serde_json's " at line L column C": the position inside a
/// re-parsed token means nothing to the client, and the outer parser adds the real one.
fn without_position(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match message.strip_suffix(&suffix) {
        Some(m) if e.line() > 0 => m.to_owned(),
        _ => message,
    }
}

/// A content part: `input_text`, `output_text`, `summary_text`, `reasoning_text`, `refusal`,
/// `input_image`, `input_file`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Part {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: Option<RawStr>,
    pub refusal: Option<RawStr>,
    pub image_url: Option<ImageUrl>,
    pub detail: Option<String>,
    pub file_id: Option<String>,
    pub file_data: Option<RawStr>,
    pub filename: Option<String>,
}

/// Responses sends `image_url` as a string; accept the Chat object form too.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ImageUrl {
    Url(String),
    Object { url: String, detail: Option<String> },
}

impl ImageUrl {
    pub fn url(&self) -> &str {
        match self {
            ImageUrl::Url(url) | ImageUrl::Object { url, .. } => url,
        }
    }
}

/// A tool offered by the client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Tool {
    Function(FunctionTool),
    /// A freeform tool (Codex's `apply_patch`): the model answers with raw text, optionally
    /// constrained by a grammar.
    Custom {
        name: String,
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        format: Option<CustomFormat>,
    },
    /// A group of function tools (`multi_agent_v1`, MCP servers).
    Namespace {
        name: String,
        #[serde(default)]
        tools: Vec<Tool>,
    },
    /// OpenAI-hosted web search. Chat upstreams cannot run it.
    #[serde(alias = "web_search_preview")]
    WebSearch,
    /// Any other hosted tool (`tool_search`, `image_generation`, `file_search`, ...).
    #[serde(other)]
    Hosted,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FunctionTool {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct CustomFormat {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub syntax: Option<String>,
    pub definition: Option<String>,
}
