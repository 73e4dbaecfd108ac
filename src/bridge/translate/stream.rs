//! Chat Completions chunks → Responses API events, one chunk at a time.
//!
//! Deltas (text, reasoning, tool arguments) are written the moment their chunk arrives. The
//! `output_item.done` events, which are what Codex records in its history and executes, are
//! written only once the upstream has finished successfully: Codex keeps items from a stream that
//! then fails and replays them on every retry, so a failed response must carry none.

use super::chat::{Chunk, Usage, parse_chunk};
use super::errors::UpstreamError;
use super::fast_chunk::plain_prefix;
use super::leak::recover_calls;
use super::tools::{ToolKind, ToolMap};
use serde::Serialize;
use serde_json::{Value, json};
use std::borrow::Cow;

#[derive(Debug)]
enum ItemKind {
    Reasoning,
    Message,
    Call {
        call_id: String,
        name: String,
    },
    /// A search the bridge ran for the model.
    WebSearch {
        query: String,
    },
}

/// A call to the bridge's `web_search` function, waiting to be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSearch {
    /// Which item it is (pass it back to [`StreamTranslator::record_search`]).
    pub index: usize,
    pub call_id: String,
    /// Empty when the arguments had no usable query.
    pub query: String,
    pub count: Option<u32>,
}

/// What the model said in the current round, to send back with the search results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundTurn {
    pub text: Option<String>,
    pub reasoning: Option<String>,
    pub calls: Vec<TurnCall>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnCall {
    pub id: String,
    /// The upstream function name.
    pub name: String,
    pub arguments: String,
    /// For a search the bridge ran: its query.
    pub search: Option<String>,
}

#[derive(Debug)]
struct Item {
    id: String,
    kind: ItemKind,
    /// Text, reasoning text, or call arguments.
    text: String,
    /// `output_item.added` was written (calls wait for their name).
    announced: bool,
    /// Replaced by a recovered tool call; never completed.
    dropped: bool,
    /// The upstream's `index` for a tool call.
    slot: Option<u32>,
}

/// How the response ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    /// `max_output_tokens` or `content_filter`.
    Incomplete(String),
    Failed(UpstreamError),
}

pub struct StreamTranslator {
    id: String,
    model: String,
    created_at: u64,
    tools: ToolMap,
    events: Events,
    items: Vec<Item>,
    reasoning: Option<usize>,
    message: Option<usize>,
    usage: Option<Usage>,
    finish_reason: Option<String>,
    estimated_input_tokens: u64,
    outcome: Option<Outcome>,
    think: Think,
    /// Items before this index belong to earlier rounds (web search).
    round_start: usize,
    /// Usage of earlier rounds: input, cached, output, reasoning, total.
    usage_sum: [u64; 5],
}

/// Models served without a reasoning parser (Qwen3, DeepSeek-R1 distills on vLLM, llama.cpp,
/// older Ollama) put their reasoning in the content as `<think>...</think>`. A leading think
/// block is routed to the reasoning item, so Codex shows it as reasoning, not as the answer.
#[derive(Debug)]
enum Think {
    /// Content so far is whitespace or a prefix of `<think>`.
    Undecided(String),
    /// Inside the block; holds a possible partial `</think>` at the end.
    Inside(String),
    Outside,
}

const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";

/// Length of the longest suffix of `text` that is a proper prefix of `tag`.
fn partial_tag_suffix(text: &str, tag: &str) -> usize {
    (1..tag.len().min(text.len() + 1))
        .rev()
        .find(|&n| text.as_bytes().ends_with(&tag.as_bytes()[..n]))
        .unwrap_or(0)
}

use crate::upstream::new_id;

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    sequence_number: u64,
    #[serde(flatten)]
    body: T,
}

fn write_event<T: Serialize>(out: &mut Vec<u8>, kind: &str, envelope: &T) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    // Serializing plain structs and `Value`s into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, envelope);
    out.extend_from_slice(b"\n\n");
}

/// Where events go: numbered in order, or nowhere when the client asked for one JSON response.
struct Events {
    emit: bool,
    seq: u64,
}

impl Events {
    fn write<T: Serialize>(&mut self, out: &mut Vec<u8>, kind: &str, body: T) {
        if !self.emit {
            return;
        }
        let envelope = Envelope {
            kind,
            sequence_number: self.seq,
            body,
        };
        self.seq += 1;
        write_event(out, kind, &envelope);
    }

