//! Responses request → Chat Completions request.

use super::chat::{
    ChatFunction, ChatRequest, ChatTool, ContentPart, FileData, FunctionCall, ImageUrl, Message,
    MessageContent, Role, StreamOptions, ToolCall,
};
use super::raw::{RawJoin, RawStr};
use super::responses::{Content, CustomFormat, Input, Part, RawItem, ResponsesRequest, Tool};
use super::tools::{ToolKind, ToolMap};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

/// Why a request cannot be translated. Shown to the client as a 400 `invalid_request_error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RequestError {
    pub message: String,
    pub param: Option<&'static str>,
}

/// Text that cannot be written as JSON. Not expected (the text comes from valid JSON or is the
/// bridge's own), but reported rather than sending a broken request upstream.
impl From<serde_json::Error> for RequestError {
    fn from(e: serde_json::Error) -> Self {
        RequestError {
            message: format!("cannot encode the upstream request: {e}"),
            param: None,
        }
    }
}

impl RequestError {
    fn new(message: impl Into<String>, param: &'static str) -> Self {
        RequestError {
            message: message.into(),
            param: Some(param),
        }
    }
}

/// The translated request plus what the response side needs to map tool calls back.
#[derive(Debug)]
pub struct Translated {
    pub chat: ChatRequest,
    pub tools: ToolMap,
    /// Whether the client offered the hosted `web_search` tool (dropped here; executed later by
    /// the bridge when web search is on).
    pub web_search_offered: bool,
}

/// Text that stands in for a tool call whose output never reached the history (an interrupted
/// turn): strict providers reject an assistant `tool_calls` message without a reply to each call.
pub const MISSING_OUTPUT: &str = "(no output: the call was not completed)";

/// What the bridge adds to a plain translation.
#[derive(Debug, Default, Clone)]
pub struct TranslateOptions {
    /// The bridge executes web search: offer the model a `web_search` function when the client
    /// offered the hosted tool, and replay `web_search_call` history with its results.
    pub web_search: bool,
    /// Result text per query, for `web_search_call` items in the history.
    pub search_results: HashMap<String, String>,
}

/// The name of the bridge's search function as the model sees it.
pub const WEB_SEARCH_FUNCTION: &str = "web_search";

/// Stands in for the results of a search that can no longer be reproduced.
pub const SEARCH_RESULTS_GONE: &str =
    "(the results of this earlier search are no longer available)";

fn web_search_function() -> ChatTool {
    ChatTool {
        kind: "function",
        function: ChatFunction {
            name: WEB_SEARCH_FUNCTION.to_owned(),
            description: Some(
                "Search the web. Use it for current events, recent releases, documentation and                  anything you are not sure about; cite the URLs you use."
                    .to_owned(),
            ),
            parameters: json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "The search query."},
                    "count": {"type": "integer", "minimum": 1, "maximum": 10,
                              "description": "How many results (default 5)."}
                },
                "required": ["query"],
                "additionalProperties": false
            }),
            strict: None,
        },
    }
}

pub fn translate_request(req: ResponsesRequest) -> Result<Translated, RequestError> {
    translate_request_with(req, &TranslateOptions::default())
}

