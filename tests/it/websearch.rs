//! Bridge-executed web search: the model calls the bridge's `web_search` function, the proxy
//! runs the query against a (mock) SearXNG, the client sees a `web_search_call` item, and the
//! model gets the results and answers — through the real binaries, and through the real Codex CLI.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{
    Bridge, BridgeOptions, CodexConfig, CodexHome, ExecOptions, MockUpstream, Reply, chat,
};

/// A SearXNG-shaped search server on 127.0.0.1:0 (its own thread and runtime, so it works from
/// sync and async tests alike) that records the queries it got.
pub(crate) struct MockSearch {
    pub(crate) url: String,
    queries: Arc<Mutex<Vec<String>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl MockSearch {
    pub(crate) fn start(fail: bool) -> MockSearch {
        let queries = Arc::new(Mutex::new(Vec::new()));
        let seen = queries.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().route(
                    "/search",
                    axum::routing::get(
                        move |q: axum::extract::Query<std::collections::HashMap<String, String>>| {
                            let seen = seen.clone();
                            async move {
                                seen.lock().unwrap().push(q.get("q").cloned().unwrap_or_default());
                                if fail {
                                    return (
                                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                                        axum::Json(json!({})),
                                    );
                                }
                                (
                                    axum::http::StatusCode::OK,
                                    axum::Json(json!({"results": [
                                        {"title": "SSE in Rust, explained", "url": "https://example.org/sse",
                                         "content": "Server-sent events stream text/event-stream.",
                                         "publishedDate": "2026-10-01"}
                                    ]})),
                                )
                            }
                        },
                    ),
                );
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                }
            });
        });
        MockSearch {
            url,
            queries,
            _stop: stop,
        }
    }

    pub(crate) fn queries(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }
}

/// Proxy + bridge sharing an AIMUX_HOME with web search on.
struct Link {
    _home: tempfile::TempDir,
    _proxy: Bridge,
    bridge: Bridge,
}

fn link(provider: &MockUpstream, search: &MockSearch) -> Link {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[providers.p]\nbase_url = \"{}\"\nmodels = [\"test-model\"]\n\n\
             [websearch]\nenabled = true\nurl = \"{}\"\n",
            provider.base_url(),
            search.url
        ),
    )
    .unwrap();
    let envs = vec![
        ("AIMUX_HOME".to_owned(), home.path().display().to_string()),
        (
            "AIMUX_INTERNAL_SECRET".to_owned(),
            "ws-test-secret".to_owned(),
        ),
    ];
    let proxy = Bridge::spawn_with(BridgeOptions {
        upstream: String::new(),
        args: vec![],
        envs: envs.clone(),
        subcommand: Some("proxy".into()),
    });
    let bridge = Bridge::spawn_with(BridgeOptions {
        upstream: format!("{}/v1", proxy.url),
        args: vec![],
        envs,
        subcommand: None,
    });
    Link {
        _home: home,
        _proxy: proxy,
        bridge,
    }
}

pub(crate) fn search_call(query: &str) -> Reply {
    Reply::sse([
        chat::role(),
        chat::tool_call_whole(
            0,
            "call_ws_1",
            "web_search",
            &json!({"query": query}).to_string(),
        ),
        chat::finish("tool_calls"),
        chat::usage(100, 10),
    ])
}

