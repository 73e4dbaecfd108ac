//! The dashboard at `/dashboard` on a running link (`aimux proxy` + `aimux bridge` → mock
//! providers): a real headless Chromium that flips switches and picks a model, then the TOML
//! files checked; cross-site, rebinding and CSRF-less requests that must change no byte on disk;
//! the bridge token's login cookie; no secret in anything the page is sent.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{
    Bridge, BridgeOptions, MockUpstream, Reply, chat, chromium_bin, playwright_modules, repo_root,
    run_with_timeout,
};

const SECRET: &str = "dashboard-test-internal-secret-7f3a";
const MOCK_KEY: &str = "sk-mock-dashboard-key-5521";
const TOKEN: &str = "bridge-token-for-the-dashboard-9c1e";

/// The user's own Codex config, with comments that must survive desktop on → off.
const BASE_CONFIG: &str = "# My Codex config (hand-written).
model = \"gpt-5\"   # my usual model
check_for_update_on_startup = false

[analytics]
enabled = false

# A provider of my own.
[model_providers.box]
name = \"box\"
base_url = \"http://127.0.0.1:9/v1\"
";

/// Provider `a` answers (priced models), provider `b` always fails.
const AIMUX_CONFIG: &str = "# aimux config (hand-written)
[proxy]
retries = 0

