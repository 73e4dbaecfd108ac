//! `aimux desktop on|off|status`: Codex Desktop (no profile picker) on the base config.toml.

use std::path::Path;
use std::time::SystemTime;

use anyhow::Context;

use super::setup::{choose_model, codex_home, edit_file, legacy_warnings, prepare};
use crate::cli::SwitchAction;
use crate::codex_config::desktop::{
    DesktopRecord, DesktopSpec, DesktopStatus, desktop_keys, plan_off, plan_on, record_path, status,
};
use crate::codex_config::profile::profile_path;
use crate::codex_config::{self, get_str, utc_stamp};
use crate::error::user_error;
use crate::settings::{Env, FileConfig};

const LABEL: &str = "codex-config.toml";
const RESTART: &str = "Restart Codex Desktop to pick this up.";

fn load_record(home: &Path) -> anyhow::Result<Option<DesktopRecord>> {
    let path = record_path(home);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            user_error(format!(
                "{} is damaged ({e}); aimux cannot tell what `desktop on` replaced.\nhint: \
                 restore config.toml from a backup in {}, then delete {}",
                path.display(),
                super::setup::backup_dir(home).display(),
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn save_record(home: &Path, record: &DesktopRecord) -> anyhow::Result<()> {
    let path = record_path(home);
    let mut text = serde_json::to_string_pretty(record)?;
    text.push('\n');
    // It may hold the bridge token (written into config.toml's http_headers).
    crate::fsutil::write_atomic(&path, text.as_bytes(), crate::fsutil::Perms::Private)
        .with_context(|| format!("writing {}", path.display()))
}

pub async fn run(
    action: SwitchAction,
    env: &Env,
    file: &FileConfig,
    config_path: &Path,
    home: &Path,
) -> anyhow::Result<()> {
    let lines = match action {
        SwitchAction::On => on(env, file, config_path, home).await?,
        SwitchAction::Off => off(env, home)?,
        SwitchAction::Status => return show_status(env, home),
    };
    for line in &lines {
        eprintln!("{line}");
    }
    Ok(())
}

/// The record belongs to this CODEX_HOME's config.toml (not one switched under another).
fn check_same_config(record: &DesktopRecord, config: &Path) -> anyhow::Result<()> {
    if record.config != config {
        return Err(user_error(format!(
            "desktop mode is on for {}, not {}.\nhint: run `aimux desktop off` with CODEX_HOME \
             set to that file's directory first",
            record.config.display(),
            config.display()
        )));
    }
    Ok(())
}

/// `aimux desktop on` (also the dashboard's master switch): returns what the CLI prints.
pub async fn on(
    env: &Env,
    file: &FileConfig,
    config_path: &Path,
    home: &Path,
) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    let prep = prepare(env, file, config_path, home).await?;
    let config = prep.codex_home.join("config.toml");
    let prev = load_record(home)?;
    if let Some(prev) = &prev {
        check_same_config(prev, &config)?;
    }
    let loaded = codex_config::read(&config)?;
    // The profile's model if it is still routable (what `codex -p aimux` uses), else the best.
    let profile = codex_config::read(&profile_path(&prep.codex_home))?;
    let current = get_str(&profile.doc, &["model"])
        .or_else(|| prev.as_ref().and(get_str(&loaded.doc, &["model"])));
    let (model, _) = choose_model(&prep.catalog, None, current, true).map_err(user_error)?;
    let spec = DesktopSpec {
        model: model.clone(),
        base_url: prep.base_url.clone(),
        catalog_file: prep.catalog_file.clone(),
        instructions_file: prep.instructions_file.clone(),
        token: prep.bridge.token.as_ref().map(|t| t.value.clone()),
    };
    let keys = desktop_keys(&spec);
    let (edits, mut record) = plan_on(
        &loaded.doc,
        &keys,
        prev.as_ref(),
        &config,
        &utc_stamp(SystemTime::now()),
    );
    if prev.is_none() {
        record.created_file = !loaded.exists;
    }
    // Dry run first: a config.toml these edits cannot apply to is reported before anything
    // (the record included) is written.
    codex_config::apply(&mut loaded.doc.clone(), &edits).map_err(|e| {
        user_error(format!(
            "{}: {e}\nhint: fix that key by hand, then run the command again",
            config.display()
        ))
    })?;
    let (mut changes, notes) = (prep.changes, prep.notes);
    if prev.as_ref() != Some(&record) {
        // Recorded before config.toml changes, so `off` can always undo.
        save_record(home, &record)?;
    }
    let (wrote, backup) = edit_file(&loaded, None, |_| edits, home, LABEL)?;
    if wrote {
        changes.push(format!(
            "switched {} to aimux{}",
            config.display(),
            backup.map_or(String::new(), |b| format!(" (backup: {})", b.display()))
        ));
    }
    for n in &notes {
        lines.push(format!("note: {n}"));
    }
    for w in legacy_warnings(&prep.codex_home) {
        lines.push(format!("warning: {w}"));
    }
    if !wrote && prev.is_some() {
        lines.push(format!(
            "aimux desktop: already on (model {model}); nothing changed."
        ));
        return Ok(lines);
    }
    for c in &changes {
        lines.push(format!("aimux desktop: {c}"));
    }
    lines.push(format!(
        "Codex Desktop now uses aimux at {} (model {model}).",
        prep.base_url
    ));
    if spec.token.is_some() {
        lines.push(
            "note: the bridge token is in config.toml's [model_providers.aimux.http_headers]: \
             Desktop apps do not see your shell's AIMUX_TOKEN"
                .to_owned(),
        );
    }
    lines.push(format!("{RESTART} Undo with `aimux desktop off`."));
    Ok(lines)
}

/// `aimux desktop off` (also the dashboard's master switch): returns what the CLI prints.
pub fn off(env: &Env, home: &Path) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    let Some(record) = load_record(home)? else {
        lines.push("aimux desktop: already off; nothing to restore.".to_owned());
        return Ok(lines);
    };
    let config = codex_home(env)?.join("config.toml");
    check_same_config(&record, &config)?;
    let loaded = codex_config::read(&config)?;
    let (edits, kept) = plan_off(&loaded.doc, &record);
    let (wrote, backup) = edit_file(&loaded, None, |_| edits, home, LABEL)?;
    if record.created_file && std::fs::read(&config).is_ok_and(|b| b.is_empty()) {
        std::fs::remove_file(&config).with_context(|| format!("removing {}", config.display()))?;
    }
    let path = record_path(home);
    std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    for key in &kept {
        lines.push(format!(
            "note: left `{key}` as it is: it changed since `aimux desktop on`"
        ));
    }
    if wrote {
        lines.push(format!(
            "aimux desktop: restored {}{}",
            config.display(),
            backup.map_or(String::new(), |b| format!(" (backup: {})", b.display()))
        ));
    } else {
        lines.push(format!(
            "aimux desktop: off; {} needed no change.",
            config.display()
        ));
    }
    lines.push(RESTART.to_owned());
    Ok(lines)
}

/// What `aimux desktop status` looks at: the switched (or the current) config.toml, its state,
/// and since when. Never the record's values (they may hold the bridge token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub config: std::path::PathBuf,
    pub status: DesktopStatus,
    /// When `on` first switched it (UTC, `20260131T235959Z`).
    pub since: Option<String>,
    /// config.toml's `model`.
    pub model: Option<String>,
    /// `model_provider = "aimux"` is set without `aimux desktop on`.
    pub foreign_aimux: bool,
}