fn sse_events(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|block| block.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

fn responses_request() -> Value {
    json!({
        "model": "test-model", "stream": true,
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "What is SSE?"}]}],
        "tools": [{"type": "web_search", "external_web_access": true}]
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn search_round_trip_in_one_response() {
    let search = MockSearch::start(false);
    let provider =
        MockUpstream::with_replies([search_call("rust sse"), Reply::text("SSE streams events.")]);
    let link = link(&provider, &search);
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/responses", link.bridge.url))
        .json(&responses_request())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let events = sse_events(&resp.text().await.unwrap());
    let done: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "response.output_item.done")
        .map(|e| &e["item"])
        .collect();
    let kinds: Vec<&str> = done.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["web_search_call", "message"], "{done:#?}");
    assert_eq!(
        done[0]["action"],
        json!({"type": "search", "query": "rust sse"})
    );
    assert_eq!(done[1]["content"][0]["text"], "SSE streams events.");
    let completed = events.last().unwrap();
    assert_eq!(completed["type"], "response.completed");
    assert_eq!(
        completed["response"]["usage"]["input_tokens"], 111,
        "usage adds up over rounds"
    );
    assert_eq!(search.queries(), ["rust sse"]);

    let reqs = provider.chat_requests();
    assert_eq!(reqs.len(), 2);
    let offered = &reqs[0].body["tools"];
    assert!(
        offered
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["function"]["name"] == "web_search"),
        "{offered}"
    );
    let follow_up = reqs[1].messages();
    let n = follow_up.len();
    assert_eq!(
        follow_up[n - 2]["tool_calls"][0]["function"]["name"],
        "web_search"
    );
    assert_eq!(follow_up[n - 1]["role"], "tool");
    let results = follow_up[n - 1]["content"].as_str().unwrap();
    assert!(
        results.contains("SSE in Rust, explained") && results.contains("https://example.org/sse"),
        "{results}"
    );
    assert_eq!(
        follow_up[n - 1]["tool_call_id"],
        follow_up[n - 2]["tool_calls"][0]["id"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn search_failure_is_a_tool_result_and_mixed_calls_keep_every_call() {
    let search = MockSearch::start(true);
    let mixed = Reply::sse([
        chat::role(),
        chat::tool_call_whole(0, "call_ws_1", "web_search", "{\"query\": \"q1\"}"),
        chat::tool_call_whole(1, "call_sh_1", "exec_command", "{\"cmd\": \"ls\"}"),
        chat::finish("tool_calls"),
    ]);
    let provider = MockUpstream::with_replies([mixed, Reply::text("done")]);
    let link = link(&provider, &search);
    let mut req = responses_request();
    req["tools"].as_array_mut().unwrap().push(json!({
        "type": "function", "name": "exec_command", "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}
    }));
    let events = sse_events(
        &reqwest::Client::new()
            .post(format!("{}/v1/responses", link.bridge.url))
            .json(&req)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let done: Vec<Value> = events
        .iter()
        .filter(|e| e["type"] == "response.output_item.done")
        .map(|e| e["item"].clone())
        .collect();
    let kinds: Vec<&str> = done.iter().map(|i| i["type"].as_str().unwrap()).collect();
    // The client's call ends the response; the search is shown and its result goes back with the
    // next request.
    assert_eq!(kinds, ["web_search_call", "function_call"], "{done:#?}");
    assert_eq!(provider.chat_request_count(), 1);

    // Codex's next request replays both; the search result is part of the history it sends.
    let mut next = req.clone();
    next["input"].as_array_mut().unwrap().extend([
        done[0].clone(),
        done[1].clone(),
        json!({"type": "function_call_output", "call_id": done[1]["call_id"], "output": "file.txt"}),
    ]);
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/responses", link.bridge.url))
        .json(&next)
        .send()
        .await
        .unwrap();
    resp.text().await.unwrap();
    let messages = provider.chat_requests()[1].messages();
    let tool_texts: Vec<&str> = messages
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(tool_texts.len(), 2, "{messages:#?}");
    assert!(
        tool_texts[0].starts_with("Web search failed"),
        "{tool_texts:?}"
    );
    assert_eq!(tool_texts[1], "file.txt");
}

/// The real Codex CLI with `web_search = "live"`: its turn shows the search and gets the answer.
#[test]
fn codex_shows_the_search_and_gets_the_answer() {
    let search = MockSearch::start(false);
    let provider = MockUpstream::with_handler(|body| {
        let searched = body["messages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["role"] == "tool"));
        if searched {
            Reply::text("According to the results, SSE streams events.")
        } else {
            search_call("codex sse search")
        }
    });
    let link = link(&provider, &search);
    let home = CodexHome::with_config(&link.bridge.url, CodexConfig::default());
    let out = home.run_exec(
        "Search the web for SSE.",
        &ExecOptions {
            timeout: Duration::from_secs(90),
            extra_args: vec!["-c".into(), "web_search=\"live\"".into()],
        },
    );
    assert!(out.success(), "{}", out.dump());
    let searches = out.completed_items("web_search");
    assert_eq!(searches.len(), 1, "{}", out.dump());
    assert_eq!(searches[0]["query"], "codex sse search");
    assert_eq!(
        out.last_message.as_deref().map(str::trim),
        Some("According to the results, SSE streams events.")
    );
    assert_eq!(search.queries(), ["codex sse search"]);
}