pub fn translate_request_with(
    req: ResponsesRequest,
    opts: &TranslateOptions,
) -> Result<Translated, RequestError> {
    if req.previous_response_id.is_some() {
        return Err(RequestError::new(
            "previous_response_id is not supported: aimux keeps no server-side state; send the \
             full conversation in `input` (store: false)",
            "previous_response_id",
        ));
    }
    if req.model.trim().is_empty() {
        return Err(RequestError::new("`model` must not be empty", "model"));
    }

    let (mut chat_tools, mut tools, web_search_offered) = translate_tools(&req.tools);
    if opts.web_search && web_search_offered {
        tools.insert(ToolKind::WebSearch, None, WEB_SEARCH_FUNCTION);
        chat_tools.push(web_search_function());
    }
    let messages = translate_input(req.instructions, req.input, &tools, opts)?;

    let tool_choice = if chat_tools.is_empty() {
        None
    } else {
        req.tool_choice
            .and_then(|c| translate_tool_choice(c, &tools))
    };
    let parallel_tool_calls = if chat_tools.is_empty() {
        None
    } else {
        req.parallel_tool_calls
    };
    let (response_format, _verbosity) = match req.text {
        Some(text) => (text.format.and_then(translate_format), text.verbosity),
        None => (None, None),
    };

    let chat = ChatRequest {
        model: req.model,
        messages,
        tools: chat_tools,
        tool_choice,
        parallel_tool_calls,
        // A streamed answer for a streamed request (with usage, which Codex needs for
        // compaction); one JSON answer otherwise, which is cheaper for both sides.
        stream: req.stream,
        stream_options: req.stream.then_some(StreamOptions {
            include_usage: true,
        }),
        reasoning_effort: req.reasoning.and_then(|r| r.effort),
        response_format,
        temperature: req.temperature,
        top_p: req.top_p,
        max_tokens: req.max_output_tokens,
        prompt_cache_key: req.prompt_cache_key,
        user: req.user,
        safety_identifier: req.safety_identifier,
        service_tier: req.service_tier,
    };
    Ok(Translated {
        chat,
        tools,
        web_search_offered,
    })
}

// ---- tools ----

const CUSTOM_TOOL_NOTE: &str = "This tool takes raw text, not JSON arguments: put the complete raw \
                                text in the `input` parameter, exactly as the tool expects it.";

fn translate_tools(tools: &[Tool]) -> (Vec<ChatTool>, ToolMap, bool) {
    let mut out = Vec::with_capacity(tools.len());
    let mut map = ToolMap::default();
    let mut web_search = false;
    for tool in tools {
        match tool {
            Tool::Function(f) => out.push(function_tool(&mut map, None, f)),
            Tool::Custom {
                name,
                description,
                format,
            } => {
                let flat = map.insert(ToolKind::Custom, None, name);
                out.push(ChatTool {
                    kind: "function",
                    function: ChatFunction {
                        name: flat,
                        description: Some(custom_description(
                            description.as_deref(),
                            format.as_ref(),
                        )),
                        parameters: json!({
                            "type": "object",
                            "properties": {"input": {
                                "type": "string",
                                "description": "The complete raw input for the tool."
                            }},
                            "required": ["input"],
                            "additionalProperties": false
                        }),
                        strict: None,
                    },
                });
            }
            Tool::Namespace { name: ns, tools } => {
                for inner in tools {
                    if let Tool::Function(f) = inner {
                        out.push(function_tool(&mut map, Some(ns), f));
                    }
                }
            }
            Tool::WebSearch => web_search = true,
            Tool::Hosted => {}
        }
    }
    (out, map, web_search)
}

fn function_tool(
    map: &mut ToolMap,
    namespace: Option<&str>,
    f: &super::responses::FunctionTool,
) -> ChatTool {
    let name = map.insert(ToolKind::Function, namespace, &f.name);
    ChatTool {
        kind: "function",
        function: ChatFunction {
            name,
            description: f.description.clone(),
            parameters: f
                .parameters
                .clone()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            // Codex sends `strict: false`; only a request for strict mode means anything upstream.
            strict: f.strict.filter(|s| *s),
        },
    }
}

fn custom_description(description: Option<&str>, format: Option<&CustomFormat>) -> String {
    let mut text = String::new();
    if let Some(d) = description {
        text.push_str(d);
        text.push_str("\n\n");
    }
    text.push_str(CUSTOM_TOOL_NOTE);
    if let Some(CustomFormat {
        kind: Some(kind),
        syntax,
        definition: Some(definition),
    }) = format
        && kind == "grammar"
    {
        let syntax = syntax.as_deref().unwrap_or("lark");
        text.push_str(&format!(
            "\nThe input must match this {syntax} grammar:\n```\n{definition}\n```"
        ));
    }
    text
}

