//! The proxy's check on a streamed (SSE) answer it passes through: only whole events are
//! forwarded, each one's `data` must be JSON (or `[DONE]`), and the usage is picked up on the way.
//!
//! Holding back the partial event at the end of each read costs nothing a client could see (an
//! SSE client acts only at the blank line that ends an event) and means that when the upstream
//! breaks (garbage, a reset, a stall, a cut-off event) the client's stream is at an event
//! boundary, so the proxy can end it with one readable error event instead of a torn body.

use std::borrow::Cow;
use std::sync::LazyLock;

use axum::body::Bytes;
use memchr::memmem::Finder;
use serde_json::json;

use crate::bridge::translate::UpstreamError;
use crate::bridge::translate::chat::{Usage, lenient_str, null_default, read_common_chunk};
use crate::sse::SseDecoder;

#[derive(Debug)]
pub struct SseGate {
    decoder: SseDecoder,
    /// Bytes received but not forwarded yet: the start of an unfinished event.
    held: Vec<u8>,
    /// Stream offset of `held[0]`.
    held_start: u64,
    /// Stream offset past every byte pushed.
    received: u64,
    /// Chat Completions (`[DONE]`/`finish_reason` end it) rather than the Responses API.
    chat: bool,
    saw_done: bool,
    saw_finish: bool,
    pub usage: Option<Usage>,
}

/// Why the gate stopped a stream; the message goes after "upstream <route> ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub code: &'static str,
    pub detail: String,
}

impl SseGate {
    pub fn new(chat: bool) -> Self {
        SseGate {
            decoder: SseDecoder::new(),
            held: Vec::new(),
            held_start: 0,
            received: 0,
            chat,
            saw_done: false,
            saw_finish: false,
            usage: None,
        }
    }

    /// Feeds upstream bytes. `Ok`: the bytes to forward now (whole, checked events; often the
    /// input itself). `Err`: the good events before the bad one, and why the stream must end.
    pub fn push(&mut self, bytes: Bytes) -> Result<Bytes, (Bytes, Broken)> {
        self.received += bytes.len() as u64;
        let mut release_to = None;
        let mut bad = None;
        let SseGate {
            decoder,
            chat,
            saw_done,
            saw_finish,
            usage,
            ..
        } = self;
        decoder.push_events(&bytes, |event| {
            if bad.is_some() {
                return;
            }
            if let Some(data) = event.data
                && let Err(broken) = check(data, *chat, saw_done, saw_finish, usage)
            {
                bad = Some(broken);
                return;
            }
            release_to = Some(event.end);
        });
        if self.held.is_empty() && bad.is_none() && release_to == Some(self.received) {
            self.held_start = self.received;
            return Ok(bytes);
        }
        self.held.extend_from_slice(&bytes);
        let out = self.release(release_to);
        match bad {
            None => Ok(out),
            Some(broken) => Err((out, broken)),
        }
    }

    /// The upstream ended the body: what is left to forward, or why the answer is incomplete.
    pub fn finish(&mut self) -> Result<Bytes, (Bytes, Broken)> {
        if self.decoder.in_event() {
            return Err((
                Bytes::new(),
                Broken {
                    code: "upstream_stream_error",
                    detail: "closed the stream in the middle of an event".to_owned(),
                },
            ));
        }
        let rest = Bytes::from(std::mem::take(&mut self.held));
        if self.chat && !self.saw_done && !self.saw_finish {
            return Err((
                rest,
                Broken {
                    code: "upstream_stream_error",
                    detail: "closed the stream before the answer finished (no finish_reason, no \
                             [DONE])"
                        .to_owned(),
                },
            ));
        }
        Ok(rest)
    }

    fn release(&mut self, to: Option<u64>) -> Bytes {
        let Some(to) = to else {
            return Bytes::new();
        };
        let cut = usize::try_from(to - self.held_start)
            .unwrap_or(usize::MAX)
            .min(self.held.len());
        let rest = self.held.split_off(cut);
        self.held_start = to;
        Bytes::from(std::mem::replace(&mut self.held, rest))
    }
}

