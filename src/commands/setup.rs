//! `aimux setup [--model SLUG] [--catalog file|url]`: the Codex profile, catalog and base prompt.
//! The shared part ([`prepare`]) also serves `aimux desktop on`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;

use super::gen_catalog::{Source, bridge_base_url, build_catalog, write_if_changed};
use crate::catalog::{Catalog, codex_prompt_from_bundled};
use crate::cli::{BridgeArgs, CatalogFrom, SetupArgs};
use crate::codex_config::profile::{
    CatalogSource, PROFILE, PROVIDER, ProfileSpec, TOKEN_ENV, WebSearchMode, catalog_path,
    initial_text, instructions_path, legacy_problems, profile_edits, profile_path,
};
use crate::codex_config::{self, Loaded, apply, get_str, render};
use crate::error::user_error;
use crate::settings::{BridgeSettings, Env, FileConfig, Source as SettingSource};

/// Everything `setup` and `desktop on` share: Codex's home, the catalog (written), the base
/// prompt (written when Codex could give it), and the bridge's address and token.
pub struct Prepared {
    pub codex_home: PathBuf,
    pub catalog: Catalog,
    pub source: Source,
    pub catalog_file: PathBuf,
    pub instructions_file: Option<PathBuf>,
    pub bridge: BridgeSettings,
    pub base_url: String,
    /// What changed on disk, for the summary.
    pub changes: Vec<String>,
    /// Things the user should know.
    pub notes: Vec<String>,
}

pub fn codex_home(env: &Env) -> anyhow::Result<PathBuf> {
    codex_config::codex_home(env)
        .ok_or_else(|| user_error("cannot find Codex's home: set CODEX_HOME (or HOME)"))
}

/// Backups of files aimux edits go to `$AIMUX_HOME/backups/`.
pub fn backup_dir(home: &Path) -> PathBuf {
    home.join("backups")
}

pub async fn prepare(
    env: &Env,
    file: &FileConfig,
    config_path: &Path,
    home: &Path,
) -> anyhow::Result<Prepared> {
    let codex_home = codex_home(env)?;
    let mut changes = Vec::new();
    let mut notes = Vec::new();
    if !codex_home.is_dir() {
        std::fs::create_dir_all(&codex_home)
            .with_context(|| format!("creating {}", codex_home.display()))?;
        changes.push(format!("created {}", codex_home.display()));
    }
    // Codex reads its config.toml under the profile too: one that does not parse is reported
    // before anything is written.
    codex_config::read(&codex_home.join("config.toml"))?;
    let bridge = BridgeSettings::resolve(BridgeArgs::default(), env, file, config_path)?;
    let base_url = bridge_base_url(&bridge)?;

    let (catalog, source) = build_catalog(env, file, config_path, home).await?;
    if !source.is_live() {
        notes.push(format!("models from {}", source.describe()));
    }
    let catalog_file = catalog_path(&codex_home);
    if write_if_changed(&catalog_file, &catalog.render())? {
        changes.push(format!(
            "wrote {} ({} models)",
            catalog_file.display(),
            catalog.models.len()
        ));
    }

    let instructions = instructions_path(&codex_home);
    let instructions_file = match codex_base_prompt(env, file, &codex_home).await {
        Ok((slug, prompt)) => {
            if write_if_changed(&instructions, &prompt)? {
                changes.push(format!(
                    "wrote {} (Codex's {slug} base prompt, shared by every model)",
                    instructions.display()
                ));
            }
            Some(instructions)
        }
        Err(why) if instructions.is_file() => {
            notes.push(format!("kept {} as it is ({why})", instructions.display()));
            Some(instructions)
        }
        Err(why) => {
            notes.push(format!(
                "models use aimux's own base prompt ({why}; install Codex and re-run to use its \
                 prompt)"
            ));
            None
        }
    };
    Ok(Prepared {
        codex_home,
        catalog,
        source,
        catalog_file,
        instructions_file,
        bridge,
        base_url,
        changes,
        notes,
    })
}

/// Codex's bundled prompt, from `codex debug models --bundled` (no network, no login).
async fn codex_base_prompt(
    env: &Env,
    file: &FileConfig,
    codex_home: &Path,
) -> Result<(String, String), String> {
    let bin = match &file.codex.bin {
        Some(bin) => bin.clone(),
        None => {
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
            which::which_in("codex", env.get("PATH"), cwd)
                .map_err(|_| "`codex` is not on PATH".to_owned())?
        }
    };
    let child = tokio::process::Command::new(&bin)
        .args(["debug", "models", "--bundled"])
        .env("CODEX_HOME", codex_home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = match tokio::time::timeout(Duration::from_secs(30), child).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(format!("cannot run {}: {e}", bin.display())),
        Err(_) => return Err(format!("`{} debug models` timed out", bin.display())),
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().last().unwrap_or("").trim();
        return Err(format!(
            "`{} debug models --bundled` failed ({}): {last}",
            bin.display(),
            out.status
        ));
    }
    let bundled: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("`codex debug models` printed no JSON: {e}"))?;
    codex_prompt_from_bundled(&bundled)
        .ok_or_else(|| "Codex's bundled catalog has no gpt-5 model".to_owned())
}

