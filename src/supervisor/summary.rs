//! What `aimux start` says once both children are ready: the URLs, the providers and models it
//! found, whether the Codex profile exists, and the next command to run.

use std::path::{Path, PathBuf};

use console::Style;

use super::health::{self, Health};
use super::state::State;
use super::tilde;

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub pid: u32,
    pub detached: bool,
    pub bridge_url: String,
    pub proxy_url: String,
    pub external_proxy: bool,
    /// From the proxy's `/health`; `None` when it does not list them (an external proxy).
    pub providers: Option<Vec<String>>,
    pub models: Result<usize, String>,
    /// `$CODEX_HOME/aimux.config.toml`.
    pub profile: PathBuf,
    pub profile_exists: bool,
    pub logs_dir: PathBuf,
}

/// `$CODEX_HOME/aimux.config.toml` (default `~/.codex/...`).
pub fn codex_profile(env: &crate::settings::Env) -> PathBuf {
    let codex_home = env
        .get("CODEX_HOME")
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".codex")))
        .or_else(|| dirs::home_dir().map(|h| h.join(".codex")))
        .unwrap_or_else(|| PathBuf::from(".codex"));
    codex_home.join("aimux.config.toml")
}

/// Asks the running children (loopback, short timeouts).
pub async fn gather(
    state: &State,
    token: Option<&str>,
    secret: Option<&str>,
    profile: &Path,
    logs_dir: &Path,
) -> Summary {
    let client = health::client();
    let bridge_url = state.bridge.url.clone().unwrap_or_default();
    let proxy_url = state.proxy.url.clone().unwrap_or_default();
    let proxy_health = if state.proxy.external {
        None
    } else {
        Some(health::health(&client, &proxy_url, secret).await)
    };
    let models = health::count_models(&client, &bridge_url, token).await;
    Summary {
        pid: state.supervisor.pid,
        detached: state.detached,
        bridge_url,
        proxy_url,
        external_proxy: state.proxy.external,
        providers: proxy_health.as_ref().and_then(Health::providers),
        models,
        profile: profile.to_owned(),
        profile_exists: profile.exists(),
        logs_dir: logs_dir.to_owned(),
    }
}

fn v1(url: &str) -> String {
    let u = url.trim_end_matches('/');
    if u.ends_with("/v1") {
        u.to_owned()
    } else {
        format!("{u}/v1")
    }
}

pub fn render(s: &Summary, color: bool) -> String {
    let st = |style: Style| style.force_styling(color);
    let bold = st(Style::new().bold());
    let green = st(Style::new().green().bold());
    let dim = st(Style::new().dim());
    let yellow = st(Style::new().yellow());
    let mut out = String::new();
    out.push_str(&format!(
        "{} (supervisor pid {})\n",
        green.apply_to("aimux is running"),
        s.pid
    ));
    out.push_str(&format!(
        "  bridge   {}   {}\n",
        bold.apply_to(v1(&s.bridge_url)),
        dim.apply_to("point Codex and other tools here")
    ));
    let proxy_note = if s.external_proxy {
        "external ([proxy] command)".to_owned()
    } else {
        match &s.providers {
            Some(p) if p.is_empty() => format!(
                "{}",
                yellow.apply_to(
                    "no providers found: export an API key (DEEPSEEK_API_KEY, ...) or add [providers] to config.toml"
                )
            ),
            Some(p) => format!("providers: {}", p.join(", ")),
            None => "providers: unknown (no /health answer)".to_owned(),
        }
    };
    out.push_str(&format!("  proxy    {}   {proxy_note}\n", v1(&s.proxy_url)));
    match &s.models {
        Ok(n) => out.push_str(&format!("  models   {n}\n")),
        Err(e) => out.push_str(&format!(
            "  models   {}\n",
            yellow.apply_to(format!("unknown: {e}"))
        )),
    }
    if s.profile_exists {
        out.push_str(&format!(
            "  codex    profile {} is set up\n",
            tilde(&s.profile)
        ));
    } else {
        out.push_str(&format!(
            "  codex    {}\n",
            yellow.apply_to(format!("no profile yet ({})", tilde(&s.profile)))
        ));
    }
    out.push_str(&format!(
        "  logs     {}   {}\n",
        tilde(&s.logs_dir),
        dim.apply_to("aimux logs --follow")
    ));
    let next = if s.profile_exists {
        "codex -p aimux"
    } else {
        "aimux setup, then codex -p aimux"
    };
    out.push_str(&format!("next: {}\n", bold.apply_to(next)));
    if s.detached {
        out.push_str(&format!(
            "{}\n",
            dim.apply_to("aimux status shows how it is doing; aimux stop stops it.")
        ));
    } else {
        out.push_str(&format!(
            "{}\n",
            dim.apply_to("Ctrl-C stops both. One line per request follows.")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Summary {
        Summary {
            pid: 42,
            detached: false,
            bridge_url: "http://127.0.0.1:8403".into(),
            proxy_url: "http://127.0.0.1:8404".into(),
            external_proxy: false,
            providers: Some(vec!["deepseek".into(), "ollama".into()]),
            models: Ok(12),
            profile: "/nonexistent/.codex/aimux.config.toml".into(),
            profile_exists: true,
            logs_dir: "/nonexistent/aimux/logs".into(),
        }
    }

    #[test]
    fn renders_exact_text() {
        let want = "\
aimux is running (supervisor pid 42)
  bridge   http://127.0.0.1:8403/v1   point Codex and other tools here
  proxy    http://127.0.0.1:8404/v1   providers: deepseek, ollama
  models   12
  codex    profile /nonexistent/.codex/aimux.config.toml is set up
  logs     /nonexistent/aimux/logs   aimux logs --follow
next: codex -p aimux
Ctrl-C stops both. One line per request follows.
";
        assert_eq!(render(&sample(), false), want);
    }

    #[test]
    fn render_variants() {
        let cases: Vec<(Summary, &[&str])> = vec![
            (
                Summary {
                    providers: Some(vec![]),
                    models: Err("HTTP 502: boom".into()),
                    profile_exists: false,
                    detached: true,
                    ..sample()
                },
                &[
                    "no providers found",
                    "models   unknown: HTTP 502: boom",
                    "no profile yet (/nonexistent/.codex/aimux.config.toml)",
                    "next: aimux setup, then codex -p aimux",
                    "aimux stop stops it",
                ],
            ),
            (
                Summary {
                    external_proxy: true,
                    providers: None,
                    proxy_url: "http://127.0.0.1:4000/v1".into(),
                    ..sample()
                },
                &["proxy    http://127.0.0.1:4000/v1   external ([proxy] command)"],
            ),
        ];
        for (s, wants) in cases {
            let text = render(&s, false);
            for want in wants {
                assert!(text.contains(want), "{want:?} not in\n{text}");
            }
        }
        assert!(render(&sample(), true).contains("\u{1b}["));
    }
}
