//! `aimux up [--model SLUG] [--offline]`: the one-shot path. Start the link in the background
//! (or reuse the running one), write the Codex profile and catalog (`aimux setup`), check
//! everything (`aimux doctor`), and end with the one command to use it. Running it again changes
//! nothing and says so. Everything it prints is for people, so it all goes to stderr.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;

use super::doctor::{color_for, diagnose, failed};
use super::gen_catalog::bridge_base_url;
use super::setup::{codex_home, configure};
use crate::cli::{BridgeArgs, SetupArgs, UpArgs};
use crate::codex_config::profile::{PROFILE, catalog_path, instructions_path, profile_path};
use crate::doctor::inputs::running_supervisor;
use crate::doctor::{Status, render};
use crate::error::user_error;
use crate::settings::{BridgeSettings, Env, FileConfig};
use crate::supervisor::health::{self, Health};

/// How the link came to be running.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Started {
    /// `aimux start --detach` started it now.
    Now,
    /// It was running already.
    Reused,
}

/// The files `setup` writes, to tell afterwards whether it changed any.
fn snapshot(files: &[PathBuf]) -> Vec<Option<Vec<u8>>> {
    files.iter().map(|f| std::fs::read(f).ok()).collect()
}

fn spinner(message: &'static str) -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(message);
        pb.enable_steady_tick(Duration::from_millis(90));
        pb
    })
}

/// Reuses the running link, or starts one with `aimux start --detach` (its own process, so its
/// start-up summary stays out of `up`'s output; its errors are passed on as they are).
async fn ensure_link(
    env: &Env,
    file: &FileConfig,
    config_path: &Path,
    home: &Path,
    verbose: u8,
) -> anyhow::Result<Started> {
    if let Some(state) = running_supervisor(home) {
        eprintln!(
            "aimux up: the link is already running (supervisor pid {}); reusing it",
            state.supervisor.pid
        );
        return Ok(Started::Reused);
    }
    // A bridge started by hand (`aimux bridge`) on the configured port is reused too.
    let bridge = BridgeSettings::resolve(BridgeArgs::default(), env, file, config_path)?;
    if let Ok(base) = bridge_base_url(&bridge)
        && let Health::Ok(body) = health::health(&health::client(), &base, None).await
        && body["service"] == "aimux-bridge"
    {
        eprintln!("aimux up: an aimux bridge already answers at {base}; reusing it");
        return Ok(Started::Reused);
    }

    let exe = std::env::current_exe().context("locating the aimux binary")?;
    let mut cmd = tokio::process::Command::new(&exe);
    cmd.arg("start").arg("--detach");
    for _ in 0..verbose.min(3) {
        cmd.arg("-v");
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let pb = spinner("starting the link in the background");
    let out = cmd
        .output()
        .await
        .with_context(|| format!("running {} start --detach", exe.display()))?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr
            .lines()
            .skip_while(|l| !l.starts_with("error: "))
            .collect::<Vec<_>>()
            .join("\n");
        let why = why.strip_prefix("error: ").unwrap_or(&why).trim();
        return Err(user_error(format!(
            "could not start the link: {}",
            if why.is_empty() { stderr.trim() } else { why }
        )));
    }
    match running_supervisor(home) {
        Some(state) => eprintln!(
            "aimux up: started the link in the background (supervisor pid {}): bridge {}/v1",
            state.supervisor.pid,
            state.bridge.url.as_deref().unwrap_or("?")
        ),
        None => eprintln!("aimux up: started the link in the background"),
    }
    Ok(Started::Now)
}

pub async fn run(
    args: UpArgs,
    env: &Env,
    file: &FileConfig,
    config_path: &Path,
    home: &Path,
    verbose: u8,
) -> anyhow::Result<()> {
    let color = color_for(std::io::stderr().is_terminal(), env);
    // Codex's config.toml is checked before the link starts (`setup` reads it too).
    crate::codex_config::read(&codex_home(env)?.join("config.toml"))?;
    let started = ensure_link(env, file, config_path, home, verbose).await?;

    let ch = codex_home(env)?;
    let files = [profile_path(&ch), catalog_path(&ch), instructions_path(&ch)];
    let before = snapshot(&files);
    let setup = SetupArgs {
        model: args.model,
        ..SetupArgs::default()
    };
    let done = configure(setup, env, file, config_path, home).await?;
    for line in done.lines.iter().filter(|l| !l.contains("Try it:")) {
        eprintln!("{line}");
    }
    let wrote = snapshot(&files) != before;

    let report = diagnose(env, home, args.offline, false).await;
    eprint!("\n{}", render::human(&report, color));
    eprintln!();
    if report.status == Status::Fail {
        return Err(failed(&report));
    }
    if started == Started::Reused && !wrote {
        eprintln!(
            "aimux up: nothing changed: the link was already running and the Codex profile and \
             catalog were up to date."
        );
    } else {
        eprintln!("aimux up: ready.");
    }
    eprintln!("Use it:\n  codex -p {PROFILE}");
    Ok(())
}