[providers.a]
base_url = \"{a}\"
env_key = \"MOCK_KEY\"
models = [
  { id = \"m1\", context = 128000, price = [0.27, 0.07, 1.1] },
  { id = \"m2\", context = 64000, reasoning = true, price = [0.55, 0.14, 2.19] },
]

[providers.b]
base_url = \"{b}\"
env_key = \"MOCK_KEY\"
models = [\"x1\"]

[routes]
fast = \"a/m1\"
";

/// A link and the homes around it.
struct Link {
    root: tempfile::TempDir,
    _a: MockUpstream,
    _b: MockUpstream,
    proxy: Bridge,
    bridge: Bridge,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl Link {
    fn start(token: Option<&str>, seed_history: bool) -> Link {
        let a = MockUpstream::with_handler(|body| {
            let text = if body["model"] == "m2" {
                "A careful answer from m2."
            } else {
                "Hello from m1."
            };
            let mut chunks = vec![chat::role()];
            chunks.extend(chat::split(text, 3).into_iter().map(|p| chat::text(&p)));
            chunks.push(chat::finish("stop"));
            chunks.push(chat::usage(1840, 412));
            Reply::sse(chunks)
        });
        let b = MockUpstream::with_handler(|_| {
            Reply::error(503, "the model is overloaded", "server_error", None)
        });
        let root = tempfile::Builder::new()
            .prefix("aimux-dashboard-")
            .tempdir()
            .unwrap();
        for d in ["aimux", "codex-home"] {
            fs::create_dir_all(root.path().join(d)).unwrap();
        }
        let config = AIMUX_CONFIG
            .replace("{a}", &a.base_url())
            .replace("{b}", &b.base_url());
        fs::write(root.path().join("aimux/config.toml"), config).unwrap();
        fs::write(root.path().join("codex-home/config.toml"), BASE_CONFIG).unwrap();
        if seed_history {
            seed_usage(&root.path().join("aimux/usage.db"));
        }
        let mut envs = vec![
            (
                "AIMUX_HOME".to_owned(),
                root.path().join("aimux").display().to_string(),
            ),
            ("AIMUX_INTERNAL_SECRET".to_owned(), SECRET.to_owned()),
            ("MOCK_KEY".to_owned(), MOCK_KEY.to_owned()),
            (
                "CODEX_HOME".to_owned(),
                root.path().join("codex-home").display().to_string(),
            ),
        ];
        let proxy = Bridge::spawn_with(BridgeOptions {
            upstream: String::new(),
            args: vec![],
            envs: envs.clone(),
            subcommand: Some("proxy".into()),
        });
        // What the CLI commands resolve: the running proxy, and a fixed bridge port for the URLs
        // they write (the bridge itself binds a free one).
        envs.push(("AIMUX_PROXY_PORT".to_owned(), proxy.port.to_string()));
        envs.push(("AIMUX_BRIDGE_PORT".to_owned(), free_port().to_string()));
        // The token as users set it, in the environment (so `desktop on` writes it too).
        if let Some(t) = token {
            envs.push(("AIMUX_TOKEN".to_owned(), t.to_owned()));
        }
        let bridge = Bridge::spawn_with(BridgeOptions {
            upstream: proxy.base_url(),
            args: vec![],
            envs,
            subcommand: None,
        });
        Link {
            root,
            _a: a,
            _b: b,
            proxy,
            bridge,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_default()
    }

    fn dashboard(&self) -> String {
        format!("{}/dashboard", self.bridge.url)
    }

    /// Every file under the root except the usage store (the proxy writes it on its own).
    fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = entry.path();
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.starts_with("usage.db") {
                    continue;
                }
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.insert(p.clone(), fs::read(&p).unwrap_or_default());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(self.root.path(), &mut out);
        out
    }

    /// Requests through the bridge, so the proxy records live usage.
    async fn traffic(&self, token: Option<&str>) {
        let client = reqwest::Client::new();
        let auth = token.map(|t| format!("Bearer {t}"));
        let send = |path: &str, body: Value| {
            let mut req = client
                .post(format!("{}{path}", self.bridge.url))
                .json(&body);
            if let Some(a) = &auth {
                req = req.header("authorization", a);
            }
            req.send()
        };
        for model in ["a/m1", "fast", "a/m1"] {
            let resp = send(
                "/v1/chat/completions",
                json!({"model": model, "stream": true,
                       "messages": [{"role": "user", "content": "hi"}]}),
            )
            .await
            .unwrap();
            assert_eq!(resp.status(), 200, "{model}");
            let _ = resp.text().await;
        }
        let resp = send(
            "/v1/responses",
            json!({"model": "a/m2", "stream": true, "input": "think about it"}),
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), 200);
        let _ = resp.text().await;
        let resp = send(
            "/v1/chat/completions",
            json!({"model": "b/x1", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await
        .unwrap();
        assert!(resp.status().is_server_error(), "{}", resp.status());
    }

    /// Waits until the proxy's usage store has `n` rows (as the dashboard reports them).
    async fn wait_for_requests(&self, n: usize, cookie: Option<&str>) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut req =
                reqwest::Client::new().get(format!("{}/api/recent?limit=500", self.dashboard()));
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            let v: Value = req.send().await.unwrap().json().await.unwrap();
            let got = v["requests"].as_array().map_or(0, Vec::len);
            if got >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the usage store has {got} of {n} rows: {v}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Six earlier days of history, so the chart has a week to show.
fn seed_usage(path: &Path) {
    use aimux::proxy::usage::{UsageRecord, UsageStore, now_ms};
    let store = UsageStore::open(path).unwrap();
    let recorder = store.recorder();
    let day = 86_400_000;
    let per_day = [4u64, 9, 6, 0, 12, 7];
    for (i, n) in per_day.iter().enumerate() {
        let ts = now_ms() - (6 - i as i64) * day;
        for k in 0..*n {
            let (model, requested, status, code) = match k % 5 {
                0 => ("m2", "a/m2", 200, None),
                3 if i == 4 => ("x1", "b/x1", 429, Some("rate_limit_exceeded")),
                _ => ("m1", "fast", 200, None),
            };
            let provider = if model == "x1" { "b" } else { "a" };
            let (input, output) = (1500 + 300 * k, 350 + 40 * k);
            recorder.record(UsageRecord {
                ts_ms: ts + k as i64 * 60_000,
                client: "bridge".into(),
                requested_model: requested.into(),
                provider: provider.into(),
                model: model.into(),
                status,
                latency_ms: 900 + 120 * k,
                ttft_ms: (status == 200).then_some(240 + 15 * k),
                input_tokens: input,
                cached_tokens: 0,
                output_tokens: output,
                reasoning_tokens: 0,
                cost_usd: (status == 200)
                    .then_some((input as f64 * 0.27 + output as f64 * 1.1) / 1e6),
                error_code: code.map(str::to_owned),
            });
        }
    }
    store.flush().unwrap();
}

/// The CSRF token embedded in the page.
async fn csrf(link: &Link) -> String {
    let page = reqwest::get(link.dashboard())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page
        .find("name=\"aimux-csrf\" content=\"")
        .expect("the page embeds a CSRF token")
        + "name=\"aimux-csrf\" content=\"".len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].to_owned()
}

/// Where screenshots go: `target/dashboard/`.
fn shots_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("dashboard");
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A real headless Chromium loads the dashboard, reads the link, flips web search, switches the
/// Codex default to aimux, picks a default model, updates the catalog and switches back; the
/// TOML files say so, and config.toml ends byte-identical to the user's.
#[tokio::test(flavor = "multi_thread")]
async fn browser_flips_switches_and_picks_a_model() {
    let chromium = chromium_bin();
    let modules = playwright_modules();
    let link = Link::start(None, true);
    link.traffic(None).await;
    link.wait_for_requests(5 + 38, None).await;
    let aimux_config_before = link.read("aimux/config.toml");

    let shots = shots_dir();
    let _ = fs::remove_file(shots.join("dashboard.png"));
    let result = run_browser(&link, &chromium, &modules, &[]);
    assert_eq!(
        result["steps"],
        json!([
            "loaded",
            "data shown",
            "websearch on",
            "desktop on",
            "model picked",
            "catalog updated",
            "chart metrics",
            "screenshot",
            "desktop off"
        ])
    );
    let shot = shots.join("dashboard.png");
    assert!(
        fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "{}",
        shot.display()
    );
    eprintln!("dashboard screenshot: {}", shot.display());

    // Web search: aimux's config gained `[websearch] enabled = true`, nothing else changed.
    let aimux_config = link.read("aimux/config.toml");
    assert_eq!(
        aimux_config,
        format!("{aimux_config_before}\n[websearch]\nenabled = true\n"),
        "aimux config"
    );
    // The profile (written by the model pick, as `aimux setup --model a/m2` does) has the model
    // and web search.
    let profile = link.read("codex-home/aimux.config.toml");
    assert!(profile.contains("model = \"a/m2\""), "{profile}");
    assert!(profile.contains("web_search = \"live\""), "{profile}");
    assert!(profile.contains("model_provider = \"aimux\""), "{profile}");
    // Desktop mode was on while the model was picked: config.toml said a/m2 then (its last backup,
    // taken by `desktop off`, shows it) ...
    let backups = link.path("aimux/backups");
    let mut desktop_backups: Vec<PathBuf> = fs::read_dir(&backups)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("codex-config.toml."))
        })
        .collect();
    desktop_backups.sort();
    let last = fs::read_to_string(desktop_backups.last().expect("desktop backups")).unwrap();
    assert!(
        last.contains("model = \"a/m2\"   # my usual model")
            && last.contains("model_provider = \"aimux\""),
        "config.toml while desktop mode was on:\n{last}"
    );
    // ... and switching back to native restored the user's bytes.
    assert_eq!(link.read("codex-home/config.toml"), BASE_CONFIG);
    assert!(!link.path("aimux/desktop-state.json").exists());
    // "Update models" wrote the catalog, with both providers' models.
    let catalog: Value = serde_json::from_str(&link.read("codex-home/aimux-catalog.json")).unwrap();
    let slugs: Vec<&str> = catalog["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["slug"].as_str())
        .collect();
    for want in ["fast", "a/m1", "a/m2", "b/x1"] {
        assert!(slugs.contains(&want), "{slugs:?}");
    }
}

/// Runs tests/browser/dashboard.mjs against the link; panics unless it succeeded with no
/// console error, failed request or request leaving the page's origin.
fn run_browser(link: &Link, chromium: &Path, modules: &Path, envs: &[(&str, &str)]) -> Value {
    let profile_dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("node");
    cmd.arg(repo_root().join("tests/browser/dashboard.mjs"))
        .env("NODE_PATH", modules)
        .env("DASH_URL", link.dashboard())
        .env("CHROMIUM", chromium)
        .env("USER_DATA_DIR", profile_dir.path())
        .env("SHOTS_DIR", shots_dir())
        .env("MODEL", "a/m2")
        .envs(envs.iter().copied());
    let out = run_with_timeout(cmd, Duration::from_secs(240), &link.path("."));
    let result: Value = out
        .stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("the browser script printed no result:\n{}", out.dump()));
    assert!(
        out.success() && result["ok"] == true,
        "browser run failed:\n{}\n--- bridge ---\n{}",
        serde_json::to_string_pretty(&result).unwrap(),
        link.bridge.stderr()
    );
    assert_eq!(
        result["problems"],
        json!([]),
        "console errors, failed or external requests: {result}"
    );
    result
}

/// With a bridge token, the page asks for it (a wrong one is refused), then works, and keeps
/// the session across a reload; the cookie is invisible to scripts.
#[tokio::test(flavor = "multi_thread")]
async fn browser_signs_in_with_the_bridge_token() {
    let chromium = chromium_bin();
    let modules = playwright_modules();
    let link = Link::start(Some(TOKEN), true);
    link.traffic(Some(TOKEN)).await;
    let result = run_browser(&link, &chromium, &modules, &[("LOGIN_TOKEN", TOKEN)]);
    assert_eq!(
        result["steps"],
        json!([
            "loaded",
            "signed in",
            "data shown",
            "websearch on",
            "session kept"
        ])
    );
    assert!(
        link.read("aimux/config.toml")
            .ends_with("\n[websearch]\nenabled = true\n")
    );
}

/// A POST to a dashboard route with the given headers.
async fn post(link: &Link, route: &str, headers: &[(&str, String)], body: &str) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/{route}", link.dashboard()))
        .body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// Cross-site simple POSTs, rebinding (a foreign Host), requests without or with a stale CSRF
/// token: every one refused, with no byte changed on disk. The same request done right works.
#[tokio::test(flavor = "multi_thread")]
async fn cross_site_rebinding_and_csrf_less_requests_change_nothing() {
    let link = Link::start(None, false);
    let token = csrf(&link).await;
    let own = link.bridge.url.clone();
    let host = own.trim_start_matches("http://").to_owned();
    let evil_host = format!("evil.example:{}", link.bridge.port);
    let before = link.snapshot();
    assert!(!before.is_empty());

    let json_ct = ("content-type", "application/json".to_owned());
    let good_csrf = ("x-aimux-csrf", token.clone());
    let same_origin = ("origin", own.clone());
    type Attack = (&'static str, Vec<(&'static str, String)>, &'static str, u16);
    let attacks: Vec<Attack> = vec![
        // What any web page can send without a preflight: text/plain, cross-origin.
        (
            "websearch",
            vec![
                ("origin", "http://evil.example".into()),
                ("content-type", "text/plain;charset=UTF-8".into()),
            ],
            r#"{"on": true}"#,
            403,
        ),
        (
            "desktop",
            vec![
                ("origin", "http://evil.example".into()),
                ("content-type", "application/x-www-form-urlencoded".into()),
            ],
            "on=true",
            403,
        ),
        // Even with the token somehow known, a foreign Origin is refused.
        (
            "websearch",
            vec![
                ("origin", "http://evil.example".into()),
                json_ct.clone(),
                good_csrf.clone(),
            ],
            r#"{"on": true}"#,
            403,
        ),
        (
            "model",
            vec![
                ("origin", "null".into()),
                json_ct.clone(),
                good_csrf.clone(),
            ],
            r#"{"model": "a/m2"}"#,
            403,
        ),
        // Same origin, but text/plain.
        (
            "websearch",
            vec![
                same_origin.clone(),
                ("content-type", "text/plain".into()),
                good_csrf.clone(),
            ],
            r#"{"on": true}"#,
            415,
        ),
        // DNS rebinding: the attacker's name resolves to 127.0.0.1, so Host and Origin agree.
        (
            "websearch",
            vec![
                ("host", evil_host.clone()),
                ("origin", format!("http://{evil_host}")),
                json_ct.clone(),
                good_csrf.clone(),
            ],
            r#"{"on": true}"#,
            403,
        ),
        (
            "desktop",
            vec![
                ("host", evil_host.clone()),
                ("origin", format!("http://{evil_host}")),
                json_ct.clone(),
                good_csrf.clone(),
            ],
            r#"{"on": true}"#,
            403,
        ),
        // No CSRF token, a stale one, an empty one.
        (
            "websearch",
            vec![same_origin.clone(), json_ct.clone()],
            r#"{"on": true}"#,
            403,
        ),
        (
            "desktop",
            vec![
                same_origin.clone(),
                json_ct.clone(),
                ("x-aimux-csrf", "0".repeat(64)),
            ],
            r#"{"on": true}"#,
            403,
        ),
        (
            "catalog",
            vec![
                same_origin.clone(),
                json_ct.clone(),
                ("x-aimux-csrf", String::new()),
            ],
            "{}",
            403,
        ),
        // No Origin at all (not a browser page of ours).
        (
            "model",
            vec![json_ct.clone(), good_csrf.clone()],
            r#"{"model": "a/m2"}"#,
            403,
        ),
        // A browser that says the request is cross-site.
        (
            "websearch",
            vec![
                same_origin.clone(),
                json_ct.clone(),
                good_csrf.clone(),
                ("sec-fetch-site", "cross-site".into()),
            ],
            r#"{"on": true}"#,
            403,
        ),
    ];
    for (route, headers, body, want) in &attacks {
        let (status, text) = post(&link, route, headers, body).await;
        assert_eq!(status, *want, "{route} {headers:?}: {text}");
        assert!(text.contains("\"error\""), "{text}");
        if headers.iter().any(|(k, _)| *k == "host") {
            assert!(text.contains("forbidden_host"), "{text}");
        }
        assert_eq!(
            link.snapshot(),
            before,
            "{route} {headers:?} changed a file on disk"
        );
    }

    // Rebinding can neither read the page (and its CSRF token) nor the API.
    for path in ["", "/api/settings", "/api/usage", "/api/link"] {
        let resp = reqwest::Client::new()
            .get(format!("{}{path}", link.dashboard()))
            .header("host", &evil_host)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            403,
            "GET /dashboard{path} with a foreign Host"
        );
        let text = resp.text().await.unwrap();
        assert!(!text.contains(&token), "{text}");
    }
    // No CORS grant for anyone.
    let resp = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/websearch", link.dashboard()),
        )
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    assert_eq!(link.snapshot(), before);

    // The same change done right goes through (so the refusals above were the checks).
    let (status, text) = post(
        &link,
        "websearch",
        &[
            ("origin", own.clone()),
            ("host", host.clone()),
            json_ct.clone(),
            good_csrf.clone(),
        ],
        r#"{"on": true}"#,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        link.read("aimux/config.toml")
            .ends_with("\n[websearch]\nenabled = true\n")
    );
}

/// With a bridge token: the page asks for it once and gets an HttpOnly, SameSite=Strict cookie
/// for /dashboard only; /v1 does not take that cookie; nothing the page is sent holds a secret.
#[tokio::test(flavor = "multi_thread")]
async fn a_bridge_token_means_a_login_cookie_for_the_dashboard_only() {
    let link = Link::start(Some(TOKEN), false);
    link.traffic(Some(TOKEN)).await;
    let client = reqwest::Client::new();
    let url = link.dashboard();
    let token = csrf(&link).await;
    let write_headers = |extra: Option<&str>| {
        let mut h = vec![
            ("origin", link.bridge.url.clone()),
            ("content-type", "application/json".to_owned()),
            ("x-aimux-csrf", token.clone()),
        ];
        if let Some(c) = extra {
            h.push(("cookie", c.to_owned()));
        }
        h
    };

    let session: Value = client
        .get(format!("{url}/api/session"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        session,
        json!({"auth_required": true, "authenticated": false})
    );
    for path in ["settings", "usage", "recent", "link", "models"] {
        let resp = client
            .get(format!("{url}/api/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{path} without signing in");
    }
    let before = link.snapshot();
    let (status, _) = post(&link, "websearch", &write_headers(None), r#"{"on": true}"#).await;
    assert_eq!(status, 401);
    let (status, _) = post(
        &link,
        "login",
        &write_headers(None),
        r#"{"token": "not-the-token"}"#,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &link,
        "login",
        &[
            ("origin", link.bridge.url.clone()),
            ("content-type", "application/json".into()),
        ],
        &json!({"token": TOKEN}).to_string(),
    )
    .await;
    assert_eq!(status, 403, "login needs the CSRF token too");
    assert_eq!(link.snapshot(), before);

    let mut req = client
        .post(format!("{url}/api/login"))
        .body(json!({"token": TOKEN}).to_string());
    for (k, v) in write_headers(None) {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    for part in [
        "aimux_dashboard=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/dashboard",
    ] {
        assert!(set_cookie.contains(part), "{set_cookie}");
    }
    assert!(!set_cookie.contains(TOKEN), "the cookie is not the token");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    // The cookie works for the dashboard ...
    let session: Value = client
        .get(format!("{url}/api/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["authenticated"], true);
    link.wait_for_requests(5, Some(&cookie)).await;
    // ... and nowhere else: /v1 wants the bearer token.
    for path in ["/v1/models", "/v1/aimux/catalog"] {
        let resp = client
            .get(format!("{}{path}", link.bridge.url))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{path} with only the dashboard cookie");
    }

    // Nothing the page is sent holds a secret: the page, its assets, every API answer.
    let mut seen = String::new();
    for path in [
        "",
        "/assets/app.js",
        "/assets/app.css",
        "/api/session",
        "/api/link",
        "/api/settings",
        "/api/models",
        "/api/usage?days=7",
        "/api/recent?limit=100",
    ] {
        let resp = client
            .get(format!("{url}{path}"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        seen.push_str(&format!("{:?}\n", resp.headers()));
        seen.push_str(&resp.text().await.unwrap());
    }
    // The switches' answers too (desktop on writes the token into config.toml's headers).
    for (route, body) in [
        ("websearch", r#"{"on": true}"#),
        ("desktop", r#"{"on": true}"#),
        ("model", r#"{"model": "a/m2"}"#),
        ("catalog", "{}"),
        ("desktop", r#"{"on": false}"#),
    ] {
        let (status, text) = post(&link, route, &write_headers(Some(&cookie)), body).await;
        assert_eq!(status, 200, "{route}: {text}");
        seen.push_str(&text);
    }
    let settings = client
        .get(format!("{url}/api/settings"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    seen.push_str(&settings);
    for secret in [TOKEN, SECRET, MOCK_KEY] {
        assert!(!seen.contains(secret), "{secret} reached the page:\n{seen}");
    }
    assert!(seen.contains("a/m2"), "{seen}");
    let headers = client.get(&url).send().await.unwrap();
    let csp = headers.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    let _ = &link.proxy;
}

/// The switches on a config file broken after the link started: a 400 naming the file, line and
/// column, and no byte changed on disk (aimux's config for web search, Codex's for desktop).
#[tokio::test(flavor = "multi_thread")]
async fn switches_on_a_broken_config_name_the_line_and_change_nothing() {
    let link = Link::start(None, false);
    let token = csrf(&link).await;
    let headers = [
        ("origin", link.bridge.url.clone()),
        ("content-type", "application/json".to_owned()),
        ("x-aimux-csrf", token),
    ];
    for (route, rel, broken, at) in [
        (
            "websearch",
            "aimux/config.toml",
            "[websearch\nenabled = true\n",
            "line 1, column 11",
        ),
        (
            "desktop",
            "codex-home/config.toml",
            "model = \"gpt-5.5\n",
            "line 1, column 17",
        ),
    ] {
        let path = link.path(rel);
        let good = fs::read(&path).unwrap();
        fs::write(&path, broken).unwrap();
        let before = link.snapshot();
        let (status, text) = post(&link, route, &headers, r#"{"on": true}"#).await;
        assert_eq!(status, 400, "{route}: {text}");
        let want = format!("{}, {at}: ", path.display());
        assert!(text.contains(&want), "{route}: want {want:?} in {text}");
        assert_eq!(link.snapshot(), before, "{route} changed a file on disk");
        fs::write(&path, good).unwrap();
    }
}