    /// A delta event, most of a stream's events: written by hand, as only its `delta` can need
    /// escaping (`kind`, the part's index name and our item ids are plain ASCII). `part` names
    /// the `content_index`/`summary_index` field, which is 0 (one part per item).
    fn write_delta(
        &mut self,
        out: &mut Vec<u8>,
        kind: &str,
        item_id: &str,
        output_index: usize,
        part: Option<&str>,
        delta: &str,
    ) {
        if !self.emit {
            return;
        }
        self.head(out, kind);
        for piece in [",\"item_id\":\"", item_id, "\",\"output_index\":"] {
            out.extend_from_slice(piece.as_bytes());
        }
        out.extend_from_slice(itoa::Buffer::new().format(output_index).as_bytes());
        if let Some(part) = part {
            for piece in [",\"", part, "\":0"] {
                out.extend_from_slice(piece.as_bytes());
            }
        }
        out.extend_from_slice(b",\"delta\":");
        if plain_prefix(delta.as_bytes()) == delta.len() {
            out.push(b'"');
            out.extend_from_slice(delta.as_bytes());
            out.push(b'"');
        } else {
            let _ = serde_json::to_writer(&mut *out, delta);
        }
        out.extend_from_slice(b"}\n\n");
    }

    /// An event whose body is `{"response": <response>}`, the response already serialized.
    fn write_response(&mut self, out: &mut Vec<u8>, kind: &str, response: &[u8]) {
        if !self.emit {
            return;
        }
        self.head(out, kind);
        out.extend_from_slice(b",\"response\":");
        out.extend_from_slice(response);
        out.extend_from_slice(b"}\n\n");
    }

    /// `event: KIND` and the start of its data, `{"type":"KIND","sequence_number":N`; takes
    /// the next sequence number.
    fn head(&mut self, out: &mut Vec<u8>, kind: &str) {
        for piece in [
            "event: ",
            kind,
            "\ndata: {\"type\":\"",
            kind,
            "\",\"sequence_number\":",
        ] {
            out.extend_from_slice(piece.as_bytes());
        }
        out.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        self.seq += 1;
    }
}

/// The Responses object, written without building a `Value`: bare (`created`, `in_progress`)
/// or final (`completed`, `incomplete`, `failed`).
#[derive(Serialize)]
struct ResponseObject<'a> {
    id: &'a str,
    object: &'static str,
    created_at: u64,
    status: &'a str,
    model: &'a str,
    output: &'a [OutItem<'a>],
    parallel_tool_calls: bool,
    tool_choice: &'static str,
    tools: [(); 0],
    error: Option<ResponseError<'a>>,
    incomplete_details: Option<Incomplete<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<UsageObject>,
}

impl<'a> ResponseObject<'a> {
    /// Borrows only the fields it shows, so events can be written while it lives.
    fn bare(id: &'a str, model: &'a str, created_at: u64, status: &'a str) -> Self {
        ResponseObject {
            id,
            object: "response",
            created_at,
            status,
            model,
            output: &[],
            parallel_tool_calls: true,
            tool_choice: "auto",
            tools: [],
            error: None,
            incomplete_details: None,
            usage: None,
        }
    }
}

#[derive(Serialize)]
struct ResponseError<'a> {
    code: &'a str,
    message: String,
}

#[derive(Serialize)]
struct Incomplete<'a> {
    reason: &'a str,
}

#[derive(Serialize)]
struct UsageObject {
    input_tokens: u64,
    input_tokens_details: CachedTokens,
    output_tokens: u64,
    output_tokens_details: ReasoningTokens,
    total_tokens: u64,
}

#[derive(Serialize)]
struct CachedTokens {
    cached_tokens: u64,
}

#[derive(Serialize)]
struct ReasoningTokens {
    reasoning_tokens: u64,
}

#[derive(Serialize)]
struct WithResponse<T: Serialize> {
    response: T,
}

/// A Responses output item.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum OutItem<'a> {
    WebSearchCall {
        id: &'a str,
        status: &'static str,
        action: SearchAction<'a>,
    },
    Message {
        id: &'a str,
        status: &'static str,
        role: &'static str,
        content: Parts<Part<'a>>,
    },
    Reasoning {
        id: &'a str,
        summary: Parts<Part<'a>>,
        content: Option<Parts<Part<'a>>>,
        encrypted_content: Option<()>,
    },
    CustomToolCall {
        id: &'a str,
        status: &'static str,
        call_id: Cow<'a, str>,
        name: &'a str,
        input: String,
    },
    FunctionCall {
        id: &'a str,
        status: &'static str,
        call_id: Cow<'a, str>,
        name: &'a str,
        arguments: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<&'a str>,
    },
}