// Built once: `memmem::find` would build its searcher for every event.
static FINISH_REASON: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new(b"\"finish_reason\""));
static USAGE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"usage\""));

fn check(
    data: &[u8],
    chat: bool,
    saw_done: &mut bool,
    saw_finish: &mut bool,
    usage: &mut Option<Usage>,
) -> Result<(), Broken> {
    if data == b"[DONE]" {
        *saw_done = true;
        return Ok(());
    }
    if data.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    // Until the finish, a Chat chunk that mentions `finish_reason` (most do, as null) is read
    // for it, which also proves it is JSON; anything else is only checked to be JSON.
    let finished = (chat && !*saw_finish && FINISH_REASON.find(data).is_some())
        .then(|| finished(data))
        .flatten();
    match finished {
        Some(finished) => *saw_finish = finished,
        None => {
            if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(data) {
                let excerpt = String::from_utf8_lossy(&data[..data.len().min(120)]).into_owned();
                let more = if data.len() > 120 { "…" } else { "" };
                return Err(Broken {
                    code: "invalid_upstream_response",
                    detail: format!("sent invalid JSON ({e}): {excerpt:?}{more}"),
                });
            }
        }
    }
    if USAGE.find(data).is_some()
        && let Some(u) = super::server::usage_of(data)
    {
        *usage = Some(u);
    }
    Ok(())
}

/// Whether a Chat chunk says a choice finished (a string `finish_reason`); `None` when it is
/// not a chunk (or not JSON). Common chunks are read directly; serde reads only that field of
/// the others, skipping the rest.
fn finished(data: &[u8]) -> Option<bool> {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow, default, deserialize_with = "null_default")]
        choices: Vec<ChoiceProbe<'a>>,
    }
    #[derive(Default, serde::Deserialize)]
    struct ChoiceProbe<'a> {
        #[serde(borrow, default, deserialize_with = "lenient_str")]
        finish_reason: Option<Cow<'a, str>>,
    }
    // As `parse_chunk` does: UTF-8 checked once, the byte parser for anything else.
    let probe: Probe = match std::str::from_utf8(data) {
        Ok(text) => match read_common_chunk(text) {
            Some(chunk) => return Some(chunk.choices.iter().any(|c| c.finish_reason.is_some())),
            None => serde_json::from_str(text).ok()?,
        },
        Err(_) => serde_json::from_slice(data).ok()?,
    };
    Some(probe.choices.iter().any(|c| c.finish_reason.is_some()))
}

