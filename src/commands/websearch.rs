//! `aimux websearch on|off|status`: `[websearch] enabled` in aimux's config.toml and Codex's
//! `web_search` in the aimux profile, both edited in place (other keys and comments stay).

use std::path::Path;

use super::setup::{codex_home, edit_file};
use crate::cli::SwitchAction;
use crate::codex_config::profile::{WebSearchMode, profile_path};
use crate::codex_config::{self, ConfigEdit, get, get_str};
use crate::error::user_error;
use crate::settings::Env;

pub fn run(action: SwitchAction, env: &Env, config_path: &Path, home: &Path) -> anyhow::Result<()> {
    match action {
        SwitchAction::On | SwitchAction::Off => {
            let lines = switch(action == SwitchAction::On, env, config_path, home)?;
            for line in &lines {
                eprintln!("{line}");
            }
            Ok(())
        }
        SwitchAction::Status => show_status(env, config_path),
    }
}

/// `aimux websearch on|off` (also the dashboard's switch): edits both files and returns what
/// the CLI prints, one line each.
pub fn switch(
    enabled: bool,
    env: &Env,
    config_path: &Path,
    home: &Path,
) -> anyhow::Result<Vec<String>> {
    let word = if enabled { "on" } else { "off" };
    let mode = WebSearchMode::from_enabled(enabled);
    let mut lines = Vec::new();

    // aimux's own config: validated as an aimux config before it is written.
    let aimux = codex_config::read(config_path)?;
    let edits = vec![ConfigEdit::set(&["websearch", "enabled"], enabled)];
    let mut check = aimux.doc.clone();
    codex_config::apply(&mut check, &edits)
        .map_err(|e| user_error(format!("{}: {e}", config_path.display())))?;
    let resulting = crate::settings::parse_file(&check.to_string())
        .map_err(|e| user_error(format!("{}: {e}", config_path.display())))?;
    let (wrote_aimux, _) = edit_file(&aimux, None, |_| edits, home, "aimux-config.toml")?;

    // Codex's side, in the aimux profile only (never the user's base config).
    let profile = profile_path(&codex_home(env)?);
    let wrote_profile = if profile.is_file() {
        let loaded = codex_config::read(&profile)?;
        let (wrote, _) = edit_file(
            &loaded,
            None,
            |_| vec![ConfigEdit::set(&["web_search"], mode.as_str())],
            home,
            "codex-aimux.config.toml",
        )?;
        Some(wrote)
    } else {
        None
    };

    if !wrote_aimux && wrote_profile != Some(true) {
        lines.push(format!("aimux websearch: already {word}; nothing changed."));
    } else {
        lines.push(format!(
            "aimux websearch: {word} ([websearch] enabled = {enabled} in {})",
            config_path.display()
        ));
    }
    match wrote_profile {
        Some(_) => lines.push(format!(
            "{}: web_search = \"{}\"",
            profile.display(),
            mode.as_str()
        )),
        None => lines.push(format!(
            "note: {} does not exist yet; `aimux setup` writes it with web_search = \"{}\"",
            profile.display(),
            mode.as_str()
        )),
    }
    if enabled {
        if let Err(why) = resulting.websearch.provider(env) {
            lines.push(format!("note: searches need a provider: {why}"));
        }
        lines.push(
            "note: the bridge and proxy read this at start: restart aimux (aimux stop, aimux start) \
             to apply it"
                .to_owned(),
        );
    }
    Ok(lines)
}

/// What `aimux websearch status` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// `[websearch] enabled` in aimux's config.toml.
    pub enabled: bool,
    /// The aimux profile.
    pub profile: std::path::PathBuf,
    /// Its `web_search`, when set.
    pub codex_mode: Option<String>,
}

pub fn status(env: &Env, config_path: &Path) -> anyhow::Result<Status> {
    let aimux = codex_config::read(config_path)?;
    let enabled = get(&aimux.doc, &["websearch".into(), "enabled".into()])
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let profile = profile_path(&codex_home(env)?);
    let codex_mode =
        get_str(&codex_config::read(&profile)?.doc, &["web_search"]).map(str::to_owned);
    Ok(Status {
        enabled,
        profile,
        codex_mode,
    })
}

fn show_status(env: &Env, config_path: &Path) -> anyhow::Result<()> {
    let Status {
        enabled,
        profile,
        codex_mode,
    } = status(env, config_path)?;
    println!("{}", if enabled { "on" } else { "off" });
    eprintln!(
        "{}: [websearch] enabled = {enabled}; {}: web_search = {}",
        config_path.display(),
        profile.display(),
        codex_mode.map_or_else(
            || "unset (Codex's default, cached)".to_owned(),
            |m| format!("\"{m}\"")
        )
    );
    Ok(())
}
