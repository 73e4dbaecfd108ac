//! One module per subcommand: thin orchestration over the domain modules.

pub mod bridge;
pub mod completions;
pub mod daemon;
pub mod desktop;
pub mod doctor;
pub mod env;
pub mod gen_catalog;
pub mod logs;
pub mod models;
pub mod proxy;
pub mod setup;
pub mod start;
pub mod status;
pub mod stop;
pub mod up;
pub mod usage;
pub mod websearch;

use tokio::net::TcpListener;

use crate::error::user_error;
use crate::settings::Setting;

/// Refuses a non-loopback address without a token, then binds; a busy port is the user's to fix.
pub(crate) async fn bind_server(
    host: &Setting<String>,
    port: &Setting<u16>,
    has_token: bool,
) -> anyhow::Result<TcpListener> {
    use anyhow::Context;
    let h = host.value.as_str();
    if !bridge::is_loopback(h) && !has_token {
        return Err(user_error(format!(
            "refusing to bind {h} (from {}) without a token: anyone who can reach it could spend \
             your model credits.\nhint: set AIMUX_TOKEN (or --token) or bind 127.0.0.1",
            host.source
        )));
    }
    let p = port.value;
    match TcpListener::bind((h, p)).await {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(user_error(format!(
            "{h}:{p} is already in use (port from {}).\nhint: pass --port N, or --port 0 for a free one",
            port.source
        ))),
        Err(e) => Err(e).with_context(|| format!("binding {h}:{p}")),
    }
}