fn translate_tool_choice(choice: Value, tools: &ToolMap) -> Option<Value> {
    match &choice {
        Value::String(_) => Some(choice),
        Value::Object(obj) => {
            let kind = obj.get("type").and_then(Value::as_str)?;
            let name = obj.get("name").and_then(Value::as_str);
            match (kind, name) {
                ("function" | "custom", Some(name)) => {
                    let ns = obj.get("namespace").and_then(Value::as_str);
                    let flat = tools.flat_for(ns, name);
                    Some(json!({"type": "function", "function": {"name": flat}}))
                }
                // Already in Chat form.
                ("function", None) if obj.contains_key("function") => Some(choice),
                // Hosted-tool choices and `allowed_tools` have no Chat equivalent: the default
                // (`auto`) is the closest honest behaviour.
                _ => None,
            }
        }
        _ => None,
    }
}

fn translate_format(format: Value) -> Option<Value> {
    let kind = format.get("type").and_then(Value::as_str)?;
    match kind {
        "json_schema" => {
            let mut schema = serde_json::Map::new();
            for key in ["name", "schema", "strict", "description"] {
                if let Some(v) = format.get(key) {
                    schema.insert(key.to_owned(), v.clone());
                }
            }
            if !schema.contains_key("name") {
                schema.insert("name".into(), json!("output"));
            }
            Some(json!({"type": "json_schema", "json_schema": schema}))
        }
        "json_object" => Some(json!({"type": "json_object"})),
        _ => None,
    }
}

// ---- input ----

/// An assistant turn being assembled from consecutive reasoning, message and call items.
#[derive(Default)]
struct Turn {
    text: Option<RawStr>,
    reasoning: Option<RawStr>,
    calls: Vec<ToolCall>,
}

impl Turn {
    fn is_empty(&self) -> bool {
        self.text.is_none() && self.reasoning.is_none() && self.calls.is_empty()
    }
}

/// Builds Chat messages. Tool outputs are looked up by `call_id` when their calls are flushed, so
/// each assistant `tool_calls` message is followed by exactly its tool messages, in call order,
/// whatever order the history had them in.
struct Builder<'a> {
    system: Vec<RawStr>,
    messages: Vec<Message>,
    turn: Turn,
    outputs: HashMap<&'a str, &'a RawItem>,
    used: HashSet<&'a str>,
    /// Outputs the bridge supplies itself (web search results), by call id.
    synthetic: HashMap<String, RawStr>,
}

/// `a`, the escaped separator, then `b`, as one string.
fn concat(a: &RawStr, separator: &'static str, b: &RawStr) -> Result<RawStr, RequestError> {
    let mut j = RawJoin::default();
    j.push(a);
    j.push_escaped(separator);
    j.push(b);
    Ok(j.finish()?)
}

