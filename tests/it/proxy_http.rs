//! The real `aimux proxy` (and bridge → proxy) against scripted mock providers.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Bridge, BridgeOptions, MockUpstream, Reply, chat, wait_until};

const KEY_A: &str = "sk-test-AAAA-secret-1111";
const KEY_B: &str = "sk-test-BBBB-secret-2222";

/// An AIMUX_HOME with a config and a known internal secret.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new(config: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Home { dir }
    }

    fn envs(&self) -> Vec<(String, String)> {
        vec![
            ("AIMUX_HOME".into(), self.dir.path().display().to_string()),
            (
                "AIMUX_INTERNAL_SECRET".into(),
                "test-internal-secret".into(),
            ),
            ("KEY_A".into(), KEY_A.into()),
            ("KEY_B".into(), KEY_B.into()),
        ]
    }

    fn proxy(&self) -> Bridge {
        self.proxy_with(Vec::new())
    }

    /// The proxy, with `extra` variables on top of [`Home::envs`].
    fn proxy_with(&self, extra: Vec<(String, String)>) -> Bridge {
        let mut envs = self.envs();
        envs.extend(extra);
        Bridge::spawn_with(BridgeOptions {
            upstream: String::new(),
            args: vec![],
            envs,
            subcommand: Some("proxy".into()),
        })
    }

    /// A bridge in front of `proxy`, sharing this home's environment.
    fn bridge(&self, proxy: &Bridge) -> Bridge {
        self.bridge_with(proxy, Vec::new())
    }

    /// A bridge in front of `proxy`, with `extra` variables on top of [`Home::envs`].
    fn bridge_with(&self, proxy: &Bridge, extra: Vec<(String, String)>) -> Bridge {
        let mut envs = self.envs();
        envs.extend(extra);
        Bridge::spawn_with(BridgeOptions {
            upstream: format!("{}/v1", proxy.url),
            args: vec![],
            envs,
            subcommand: None,
        })
    }

    fn usage_json(&self) -> Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_aimux"))
            .args(["usage", "--json", "--days", "1"])
            .env("AIMUX_HOME", self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn two_providers(a: &MockUpstream, b: &MockUpstream, extra: &str) -> String {
    format!(
        "[providers.a]\nbase_url = \"{}\"\nenv_key = \"KEY_A\"\nmodels = [\"m1\"]\n\
         [providers.b]\nbase_url = \"{}\"\nenv_key = \"KEY_B\"\nmodels = [\"m2\"]\n\
         [routes]\nsmart = [\"a/m1\", \"b/m2\"]\n{extra}",
        a.base_url(),
        b.base_url()
    )
}

async fn chat_post(proxy: &Bridge, body: Value, secret: bool) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", proxy.url))
        .json(&body);
    if secret {
        req = req.header("x-aimux-internal", "test-internal-secret");
    }
    req.send().await.unwrap()
}

fn hello(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test(flavor = "multi_thread")]
async fn fallback_chain_skips_a_failed_provider_before_the_first_byte() {
    let a = MockUpstream::with_replies([Reply::error(503, "overloaded", "server_error", None)]);
    let b = MockUpstream::with_replies([Reply::text("from b")]);
    let home = Home::new(&two_providers(&a, &b, ""));
    let proxy = home.proxy();
    let resp = chat_post(&proxy, hello("smart", true), true).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-aimux-route"], "b/m2");
    assert!(resp.headers().contains_key("x-aimux-overhead-ms"));
    let text = resp.text().await.unwrap();
    assert!(text.contains("\"om\"") && text.contains("[DONE]"), "{text}");
    assert_eq!(
        a.chat_request_count(),
        1,
        "a non-final candidate is not retried"
    );
    let sent_a = &a.chat_requests()[0];
    let sent_b = &b.chat_requests()[0];
    assert_eq!(sent_a.body["model"], "m1");
    assert_eq!(sent_b.body["model"], "m2");
    assert_eq!(
        sent_a.header("authorization"),
        Some(format!("Bearer {KEY_A}").as_str())
    );
    assert_eq!(
        sent_b.header("authorization"),
        Some(format!("Bearer {KEY_B}").as_str())
    );
    assert_eq!(
        sent_b.body["messages"],
        json!([{"role": "user", "content": "hi"}])
    );
}

