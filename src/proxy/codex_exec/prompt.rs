//! Chat Completions `messages` → the prompt text `codex exec` reads on stdin, plus the images it
//! attaches with `--image`.
//!
//! Layout of the prompt (sections separated by a blank line):
//! * each leading `system`/`developer` message as a `<system>` block;
//! * every message between those and the final user message inside one
//!   `<conversation_history>` block (`<user>`, `<assistant>`, `<tool_call>`, `<tool_result>`,
//!   `<system>` blocks);
//! * the final user message's text, verbatim (or, when the conversation does not end with a user
//!   message, an instruction to continue it).
//!
//! So a lone user message is passed through unchanged. Images become `[Image #N]` in the text,
//! numbered like Codex numbers the `--image` files it attaches, in order of appearance.

use std::hash::{DefaultHasher, Hash, Hasher};

use base64::Engine;
use serde_json::Value;

/// What ends a prompt whose conversation does not end with a user message.
pub(crate) const CONTINUE: &str =
    "Continue the conversation above: write the next assistant message.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Role {
    System,
    User,
    Assistant,
    Tool,
}

/// A decoded `data:` image.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Image {
    pub mime: &'static str,
    pub bytes: Vec<u8>,
}

impl Image {
    /// File extension Codex recognises for this image type.
    pub fn extension(&self) -> &'static str {
        match self.mime {
            "image/png" => "png",
            "image/jpeg" => "jpg",
            "image/gif" => "gif",
            _ => "webp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Part {
    Text(String),
    Image(Image),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// One validated Chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    pub role: Role,
    pub name: Option<String>,
    pub parts: Vec<Part>,
    pub tool_calls: Vec<ToolCall>,
    pub tool_call_id: Option<String>,
}

impl Message {
    /// An assistant message holding `text` (the answer a run produced).
    pub fn assistant(text: &str) -> Message {
        Message {
            role: Role::Assistant,
            name: None,
            parts: vec![Part::Text(text.to_owned())],
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// A hash identifying the message for session bookkeeping: equal for the same role, name,
    /// tool data and content (text compared without surrounding whitespace; an empty text part
    /// counts as no part).
    pub fn fingerprint(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.role.hash(&mut h);
        self.name.hash(&mut h);
        for part in &self.parts {
            match part {
                Part::Text(t) if t.trim().is_empty() => {}
                Part::Text(t) => (0u8, t.trim()).hash(&mut h),
                Part::Image(i) => (1u8, i).hash(&mut h),
            }
        }
        self.tool_calls.hash(&mut h);
        self.tool_call_id.hash(&mut h);
        h.finish()
    }
}

/// Validates and decodes the Chat `messages` array. `Err` is a message for a 400 answer.
pub(crate) fn parse_messages(values: &[Value]) -> Result<Vec<Message>, String> {
    if values.is_empty() {
        return Err("`messages` must contain at least one message".into());
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| parse_message(i, v))
        .collect()
}

fn parse_message(i: usize, v: &Value) -> Result<Message, String> {
    let obj = v
        .as_object()
        .ok_or_else(|| format!("messages[{i}] must be an object"))?;
    let role = match obj.get("role").and_then(Value::as_str) {
        Some("system" | "developer") => Role::System,
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        Some("tool" | "function") => Role::Tool,
        Some(other) => {
            return Err(format!(
                "messages[{i}].role `{other}` is not supported (use system, developer, user, assistant or tool)"
            ));
        }
        None => return Err(format!("messages[{i}].role is missing")),
    };
    let parts = match obj.get("content") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![Part::Text(s.clone())],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(j, p)| parse_part(i, j, p))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect(),
        Some(_) => {
            return Err(format!(
                "messages[{i}].content must be a string or an array of content parts"
            ));
        }
    };
    let tool_calls = match obj.get("tool_calls") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(calls)) => calls
            .iter()
            .map(|c| ToolCall {
                id: str_at(c, &["id"]),
                name: str_at(c, &["function", "name"]),
                arguments: match &c["function"]["arguments"] {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                },
            })
            .collect(),
        Some(_) => return Err(format!("messages[{i}].tool_calls must be an array")),
    };
    // The legacy `function_call` field of an assistant message.
    let tool_calls = match obj.get("function_call") {
        Some(fc @ Value::Object(_)) if tool_calls.is_empty() => vec![ToolCall {
            id: String::new(),
            name: str_at(fc, &["name"]),
            arguments: str_at(fc, &["arguments"]),
        }],
        _ => tool_calls,
    };
    let text_field = |key: &str| {
        obj.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(Message {
        role,
        name: text_field("name"),
        parts,
        tool_calls,
        tool_call_id: text_field("tool_call_id"),
    })
}

