//! Web search for models that cannot search: the proxy (which holds the keys) runs the query
//! against SearXNG, Brave, Tavily or Exa; the bridge gives the results to the model as a tool
//! result. Request building and result parsing are pure; [`search`] is the I/O edge.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// One result, as the model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    pub title: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    pub snippet: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// A self-hosted SearXNG with the JSON format enabled.
    Searxng {
        url: String,
    },
    Brave {
        key: String,
    },
    Tavily {
        key: String,
    },
    Exa {
        key: String,
    },
}

pub const DEFAULT_COUNT: u32 = 5;
pub const MAX_COUNT: u32 = 10;

/// `[websearch]` → a provider. `provider` defaults to SearXNG when a `url` is set.
pub fn provider_from(
    name: Option<&str>,
    url: Option<&str>,
    key: Option<&str>,
    key_var: &str,
) -> Result<Provider, String> {
    let need_key = |p: &str| {
        key.map(str::to_owned)
            .ok_or_else(|| format!("web search provider {p} needs an API key: set {key_var}"))
    };
    match (name, url) {
        (Some("searxng") | None, Some(url)) => Ok(Provider::Searxng {
            url: url.trim_end_matches('/').to_owned(),
        }),
        (Some("searxng"), None) | (None, None) => {
            Err("web search needs [websearch] url (a SearXNG instance) or provider = \"brave\" | \"tavily\" | \"exa\"".into())
        }
        (Some("brave"), _) => Ok(Provider::Brave { key: need_key("brave")? }),
        (Some("tavily"), _) => Ok(Provider::Tavily { key: need_key("tavily")? }),
        (Some("exa"), _) => Ok(Provider::Exa { key: need_key("exa")? }),
        (Some(other), _) => Err(format!(
            "unknown web search provider {other:?} (searxng, brave, tavily, exa)"
        )),
    }
}

/// The default environment variable for a provider's key.
pub fn default_key_var(name: Option<&str>) -> &'static str {
    match name {
        Some("brave") => "BRAVE_API_KEY",
        Some("tavily") => "TAVILY_API_KEY",
        Some("exa") => "EXA_API_KEY",
        _ => "SEARXNG_API_KEY",
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn clip(s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Results from a provider's JSON answer.
pub fn parse(provider: &Provider, body: &Value, count: u32) -> Vec<SearchResult> {
    let (list, snippet_keys, date_keys): (&Value, &[&str], &[&str]) = match provider {
        Provider::Searxng { .. } => (&body["results"], &["content"], &["publishedDate"]),
        Provider::Brave { .. } => (
            &body["web"]["results"],
            &["description"],
            &["page_age", "age"],
        ),
        Provider::Tavily { .. } => (&body["results"], &["content"], &["published_date"]),
        Provider::Exa { .. } => (&body["results"], &["text", "summary"], &["publishedDate"]),
    };
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let url = text(&r["url"])?;
            let title = text(&r["title"]).unwrap_or_else(|| url.clone());
            let snippet = snippet_keys
                .iter()
                .find_map(|k| text(&r[*k]))
                .unwrap_or_default();
            let date = date_keys.iter().find_map(|k| text(&r[*k]));
            Some(SearchResult {
                title,
                url,
                date,
                snippet: clip(snippet, 600),
            })
        })
        .take(count as usize)
        .collect()
}

/// The tool result the model reads.
pub fn format_results(query: &str, results: &[SearchResult]) -> String {
    if results.is_empty() {
        return format!("Web search for {query:?} found no results.");
    }
    let mut out = format!("Web search results for {query:?}:\n");
    for (i, r) in results.iter().enumerate() {
        out.push_str(&format!("\n[{}] {}\n{}\n", i + 1, r.title, r.url));
        if let Some(date) = &r.date {
            out.push_str(&format!("Date: {date}\n"));
        }
        if !r.snippet.is_empty() {
            out.push_str(&r.snippet);
            out.push('\n');
        }
    }
    out
}