pub fn current(env: &Env, home: &Path) -> anyhow::Result<Current> {
    let record = load_record(home)?;
    let config = match &record {
        Some(r) => r.config.clone(),
        None => codex_home(env)?.join("config.toml"),
    };
    let loaded = codex_config::read(&config)?;
    let status = status(&loaded.doc, record.as_ref());
    Ok(Current {
        foreign_aimux: status == DesktopStatus::Off
            && get_str(&loaded.doc, &["model_provider"]) == Some("aimux"),
        model: get_str(&loaded.doc, &["model"]).map(str::to_owned),
        since: record.map(|r| r.since),
        config,
        status,
    })
}

fn show_status(env: &Env, home: &Path) -> anyhow::Result<()> {
    let Current {
        config,
        status,
        since,
        foreign_aimux,
        ..
    } = current(env, home)?;
    match status {
        DesktopStatus::Off => {
            println!("off");
            if foreign_aimux {
                eprintln!(
                    "{} uses model_provider = \"aimux\", but not through `aimux desktop on`",
                    config.display()
                );
            }
        }
        DesktopStatus::On => {
            println!("on");
            if let Some(since) = &since {
                eprintln!("{} switched to aimux since {since}", config.display());
            }
        }
        DesktopStatus::Modified(keys) => {
            println!("on");
            eprintln!(
                "{} is switched to aimux, but these keys changed since: {} (`aimux desktop on` \
                 sets them again; `off` leaves them)",
                config.display(),
                keys.join(", ")
            );
        }
    }
    Ok(())
}
