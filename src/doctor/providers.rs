//! Providers: each one's key (present, never shown) and endpoint (`GET {base_url}/models`,
//! with the key, so a rejected key shows), the codex backend's login, and the Codex CLI itself.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use super::inputs::Inputs;
use super::link::{Link, RESTART, is_loopback_url};
use super::local::read_credentials;
use super::{Check, Status};
use crate::proxy::registry::{Detected, Outbound, Provider, ProviderKind, Registry};
use crate::supervisor::health::{self, Health};

/// Codex CLI versions aimux is tested with (`major.minor`).
pub const SUPPORTED_CODEX: (u64, u64) = (0, 169);
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
const PROCESS_TIMEOUT: Duration = Duration::from_secs(10);

/// A provider endpoint's answer to `GET {base_url}/models`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Status(u16),
    Unreachable(String),
    /// Not probed (`--offline`, or no key to probe with).
    Skipped(&'static str),
}

/// `GET /models` with what every request to the provider carries (its key and headers).
async fn probe_models(client: &reqwest::Client, outbound: &Outbound) -> Probe {
    let req = client
        .get(outbound.models_url.clone())
        .headers(outbound.headers.clone())
        .timeout(PROBE_TIMEOUT);
    match req.send().await {
        Ok(resp) => Probe::Status(resp.status().as_u16()),
        Err(e) if e.is_timeout() => {
            Probe::Unreachable(format!("no answer within {} s", PROBE_TIMEOUT.as_secs()))
        }
        Err(e) if e.is_connect() => Probe::Unreachable("connection refused".to_owned()),
        Err(e) => {
            let mut cause = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                cause = s.to_string();
                source = s.source();
            }
            Probe::Unreachable(cause)
        }
    }
}

/// The row of one provider from where its key comes from and what its endpoint said.
pub fn provider_verdict(
    name: &str,
    base_url: &str,
    key: Option<&str>,
    probe: &Probe,
    in_proxy: Option<bool>,
) -> Check {
    let id = format!("provider.{name}");
    let key_note = key.unwrap_or("no key needed");
    let mut check = match probe {
        Probe::Skipped(why) => Check::ok(&id, format!("{key_note}; {base_url} not probed ({why})")),
        Probe::Status(s) if (200..300).contains(s) => {
            Check::ok(&id, format!("{key_note}; {base_url} answers (HTTP {s})"))
        }
        Probe::Status(s @ (401 | 403)) => Check::fail(
            &id,
            format!("{base_url} rejects the key ({key_note}): HTTP {s}"),
        )
        .hint("check the key: a new one goes in its variable or in credentials.toml"),
        Probe::Status(s @ (404 | 405)) => Check::ok(
            &id,
            format!("{key_note}; {base_url} answers (HTTP {s} on /models)"),
        ),
        Probe::Status(s @ 429) => Check::warn(
            &id,
            format!("{key_note}; {base_url} answers, but rate-limits (HTTP {s})"),
        )
        .hint("wait, or check the account's quota"),
        Probe::Status(s) => Check::warn(
            &id,
            format!("{key_note}; {base_url} answers with HTTP {s} on /models"),
        )
        .hint("the provider may be having trouble; aimux falls back to the next target of a route"),
        Probe::Unreachable(why) => Check::fail(&id, format!("{base_url} is unreachable: {why}"))
            .hint(if is_loopback_url(base_url) {
                "is that server running? Check base_url in aimux's config"
            } else {
                "check the network (and HTTPS_PROXY), or base_url in aimux's config"
            }),
    };
    if check.status == Status::Ok && in_proxy == Some(false) {
        check = Check::warn(
            &id,
            format!(
                "{}; the running proxy does not route to it (it started before)",
                check.summary
            ),
        )
        .hint(RESTART);
    }
    check
}

fn key_source(p: &Provider, inp: &Inputs) -> Option<String> {
    let ProviderKind::Http {
        key, key_source, ..
    } = &p.kind
    else {
        return None;
    };
    key.as_ref()?;
    Some(match key_source {
        Some(var) if inp.env.get(var).is_some() => format!("key from {var}"),
        _ => "key from credentials.toml".to_owned(),
    })
}

/// A row still being checked.
type RowFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Check> + Send + 'a>>;