/// The event that ends a broken stream: for Chat, `data: {"error": {...}}`, which the OpenAI SDKs
/// raise as an `APIError` with the message; for the Responses API, `response.failed`.
pub fn error_event(chat: bool, error: &UpstreamError) -> Bytes {
    let body = if chat {
        json!({"error": {
            "message": error.message,
            "type": error.kind,
            "code": error.code,
        }})
    } else {
        json!({
            "type": "response.failed",
            "response": {
                "id": "resp_aimux_failed",
                "object": "response",
                "status": "failed",
                "output": [],
                "error": {"code": error.stream_code(), "message": error.stream_message()},
            },
        })
    };
    let event = if chat { "" } else { "event: response.failed\n" };
    Bytes::from(format!("{event}data: {body}\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[&str], chat: bool) -> (String, Option<Broken>) {
        let mut gate = SseGate::new(chat);
        let mut out = String::new();
        for piece in input {
            match gate.push(Bytes::copy_from_slice(piece.as_bytes())) {
                Ok(b) => out.push_str(&String::from_utf8_lossy(&b)),
                Err((b, broken)) => {
                    out.push_str(&String::from_utf8_lossy(&b));
                    return (out, Some(broken));
                }
            }
        }
        match gate.finish() {
            Ok(b) => {
                out.push_str(&String::from_utf8_lossy(&b));
                (out, None)
            }
            Err((b, broken)) => {
                out.push_str(&String::from_utf8_lossy(&b));
                (out, Some(broken))
            }
        }
    }

    const A: &str = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n";
    const END: &str = "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";

    #[test]
    fn whole_events_pass_byte_for_byte() {
        let all = format!(": ping\n\n{A}{END}data: [DONE]\n\n");
        for piece in [1, 3, 10, 1000] {
            let pieces: Vec<String> = all
                .as_bytes()
                .chunks(piece)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
            assert_eq!(run(&refs, true), (all.clone(), None), "pieces of {piece}");
        }
    }

    #[test]
    fn faults_end_at_an_event_boundary() {
        let cases: &[(&[&str], &str, &str)] = &[
            // garbage after a good event: the good one passes, the garbage does not
            (
                &[A, "data: <html>Bad Gateway</html>\n\n", "data: [DONE]\n\n"],
                A,
                "invalid_upstream_response",
            ),
            // half an object, then the end of the body
            (
                &[A, "data: {\"choices\":[{\"delta\":{\"content\":\"cu"],
                A,
                "upstream_stream_error",
            ),
            // a complete but cut-off object
            (
                &[A, "data: {\"choices\":[\n\n"],
                A,
                "invalid_upstream_response",
            ),
            // no finish_reason and no [DONE]
            (&[A], A, "upstream_stream_error"),
        ];
        for (input, want_out, want_code) in cases {
            let (out, broken) = run(input, true);
            assert_eq!(out, *want_out, "{input:?}");
            assert_eq!(broken.map(|b| b.code), Some(*want_code), "{input:?}");
        }
        // The Responses API has no [DONE]: a clean end is just the end.
        assert_eq!(run(&[A], false), (A.to_owned(), None));
    }

    #[test]
    fn finish_probe() {
        let cases: &[(&str, Option<bool>)] = &[
            (
                r#"{"choices":[{"delta":{"content":"a"},"finish_reason":null}]}"#,
                Some(false),
            ),
            (
                r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
                Some(true),
            ),
            (
                r#"{"choices":[{"finish_reason":null},{"finish_reason":"length"}]}"#,
                Some(true),
            ),
            (r#"{"choices":[{"finish_reason":{"odd":1}}]}"#, Some(false)),
            (r#"{"choices":null,"finish_reason":"stop"}"#, Some(false)),
            (r#"{"id":"x"}"#, Some(false)),
            (r#"{"choices":{"finish_reason":"stop"}}"#, None),
            (r#"{"choices":[{"finish_reason":"stop"}"#, None),
            ("<html>", None),
        ];
        for (data, want) in cases {
            assert_eq!(finished(data.as_bytes()), *want, "{data}");
        }
        // Bytes that are not UTF-8 in a skipped field do not hide the finish.
        let mut odd = br#"{"id":"x"#.to_vec();
        odd.push(0xff);
        odd.extend_from_slice(br#"","choices":[{"finish_reason":"stop"}]}"#);
        assert_eq!(finished(&odd), Some(true));
    }

    #[test]
    fn usage_is_seen() {
        let usage =
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n";
        let mut gate = SseGate::new(true);
        assert!(gate.push(Bytes::from(format!("{A}{END}{usage}"))).is_ok());
        assert_eq!(gate.usage.map(|u| u.prompt_tokens), Some(5));
    }

    #[test]
    fn error_events_parse() {
        let e = UpstreamError::broken("http://x/v1/chat/completions", "connection reset");
        let chat = String::from_utf8_lossy(&error_event(true, &e)).into_owned();
        let data = chat.strip_prefix("data: ").unwrap().trim_end();
        let v: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(v["error"]["code"], "upstream_stream_error");
        assert!(chat.ends_with("\n\n"));
        let responses = String::from_utf8_lossy(&error_event(false, &e)).into_owned();
        assert!(responses.starts_with("event: response.failed\ndata: {"));
    }
}