fn translate_input(
    instructions: Option<RawStr>,
    input: Input,
    tools: &ToolMap,
    opts: &TranslateOptions,
) -> Result<Vec<Message>, RequestError> {
    let items = match input {
        Input::Text(text) => vec![RawItem {
            kind: Some("message".into()),
            role: Some("user".into()),
            content: Some(Content::Text(RawStr::from_text(&text)?)),
            ..RawItem::default()
        }],
        Input::Items(items) => items,
    };

    let mut b = Builder {
        system: Vec::new(),
        messages: Vec::with_capacity(items.len()),
        turn: Turn::default(),
        outputs: HashMap::new(),
        used: HashSet::new(),
        synthetic: HashMap::new(),
    };
    if let Some(text) = instructions.filter(|t| !t.is_empty()) {
        b.system.push(text);
    }
    for item in &items {
        if matches!(
            item.kind.as_deref(),
            Some("function_call_output" | "custom_tool_call_output")
        ) && let Some(id) = item.call_id.as_deref()
        {
            b.outputs.insert(id, item);
        }
    }

    for item in &items {
        let kind = item.kind.as_deref().unwrap_or("message");
        match kind {
            "message" => b.message(item)?,
            "reasoning" => {
                let text = reasoning_text(item)?;
                if !text.is_empty() {
                    // Reasoning opens a turn; consecutive reasoning items belong to one.
                    if b.turn.text.is_some() || !b.turn.calls.is_empty() {
                        b.flush()?;
                    }
                    b.turn.reasoning = Some(match &b.turn.reasoning {
                        Some(r) => concat(r, "\\n\\n", &text)?,
                        None => text,
                    });
                }
            }
            "function_call" | "custom_tool_call" => {
                let call_id = item.call_id.clone().ok_or_else(|| {
                    RequestError::new(format!("{kind} item without call_id"), "input")
                })?;
                // Codex duplicates items into the history when a stream is retried; strict
                // providers reject a repeated tool call id.
                if b.turn.calls.iter().any(|c| c.id == call_id) || b.used.contains(call_id.as_str())
                {
                    continue;
                }
                let name = item.name.as_deref().ok_or_else(|| {
                    RequestError::new(format!("{kind} item without name"), "input")
                })?;
                let flat = tools.flat_for(item.namespace.as_deref(), name);
                let arguments = if kind == "custom_tool_call" {
                    // `{"input": <the raw input>}`: the input's token is already a JSON string,
                    // so it goes into the arguments as it is, without being decoded.
                    let input = item.input.as_ref().map_or("\"\"", RawStr::token);
                    RawStr::from_text(&format!("{{\"input\":{input}}}"))?
                } else {
                    match &item.arguments {
                        Some(arguments) => arguments.clone(),
                        None => RawStr::from_text("{}")?,
                    }
                };
                b.turn.calls.push(ToolCall {
                    id: call_id,
                    kind: "function",
                    function: FunctionCall {
                        name: flat,
                        arguments,
                    },
                });
            }
            "function_call_output" | "custom_tool_call_output" => {
                b.flush()?;
                let used = item
                    .call_id
                    .as_deref()
                    .is_some_and(|id| b.used.contains(id));
                if !used {
                    // An output whose call is not in the history: keep the information, but as
                    // text, since a `tool` message without its call is rejected upstream.
                    let (text, images) = output_content(item.output.as_ref())?;
                    let id = item.call_id.as_deref().unwrap_or("unknown");
                    let prefix = RawStr::from_text(&format!("Output of tool call {id}:\n"))?;
                    b.messages
                        .push(user_message(concat(&prefix, "", &text)?, images));
                }
            }
            "web_search_call" if opts.web_search => {
                // A search the bridge ran (or OpenAI's hosted one): a call plus its results, so
                // the model still knows what it found.
                let Some(query) = item.search_query() else {
                    continue;
                };
                let id = item
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("ws_{}", b.synthetic.len()));
                if b.turn.calls.iter().any(|c| c.id == id) || b.synthetic.contains_key(&id) {
                    continue;
                }
                let results = opts
                    .search_results
                    .get(query)
                    .map_or(SEARCH_RESULTS_GONE, String::as_str);
                b.synthetic.insert(id.clone(), RawStr::from_text(results)?);
                b.turn.calls.push(ToolCall {
                    id,
                    kind: "function",
                    function: FunctionCall {
                        name: WEB_SEARCH_FUNCTION.to_owned(),
                        arguments: RawStr::from_text(&json!({ "query": query }).to_string())?,
                    },
                });
                b.flush()?;
            }
            "item_reference" => {
                return Err(RequestError::new(
                    "item_reference is not supported: aimux keeps no server-side state; send the \
                     items themselves",
                    "input",
                ));
            }
            // Hosted-tool records (web_search_call, tool_search_*, image_generation_call),
            // local_shell_call and OpenAI-encrypted compaction items carry nothing a Chat
            // upstream can use.
            _ => {}
        }
    }
    b.flush()?;

    let mut messages = Vec::with_capacity(b.messages.len() + 1);
    if !b.system.is_empty() {
        let mut system = RawJoin::default();
        for (i, text) in b.system.iter().enumerate() {
            if i > 0 {
                system.push_escaped("\\n\\n");
            }
            system.push(text);
        }
        messages.push(Message::text(Role::System, system.finish()?));
    }
    messages.append(&mut b.messages);
    Ok(messages)
}