/// One row per provider (the codex backend has its own): credential present, endpoint
/// reachable. Providers the running proxy found by itself (local servers) are listed too.
pub async fn providers(inp: &Inputs, link: &Link) -> Vec<Check> {
    if link.external_proxy {
        return Vec::new();
    }
    let (creds, _) = read_credentials(&inp.home);
    let Ok(registry) = Registry::build(&inp.file, &inp.env, &creds, Detected::default()) else {
        return Vec::new();
    };
    let in_proxy: Option<Vec<(String, String)>> =
        link.proxy.as_ref().and_then(|p| match &p.health {
            Health::Ok(body) if body["service"] == "aimux-proxy" => Some(
                body["providers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| {
                        Some((
                            v["name"].as_str()?.to_owned(),
                            v["origin"].as_str().unwrap_or("").to_owned(),
                        ))
                    })
                    .collect(),
            ),
            _ => None,
        });
    let client = crate::upstream::client();
    let mut rows: Vec<(String, RowFuture<'_>)> = Vec::new();
    for p in registry.providers().filter(|p| !p.is_codex()) {
        let ProviderKind::Http {
            base_url,
            key,
            key_source: var,
            key_required,
            outbound,
            ..
        } = &p.kind
        else {
            continue;
        };
        let listed = in_proxy
            .as_ref()
            .map(|list| list.iter().any(|(n, _)| n == &p.name));
        let id = format!("provider.{}", p.name);
        if key.is_none() && *key_required {
            let var = var.clone().unwrap_or_else(|| "its key variable".to_owned());
            let check = Check::fail(
                &id,
                format!(
                    "no API key: {var} is not set and credentials.toml has no [{}]",
                    p.name
                ),
            )
            .hint(format!(
                "export {var}=... (or add [{}] api_key = \"...\" to {}, mode 600), then {RESTART}",
                p.name,
                crate::supervisor::tilde(&inp.home.join("credentials.toml"))
            ));
            rows.push((p.name.clone(), Box::pin(async move { check })));
            continue;
        }
        if let Some(problem) = &outbound.problem {
            let check =
                Check::fail(&id, problem.clone()).hint(format!("correct it, then {RESTART}"));
            rows.push((p.name.clone(), Box::pin(async move { check })));
            continue;
        }
        let note = key_source(p, inp);
        let client = client.clone();
        let offline = inp.offline && !is_loopback_url(base_url);
        let name = p.name.clone();
        rows.push((
            p.name.clone(),
            Box::pin(async move {
                let probe = if offline {
                    Probe::Skipped("--offline")
                } else {
                    probe_models(&client, outbound).await
                };
                provider_verdict(&name, base_url, note.as_deref(), &probe, listed)
            }),
        ));
    }
    // What the running proxy routes to beyond the config: detected local servers, or presets
    // whose key is in the environment `aimux start` ran in (not this shell's).
    for (name, origin) in in_proxy.iter().flatten() {
        if name == "codex" || registry.get(name).is_some() {
            continue;
        }
        let what = match origin.as_str() {
            "detected" => "a local server the running proxy found",
            _ => "enabled in the running proxy with a key this shell does not have",
        };
        let check = Check::ok(format!("provider.{name}"), format!("{what}; not probed"));
        rows.push((name.clone(), Box::pin(async move { check })));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    futures_util::future::join_all(rows.into_iter().map(|(_, f)| f)).await
}

/// Runs `bin args` with a deadline: (exit success, stdout + stderr).
async fn run_quietly(
    bin: &std::path::Path,
    args: &[&str],
    codex_home: Option<&std::path::Path>,
) -> Result<(bool, String), String> {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(h) = codex_home {
        cmd.env("CODEX_HOME", h);
    }
    match tokio::time::timeout(PROCESS_TIMEOUT, cmd.output()).await {
        Err(_) => Err(format!(
            "`{} {}` did not finish within {} s",
            bin.display(),
            args.join(" "),
            PROCESS_TIMEOUT.as_secs()
        )),
        Ok(Err(e)) => Err(format!("cannot run {}: {e}", bin.display())),
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            Ok((out.status.success(), text))
        }
    }
}

