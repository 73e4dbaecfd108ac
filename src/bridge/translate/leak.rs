//! Recovery of tool calls that a weak model printed as text instead of calling.
//!
//! Recovered only when the WHOLE message is one or more calls to tools that were offered: a JSON
//! object in prose, a JSON answer the user asked for, or a call to an unknown name stays text.

use super::tools::ToolMap;
use serde_json::Value;

const DS_CALL_BEGIN: &str = "<｜tool▁call▁begin｜>";
const DS_CALL_END: &str = "<｜tool▁call▁end｜>";
const DS_SEP: &str = "<｜tool▁sep｜>";
const DS_CALLS_BEGIN: &str = "<｜tool▁calls▁begin｜>";
const DS_CALLS_END: &str = "<｜tool▁calls▁end｜>";

/// `(upstream function name, JSON arguments)` for each call, or `None` when the text is not
/// entirely tool calls to offered tools.
pub fn recover_calls(text: &str, tools: &ToolMap) -> Option<Vec<(String, String)>> {
    let text = text.trim();
    let calls = if text.starts_with(DS_CALLS_BEGIN) || text.starts_with(DS_CALL_BEGIN) {
        deepseek_markup(text)?
    } else if text.starts_with("<tool_call>") {
        tagged_json(text)?
    } else {
        json_calls(strip_fence(text))?
    };
    let all_offered =
        !calls.is_empty() && calls.iter().all(|(name, _)| tools.resolve(name).is_some());
    all_offered.then_some(calls)
}

/// The body of a text that is one fenced code block, else the text.
fn strip_fence(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else {
        return text;
    };
    let Some(body) = rest.strip_suffix("```") else {
        return text;
    };
    // Drop the info string (`json`) on the opening line.
    match body.split_once('\n') {
        Some((info, code)) if !info.contains('{') => code.trim(),
        _ => body.trim(),
    }
}

fn json_calls(text: &str) -> Option<Vec<(String, String)>> {
    if !(text.starts_with('{') || text.starts_with('[')) {
        return None;
    }
    match serde_json::from_str::<Value>(text).ok()? {
        Value::Array(values) => values.iter().map(json_call).collect(),
        value => Some(vec![json_call(&value)?]),
    }
}

/// `{"name", "arguments"|"parameters"}`, `{"function": {"name", "arguments"}}` or
/// `{"tool", "tool_input"|"args"}`; nothing else in the object.
fn json_call(value: &Value) -> Option<(String, String)> {
    let obj = value.as_object()?;
    if let Some(function) = obj.get("function").and_then(Value::as_object) {
        let extra = obj
            .keys()
            .any(|k| !matches!(k.as_str(), "function" | "type" | "id"));
        if extra {
            return None;
        }
        let name = function.get("name")?.as_str()?;
        return Some((name.to_owned(), args_text(function.get("arguments"))?));
    }
    let name_key = ["name", "tool", "tool_name"]
        .into_iter()
        .find(|k| obj.contains_key(*k))?;
    let args_key = ["arguments", "parameters", "args", "tool_input", "input"]
        .into_iter()
        .find(|k| obj.contains_key(*k));
    let extra = obj
        .keys()
        .any(|k| k != name_key && Some(k.as_str()) != args_key && k != "type" && k != "id");
    if extra {
        return None;
    }
    let name = obj.get(name_key)?.as_str()?;
    Some((
        name.to_owned(),
        args_text(args_key.and_then(|k| obj.get(k)))?,
    ))
}

fn args_text(args: Option<&Value>) -> Option<String> {
    match args {
        None | Some(Value::Null) => Some("{}".to_owned()),
        Some(Value::Object(_)) => Some(args?.to_string()),
        Some(Value::String(s)) => {
            // A JSON object encoded as a string, as the Chat API itself does.
            match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(_)) => Some(s.clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Hermes/Qwen style: `<tool_call>{...}</tool_call>`, possibly several.
fn tagged_json(text: &str) -> Option<Vec<(String, String)>> {
    let mut calls = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let body = rest.strip_prefix("<tool_call>")?;
        let (inner, after) = body.split_once("</tool_call>")?;
        calls.push(json_call(&serde_json::from_str(inner.trim()).ok()?)?);
        rest = after.trim_start();
    }
    Some(calls)
}

/// DeepSeek's raw markup: `<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{..}\n```<｜tool▁call▁end｜>`.
fn deepseek_markup(text: &str) -> Option<Vec<(String, String)>> {
    let mut body = text.strip_prefix(DS_CALLS_BEGIN).unwrap_or(text).trim();
    body = body.strip_suffix(DS_CALLS_END).unwrap_or(body).trim();
    let mut calls = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let inner = rest.strip_prefix(DS_CALL_BEGIN)?;
        let (call, after) = inner.split_once(DS_CALL_END)?;
        let (_, named) = call.split_once(DS_SEP)?;
        let (name, args) = named.split_once('\n').unwrap_or((named, "{}"));
        let args = strip_fence(args.trim());
        let args = args_text(Some(&serde_json::from_str::<Value>(args).ok()?))?;
        calls.push((name.trim().to_owned(), args));
        rest = after.trim_start();
    }
    Some(calls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::translate::tools::ToolKind;

    fn tools() -> ToolMap {
        let mut map = ToolMap::default();
        map.insert(ToolKind::Function, None, "exec_command");
        map.insert(ToolKind::Function, None, "get_weather");
        map
    }

    #[test]
    fn recovers_whole_content_calls() {
        let cases: &[(&str, &str, &str)] = &[
            (
                r#"{"name":"exec_command","arguments":{"cmd":"ls"}}"#,
                "exec_command",
                r#"{"cmd":"ls"}"#,
            ),
            (
                "```json\n{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}\n```",
                "get_weather",
                r#"{"city":"Paris"}"#,
            ),
            (
                r#"{"type":"function","function":{"name":"exec_command","arguments":"{\"cmd\":\"pwd\"}"}}"#,
                "exec_command",
                r#"{"cmd":"pwd"}"#,
            ),
            (
                "<tool_call>\n{\"name\": \"exec_command\", \"arguments\": {\"cmd\": \"date\"}}\n</tool_call>",
                "exec_command",
                r#"{"cmd":"date"}"#,
            ),
            (
                "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>exec_command\n```json\n{\"cmd\":\"id\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
                "exec_command",
                r#"{"cmd":"id"}"#,
            ),
        ];
        for (text, name, args) in cases {
            let got = recover_calls(text, &tools());
            assert_eq!(
                got,
                Some(vec![((*name).to_owned(), (*args).to_owned())]),
                "{text}"
            );
        }
    }

    #[test]
    fn leaves_prose_and_unknown_tools_alone() {
        let cases = [
            "Here is the config: {\"name\": \"exec_command\", \"arguments\": {}}",
            r#"{"name":"rm_everything","arguments":{}}"#,
            r#"{"name":"exec_command","arguments":{"cmd":"ls"},"note":"extra key means data"}"#,
            r#"{"city":"Paris","temp":21}"#,
            "[1, 2, 3]",
            "```json\n{\"name\": \"Alice\", \"age\": 30}\n```",
            "",
        ];
        for text in cases {
            assert_eq!(recover_calls(text, &tools()), None, "{text}");
        }
    }
}