#[derive(Serialize)]
struct SearchAction<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    query: &'a str,
}

/// A message's or reasoning item's content part.
#[derive(Serialize)]
#[serde(tag = "type")]
enum Part<'a> {
    #[serde(rename = "output_text")]
    Output { text: &'a str, annotations: [(); 0] },
    #[serde(rename = "summary_text")]
    Summary { text: &'a str },
    #[serde(rename = "reasoning_text")]
    Reasoning { text: &'a str },
}

/// No part or one, as a JSON array.
struct Parts<T>(Option<T>);

impl<T: Serialize> Serialize for Parts<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

#[derive(Serialize)]
struct ItemEvent<'a> {
    output_index: usize,
    item: OutItem<'a>,
}

#[derive(Serialize)]
struct ContentPart<'a> {
    item_id: &'a str,
    output_index: usize,
    content_index: u32,
    part: Part<'a>,
}

#[derive(Serialize)]
struct SummaryPart<'a> {
    item_id: &'a str,
    output_index: usize,
    summary_index: u32,
    part: Part<'a>,
}

#[derive(Serialize)]
struct TextDone<'a> {
    item_id: &'a str,
    output_index: usize,
    content_index: u32,
    text: &'a str,
}

#[derive(Serialize)]
struct SummaryTextDone<'a> {
    item_id: &'a str,
    output_index: usize,
    summary_index: u32,
    text: &'a str,
}

#[derive(Serialize)]
struct ArgsDone<'a> {
    item_id: &'a str,
    output_index: usize,
    arguments: &'a str,
}