/// The `codex` binary: `[codex] bin`, else `codex` on PATH.
fn codex_bin(inp: &Inputs) -> Result<PathBuf, String> {
    if let Some(bin) = &inp.file.codex.bin {
        return Ok(bin.clone());
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    which::which_in("codex", inp.env.get("PATH"), cwd)
        .map_err(|_| "`codex` is not on PATH".to_owned())
}

/// `codex-cli 0.169.0` → (0, 169, 0).
pub fn parse_codex_version(out: &str) -> Option<(u64, u64, u64)> {
    let word = out
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with("WARNING"))?
        .split_whitespace()
        .last()?;
    let mut parts = word
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|n| n.parse::<u64>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

pub async fn codex_cli(inp: &Inputs) -> Check {
    const ID: &str = "codex.cli";
    let (major, minor) = SUPPORTED_CODEX;
    let install = format!("install it: npm install -g @openai/codex@{major}.{minor}");
    let bin = match codex_bin(inp) {
        Ok(b) => b,
        Err(e) => return Check::fail(ID, e).hint(install),
    };
    let shown = crate::supervisor::tilde(&bin);
    match run_quietly(&bin, &["--version"], None).await {
        Err(e) => Check::fail(ID, e).hint(install),
        Ok((false, out)) => Check::fail(
            ID,
            format!(
                "`{shown} --version` failed: {}",
                out.lines().last().unwrap_or("").trim()
            ),
        )
        .hint(install),
        Ok((true, out)) => match parse_codex_version(&out) {
            Some((a, b, c)) if (a, b) == SUPPORTED_CODEX => {
                Check::ok(ID, format!("codex-cli {a}.{b}.{c} ({shown})"))
            }
            Some((a, b, c)) => Check::warn(
                ID,
                format!("codex-cli {a}.{b}.{c} ({shown}): aimux is tested with {major}.{minor}.x"),
            )
            .hint(format!(
                "if something misbehaves, use the tested version: npm install -g \
                 @openai/codex@{major}.{minor}"
            )),
            None => Check::warn(
                ID,
                format!(
                    "{shown} --version printed no version: {}",
                    out.lines().next().unwrap_or("").trim()
                ),
            ),
        },
    }
}

/// The codex backend (Chat Completions over `codex exec`): is it on, and is Codex logged in.
pub async fn codex_backend(inp: &Inputs, link: &Link) -> Check {
    const ID: &str = "provider.codex";
    let c = &inp.file.codex;
    let codex_home = c.codex_home.clone().or_else(|| inp.codex_home.clone());
    let bin = codex_bin(inp);
    let logged_in_file = codex_home
        .as_ref()
        .is_some_and(|h| h.join("auth.json").exists());
    let in_proxy = link.proxy.as_ref().and_then(|p| match &p.health {
        Health::Ok(body) => health::providers_of(body).map(|v| v.iter().any(|n| n == "codex")),
        _ => None,
    });
    let configured = inp
        .file
        .providers
        .as_ref()
        .is_some_and(|p| p.contains_key("codex"));
    let off_reason = match c.enabled {
        Some(false) => Some("off ([codex] enabled = false)".to_owned()),
        Some(true) => None,
        None if configured => None,
        None if inp.file.providers.is_some() => {
            Some("off ([providers] in aimux's config does not list codex)".to_owned())
        }
        None if bin.is_err() => Some("off (the Codex CLI is not installed)".to_owned()),
        None if !logged_in_file && in_proxy != Some(true) => {
            Some("off (Codex is not logged in; `codex login` turns it on)".to_owned())
        }
        None => None,
    };
    if let Some(reason) = off_reason {
        return Check::ok(ID, reason);
    }
    let bin = match bin {
        Ok(b) => b,
        Err(e) => {
            return Check::fail(ID, format!("on, but {e}"))
                .hint("install the Codex CLI (npm install -g @openai/codex), then `codex login`");
        }
    };
    match run_quietly(&bin, &["login", "status"], codex_home.as_deref()).await {
        Err(e) => Check::fail(ID, format!("on, but {e}")),
        Ok((true, out)) => {
            let how = if out.contains("ChatGPT") {
                " with ChatGPT"
            } else if out.contains("API key") {
                " with an API key"
            } else {
                ""
            };
            Check::ok(ID, format!("on: Codex is logged in{how}"))
        }
        Ok((false, _)) => Check::fail(ID, "on, but Codex is not logged in")
            .hint("run `codex login` (the backend uses your Codex login, no API key)"),
    }
}
