//! The `--server-info FILE` handshake: one JSON line `{"pid","port","url"}`, written atomically
//! once the server accepts connections, so a supervisor or test waits for it instead of sleeping.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub pid: u32,
    pub port: u16,
    pub url: String,
}

impl ServerInfo {
    /// Writes this process's info for a server at `addr` to `path`, when one was asked for.
    pub fn announce(addr: std::net::SocketAddr, path: Option<&Path>) -> anyhow::Result<()> {
        let Some(path) = path else { return Ok(()) };
        ServerInfo {
            pid: std::process::id(),
            port: addr.port(),
            url: format!("http://{addr}"),
        }
        .write(path)
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut line = serde_json::to_string(self)?;
        line.push('\n');
        crate::fsutil::write_atomic(path, line.as_bytes(), crate::fsutil::Perms::Keep)
            .with_context(|| format!("writing server info to {}", path.display()))
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading server info {}", path.display()))?;
        serde_json::from_str(text.trim())
            .with_context(|| format!("parsing server info {}", path.display()))
    }
}