fn str_at(v: &Value, path: &[&str]) -> String {
    let mut cur = v;
    for key in path {
        cur = &cur[*key];
    }
    cur.as_str().unwrap_or_default().to_owned()
}

fn parse_part(i: usize, j: usize, p: &Value) -> Result<Option<Part>, String> {
    if let Value::String(s) = p {
        return Ok(Some(Part::Text(s.clone())));
    }
    let kind = p["type"].as_str().unwrap_or_default();
    match kind {
        "text" | "input_text" | "output_text" => Ok(Some(Part::Text(
            p["text"].as_str().unwrap_or_default().to_owned(),
        ))),
        "refusal" => Ok(Some(Part::Text(
            p["refusal"].as_str().unwrap_or_default().to_owned(),
        ))),
        "image_url" | "input_image" => {
            let url = p["image_url"]["url"]
                .as_str()
                .or_else(|| p["image_url"].as_str())
                .ok_or_else(|| format!("messages[{i}].content[{j}] has no image_url.url"))?;
            decode_data_url(url)
                .map(|img| Some(Part::Image(img)))
                .map_err(|e| format!("messages[{i}].content[{j}]: {e}"))
        }
        other => Err(format!(
            "messages[{i}].content[{j}] has type `{other}`, which the codex backend does not support (text and image_url only)"
        )),
    }
}

/// `data:image/png;base64,....` → the image.
pub(crate) fn decode_data_url(url: &str) -> Result<Image, String> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Err(
            "the codex backend accepts images only as data: URLs (data:image/png;base64,...)"
                .into(),
        );
    };
    let (meta, data) = rest
        .split_once(',')
        .ok_or("malformed data: URL (no comma)")?;
    let mut fields = meta.split(';');
    let mime = fields
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if !fields.any(|f| f.trim().eq_ignore_ascii_case("base64")) {
        return Err("image data: URLs must be base64-encoded".into());
    }
    let mime = match mime.as_str() {
        "image/png" => "image/png",
        "image/jpeg" | "image/jpg" => "image/jpeg",
        "image/gif" => "image/gif",
        "image/webp" => "image/webp",
        other => {
            return Err(format!(
                "unsupported image type `{other}` (use png, jpeg, gif or webp)"
            ));
        }
    };
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine
        .decode(compact.as_bytes())
        .map_err(|e| format!("image data is not valid base64: {e}"))?;
    if bytes.is_empty() {
        return Err("image data is empty".into());
    }
    Ok(Image { mime, bytes })
}

/// The rendered prompt and the images to attach (in `[Image #N]` order).
#[derive(Debug)]
pub(crate) struct Prompt<'a> {
    pub text: String,
    pub images: Vec<&'a Image>,
}

