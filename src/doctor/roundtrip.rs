//! One real request through the whole link: a streamed `POST /v1/responses` to the bridge for
//! the profile's model, through the proxy to the provider, timed to the first token and to
//! `response.completed`.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

use super::Check;
use super::inputs::Inputs;
use super::link::bridge_root;
use crate::sse::SseDecoder;

const ROUNDTRIP_TIMEOUT: Duration = Duration::from_secs(60);

/// What one streamed `/v1/responses` request gave.
#[derive(Debug, Default)]
struct Streamed {
    text: String,
    first_token: Option<Duration>,
    completed: bool,
    failed: Option<String>,
}

fn on_event(s: &mut Streamed, started: Instant, data: &[u8]) {
    let Ok(ev) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match ev["type"].as_str().unwrap_or("") {
        "response.output_text.delta" => {
            if s.first_token.is_none() {
                s.first_token = Some(started.elapsed());
            }
            s.text.push_str(ev["delta"].as_str().unwrap_or(""));
        }
        "response.reasoning_summary_text.delta" | "response.reasoning_text.delta"
            if s.first_token.is_none() =>
        {
            s.first_token = Some(started.elapsed());
        }
        "response.completed" => s.completed = true,
        "response.failed" | "response.incomplete" => {
            s.failed = Some(
                ev["response"]["error"]["message"]
                    .as_str()
                    .or_else(|| ev["response"]["incomplete_details"]["reason"].as_str())
                    .unwrap_or("the response failed")
                    .to_owned(),
            );
        }
        "error" => {
            s.failed = Some(
                ev["message"]
                    .as_str()
                    .or_else(|| ev["error"]["message"].as_str())
                    .unwrap_or("error event")
                    .to_owned(),
            );
        }
        _ => {}
    }
}

/// One line of at most `max` characters.
fn short(text: &str, max: usize) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() <= max {
        one
    } else {
        one.chars().take(max - 1).collect::<String>() + "…"
    }
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// A real streamed request through bridge → proxy → the profile's model, with its latency.
pub async fn roundtrip(inp: &Inputs) -> Check {
    const ID: &str = "link.roundtrip";
    let Some(model) = inp.profile_model() else {
        return Check::fail(ID, "not run: the profile names no model to try")
            .hint("run `aimux setup` (or `aimux up`)");
    };
    let Some((root, _)) = bridge_root(inp) else {
        return Check::warn(ID, "not run: the bridge has no fixed address (port 0)");
    };
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap_or_default();
    let body = json!({
        "model": model,
        "input": [{"role": "user", "content": [{"type": "input_text",
            "text": "This is a connectivity check. Reply with the single word: pong"}]}],
        "stream": true,
        "store": false,
    });
    let mut req = client
        .post(format!("{root}/v1/responses"))
        .header(
            "user-agent",
            concat!("aimux-doctor/", env!("CARGO_PKG_VERSION")),
        )
        .json(&body);
    if let Some(t) = inp.token() {
        req = req.bearer_auth(t);
    }
    let started = Instant::now();
    let run = async {
        let resp = req.send().await.map_err(|e| {
            if e.is_connect() {
                "the bridge is not answering".to_owned()
            } else {
                e.to_string()
            }
        })?;
        let status = resp.status().as_u16();
        let route = resp
            .headers()
            .get("x-aimux-route")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !(200..300).contains(&status) {
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            let msg = body["error"]["message"].as_str().unwrap_or("no message");
            return Err(format!("HTTP {status}: {msg}"));
        }
        let mut s = Streamed::default();
        let mut dec = SseDecoder::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let bytes = chunk.map_err(|e| format!("the stream broke: {e}"))?;
            dec.push(&bytes, |data| on_event(&mut s, started, data));
            if s.completed || s.failed.is_some() {
                break;
            }
        }
        dec.finish(|data| on_event(&mut s, started, data));
        Ok((s, route))
    };
    let outcome = tokio::time::timeout(ROUNDTRIP_TIMEOUT, run).await;
    let total = started.elapsed();
    let (s, route) = match outcome {
        Err(_) => {
            return Check::fail(
                ID,
                format!(
                    "{model}: no complete answer within {} s",
                    ROUNDTRIP_TIMEOUT.as_secs()
                ),
            )
            .hint("`aimux logs` shows where it stalls");
        }
        Ok(Err(e)) => {
            return Check::fail(ID, format!("{model} through the bridge failed: {e}"))
                .hint("the rows above say which part is down; `aimux logs` has the details");
        }
        Ok(Ok(v)) => v,
    };
    if let Some(why) = s.failed {
        return Check::fail(ID, format!("{model} failed mid-stream: {why}"))
            .hint("`aimux logs` has the details");
    }
    if !s.completed {
        return Check::fail(
            ID,
            format!("{model}: the stream ended without response.completed"),
        )
        .hint("`aimux logs bridge` has the details");
    }
    let answer = if s.text.trim().is_empty() {
        "answered (no text)".to_owned()
    } else {
        format!("answered \"{}\"", short(&s.text, 40))
    };
    let via = route
        .filter(|r| r != model)
        .map_or(String::new(), |r| format!(" via {r}"));
    let first = s
        .first_token
        .map_or(String::new(), |d| format!(" (first token {})", ms(d)));
    Check::ok(ID, format!("{model}{via} {answer} in {}{first}", ms(total)))
}