/// Runs one search.
pub async fn search(
    client: &reqwest::Client,
    provider: &Provider,
    query: &str,
    count: u32,
) -> Result<Vec<SearchResult>, String> {
    let count = count.clamp(1, MAX_COUNT);
    let req = match provider {
        Provider::Searxng { url } => client
            .get(format!("{url}/search"))
            .query(&[("q", query), ("format", "json")]),
        Provider::Brave { key } => client
            .get("https://api.search.brave.com/res/v1/web/search")
            .query(&[("q", query), ("count", &count.to_string())])
            .header("X-Subscription-Token", key)
            .header("Accept", "application/json"),
        Provider::Tavily { key } => client
            .post("https://api.tavily.com/search")
            .bearer_auth(key)
            .json(&json!({"query": query, "max_results": count})),
        Provider::Exa { key } => client
            .post("https://api.exa.ai/search")
            .header("x-api-key", key)
            .json(&json!({"query": query, "numResults": count,
                          "contents": {"text": {"maxCharacters": 600}}})),
    };
    let resp = req
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .map_err(|e| format!("web search request failed: {e}"))?;
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .map_err(|e| format!("web search answered {status} with unreadable JSON: {e}"))?;
    if !status.is_success() {
        return Err(format!("web search failed with {status}"));
    }
    Ok(parse(provider, &body, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_provider() {
        let cases: Vec<(Provider, Value)> = vec![
            (
                Provider::Searxng {
                    url: "http://s".into(),
                },
                json!({"results": [{"title": "Rust", "url": "https://rust-lang.org", "content": "A language.", "publishedDate": "2026-01-02"}]}),
            ),
            (
                Provider::Brave { key: "k".into() },
                json!({"web": {"results": [{"title": "Rust", "url": "https://rust-lang.org", "description": "A language.", "page_age": "2026-01-02"}]}}),
            ),
            (
                Provider::Tavily { key: "k".into() },
                json!({"results": [{"title": "Rust", "url": "https://rust-lang.org", "content": "A language.", "published_date": "2026-01-02"}]}),
            ),
            (
                Provider::Exa { key: "k".into() },
                json!({"results": [{"title": "Rust", "url": "https://rust-lang.org", "text": "A language.", "publishedDate": "2026-01-02"}]}),
            ),
        ];
        let want = vec![SearchResult {
            title: "Rust".into(),
            url: "https://rust-lang.org".into(),
            date: Some("2026-01-02".into()),
            snippet: "A language.".into(),
        }];
        for (p, body) in cases {
            assert_eq!(parse(&p, &body, 5), want, "{p:?}");
        }
        let many = json!({"results": (0..20).map(|i| json!({"url": format!("https://x/{i}")})).collect::<Vec<_>>()});
        let got = parse(&Provider::Searxng { url: "u".into() }, &many, 3);
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0].title, "https://x/0",
            "a missing title falls back to the URL"
        );
        assert!(parse(&Provider::Searxng { url: "u".into() }, &json!({}), 3).is_empty());
    }

    #[test]
    fn provider_selection() {
        // (provider name, url, key, wanted provider or error fragment)
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            Result<Provider, &'a str>,
        );
        let cases: Vec<Case> = vec![
            (
                None,
                Some("http://s/"),
                None,
                Ok(Provider::Searxng {
                    url: "http://s".into(),
                }),
            ),
            (
                Some("brave"),
                None,
                Some("k"),
                Ok(Provider::Brave { key: "k".into() }),
            ),
            (
                Some("brave"),
                None,
                None,
                Err("needs an API key: set BRAVE_API_KEY"),
            ),
            (None, None, None, Err("needs [websearch] url")),
            (Some("bing"), None, None, Err("unknown web search provider")),
        ];
        for (name, url, key, want) in cases {
            let got = provider_from(name, url, key, default_key_var(name));
            match (got, want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w),
                (Err(g), Err(w)) => assert!(g.contains(w), "{g}"),
                (g, w) => panic!("{name:?}: got {g:?}, want {w:?}"),
            }
        }
    }

    #[test]
    fn result_text() {
        let text = format_results(
            "rust sse",
            &[SearchResult {
                title: "T".into(),
                url: "https://u".into(),
                date: None,
                snippet: "S".into(),
            }],
        );
        assert_eq!(
            text,
            "Web search results for \"rust sse\":\n\n[1] T\nhttps://u\nS\n"
        );
        assert_eq!(
            format_results("q", &[]),
            "Web search for \"q\" found no results."
        );
    }
}
