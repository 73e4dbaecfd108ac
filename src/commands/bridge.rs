//! `aimux bridge`: bind, announce, serve until SIGINT/SIGTERM.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use crate::bridge::server::WebSearchMode;
use crate::bridge::{BridgeState, app, normalize_upstream};
use crate::dashboard::DashboardCtx;
use crate::error::user_error;
use crate::server_info::ServerInfo;
use crate::settings::{BridgeSettings, Env};

pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether the upstream is on this machine (then it may be the aimux proxy, which wants the
/// internal secret; a remote upstream never sees it).
pub fn upstream_is_local(upstream: &str) -> bool {
    reqwest::Url::parse(upstream)
        .ok()
        .and_then(|u| u.host_str().map(is_loopback))
        .unwrap_or(false)
}

pub async fn run(settings: BridgeSettings, env: &Env, home: &Path) -> anyhow::Result<()> {
    let host = settings.host.value.as_str();
    let upstream = normalize_upstream(&settings.upstream.value)
        .map_err(|e| user_error(format!("{e} (from {})", settings.upstream.source)))?;
    let token = settings.token.map(|t| t.value);
    let has_token = token.is_some();
    let dashboard = DashboardCtx::new(
        env.clone(),
        home.to_owned(),
        upstream.clone(),
        token.clone(),
    );
    let mut state = BridgeState::new(
        &upstream,
        token,
        settings.heartbeat,
        settings.internal_secret.clone(),
    )?;
    // Searches run in the aimux proxy, which needs the internal secret: only then is it on.
    if let (Some(max_rounds), true) = (
        settings.web_search_rounds,
        settings.internal_secret.is_some(),
    ) {
        state = state.with_web_search(WebSearchMode { max_rounds });
    }
    state = state.with_dashboard(dashboard);
    state = state.with_max_body(settings.max_body);
    state = state.with_timeouts(settings.first_byte_timeout, settings.idle_timeout);
    let state = Arc::new(state);

    let listener = super::bind_server(&settings.host, &settings.port, has_token).await?;
    // Listen for signals before the server-info file says we are ready.
    let shutdown = crate::signals::shutdown();
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    ServerInfo::announce(addr, settings.server_info.as_deref())?;
    tracing::info!("aimux bridge listening on {url} → upstream {upstream}");
    eprintln!("aimux bridge: {url}/v1 → {upstream}");
    crate::serve::serve(
        listener,
        app(state, is_loopback(host)),
        shutdown,
        crate::serve::ServeOptions::new(settings.header_timeout),
    )
    .await
    .context("serving the bridge")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_hosts() {
        for h in ["127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["0.0.0.0", "192.168.1.4", "example.com", "::"] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