/// Why the model was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// `--model`, as given (or a bare id resolved to `provider/model`).
    Asked,
    /// `--model` is not in a catalog built without the proxy: kept, unverified.
    AskedUnverified,
    /// The profile's model, still routable.
    Kept,
    /// The catalog's first model (`replaced`: the profile's model that is no longer routable).
    Best { replaced: Option<String> },
}

/// Picks the default model: `--model`, else the current one if still routable, else the best.
pub fn choose_model(
    catalog: &Catalog,
    asked: Option<&str>,
    current: Option<&str>,
    live: bool,
) -> Result<(String, Choice), String> {
    if let Some(asked) = asked {
        return match catalog.resolve(asked) {
            Some(m) => Ok((m.slug.clone(), Choice::Asked)),
            // Without the proxy, live-only models are missing: a `provider/model` id is
            // taken on trust.
            None if !live && asked.contains('/') => Ok((asked.to_owned(), Choice::AskedUnverified)),
            None => Err(format!(
                "`{asked}` is not a routable model.\nhint: `aimux models` lists them; use the \
                 full id (`provider/model`), a route name or `aimux:AGENT`"
            )),
        };
    }
    if let Some(current) = current
        && catalog.get(current).is_some()
    {
        return Ok((current.to_owned(), Choice::Kept));
    }
    let best = catalog
        .best()
        .ok_or_else(|| "the catalog lists no model".to_owned())?;
    Ok((
        best.slug.clone(),
        Choice::Best {
            replaced: current.map(str::to_owned),
        },
    ))
}

/// Edits `loaded` (a Codex TOML file, `initial` when it does not exist yet) and writes it when
/// something changed. Returns the backup path when one was made, and whether it wrote.
pub fn edit_file(
    loaded: &Loaded,
    initial: Option<String>,
    edits: impl FnOnce(&toml_edit::DocumentMut) -> Vec<codex_config::ConfigEdit>,
    home: &Path,
    label: &str,
) -> anyhow::Result<(bool, Option<PathBuf>)> {
    let (mut doc, original) = match (&initial, loaded.exists) {
        (Some(text), false) => (
            text.parse::<toml_edit::DocumentMut>()
                .context("the built-in template is not TOML")?,
            text.clone(),
        ),
        _ => (loaded.doc.clone(), loaded.text.clone()),
    };
    let planned = edits(&doc);
    let changed = apply(&mut doc, &planned).map_err(|e| {
        user_error(format!(
            "{}: {e}\nhint: fix that key by hand, then run the command again",
            loaded.path.display()
        ))
    })?;
    if !changed && loaded.exists {
        return Ok((false, None));
    }
    let text = render(&doc, &original);
    let backup = codex_config::write(loaded, &text, &backup_dir(home), label)?;
    Ok((true, backup))
}

/// Warnings for a base config.toml that makes Codex fail.
pub fn legacy_warnings(codex_home: &Path) -> Vec<String> {
    let path = codex_home.join("config.toml");
    match codex_config::read(&path) {
        Ok(loaded) => legacy_problems(&loaded.doc, PROFILE)
            .into_iter()
            .map(|p| format!("{}: {p}", path.display()))
            .collect(),
        Err(e) => vec![format!("{e:#}")],
    }
}