/// Renders `messages` (see the module docs).
pub(crate) fn render(messages: &[Message]) -> Prompt<'_> {
    let mut images = Vec::new();
    let lead = messages
        .iter()
        .take_while(|m| m.role == Role::System)
        .count();
    let last_user = messages
        .last()
        .filter(|m| m.role == Role::User && messages.len() > lead)
        .map(|_| messages.len() - 1);
    let history = &messages[lead..last_user.unwrap_or(messages.len())];

    let mut sections = Vec::new();
    for m in &messages[..lead] {
        sections.push(block("system", None, &content_text(m, &mut images)));
    }
    if !history.is_empty() {
        let blocks: Vec<String> = history
            .iter()
            .map(|m| history_block(m, &mut images))
            .collect();
        sections.push(format!(
            "<conversation_history>\n{}\n</conversation_history>",
            blocks.join("\n\n")
        ));
    }
    match last_user {
        Some(i) => sections.push(content_text(&messages[i], &mut images)),
        None => sections.push(CONTINUE.to_owned()),
    }
    Prompt {
        text: sections.join("\n\n"),
        images,
    }
}

fn content_text<'a>(m: &'a Message, images: &mut Vec<&'a Image>) -> String {
    let mut pieces = Vec::new();
    for part in &m.parts {
        match part {
            Part::Text(t) => pieces.push(t.clone()),
            Part::Image(img) => {
                images.push(img);
                pieces.push(format!("[Image #{}]", images.len()));
            }
        }
    }
    pieces.join("\n")
}

fn block(tag: &str, attrs: Option<String>, body: &str) -> String {
    let attrs = attrs.map(|a| format!(" {a}")).unwrap_or_default();
    format!("<{tag}{attrs}>\n{}\n</{tag}>", body.trim_end())
}

fn attr(name: &str, value: &str) -> String {
    format!("{name}={}", serde_json::Value::from(value))
}

