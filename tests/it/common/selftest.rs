//! Self-tests of the harness itself (the mock upstream), so a broken helper is not mistaken
//! for a broken bridge. They talk to the mock directly with reqwest; no bridge involved.

use std::time::{Duration, Instant};

use serde_json::json;

use super::mock::{MockUpstream, Reply, SseReply, chat};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

async fn post_chat(mock: &MockUpstream, body: serde_json::Value) -> reqwest::Response {
    client()
        .post(format!("{}/chat/completions", mock.base_url()))
        .header("authorization", "Bearer upstream-key")
        .json(&body)
        .send()
        .await
        .expect("send to mock")
}

#[tokio::test(flavor = "multi_thread")]
async fn mock_streams_sse_chunk_by_chunk() {
    let reply = SseReply::new(vec![
        chat::role(),
        chat::text("a"),
        chat::text("b"),
        chat::finish("stop"),
    ])
    .delay_each(Duration::from_millis(60));
    let mock = MockUpstream::with_replies([reply.into()]);
    let mut resp = post_chat(&mock, json!({"model": "m", "stream": true})).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let start = Instant::now();
    let mut arrivals = Vec::new();
    let mut body = String::new();
    while let Some(chunk) = resp.chunk().await.expect("chunk") {
        arrivals.push(start.elapsed());
        body.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        arrivals.len() >= 4,
        "one HTTP chunk per event, got {arrivals:?}"
    );
    assert!(
        arrivals[arrivals.len() - 1] - arrivals[0] >= Duration::from_millis(120),
        "events must be flushed as produced, not buffered: {arrivals:?}"
    );
    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
    assert_eq!(body.matches("data: ").count(), 5, "{body}");
    let reqs = mock.chat_requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].body["model"], "m");
    assert_eq!(reqs[0].header("Authorization"), Some("Bearer upstream-key"));
}

#[tokio::test(flavor = "multi_thread")]
async fn mock_without_done_and_reset() {
    let mock = MockUpstream::with_replies([
        SseReply::new(vec![chat::text("x")]).without_done().into(),
        Reply::reset_mid_stream(vec![chat::text("partial")]),
    ]);
    let body = post_chat(&mock, json!({}))
        .await
        .text()
        .await
        .expect("body");
    assert_eq!(body, format!("data: {}\n\n", chat::text("x")));
    let resp = post_chat(&mock, json!({})).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.text().await.is_err(),
        "a reset stream must surface as a body error"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mock_http_errors_models_and_unscripted() {
    let mock = MockUpstream::with_replies([
        Reply::error(
            429,
            "slow down",
            "rate_limit_exceeded",
            Some("rate_limit_exceeded"),
        )
        .with_header("retry-after", "2"),
        Reply::completion("plain"),
    ]);
    let r = post_chat(&mock, json!({})).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    let v: serde_json::Value = post_chat(&mock, json!({}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "plain");
    let r = post_chat(&mock, json!({})).await;
    assert_eq!(r.status(), 500, "empty queue answers 500");
    assert_eq!(mock.unscripted_count(), 1);
    let models: serde_json::Value = client()
        .get(format!("{}/models", mock.base_url()))
        .send()
        .await
        .expect("models")
        .json()
        .await
        .expect("json");
    assert_eq!(models["data"][0]["id"], "test-model");
    assert_eq!(mock.chat_request_count(), 3);
    assert_eq!(mock.requests().len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn mock_handler_and_hang() {
    let mock = MockUpstream::with_handler(|body| {
        if body["hang"] == true {
            Reply::Hang
        } else {
            Reply::text(body["say"].as_str().unwrap_or("?"))
        }
    });
    let body = post_chat(&mock, json!({"say": "hey"}))
        .await
        .text()
        .await
        .expect("body");
    assert!(
        body.contains(r#""content":"h""#) && body.ends_with("data: [DONE]\n\n"),
        "{body}"
    );
    let hung = tokio::time::timeout(
        Duration::from_millis(300),
        post_chat(&mock, json!({"hang": true})),
    )
    .await;
    assert!(hung.is_err(), "Reply::Hang must not answer");
    let reqs = mock.wait_for_chat_requests(2, Duration::from_secs(5));
    assert_eq!(reqs[1].body["hang"], true);
}

#[test]
fn chunk_split_covers_everything() {
    for parts in 1..6 {
        let p = chat::split("Hello from aimux", parts);
        assert_eq!(p.concat(), "Hello from aimux");
        assert_eq!(p.len(), parts);
    }
    assert_eq!(chat::split("ab", 5), ["a", "b"]);
}