/// Whether the bridge answers `/health` (a short wait).
pub async fn bridge_is_up(base_url: &str) -> bool {
    let url = format!("{}/health", base_url.trim_end_matches("/v1"));
    crate::upstream::client()
        .get(url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

pub async fn run(
    args: SetupArgs,
    env: &Env,
    file: &FileConfig,
    config_path: &Path,
    home: &Path,
) -> anyhow::Result<()> {
    let done = configure(args, env, file, config_path, home).await?;
    for line in &done.lines {
        eprintln!("{line}");
    }
    Ok(())
}

/// What [`configure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupDone {
    /// The profile's model now.
    pub model: String,
    /// What the CLI prints, one entry per `eprintln!`.
    pub lines: Vec<String>,
}

/// `aimux setup` (also the dashboard's default-model picker): writes the profile, the catalog
/// and the base prompt.
pub async fn configure(
    args: SetupArgs,
    env: &Env,
    file: &FileConfig,
    config_path: &Path,
    home: &Path,
) -> anyhow::Result<SetupDone> {
    let mut lines = Vec::new();
    let prep = prepare(env, file, config_path, home).await?;
    let mut changes = prep.changes;
    let mut notes = prep.notes;

    let path = profile_path(&prep.codex_home);
    let loaded = codex_config::read(&path)?;
    let current = get_str(&loaded.doc, &["model"]).map(str::to_owned);
    let (model, choice) = choose_model(
        &prep.catalog,
        args.model.as_deref(),
        current.as_deref(),
        prep.source.is_live(),
    )
    .map_err(user_error)?;
    let catalog = match args.catalog {
        Some(CatalogFrom::File) => CatalogSource::File,
        Some(CatalogFrom::Url) => CatalogSource::Url,
        None if get_str(
            &loaded.doc,
            &["model_providers", PROVIDER, "model_catalog_url"],
        )
        .is_some() =>
        {
            CatalogSource::Url
        }
        None => CatalogSource::File,
    };
    let spec = ProfileSpec {
        model: model.clone(),
        base_url: prep.base_url.clone(),
        catalog,
        catalog_file: prep.catalog_file.clone(),
        catalog_url: format!("{}/aimux/catalog", prep.base_url),
        instructions_file: prep.instructions_file.clone(),
        our_instructions_file: instructions_path(&prep.codex_home),
        token: prep.bridge.token.is_some(),
        web_search: file.websearch.enabled.map(WebSearchMode::from_enabled),
    };
    let initial = initial_text(&spec);
    let (wrote, backup) = edit_file(
        &loaded,
        Some(initial),
        |doc| profile_edits(doc, &spec),
        home,
        "codex-aimux.config.toml",
    )?;
    if wrote {
        changes.push(format!(
            "{} {}{}",
            if loaded.exists { "updated" } else { "wrote" },
            path.display(),
            backup.map_or(String::new(), |b| format!(" (backup: {})", b.display()))
        ));
    }

    match &choice {
        Choice::Asked | Choice::Kept => {}
        Choice::AskedUnverified => notes.push(format!(
            "`{model}` could not be checked (the link is not running); it is not in the catalog"
        )),
        Choice::Best {
            replaced: Some(old),
        } => notes.push(format!(
            "the profile's model `{old}` is no longer routable; switched to `{model}`"
        )),
        Choice::Best { replaced: None } => {}
    }
    if let Some(token) = &prep.bridge.token
        && !matches!(token.source, SettingSource::Env(_))
    {
        notes.push(format!(
            "the bridge token comes from {}; Codex reads it from {TOKEN_ENV}, so export \
             {TOKEN_ENV} in the shell that runs codex",
            token.source
        ));
    }
    let warnings = legacy_warnings(&prep.codex_home);
    let up = bridge_is_up(&prep.base_url).await;

    if changes.is_empty() {
        lines.push(
            "aimux setup: nothing to change; the Codex profile and catalog are up to date."
                .to_owned(),
        );
    } else {
        for c in &changes {
            lines.push(format!("aimux setup: {c}"));
        }
    }
    lines.push(format!(
        "model: {model} ({} models in the catalog; --model SLUG picks another)",
        prep.catalog.models.len()
    ));
    for n in &notes {
        lines.push(format!("note: {n}"));
    }
    for w in &warnings {
        lines.push(format!("warning: {w}"));
    }
    if !up {
        lines.push(format!(
            "note: the bridge does not answer at {} yet; start the link with `aimux start`",
            prep.base_url
        ));
    }
    lines.push(format!("\nTry it:\n  codex -p {PROFILE}"));
    Ok(SetupDone { model, lines })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn catalog() -> Catalog {
        crate::catalog::build(&json!({"data": [
            {"id": "deepseek/deepseek-chat", "owned_by": "deepseek", "reasoning": false},
            {"id": "openrouter/qwen/qwen3-coder", "owned_by": "openrouter", "reasoning": false},
            {"id": "smart", "owned_by": "aimux", "route": ["deepseek/deepseek-chat"]},
        ]}))
    }

    #[test]
    fn model_choice() {
        let c = catalog();
        let best = || Choice::Best { replaced: None };
        // (asked, current, live) → result
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            bool,
            Result<(&'a str, Choice), &'a str>,
        );
        let cases: [Case; 8] = [
            (None, None, true, Ok(("smart", best()))),
            (
                None,
                Some("deepseek/deepseek-chat"),
                true,
                Ok(("deepseek/deepseek-chat", Choice::Kept)),
            ),
            (
                None,
                Some("gone/model"),
                true,
                Ok((
                    "smart",
                    Choice::Best {
                        replaced: Some("gone/model".into()),
                    },
                )),
            ),
            (
                Some("deepseek-chat"),
                Some("smart"),
                true,
                Ok(("deepseek/deepseek-chat", Choice::Asked)),
            ),
            (
                Some("qwen/qwen3-coder"),
                None,
                true,
                Ok(("openrouter/qwen/qwen3-coder", Choice::Asked)),
            ),
            (
                Some("nope"),
                None,
                true,
                Err("`nope` is not a routable model"),
            ),
            (
                Some("ollama/llama3"),
                None,
                false,
                Ok(("ollama/llama3", Choice::AskedUnverified)),
            ),
            (
                Some("llama3"),
                None,
                false,
                Err("`llama3` is not a routable model"),
            ),
        ];
        for (asked, current, live, want) in cases {
            let got = choose_model(&c, asked, current, live);
            match (got, want) {
                (Ok((m, why)), Ok((wm, wwhy))) => {
                    assert_eq!((m.as_str(), why), (wm, wwhy), "{asked:?} {current:?}")
                }
                (Err(e), Err(w)) => assert!(e.contains(w), "{e}"),
                (got, want) => panic!("{asked:?} {current:?}: {got:?} vs {want:?}"),
            }
        }
    }
}