fn history_block<'a>(m: &'a Message, images: &mut Vec<&'a Image>) -> String {
    let text = content_text(m, images);
    let name = m.name.as_deref().map(|n| attr("name", n));
    match m.role {
        Role::System => block("system", None, &text),
        Role::User => block("user", name, &text),
        Role::Tool => {
            let id = m
                .tool_call_id
                .as_deref()
                .map(|id| attr("id", id))
                .or_else(|| m.name.as_deref().map(|n| attr("name", n)));
            block("tool_result", id, &text)
        }
        Role::Assistant => {
            let mut out = Vec::new();
            if !text.trim().is_empty() || m.tool_calls.is_empty() {
                out.push(block("assistant", None, &text));
            }
            for c in &m.tool_calls {
                let mut attrs = Vec::new();
                if !c.id.is_empty() {
                    attrs.push(attr("id", &c.id));
                }
                attrs.push(attr("name", &c.name));
                out.push(block("tool_call", Some(attrs.join(" ")), &c.arguments));
            }
            out.join("\n\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

    fn prompt_of(messages: Value) -> (String, usize) {
        let msgs = parse_messages(messages.as_array().expect("array")).expect("valid");
        let p = render(&msgs);
        (p.text, p.images.len())
    }

    #[test]
    fn renders_prompts() {
        let png = format!("data:image/png;base64,{PNG_1X1}");
        // (messages, expected prompt, expected image count)
        let cases: Vec<(Value, String, usize)> = vec![
            (
                json!([{"role": "user", "content": "Hello there"}]),
                "Hello there".into(),
                0,
            ),
            (
                json!([
                    {"role": "system", "content": "Be brief."},
                    {"role": "developer", "content": [{"type": "text", "text": "Use French."}]},
                    {"role": "user", "content": "Hi"}
                ]),
                "<system>\nBe brief.\n</system>\n\n<system>\nUse French.\n</system>\n\nHi".into(),
                0,
            ),
            (
                json!([
                    {"role": "system", "content": "S"},
                    {"role": "user", "content": "Q1", "name": "ann"},
                    {"role": "assistant", "content": "A1"},
                    {"role": "user", "content": [{"type": "text", "text": "Q2"}, {"type": "text", "text": "more"}]}
                ]),
                "<system>\nS\n</system>\n\n<conversation_history>\n<user name=\"ann\">\nQ1\n</user>\n\n<assistant>\nA1\n</assistant>\n</conversation_history>\n\nQ2\nmore".into(),
                0,
            ),
            (
                json!([
                    {"role": "user", "content": "Weather?"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "c1", "content": "sunny"}
                ]),
                format!(
                    "<conversation_history>\n<user>\nWeather?\n</user>\n\n<tool_call id=\"c1\" name=\"get_weather\">\n{{\"city\":\"Paris\"}}\n</tool_call>\n\n<tool_result id=\"c1\">\nsunny\n</tool_result>\n</conversation_history>\n\n{CONTINUE}"
                ),
                0,
            ),
            (
                json!([
                    {"role": "user", "content": [
                        {"type": "text", "text": "What is in"},
                        {"type": "image_url", "image_url": {"url": png, "detail": "low"}},
                        {"type": "image_url", "image_url": png}
                    ]}
                ]),
                "What is in\n[Image #1]\n[Image #2]".into(),
                2,
            ),
            (
                json!([
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": png}}]},
                    {"role": "assistant", "content": "a cat"},
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": png}}, "and this?"]}
                ]),
                "<conversation_history>\n<user>\n[Image #1]\n</user>\n\n<assistant>\na cat\n</assistant>\n</conversation_history>\n\n[Image #2]\nand this?".into(),
                2,
            ),
            (
                json!([{"role": "system", "content": "Only instructions"}]),
                format!("<system>\nOnly instructions\n</system>\n\n{CONTINUE}"),
                0,
            ),
        ];
        for (messages, want, want_images) in cases {
            let (text, n) = prompt_of(messages.clone());
            assert_eq!(text, want, "messages: {messages}");
            assert_eq!(n, want_images, "messages: {messages}");
        }
    }

    #[test]
    fn rejects_bad_messages() {
        // (messages, substring of the error)
        let cases: Vec<(Value, &str)> = vec![
            (json!([]), "at least one message"),
            (json!(["hi"]), "messages[0] must be an object"),
            (json!([{"content": "x"}]), "role is missing"),
            (
                json!([{"role": "robot", "content": "x"}]),
                "`robot` is not supported",
            ),
            (
                json!([{"role": "user", "content": 5}]),
                "must be a string or an array",
            ),
            (
                json!([{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]),
                "`input_audio`",
            ),
            (
                json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]),
                "only as data: URLs",
            ),
            (
                json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png,abc"}}]}]),
                "base64-encoded",
            ),
            (
                json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/tiff;base64,AAAA"}}]}]),
                "unsupported image type",
            ),
            (
                json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,!!!"}}]}]),
                "not valid base64",
            ),
            (
                json!([{"role": "user", "content": [{"type": "image_url"}]}]),
                "no image_url.url",
            ),
        ];
        for (messages, want) in cases {
            let err = parse_messages(messages.as_array().expect("array"))
                .expect_err(&format!("should reject {messages}"));
            assert!(err.contains(want), "{messages}: {err}");
        }
    }

    #[test]
    fn decodes_data_urls() {
        let img = decode_data_url(&format!("data:image/PNG;base64,{PNG_1X1}")).expect("png");
        assert_eq!((img.mime, img.extension()), ("image/png", "png"));
        assert!(img.bytes.starts_with(b"\x89PNG"));
        // Whitespace and missing padding are tolerated; jpg is an alias.
        let img = decode_data_url("data:image/jpg;charset=x;base64,/9j/\n4A").expect("jpeg");
        assert_eq!(img.extension(), "jpg");
    }

    #[test]
    fn fingerprints_ignore_surrounding_whitespace_and_content_shape() {
        let parsed = parse_messages(&[
            json!({"role": "assistant", "content": "The answer.\n"}),
            json!({"role": "assistant", "content": [{"type": "text", "text": "The answer."}]}),
            json!({"role": "assistant", "content": "Another answer."}),
            json!({"role": "user", "content": "The answer."}),
        ])
        .expect("valid");
        let ours = Message::assistant("The answer.").fingerprint();
        assert_eq!(parsed[0].fingerprint(), ours);
        assert_eq!(parsed[1].fingerprint(), ours);
        assert_ne!(parsed[2].fingerprint(), ours);
        assert_ne!(parsed[3].fingerprint(), ours);
    }
}