impl<'a> Builder<'a> {
    fn message(&mut self, item: &'a RawItem) -> Result<(), RequestError> {
        let role = item.role.as_deref().unwrap_or("user");
        match role {
            "system" | "developer" => {
                let (text, _) = content_text(item.content.as_ref())?;
                if !text.is_empty() {
                    self.system.push(text);
                }
            }
            "user" => {
                self.flush()?;
                let (text, parts) = user_content(item.content.as_ref())?;
                self.messages.push(Message {
                    role: Role::User,
                    content: Some(match parts {
                        Some(parts) => MessageContent::Parts(parts),
                        None => MessageContent::Text(text),
                    }),
                    reasoning_content: None,
                    tool_calls: Vec::new(),
                    tool_call_id: None,
                });
            }
            "assistant" => {
                let (text, _) = content_text(item.content.as_ref())?;
                match &mut self.turn.text {
                    // Text after this turn's calls (their outputs not yet seen) still belongs to
                    // the turn: a separate assistant message would end up after the tool
                    // messages, or end the request on an assistant turn.
                    Some(existing) if !self.turn.calls.is_empty() => {
                        *existing = concat(existing, "\\n", &text)?;
                    }
                    None if !self.turn.calls.is_empty() => self.turn.text = Some(text),
                    Some(_) => {
                        self.flush()?;
                        self.turn.text = Some(text);
                    }
                    None => self.turn.text = Some(text),
                }
            }
            other => {
                return Err(RequestError::new(
                    format!("unsupported message role `{other}`"),
                    "input",
                ));
            }
        }
        Ok(())
    }

    /// Ends the current assistant turn: its message, then one tool message per call.
    fn flush(&mut self) -> Result<(), RequestError> {
        if self.turn.is_empty() {
            return Ok(());
        }
        let turn = std::mem::take(&mut self.turn);
        let calls = turn.calls;
        if turn.text.is_none() && calls.is_empty() {
            // Reasoning alone is no message: several providers reject an empty assistant turn.
            return Ok(());
        }
        // An empty string rather than null: some chat templates choke on a null content.
        let content = Some(MessageContent::Text(match turn.text {
            Some(text) => text,
            None => RawStr::from_text("")?,
        }));
        let ids: Vec<String> = calls.iter().map(|c| c.id.clone()).collect();
        // Thinking-mode providers (DeepSeek, Kimi) require the reasoning back on tool-call turns
        // and ignore it elsewhere, where it would only cost input tokens.
        let reasoning_content = if calls.is_empty() {
            None
        } else {
            turn.reasoning
        };
        self.messages.push(Message {
            role: Role::Assistant,
            content,
            reasoning_content,
            tool_calls: calls,
            tool_call_id: None,
        });
        let mut images = Vec::new();
        for id in ids {
            if let Some(text) = self.synthetic.get(&id) {
                self.messages.push(Message {
                    role: Role::Tool,
                    content: Some(MessageContent::Text(text.clone())),
                    reasoning_content: None,
                    tool_calls: Vec::new(),
                    tool_call_id: Some(id),
                });
                continue;
            }
            let output = self.outputs.get(id.as_str()).copied();
            let text = match output {
                Some(item) => {
                    if let Some(call_id) = item.call_id.as_deref() {
                        self.used.insert(call_id);
                    }
                    let (text, mut imgs) = output_content(item.output.as_ref())?;
                    images.append(&mut imgs);
                    text
                }
                None => RawStr::from_text(MISSING_OUTPUT)?,
            };
            self.messages.push(Message {
                role: Role::Tool,
                content: Some(MessageContent::Text(text)),
                reasoning_content: None,
                tool_calls: Vec::new(),
                tool_call_id: Some(id),
            });
        }
        if !images.is_empty() {
            self.messages.push(user_message(
                RawStr::from_text("Images returned by the tool calls above:")?,
                images,
            ));
        }
        Ok(())
    }
}

