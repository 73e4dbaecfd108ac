//! `aimux proxy`: build the provider registry, bind, announce, serve until SIGINT/SIGTERM.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::commands::bridge::is_loopback;
use crate::error::user_error;
use crate::proxy::backend::Backend;
use crate::proxy::codex_exec::{CodexExec, CodexExecSettings};
use crate::proxy::registry::{Credentials, Detected, Registry};
use crate::proxy::server::{ProxyOptions, ProxyState, UsageSink, app};
use crate::proxy::usage::UsageStore;
use crate::server_info::ServerInfo;
use crate::settings::{DEFAULT_BRIDGE_PORT, DEFAULT_PROXY_PORT, Env, FileConfig, ProxySettings};

/// `$AIMUX_HOME/credentials.toml`, refused when others can read it.
pub fn load_credentials(home: &Path) -> anyhow::Result<Credentials> {
    let path = home.join("credentials.toml");
    let Some(text) = crate::fsutil::read_text(&path).map_err(crate::fsutil::config_error)? else {
        return Ok(Credentials::default());
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(user_error(format!(
                "{} is readable by other users (mode {:o}); it holds API keys.\nhint: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            )));
        }
    }
    Credentials::parse(&path, &text).map_err(crate::fsutil::config_error)
}

/// `codex` is on PATH (or configured) and `$CODEX_HOME/auth.json` exists.
fn codex_ready(env: &Env, file: &FileConfig) -> bool {
    let bin = file.codex.bin.clone().unwrap_or_else(|| "codex".into());
    let on_path = which::which(&bin).is_ok();
    let codex_home = file
        .codex
        .codex_home
        .clone()
        .or_else(|| env.get("CODEX_HOME").map(Into::into))
        .or_else(|| dirs::home_dir().map(|h| h.join(".codex")));
    on_path && codex_home.is_some_and(|h| h.join("auth.json").exists())
}

fn codex_settings(file: &FileConfig, proxy_url: &str) -> CodexExecSettings {
    let c = &file.codex;
    let d = CodexExecSettings::default();
    let bridge_port = file.bridge.port.unwrap_or(DEFAULT_BRIDGE_PORT);
    CodexExecSettings {
        bin: c.bin.clone().unwrap_or(d.bin),
        codex_home: c.codex_home.clone(),
        provider: c.provider.clone().unwrap_or(d.provider),
        concurrency: c.concurrency.unwrap_or(d.concurrency).max(1),
        queue: c.queue.unwrap_or(d.queue),
        timeout: c.timeout_s.map(Duration::from_secs).unwrap_or(d.timeout),
        aimux_urls: vec![
            proxy_url.to_owned(),
            format!("http://127.0.0.1:{bridge_port}"),
            format!("http://127.0.0.1:{DEFAULT_PROXY_PORT}"),
        ],
        env: Vec::new(),
    }
}

pub async fn run(
    settings: ProxySettings,
    file: FileConfig,
    env: Env,
    home: &Path,
) -> anyhow::Result<()> {
    let host = settings.host.value.as_str();
    let creds = load_credentials(home)?;
    let detected = Detected {
        codex_ready: codex_ready(&env, &file),
    };
    let registry = Registry::build(&file, &env, &creds, detected).map_err(user_error)?;
    let secret = crate::secret::internal_secret(&env, home)?;

    let listener =
        super::bind_server(&settings.host, &settings.port, settings.token.is_some()).await?;
    // Listen for signals before the server-info file says we are ready.
    let shutdown = crate::signals::shutdown();
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");

    let codex: Option<Arc<dyn Backend>> = if registry.get("codex").is_some() {
        let exec = CodexExec::new(codex_settings(&file, &url)).map_err(user_error)?;
        Some(Arc::new(exec))
    } else {
        None
    };
    let store = match UsageStore::open(&home.join("usage.db")) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!("usage store unavailable, requests will not be recorded: {e:#}");
            None
        }
    };
    let usage: Option<UsageSink> = store.as_ref().map(|s| {
        let recorder = s.recorder();
        Arc::new(move |r| recorder.record(r)) as UsageSink
    });
    let p = &file.proxy;
    let header_timeout = crate::settings::timeout_secs(
        p.header_timeout_s,
        "proxy.header_timeout_s",
        crate::serve::HEADER_TIMEOUT,
        &home.join("config.toml"),
    )?;
    let opts = ProxyOptions {
        routes: file.routes.clone(),
        agents: file.agents.clone(),
        secret,
        token: settings.token.map(|t| t.value),
        retries: p.retries.unwrap_or(2),
        first_byte_timeout: Duration::from_secs(p.first_byte_timeout_s.unwrap_or(60)),
        connect_timeout: Duration::from_secs(p.connect_timeout_s.unwrap_or(10)),
        idle_timeout: crate::settings::timeout_secs(
            p.idle_timeout_s,
            "proxy.idle_timeout_s",
            crate::settings::DEFAULT_IDLE_TIMEOUT,
            &home.join("config.toml"),
        )?,
        codex,
        usage,
        max_body: crate::settings::max_body_bytes(p.max_body_mb),
        websearch: if file.websearch.is_enabled() {
            file.websearch.provider(&env)
        } else {
            Err("web search is off: run `aimux websearch on`".to_owned())
        },
    };
    let names: Vec<String> = registry.providers().map(|p| p.name.clone()).collect();
    let state = Arc::new(ProxyState::new(registry, opts)?);
    ServerInfo::announce(addr, settings.server_info.as_deref())?;
    eprintln!(
        "aimux proxy: {url}/v1 with {}",
        if names.is_empty() {
            "no providers yet".to_owned()
        } else {
            names.join(", ")
        }
    );
    let detect = state.clone();
    tokio::spawn(async move { detect.detect_local().await });
    crate::serve::serve(
        listener,
        app(state, is_loopback(host)),
        shutdown,
        crate::serve::ServeOptions::new(header_timeout),
    )
    .await
    .context("serving the proxy")?;
    if let Some(store) = store {
        store.flush()?;
    }
    Ok(())
}