/// A proxy set in the environment is not used for a provider on this machine (a local model
/// server): it is reached directly.
#[tokio::test(flavor = "multi_thread")]
async fn proxy_variables_do_not_apply_to_a_local_provider() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_proxy = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let a = MockUpstream::with_replies([Reply::text("from a")]);
    let b = MockUpstream::with_replies([Reply::text("from b")]);
    let home = Home::new(&two_providers(&a, &b, ""));
    let proxy = home.proxy_with(
        ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
            .map(|k| (k.to_owned(), dead_proxy.clone()))
            .to_vec(),
    );
    let resp = chat_post(&proxy, hello("a/m1", false), true).await;
    assert_eq!(resp.status(), 200, "{}", proxy.stderr());
    assert_eq!(a.chat_request_count(), 1);
}

/// A provider whose configured header cannot be sent fails alone, with the reason; the proxy
/// starts and serves the other providers.
#[tokio::test(flavor = "multi_thread")]
async fn a_header_that_cannot_be_sent_fails_only_its_provider() {
    let a = MockUpstream::with_replies([Reply::text("from a")]);
    let b = MockUpstream::with_replies([Reply::text("from b")]);
    let extra = "[providers.a.headers]\n\"bad name\" = \"v\"\n";
    let home = Home::new(&two_providers(&a, &b, extra));
    let proxy = home.proxy();
    let resp = chat_post(&proxy, hello("a/m1", false), true).await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_provider_config", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("providers.a.headers: \"bad name\""),
        "{body}"
    );
    assert_eq!(a.chat_request_count(), 0);
    let resp = chat_post(&proxy, hello("b/m2", false), true).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(b.chat_request_count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_fallback_after_bytes_were_sent() {
    let a = MockUpstream::with_replies([Reply::reset_mid_stream([
        chat::role(),
        chat::text("partial"),
    ])]);
    let b = MockUpstream::with_replies([Reply::text("never")]);
    let home = Home::new(&two_providers(&a, &b, ""));
    let proxy = home.proxy();
    let resp = chat_post(&proxy, hello("smart", true), true).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-aimux-route"], "a/m1");
    let body = resp.text().await;
    // The stream breaks (or ends short); what matters is that b was never asked.
    if let Ok(text) = body {
        assert!(
            text.contains("partial") && !text.contains("never"),
            "{text}"
        );
    }
    assert_eq!(b.chat_request_count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_is_honoured_on_the_last_candidate() {
    let a = MockUpstream::with_replies([
        Reply::error(429, "slow down", "rate_limit_error", None).with_header("retry-after", "1"),
        Reply::completion("after wait"),
    ]);
    let home = Home::new(&format!(
        "[providers.a]\nbase_url = \"{}\"\nenv_key = \"KEY_A\"\nmodels = [\"m1\"]\n",
        a.base_url()
    ));
    let proxy = home.proxy();
    let start = Instant::now();
    let resp = chat_post(&proxy, hello("m1", false), true).await;
    assert_eq!(resp.status(), 200);
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "after wait");
    assert_eq!(a.chat_request_count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_errors_pass_through_and_secrets_never_leak() {
    let echo = format!("Incorrect API key provided: {KEY_A}");
    let a = MockUpstream::with_replies([Reply::error(
        401,
        &echo,
        "invalid_request_error",
        Some("invalid_api_key"),
    )]);
    let b = MockUpstream::start();
    let home = Home::new(&two_providers(&a, &b, ""));
    let proxy = home.proxy();
    let resp = chat_post(&proxy, hello("a/m1", false), true).await;
    assert_eq!(
        resp.status(),
        401,
        "a provider's 4xx reaches the client as is"
    );
    let text = resp.text().await.unwrap();
    assert!(
        !text.contains(KEY_A),
        "the key leaked into the response: {text}"
    );
    assert!(text.contains("[redacted]"), "{text}");
    wait_until(Duration::from_secs(10), "usage row", || {
        (home.usage_json()["totals"]["requests"].as_u64() >= Some(1)).then_some(())
    });
    let usage = home.usage_json().to_string();
    for key in [KEY_A, KEY_B] {
        assert!(!proxy.stderr().contains(key), "key in the proxy's log");
        assert!(!usage.contains(key), "key in aimux usage");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_bridge_or_token_holders_may_spend_keys() {
    let a = MockUpstream::with_replies([Reply::text("ok")]);
    let b = MockUpstream::start();
    let home = Home::new(&two_providers(&a, &b, ""));
    let proxy = home.proxy();
    let stranger = chat_post(&proxy, hello("a/m1", false), false).await;
    assert_eq!(stranger.status(), 401);
    let wrong = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", proxy.url))
        .header("x-aimux-internal", "guess")
        .json(&hello("a/m1", false))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(a.chat_request_count(), 0);
    let models = reqwest::Client::new()
        .get(format!("{}/v1/models", proxy.url))
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn models_are_aggregated_with_metadata() {
    let a = MockUpstream::start();
    a.set_models(json!({"object": "list", "data": [{"id": "live-1", "object": "model"}]}));
    let b = MockUpstream::start();
    let home = Home::new(&two_providers(
        &a,
        &b,
        "[agents.coder]\nmodel = \"smart\"\nsystem = \"Be brief.\"\n\
         [providers.ds]\npreset = \"deepseek\"\nenv_key = \"KEY_A\"\nbase_url = \"http://127.0.0.1:1/v1\"\n",
    ));
    let proxy = home.proxy();
    let list: Value = reqwest::Client::new()
        .get(format!("{}/v1/models", proxy.url))
        .header("x-aimux-internal", "test-internal-secret")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for want in [
        "a/m1",
        "a/live-1",
        "b/m2",
        "ds/deepseek-chat",
        "smart",
        "aimux:coder",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    let ds = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "ds/deepseek-reasoner")
        .unwrap();
    assert_eq!(ds["context_window"], 128000);
    assert_eq!(ds["reasoning"], true);
    assert!(ds["pricing"]["input"].as_f64().is_some());

    // `aimux models` shows the running proxy's list, live models included.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aimux"))
        .args(["models", "--json"])
        .envs(home.envs())
        .env("AIMUX_PROXY_PORT", proxy.port.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli["data"], list["data"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_add_their_system_prompt() {
    let a = MockUpstream::with_replies([Reply::text("hi"), Reply::text("hi")]);
    let b = MockUpstream::start();
    let home = Home::new(&two_providers(
        &a,
        &b,
        "[agents.coder]\nmodel = \"a/m1\"\nsystem = \"You write Rust.\"\ntemperature = 0.1\n",
    ));
    let proxy = home.proxy();
    let body = json!({"model": "aimux:coder", "messages": [
        {"role": "system", "content": "Client rules."}, {"role": "user", "content": "go"}]});
    let resp = chat_post(&proxy, body, true).await;
    assert_eq!(resp.status(), 200);
    let sent = &a.chat_requests()[0].body;
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "You write Rust.\n\nClient rules."})
    );
    assert_eq!(sent["temperature"], 0.1);
    assert_eq!(sent["model"], "m1");

    // The same request as the bridge writes it (model and stream first), which the proxy
    // otherwise forwards without parsing: the agent still applies.
    let bridged = r#"{"model":"aimux:coder","stream":false,"messages":[{"role":"system","content":"Client rules."},{"role":"user","content":"go"}]}"#;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", proxy.url))
        .header("x-aimux-internal", "test-internal-secret")
        .header("x-aimux-translated", "1")
        .header("content-type", "application/json")
        .body(bridged)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut resent = a.chat_requests()[1].body.clone();
    assert_eq!(resent["stream"], false);
    resent.as_object_mut().unwrap().remove("stream");
    assert_eq!(&resent, sent);
}

/// The whole link: Responses in at the bridge, Chat out of the proxy, with the internal secret.
#[tokio::test(flavor = "multi_thread")]
async fn bridge_to_proxy_to_provider() {
    let a = MockUpstream::with_replies([Reply::text("through the link")]);
    let b = MockUpstream::start();
    let home = Home::new(&two_providers(&a, &b, ""));
    let proxy = home.proxy();
    let bridge = home.bridge(&proxy);
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/responses", bridge.url))
        .json(&json!({"model": "a/m1", "stream": false, "input": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["x-aimux-route"],
        "a/m1",
        "the bridge passes the route on"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["output"][0]["content"][0]["text"], "through the link");
    assert_eq!(a.chat_requests()[0].body["model"], "m1");
    wait_until(Duration::from_secs(10), "usage row", || {
        let u = home.usage_json();
        (u["totals"]["requests"].as_u64() >= Some(1)).then_some(u)
    });
    assert!(
        bridge.stderr().contains("route=a/m1"),
        "{}",
        bridge.stderr()
    );
}

/// A client's own Chat request passed on by the bridge is checked by the proxy, even when it
/// starts the way the bridge's translated requests do: it is not forwarded unread.
#[tokio::test(flavor = "multi_thread")]
async fn a_clients_chat_body_through_the_bridge_is_read_by_the_proxy() {
    let a = MockUpstream::with_replies([Reply::text("from a")]);
    let b = MockUpstream::with_replies([Reply::text("from b")]);
    let home = Home::new(&two_providers(&a, &b, ""));
    let proxy = home.proxy();
    let bridge = home.bridge(&proxy);
    let post = |body: &'static str| {
        reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", bridge.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let resp = post(r#"{"model":"a/m1","stream":false,"messages":[}"#)
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let error: Value = resp.json().await.unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid request body"),
        "{error}"
    );
    // A second `model` wins, as in any full parse: the request goes to b, with b's model name.
    let resp = post(
        r#"{"model":"a/m1","stream":false,"messages":[{"role":"user","content":"hi"}],"model":"b/m2"}"#,
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(a.chat_requests().is_empty());
    assert_eq!(b.chat_requests()[0].body["model"], "m2");
}

/// A request the bridge translated (internal secret and `x-aimux-translated`) is forwarded as
/// written past its model, key order included; a token client cannot ask for that, whatever it
/// calls itself, and gets what a full parse sends (the last `model` wins, keys in order).
#[tokio::test(flavor = "multi_thread")]
async fn only_the_bridges_translated_requests_skip_the_parse() {
    let a = MockUpstream::with_replies([Reply::text("a"), Reply::text("a")]);
    let b = MockUpstream::with_replies([Reply::text("b")]);
    let home = Home::new(&two_providers(&a, &b, ""));
    let proxy = home.proxy_with(vec![("AIMUX_TOKEN".into(), "tok".into())]);
    let post = |body: &'static str, internal: bool| {
        let req = reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", proxy.url))
            .header("content-type", "application/json")
            .header("x-aimux-translated", "1")
            .header("user-agent", "bridge/1.0")
            .body(body);
        if internal {
            req.header("x-aimux-internal", "test-internal-secret")
        } else {
            req.header("authorization", "Bearer tok")
        }
        .send()
    };
    let body = r#"{"model":"a/m1","stream":false,"messages":[{"role":"user","content":"hi"}],"z":1,"a":2}"#;
    assert_eq!(post(body, true).await.unwrap().status(), 200);
    assert_eq!(
        a.chat_requests()[0].raw_body,
        r#"{"model":"m1","stream":false,"messages":[{"role":"user","content":"hi"}],"z":1,"a":2}"#
    );
    // Parsed, the same request is written model first, then in key order.
    assert_eq!(post(body, false).await.unwrap().status(), 200);
    assert_eq!(
        a.chat_requests()[1].raw_body,
        r#"{"model":"m1","a":2,"messages":[{"role":"user","content":"hi"}],"stream":false,"z":1}"#
    );
    let twice = r#"{"model":"a/m1","stream":false,"messages":[{"role":"user","content":"hi"}],"model":"b/m2"}"#;
    assert_eq!(post(twice, false).await.unwrap().status(), 200);
    assert_eq!(a.chat_requests().len(), 2);
    assert_eq!(b.chat_requests()[0].body["model"], "m2");
    let broken = r#"{"model":"a/m1","stream":false,"messages":[}"#;
    assert_eq!(post(broken, false).await.unwrap().status(), 400);
}

/// The official `openai` SDK's `chat.completions` through bridge → proxy → provider.
#[test]
fn openai_sdk_chat_completions_through_the_link() {
    use crate::common::{TEST_MODEL, repo_root, run_with_timeout, venv_python};
    const TEXT: &str = "Hello from aimux via the OpenAI SDK";
    let tool_reply = json!({
        "id": "chatcmpl-t", "object": "chat.completion", "created": 1, "model": TEST_MODEL,
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "call_weather_1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"unit\": \"celsius\"}"}}]}}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    });
    let provider = MockUpstream::with_replies([
        Reply::json(200, {
            let mut c = chat::completion(TEXT);
            c["usage"] = json!({"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18});
            c
        }),
        Reply::text_parts(TEXT, 4),
        Reply::json(200, tool_reply),
    ]);
    let home = Home::new(&format!(
        "[providers.p]\nbase_url = \"{}\"\nmodels = [\"{TEST_MODEL}\"]\n",
        provider.base_url()
    ));
    let proxy = home.proxy();
    let bridge = home.bridge_with(&proxy, vec![("AIMUX_TOKEN".into(), "sdk-token".into())]);
    for scenario in ["chat_create", "chat_stream", "chat_tools"] {
        let mut cmd = std::process::Command::new(venv_python());
        cmd.arg(repo_root().join("tests/python/sdk_client.py"))
            .args([
                "--base-url",
                &bridge.base_url(),
                "--api-key",
                "sdk-token",
                scenario,
            ])
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL");
        let out = run_with_timeout(cmd, Duration::from_secs(60), bridge.dir());
        assert!(
            out.success(),
            "{scenario}\n{}\n--- proxy ---\n{}",
            out.dump(),
            proxy.stderr()
        );
    }
    let reqs = provider.chat_requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[1].body["stream"], true);
    assert_eq!(reqs[2].body["tools"][0]["function"]["name"], "get_weather");
    for r in &reqs {
        assert_eq!(
            r.header("authorization"),
            None,
            "the client's token is never forwarded"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_pass_through_byte_for_byte_as_they_arrive() {
    use crate::common::{SseItem, SseReply};
    let gap = Duration::from_millis(300);
    let chunks = [
        chat::role(),
        chat::text("one"),
        chat::text("two"),
        chat::finish("stop"),
    ];
    let expected: String = chunks
        .iter()
        .map(|c| format!("data: {c}\n\n"))
        .chain(["data: [DONE]\n\n".to_owned()])
        .collect();
    let mut reply = SseReply::new(chunks.clone());
    reply.items[2] = SseItem::json(&chunks[2]).after(gap);
    let a = MockUpstream::with_replies([Reply::Sse(reply)]);
    let b = MockUpstream::start();
    let home = Home::new(&two_providers(&a, &b, ""));
    let proxy = home.proxy();
    let mut resp = chat_post(&proxy, hello("a/m1", true), true).await;
    let start = Instant::now();
    let mut got = Vec::new();
    let mut first_text_at = None;
    let mut second_text_at = None;
    while let Some(bytes) = resp.chunk().await.unwrap() {
        got.extend_from_slice(&bytes);
        let text = String::from_utf8_lossy(&got);
        if first_text_at.is_none() && text.contains("\"one\"") {
            first_text_at = Some(start.elapsed());
        }
        if second_text_at.is_none() && text.contains("\"two\"") {
            second_text_at = Some(start.elapsed());
        }
    }
    assert_eq!(
        String::from_utf8(got).unwrap(),
        expected,
        "bytes changed on the way"
    );
    let (first, second) = (first_text_at.unwrap(), second_text_at.unwrap());
    assert!(
        second - first >= gap - Duration::from_millis(50),
        "chunks were buffered: {first:?} {second:?}"
    );
}

/// `codex` through `aimux proxy`: a real `codex exec` (its own CODEX_HOME pointing at a mock
/// Responses server) answers a Chat Completions request, streamed and not.
#[tokio::test(flavor = "multi_thread")]
async fn codex_backend_through_the_proxy() {
    use crate::common::codex_bin;
    use crate::common::codex_exec_home::{ExecHome, MOCK_PROVIDER};
    use crate::common::mock_responses::{MockResponses, ResponsesReply};
    let mock = MockResponses::with_replies([
        ResponsesReply::text("Hello from codex"),
        ResponsesReply::text("Hello again"),
    ]);
    let exec_home = ExecHome::new(&mock.base_url());
    let home = Home::new(&format!(
        "[providers.codex]\n\n[codex]\nbin = {:?}\ncodex_home = {:?}\nprovider = \"{MOCK_PROVIDER}\"\ntimeout_s = 60\n",
        codex_bin().display().to_string(),
        exec_home.codex_home().display().to_string(),
    ));
    let proxy = home.proxy_with(vec![(
        "TMPDIR".into(),
        exec_home.tmp().display().to_string(),
    )]);
    let resp = chat_post(&proxy, hello("codex", true), true).await;
    assert_eq!(resp.status(), 200, "{}", proxy.stderr());
    assert_eq!(resp.headers()["x-aimux-route"], "codex");
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("Hello from codex") && text.ends_with("data: [DONE]\n\n"),
        "{text}"
    );
    let resp = chat_post(&proxy, hello("codex", false), true).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"], "Hello again",
        "{body}"
    );
    assert_eq!(mock.requests().len(), 2);
}

/// A provider that speaks only the Responses API (`wire = "responses"`): Codex's requests pass
/// through the bridge and the proxy untranslated (the proxy holds its key); a Chat client is told
/// where to go.
#[tokio::test(flavor = "multi_thread")]
async fn responses_wire_providers_get_codex_requests_untranslated() {
    use crate::common::mock_responses::{MockResponses, ResponsesReply};
    let mock = MockResponses::with_replies([
        ResponsesReply::text("from a responses provider"),
        ResponsesReply::text("again"),
    ]);
    let home = Home::new(&format!(
        "[providers.r]\nbase_url = \"{}\"\nwire = \"responses\"\nenv_key = \"KEY_A\"\nmodels = [\"rm\"]\n",
        mock.base_url()
    ));
    let proxy = home.proxy();
    let bridge = home.bridge(&proxy);
    let client = reqwest::Client::new();
    for (stream, want) in [(true, "from a responses provider"), (false, "again")] {
        let resp = client
            .post(format!("{}/v1/responses", bridge.url))
            .json(&json!({"model": "r/rm", "stream": stream, "input": "hi",
                          "tools": [{"type": "custom", "name": "apply_patch"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", proxy.stderr());
        assert_eq!(resp.headers()["x-aimux-route"], "r/rm");
        let text = resp.text().await.unwrap();
        assert!(
            text.contains(want) && text.contains("response.completed"),
            "{text}"
        );
    }
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.body["model"], "rm");
        assert_eq!(r.body["tools"][0]["type"], "custom", "untranslated");
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {KEY_A}").as_str())
        );
    }
    let chat = chat_post(&proxy, hello("r/rm", false), true).await;
    assert_eq!(chat.status(), 400);
    let body: Value = chat.json().await.unwrap();
    assert_eq!(body["error"]["code"], "use_responses_api");
    // The passed-through answers are in the usage store with their tokens (10 in, 5 out each).
    wait_until(Duration::from_secs(10), "usage with tokens", || {
        let t = &home.usage_json()["totals"];
        (t["input_tokens"].as_u64() == Some(20) && t["output_tokens"].as_u64() == Some(10))
            .then_some(())
    });
}

/// The real Codex CLI through bridge → proxy to a Responses-only provider.
#[test]
fn codex_turn_on_a_responses_wire_provider() {
    use crate::common::mock_responses::{MockResponses, ResponsesReply};
    use crate::common::{CodexConfig, CodexHome, ExecOptions, TEST_MODEL};
    let mock = MockResponses::with_replies([ResponsesReply::text("native responses answer")]);
    let home = Home::new(&format!(
        "[providers.r]\nbase_url = \"{}\"\nwire = \"responses\"\nmodels = [\"{TEST_MODEL}\"]\n",
        mock.base_url()
    ));
    let proxy = home.proxy();
    let bridge = home.bridge(&proxy);
    let codex = CodexHome::with_config(&bridge.url, CodexConfig::default());
    let out = codex.run_exec("Say something.", &ExecOptions::default());
    assert!(
        out.success(),
        "{}\n--- proxy ---\n{}",
        out.dump(),
        proxy.stderr()
    );
    assert_eq!(
        out.last_message.as_deref().map(str::trim),
        Some("native responses answer")
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].body["model"], TEST_MODEL);
    // Codex's own request shape arrives as sent: developer messages, custom apply_patch tool.
    let input = reqs[0].body["input"].to_string();
    assert!(input.contains("\"developer\""), "{input}");
}
