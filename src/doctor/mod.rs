//! `aimux doctor`: read-only checks of the whole link, Codex → profile → bridge → proxy →
//! providers, each a row `{id, status, summary, details, hint}`. The same rows are rendered for
//! people ([`render::human`]) or as JSON ([`render::json`]).
//!
//! * [`inputs`]: what is read once from disk and the environment (config, state file, profile).
//! * [`local`]: checks that only read files: Codex's home, config.toml, the profile, the
//!   catalog, desktop and websearch state, aimux's config and credentials file.
//! * [`link`]: the running bridge and proxy (loopback `/health`, the models through the bridge).
//! * [`providers`]: each provider's key and endpoint (remote ones skipped with `--offline`), the
//!   codex backend's login, the Codex CLI's version.
//! * [`roundtrip`]: one real streamed request through bridge → proxy → model (not `--offline`).
//! * [`render`]: pure: rows → text or JSON.
//!
//! Doctor writes no file (the only programs it runs are `codex --version` and, when the codex
//! backend is on, `codex login status`), and no secret (API key, token, internal secret) ever
//! reaches a row.
//! The proxy is asked only for what it serves without a credential (`/health`); everything that
//! needs the bridge ↔ proxy secret goes through the bridge, which holds it.

pub mod inputs;
pub mod link;
pub mod local;
pub mod providers;
pub mod render;
pub mod roundtrip;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use inputs::Inputs;

/// A row's verdict. Order matters: the worst row decides the report's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Works, but something is off or could not be checked.
    Warn,
    /// Broken: `codex -p aimux` (or another client) will not work until it is fixed.
    Fail,
}

/// One check's result. Summaries are one line; details are extra lines shown under a problem;
/// the hint is the one next step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: String,
    pub status: Status,
    pub summary: String,
    pub details: Vec<String>,
    pub hint: Option<String>,
}

impl Check {
    pub fn new(id: impl Into<String>, status: Status, summary: impl Into<String>) -> Self {
        Check {
            id: id.into(),
            status,
            summary: summary.into(),
            details: Vec::new(),
            hint: None,
        }
    }

    pub fn ok(id: impl Into<String>, summary: impl Into<String>) -> Self {
        Self::new(id, Status::Ok, summary)
    }

    pub fn warn(id: impl Into<String>, summary: impl Into<String>) -> Self {
        Self::new(id, Status::Warn, summary)
    }

    pub fn fail(id: impl Into<String>, summary: impl Into<String>) -> Self {
        Self::new(id, Status::Fail, summary)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.details.push(detail.into());
        self
    }
}

/// The JSON schema's version; bumped only when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// Every row, in display order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub aimux_version: String,
    /// The worst row's status.
    pub status: Status,
    /// `--offline`: no round trip, no probes of non-loopback providers.
    pub offline: bool,
    pub counts: Counts,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub ok: usize,
    pub warn: usize,
    pub fail: usize,
}

impl Report {
    pub fn new(checks: Vec<Check>, offline: bool) -> Self {
        let mut counts = Counts::default();
        for c in &checks {
            match c.status {
                Status::Ok => counts.ok += 1,
                Status::Warn => counts.warn += 1,
                Status::Fail => counts.fail += 1,
            }
        }
        Report {
            schema_version: SCHEMA_VERSION,
            aimux_version: env!("CARGO_PKG_VERSION").to_owned(),
            status: checks.iter().map(|c| c.status).max().unwrap_or(Status::Ok),
            offline,
            counts,
            checks,
        }
    }

    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// Runs every check (those that wait on the network concurrently) and returns the rows in
/// display order: Codex, aimux, the link, providers.
pub async fn diagnose(inputs: &Inputs) -> Report {
    let (links, cli, roundtrip) = tokio::join!(
        async {
            let link = link::probe(inputs).await;
            let (providers, backend) = tokio::join!(
                providers::providers(inputs, &link),
                providers::codex_backend(inputs, &link)
            );
            (link, providers, backend)
        },
        providers::codex_cli(inputs),
        async {
            if inputs.offline {
                None
            } else {
                Some(roundtrip::roundtrip(inputs).await)
            }
        },
    );
    let (link, providers, backend) = links;
    let mut checks = vec![
        cli,
        local::codex_home(inputs),
        local::codex_config(inputs),
        local::profile(inputs, &link),
        local::catalog(inputs, &link),
        local::desktop(inputs, &link),
        local::aimux_config(inputs),
        local::credentials(inputs),
        local::websearch(inputs),
        link::bridge_check(&link),
        link::proxy_check(inputs, &link),
    ];
    checks.extend(roundtrip);
    checks.extend(providers);
    checks.push(backend);
    Report::new(checks, inputs.offline)
}