fn user_message(text: RawStr, images: Vec<ContentPart>) -> Message {
    let content = if images.is_empty() {
        MessageContent::Text(text)
    } else {
        let mut parts = vec![ContentPart::Text { text }];
        parts.extend(images);
        MessageContent::Parts(parts)
    };
    Message {
        role: Role::User,
        content: Some(content),
        reasoning_content: None,
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

fn part_text(part: &Part) -> Option<&RawStr> {
    match part.kind.as_str() {
        "refusal" => part.refusal.as_ref().or(part.text.as_ref()),
        _ => part.text.as_ref(),
    }
}

/// The text of a content value (parts joined by newlines); also reports whether it had non-text
/// parts.
fn content_text(content: Option<&Content>) -> Result<(RawStr, bool), RequestError> {
    match content {
        None => Ok((RawStr::from_text("")?, false)),
        Some(Content::Text(t)) => Ok((t.clone(), false)),
        Some(Content::Parts(parts)) => {
            let mut text = RawJoin::default();
            let mut other = false;
            for p in parts {
                match part_text(p) {
                    Some(t) => {
                        if !text.is_empty() {
                            text.push_escaped("\\n");
                        }
                        text.push(t);
                    }
                    None => other = true,
                }
            }
            Ok((text.finish()?, other))
        }
    }
}

fn image_part(part: &Part) -> Result<ContentPart, RequestError> {
    match &part.image_url {
        Some(url) => Ok(ContentPart::ImageUrl {
            image_url: ImageUrl {
                url: url.url().to_owned(),
                detail: part.detail.clone().or_else(|| match url {
                    super::responses::ImageUrl::Object { detail, .. } => detail.clone(),
                    super::responses::ImageUrl::Url(_) => None,
                }),
            },
        }),
        None => Err(RequestError::new(
            "input_image needs an image_url (a data: or https: URL); file_id references are not \
             supported because aimux keeps no file store",
            "input",
        )),
    }
}

/// User content: a plain string when text only, parts (text, images, files in order) otherwise.
fn user_content(
    content: Option<&Content>,
) -> Result<(RawStr, Option<Vec<ContentPart>>), RequestError> {
    let (text, has_other) = content_text(content)?;
    if !has_other {
        return Ok((text, None));
    }
    let Some(Content::Parts(parts)) = content else {
        return Ok((text, None));
    };
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        match p.kind.as_str() {
            "input_image" | "image_url" => out.push(image_part(p)?),
            "input_file" | "file" => out.push(ContentPart::File {
                file: FileData {
                    file_data: p.file_data.clone(),
                    file_id: p.file_id.clone(),
                    filename: p.filename.clone(),
                },
            }),
            _ => {
                if let Some(t) = part_text(p) {
                    out.push(ContentPart::Text { text: t.clone() });
                }
            }
        }
    }
    Ok((text, Some(out)))
}

/// A tool output's text, and its images (which go in a user message after the tool messages).
fn output_content(output: Option<&Content>) -> Result<(RawStr, Vec<ContentPart>), RequestError> {
    match output {
        None => Ok((RawStr::from_text("")?, Vec::new())),
        Some(Content::Text(t)) => Ok((t.clone(), Vec::new())),
        Some(Content::Parts(parts)) => {
            let mut text = RawJoin::default();
            let mut images = Vec::new();
            for p in parts {
                if let Some(t) = part_text(p) {
                    if !text.is_empty() {
                        text.push_escaped("\\n");
                    }
                    text.push(t);
                } else if let Ok(img) = image_part(p) {
                    images.push(img);
                }
            }
            let text = if text.is_empty() && !images.is_empty() {
                RawStr::from_text(&format!(
                    "[{} image(s), attached in the next message]",
                    images.len()
                ))?
            } else {
                text.finish()?
            };
            Ok((text, images))
        }
    }
}

/// The provider's raw reasoning as the bridge stored it in `content`; the summary otherwise.
fn reasoning_text(item: &RawItem) -> Result<RawStr, RequestError> {
    let (text, _) = content_text(item.content.as_ref())?;
    if !text.is_empty() {
        return Ok(text);
    }
    let mut summary = RawJoin::default();
    for (i, t) in item
        .summary
        .iter()
        .flatten()
        .filter_map(|p| p.text.as_ref())
        .enumerate()
    {
        if i > 0 {
            summary.push_escaped("\\n\\n");
        }
        summary.push(t);
    }
    Ok(summary.finish()?)
}