impl StreamTranslator {
    /// `estimated_input_tokens` is reported when the upstream sends no usage.
    pub fn new(
        model: String,
        tools: ToolMap,
        emit: bool,
        created_at: u64,
        estimated_input_tokens: u64,
    ) -> Self {
        StreamTranslator {
            id: new_id("resp_"),
            model,
            created_at,
            tools,
            events: Events { emit, seq: 0 },
            items: Vec::new(),
            reasoning: None,
            message: None,
            usage: None,
            finish_reason: None,
            estimated_input_tokens,
            outcome: None,
            think: Think::Undecided(String::new()),
            round_start: 0,
            usage_sum: [0; 5],
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// Writes an event whose body is `{"response": ...}` with the bare response object.
    fn response_event(&mut self, out: &mut Vec<u8>, kind: &str, status: &str) {
        let response = ResponseObject::bare(&self.id, &self.model, self.created_at, status);
        self.events.write(out, kind, WithResponse { response });
    }

    /// `response.created` and a first `response.in_progress`.
    pub fn start(&mut self, out: &mut Vec<u8>) {
        self.response_event(out, "response.created", "in_progress");
        self.heartbeat(out);
    }

    /// A `response.in_progress` event: keeps Codex's idle timer (which ignores SSE comments)
    /// from firing while the upstream is slow.
    pub fn heartbeat(&mut self, out: &mut Vec<u8>) {
        self.response_event(out, "response.in_progress", "in_progress");
    }

    fn open(&mut self, out: &mut Vec<u8>, kind: ItemKind, slot: Option<u32>) -> usize {
        let prefix = match kind {
            ItemKind::Reasoning => "rs_",
            ItemKind::Message => "msg_",
            ItemKind::Call { .. } => "fc_",
            ItemKind::WebSearch { .. } => "ws_",
        };
        let index = self.items.len();
        self.items.push(Item {
            id: new_id(prefix),
            kind,
            text: String::new(),
            announced: false,
            dropped: false,
            slot,
        });
        self.announce(out, index);
        index
    }

    /// Writes `output_item.added` (and the part-added event) once the item can be described.
    fn announce(&mut self, out: &mut Vec<u8>, index: usize) {
        let item = &self.items[index];
        if item.announced {
            return;
        }
        if let ItemKind::Call { name, .. } = &item.kind
            && (name.is_empty()
                || self.tools.resolve(name).map(|o| o.kind) == Some(ToolKind::WebSearch))
        {
            // Nameless calls wait for their name; the bridge's own search shows up as a
            // `web_search_call` once it has run.
            return;
        }
        self.events.write(
            out,
            "response.output_item.added",
            ItemEvent {
                output_index: index,
                item: out_item(item, &self.tools, "in_progress", false),
            },
        );
        let item_id = item.id.as_str();
        match item.kind {
            ItemKind::Message => self.events.write(
                out,
                "response.content_part.added",
                ContentPart {
                    item_id,
                    output_index: index,
                    content_index: 0,
                    part: Part::Output {
                        text: "",
                        annotations: [],
                    },
                },
            ),
            ItemKind::Reasoning => self.events.write(
                out,
                "response.reasoning_summary_part.added",
                SummaryPart {
                    item_id,
                    output_index: index,
                    summary_index: 0,
                    part: Part::Summary { text: "" },
                },
            ),
            ItemKind::Call { .. } | ItemKind::WebSearch { .. } => {}
        }
        self.items[index].announced = true;
    }

    /// Feeds one SSE `data` payload. `saw_done` is set by `[DONE]`; nothing after it counts.
    pub fn feed(&mut self, data: &[u8], saw_done: &mut bool, out: &mut Vec<u8>) {
        if *saw_done || self.outcome.is_some() || data.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if data == b"[DONE]" {
            *saw_done = true;
            return;
        }
        match parse_chunk(data) {
            Ok(chunk) => self.push(chunk, out),
            // JSON of another shape (a provider's own event): skipped. Not JSON at all (an HTML
            // error page, a cut-off object): part of the answer is lost, so the answer failed.
            Err(e) => match serde_json::from_slice::<serde::de::IgnoredAny>(data) {
                Ok(_) => tracing::warn!(
                    "skipping unreadable upstream chunk ({e}): {}",
                    String::from_utf8_lossy(&data[..data.len().min(200)])
                ),
                Err(e) => self.fail(UpstreamError::invalid_json("upstream", &e, data)),
            },
        }
    }

    /// A whole (non-SSE) upstream body: a Chat completion object.
    pub fn feed_whole(&mut self, body: &[u8], out: &mut Vec<u8>) {
        match parse_chunk(body) {
            Ok(chunk) => {
                self.push(chunk, out);
                self.end_of_stream(true);
            }
            Err(e) => self.fail(UpstreamError::invalid_json("upstream", &e, body)),
        }
    }

    /// Feeds one upstream chunk. An `error` object in the chunk ends the response as failed.
    pub fn push(&mut self, chunk: Chunk, out: &mut Vec<u8>) {
        if self.outcome.is_some() {
            return;
        }
        if let Some(error) = chunk.error {
            self.outcome = Some(Outcome::Failed(UpstreamError::from_stream_error(&error)));
            return;
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(*usage);
        }
        if let Some(model) = chunk.model
            && self.model.is_empty()
        {
            self.model = model.into_owned();
        }
        for choice in chunk.choices {
            // Only the first choice is a Responses output; `n > 1` has no equivalent.
            if choice.index != 0 {
                continue;
            }
            if let Some(usage) = choice.usage
                && self.usage.is_none()
            {
                self.usage = Some(*usage);
            }
            let delta = choice.message.map_or(choice.delta, |m| *m);
            let reasoning = delta
                .reasoning_content
                .filter(|t| !t.is_empty())
                .or(delta.reasoning.filter(|t| !t.is_empty()));
            if let Some(text) = reasoning {
                self.reasoning_delta(&text, out);
            }
            if let Some(text) = delta.content
                && !text.is_empty()
            {
                self.content_delta(text, out);
            }
            if let Some(text) = delta.refusal
                && !text.is_empty()
            {
                self.text_delta(&text, out);
            }
            if let Some(calls) = delta.tool_calls {
                for (position, call) in calls.into_iter().enumerate() {
                    self.call_delta(position as u32, call, out);
                }
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason.into_owned());
            }
        }
    }

    fn reasoning_delta(&mut self, text: &str, out: &mut Vec<u8>) {
        let index = match self.reasoning {
            Some(i) => i,
            None => {
                let i = self.open(out, ItemKind::Reasoning, None);
                self.reasoning = Some(i);
                i
            }
        };
        self.items[index].text.push_str(text);
        self.events.write_delta(
            out,
            "response.reasoning_summary_text.delta",
            &self.items[index].id,
            index,
            Some("summary_index"),
            text,
        );
    }

    /// Content, with a leading `<think>` block split off into reasoning.
    fn content_delta(&mut self, text: Cow<str>, out: &mut Vec<u8>) {
        match std::mem::replace(&mut self.think, Think::Outside) {
            Think::Outside => self.text_delta(&text, out),
            // A provider that streams reasoning separately means content is the answer.
            Think::Undecided(pending) if self.reasoning.is_some() && pending.is_empty() => {
                self.text_delta(&text, out)
            }
            Think::Undecided(mut pending) => {
                pending.push_str(&text);
                let trimmed = pending.trim_start();
                if let Some(rest) = trimmed.strip_prefix(THINK_OPEN) {
                    let rest = rest.to_owned();
                    self.think = Think::Inside(String::new());
                    if !rest.is_empty() {
                        self.content_delta(Cow::Owned(rest), out);
                    }
                } else if THINK_OPEN.starts_with(trimmed) {
                    self.think = Think::Undecided(pending);
                } else {
                    self.text_delta(&pending, out);
                }
            }
            Think::Inside(mut carry) => {
                carry.push_str(&text);
                if let Some((reasoning, answer)) = carry.split_once(THINK_CLOSE) {
                    if !reasoning.is_empty() {
                        self.reasoning_delta(reasoning, out);
                    }
                    let answer = answer.trim_start();
                    if !answer.is_empty() {
                        self.text_delta(answer, out);
                    }
                } else {
                    let keep = partial_tag_suffix(&carry, THINK_CLOSE);
                    let tail = carry.split_off(carry.len() - keep);
                    if !carry.is_empty() {
                        self.reasoning_delta(&carry, out);
                    }
                    self.think = Think::Inside(tail);
                }
            }
        }
    }

    /// Content held back while deciding about a think block, at the end of the stream.
    fn flush_think(&mut self, out: &mut Vec<u8>) {
        match std::mem::replace(&mut self.think, Think::Outside) {
            Think::Undecided(pending) if !pending.trim().is_empty() => {
                self.text_delta(&pending, out)
            }
            Think::Inside(carry) if !carry.is_empty() => self.reasoning_delta(&carry, out),
            _ => {}
        }
    }

    fn text_delta(&mut self, text: &str, out: &mut Vec<u8>) {
        let index = match self.message {
            Some(i) => i,
            None => {
                let i = self.open(out, ItemKind::Message, None);
                self.message = Some(i);
                i
            }
        };
        self.items[index].text.push_str(text);
        self.events.write_delta(
            out,
            "response.output_text.delta",
            &self.items[index].id,
            index,
            Some("content_index"),
            text,
        );
    }

    fn call_delta(
        &mut self,
        position: u32,
        call: super::chat::ToolCallDelta<'_>,
        out: &mut Vec<u8>,
    ) {
        let slot = call.index.unwrap_or(position);
        let existing = self.items.iter().rposition(|item| {
            item.slot == Some(slot) && matches!(item.kind, ItemKind::Call { .. })
        });
        // A new id at a used index starts a new call (some servers send every call at index 0).
        let index = match (existing, call.id.as_deref()) {
            (Some(i), Some(new_id)) => match &self.items[i].kind {
                ItemKind::Call { call_id, .. } if !call_id.is_empty() && call_id != new_id => None,
                _ => Some(i),
            },
            (found, _) => found,
        };
        let index = match index {
            Some(i) => i,
            None => self.open(
                out,
                ItemKind::Call {
                    call_id: String::new(),
                    name: String::new(),
                },
                Some(slot),
            ),
        };
        let (name_part, args_part) = match call.function {
            Some(f) => (f.name, f.arguments),
            None => (None, None),
        };
        if let ItemKind::Call { call_id, name } = &mut self.items[index].kind {
            if let Some(id) = call.id
                && call_id.is_empty()
            {
                *call_id = id.into_owned();
            }
            if let Some(part) = name_part
                && !part.is_empty()
                && *name != part
            {
                name.push_str(&part);
            }
        }
        let was_announced = self.items[index].announced;
        if let Some(args) = &args_part {
            self.items[index].text.push_str(args);
        }
        self.announce(out, index);
        // Argument deltas are cosmetic (Codex shows them while a call streams); freeform tools
        // get none since their upstream arguments are JSON, not the raw input Codex displays.
        let delta = if was_announced {
            args_part.unwrap_or_default()
        } else {
            Cow::Owned(self.items[index].text.clone())
        };
        if self.events.emit
            && self.items[index].announced
            && !delta.is_empty()
            && !self.is_custom(index)
        {
            self.events.write_delta(
                out,
                "response.function_call_arguments.delta",
                &self.items[index].id,
                index,
                None,
                &delta,
            );
        }
    }

    fn is_custom(&self, index: usize) -> bool {
        match &self.items[index].kind {
            ItemKind::Call { name, .. } => self
                .tools
                .resolve(name)
                .is_some_and(|o| o.kind == ToolKind::Custom),
            _ => false,
        }
    }

    /// Marks the upstream stream as ended (`[DONE]` or end of body).
    pub fn end_of_stream(&mut self, saw_done: bool) {
        if self.outcome.is_some() {
            return;
        }
        let outcome = match self.finish_reason.as_deref() {
            Some(
                "stop" | "tool_calls" | "function_call" | "eos" | "end_turn" | "stop_sequence",
            ) => Outcome::Completed,
            Some("length" | "max_tokens") => Outcome::Incomplete("max_output_tokens".into()),
            Some("content_filter") => Outcome::Incomplete("content_filter".into()),
            // DeepSeek's `insufficient_system_resource`, `error`, `abort`: the answer was cut off.
            Some(other) => Outcome::Failed(UpstreamError::stopped(other)),
            None if saw_done => Outcome::Completed,
            None => Outcome::Failed(UpstreamError::truncated()),
        };
        self.outcome = Some(outcome);
    }

    /// Ends the response as failed (transport error, timeout).
    pub fn fail(&mut self, error: UpstreamError) {
        if !matches!(self.outcome, Some(Outcome::Failed(_))) {
            self.outcome = Some(Outcome::Failed(error));
        }
    }

    /// The upstream said why it stopped: what follows is only usage, `[DONE]` and the close.
    pub fn finished(&self) -> bool {
        self.finish_reason.is_some()
    }

    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// Writes the closing events: every item's `done` events and `response.completed`,
    /// `response.incomplete` or `response.failed`. Returns the final response object (JSON).
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Vec<u8> {
        let outcome = self
            .outcome
            .clone()
            .unwrap_or(Outcome::Failed(UpstreamError::truncated()));
        if let Outcome::Failed(error) = &outcome {
            let response = ResponseObject {
                error: Some(ResponseError {
                    code: error.stream_code(),
                    message: error.stream_message(),
                }),
                ..ResponseObject::bare(&self.id, &self.model, self.created_at, "failed")
            };
            let body = to_json(&response);
            self.events.write_response(out, "response.failed", &body);
            return body;
        }
        self.flush_think(out);
        self.recover_leaked_call(out);
        let mut kept = Vec::with_capacity(self.items.len());
        for index in 0..self.items.len() {
            if self.items[index].dropped {
                continue;
            }
            if let ItemKind::Call { name, .. } = &self.items[index].kind {
                if name.is_empty() {
                    tracing::warn!("upstream sent a tool call without a name; dropped it");
                    continue;
                }
                // A call cut off by the output limit has truncated arguments: never run it.
                if matches!(outcome, Outcome::Incomplete(_)) {
                    continue;
                }
                // A search the bridge did not run (out of rounds) is not the client's to run.
                if self.tools.resolve(name).map(|o| o.kind) == Some(ToolKind::WebSearch) {
                    continue;
                }
            }
            self.close_item(out, index);
            kept.push(index);
        }
        let (status, incomplete_details) = match &outcome {
            Outcome::Incomplete(reason) => ("incomplete", Some(Incomplete { reason })),
            _ => ("completed", None),
        };
        let output: Vec<OutItem> = kept
            .iter()
            .map(|&i| out_item(&self.items[i], &self.tools, "completed", true))
            .collect();
        let response = ResponseObject {
            output: &output,
            incomplete_details,
            usage: Some(self.usage_object()),
            ..ResponseObject::bare(&self.id, &self.model, self.created_at, status)
        };
        let body = to_json(&response);
        let kind = if status == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        self.events.write_response(out, kind, &body);
        body
    }

    /// Writes an item's closing events (its text, then `output_item.done`).
    fn close_item(&mut self, out: &mut Vec<u8>, index: usize) {
        self.announce(out, index);
        let custom = self.is_custom(index);
        let item = &self.items[index];
        let (item_id, text) = (item.id.as_str(), item.text.as_str());
        match item.kind {
            ItemKind::Message => {
                self.events.write(
                    out,
                    "response.output_text.done",
                    TextDone {
                        item_id,
                        output_index: index,
                        content_index: 0,
                        text,
                    },
                );
                self.events.write(
                    out,
                    "response.content_part.done",
                    ContentPart {
                        item_id,
                        output_index: index,
                        content_index: 0,
                        part: Part::Output {
                            text,
                            annotations: [],
                        },
                    },
                );
            }
            ItemKind::Reasoning => {
                self.events.write(
                    out,
                    "response.reasoning_summary_text.done",
                    SummaryTextDone {
                        item_id,
                        output_index: index,
                        summary_index: 0,
                        text,
                    },
                );
                self.events.write(
                    out,
                    "response.reasoning_summary_part.done",
                    SummaryPart {
                        item_id,
                        output_index: index,
                        summary_index: 0,
                        part: Part::Summary { text },
                    },
                );
            }
            ItemKind::WebSearch { .. } => {}
            ItemKind::Call { .. } => {
                if !custom {
                    self.events.write(
                        out,
                        "response.function_call_arguments.done",
                        ArgsDone {
                            item_id,
                            output_index: index,
                            arguments: arguments(text),
                        },
                    );
                }
            }
        }
        self.events.write(
            out,
            "response.output_item.done",
            ItemEvent {
                output_index: index,
                item: out_item(item, &self.tools, "completed", true),
            },
        );
    }

    /// A model that printed a tool call as text instead of calling it: when the whole message is
    /// a call to an offered tool, turn it into that call.
    fn recover_leaked_call(&mut self, out: &mut Vec<u8>) {
        let Some(message) = self.message else { return };
        if self.tools.is_empty()
            || self
                .items
                .iter()
                .any(|i| matches!(i.kind, ItemKind::Call { .. }))
        {
            return;
        }
        let Some(calls) = recover_calls(&self.items[message].text, &self.tools) else {
            return;
        };
        self.items[message].dropped = true;
        for (name, args) in calls {
            let index = self.open(
                out,
                ItemKind::Call {
                    call_id: String::new(),
                    name: name.clone(),
                },
                None,
            );
            self.items[index].text = args;
        }
    }

    /// The calls to the bridge's `web_search` function in the current round.
    pub fn pending_searches(&self) -> Vec<PendingSearch> {
        let mut out = Vec::new();
        for (index, item) in self.items.iter().enumerate().skip(self.round_start) {
            let ItemKind::Call { call_id, name } = &item.kind else {
                continue;
            };
            if item.dropped || self.tools.resolve(name).map(|o| o.kind) != Some(ToolKind::WebSearch)
            {
                continue;
            }
            let args: Value = serde_json::from_str(&item.text).unwrap_or(Value::Null);
            out.push(PendingSearch {
                index,
                call_id: call_id.clone(),
                query: args["query"].as_str().unwrap_or("").trim().to_owned(),
                count: args["count"].as_u64().map(|c| c as u32),
            });
        }
        out
    }

    /// Whether the current round also called tools the client runs.
    pub fn has_client_calls(&self) -> bool {
        self.items
            .iter()
            .skip(self.round_start)
            .any(|item| match &item.kind {
                ItemKind::Call { name, .. } => {
                    !item.dropped
                        && !name.is_empty()
                        && self.tools.resolve(name).map(|o| o.kind) != Some(ToolKind::WebSearch)
                }
                _ => false,
            })
    }

    /// A search was run: the call item becomes the `web_search_call` item Codex shows.
    pub fn record_search(&mut self, out: &mut Vec<u8>, index: usize, query: &str) {
        let item = &mut self.items[index];
        item.kind = ItemKind::WebSearch {
            query: query.to_owned(),
        };
        item.id = format!("ws_{}", &item.id[3..]);
        self.announce(out, index);
    }

    /// The current round's text, reasoning and calls, for the follow-up request.
    pub fn round_turn(&self) -> RoundTurn {
        let mut turn = RoundTurn::default();
        for item in self.items.iter().skip(self.round_start) {
            match &item.kind {
                ItemKind::Message if !item.dropped => turn.text = Some(item.text.clone()),
                ItemKind::Reasoning => turn.reasoning = Some(item.text.clone()),
                ItemKind::Call { call_id, name } if !name.is_empty() && !item.dropped => {
                    turn.calls.push(TurnCall {
                        id: call_id.clone(),
                        name: name.clone(),
                        arguments: arguments(&item.text).to_owned(),
                        search: None,
                    })
                }
                ItemKind::WebSearch { query } => turn.calls.push(TurnCall {
                    id: item.id.clone(),
                    name: crate::bridge::translate::WEB_SEARCH_FUNCTION.to_owned(),
                    arguments: json!({ "query": query }).to_string(),
                    search: Some(query.clone()),
                }),
                _ => {}
            }
        }
        turn
    }

    /// Starts the next upstream round of the same response (after a web search): earlier items
    /// stay, usage adds up.
    pub fn next_round(&mut self) {
        let [i, c, o, r, t] = self.usage_numbers();
        self.usage_sum = [i, c, o, r, t];
        self.usage = None;
        self.finish_reason = None;
        self.outcome = None;
        self.reasoning = None;
        self.message = None;
        self.think = Think::Undecided(String::new());
        for item in &mut self.items {
            item.slot = None;
        }
        self.round_start = self.items.len();
    }

    /// Input, cached, output, reasoning and total tokens over all rounds so far.
    fn usage_numbers(&self) -> [u64; 5] {
        let [si, sc, so, sr, st] = self.usage_sum;
        let (input, cached, output, reasoning, total) = match &self.usage {
            Some(u) => {
                let t = u.tokens();
                (t.input, t.cached, t.output, t.reasoning, t.total)
            }
            // No usage from the upstream: an estimate (about 4 bytes a token) beats zero, which
            // would keep Codex from ever compacting the conversation.
            None => {
                let output_bytes: usize = self
                    .items
                    .iter()
                    .skip(self.round_start)
                    .map(|i| i.text.len())
                    .sum();
                let output = (output_bytes as u64).div_ceil(4);
                let input = self.estimated_input_tokens;
                (input, 0, output, 0, input + output)
            }
        };
        [
            si + input,
            sc + cached,
            so + output,
            sr + reasoning,
            st + total,
        ]
    }

    fn usage_object(&self) -> UsageObject {
        let [input, cached, output, reasoning, total] = self.usage_numbers();
        UsageObject {
            input_tokens: input,
            input_tokens_details: CachedTokens {
                cached_tokens: cached,
            },
            output_tokens: output,
            output_tokens_details: ReasoningTokens {
                reasoning_tokens: reasoning,
            },
            total_tokens: total,
        }
    }
}

fn arguments(text: &str) -> &str {
    if text.trim().is_empty() { "{}" } else { text }
}

/// Serializing these structs into a Vec cannot fail.
fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// The Responses item for `item`; `full` adds the accumulated text.
fn out_item<'a>(
    item: &'a Item,
    tools: &'a ToolMap,
    status: &'static str,
    full: bool,
) -> OutItem<'a> {
    let text = if full { item.text.as_str() } else { "" };
    let full_part = |part: Part<'a>| Parts(full.then_some(part));
    match &item.kind {
        ItemKind::WebSearch { query } => OutItem::WebSearchCall {
            id: &item.id,
            status,
            action: SearchAction {
                kind: "search",
                query,
            },
        },
        ItemKind::Message => OutItem::Message {
            id: &item.id,
            status,
            role: "assistant",
            content: full_part(Part::Output {
                text,
                annotations: [],
            }),
        },
        // The provider's reasoning is both the summary Codex shows and the content it replays
        // verbatim, which comes back upstream as `reasoning_content`.
        ItemKind::Reasoning => OutItem::Reasoning {
            id: &item.id,
            summary: full_part(Part::Summary { text }),
            content: full.then_some(Parts(Some(Part::Reasoning { text }))),
            encrypted_content: None,
        },
        ItemKind::Call { call_id, name } => {
            let call_id = if call_id.is_empty() {
                // Always present: Codex silently drops a call without one.
                Cow::Owned(format!("call_{}", &item.id[3..]))
            } else {
                Cow::Borrowed(call_id.as_str())
            };
            let arguments = if full { arguments(text) } else { "" };
            match tools.resolve(name) {
                Some(origin) if origin.kind == ToolKind::Custom => OutItem::CustomToolCall {
                    id: &item.id,
                    status,
                    call_id,
                    name: &origin.name,
                    input: if full {
                        custom_input(text)
                    } else {
                        String::new()
                    },
                },
                Some(origin) => OutItem::FunctionCall {
                    id: &item.id,
                    status,
                    call_id,
                    name: &origin.name,
                    arguments,
                    namespace: origin.namespace.as_deref(),
                },
                None => OutItem::FunctionCall {
                    id: &item.id,
                    status,
                    call_id,
                    name,
                    arguments,
                    namespace: None,
                },
            }
        }
    }
}

/// The raw input of a freeform tool from the wrapper function's JSON arguments. A model that
/// ignored the wrapper and sent the raw text gets it passed through as is.
pub fn custom_input(arguments: &str) -> String {
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(map)) => {
            if let Some(Value::String(s)) = map.get("input") {
                return s.clone();
            }
            let mut strings = map.values().filter_map(Value::as_str);
            match (strings.next(), strings.next()) {
                (Some(only), None) => only.to_owned(),
                _ => arguments.to_owned(),
            }
        }
        Ok(Value::String(s)) => s,
        _ => arguments.to_owned(),
    }
}
