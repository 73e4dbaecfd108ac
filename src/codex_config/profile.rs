//! The Codex profile `aimux setup` writes (`$CODEX_HOME/aimux.config.toml`, used by
//! `codex -p aimux`), the files next to it, and the legacy-profile check.

use std::path::{Path, PathBuf};

use toml_edit::DocumentMut;

use super::{ConfigEdit, get_str, quoted};

/// `codex -p aimux`.
pub const PROFILE: &str = "aimux";
/// `[model_providers.aimux]`.
pub const PROVIDER: &str = "aimux";
/// The variable Codex reads the bridge token from (`env_key`).
pub const TOKEN_ENV: &str = "AIMUX_TOKEN";
/// What Codex adds to its "Missing environment variable" error.
pub const TOKEN_HINT: &str =
    "Export AIMUX_TOKEN with the aimux bridge's token ([bridge] token in aimux's config.toml).";

const TEMPLATE: &str = include_str!("../../templates/codex-profile.toml");

pub fn profile_path(codex_home: &Path) -> PathBuf {
    codex_home.join(format!("{PROFILE}.config.toml"))
}

pub fn catalog_path(codex_home: &Path) -> PathBuf {
    codex_home.join("aimux-catalog.json")
}

/// Codex's own base prompt, shared by every catalog model through `model_instructions_file`.
pub fn instructions_path(codex_home: &Path) -> PathBuf {
    codex_home.join("aimux-instructions.md")
}

/// Codex's `web_search` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebSearchMode {
    /// `"live"`: Codex offers the model a web_search tool with live access.
    Live,
    /// `"disabled"`: no web_search tool.
    Disabled,
}

impl WebSearchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            WebSearchMode::Live => "live",
            WebSearchMode::Disabled => "disabled",
        }
    }

    pub fn from_enabled(enabled: bool) -> Self {
        if enabled {
            WebSearchMode::Live
        } else {
            WebSearchMode::Disabled
        }
    }
}

/// Where Codex gets the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogSource {
    /// `model_catalog_json = "<file>"`.
    File,
    /// `[model_providers.aimux] model_catalog_url = "<bridge>/v1/aimux/catalog"`.
    Url,
}

/// Everything the profile says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSpec {
    pub model: String,
    /// `http://127.0.0.1:8403/v1`.
    pub base_url: String,
    pub catalog: CatalogSource,
    /// The absolute path of the catalog file.
    pub catalog_file: PathBuf,
    /// The bridge's catalog URL.
    pub catalog_url: String,
    /// `model_instructions_file`: Codex's prompt, when `aimux setup` could read it.
    pub instructions_file: Option<PathBuf>,
    /// The instructions file aimux writes (a key pointing there is aimux's to remove).
    pub our_instructions_file: PathBuf,
    /// The bridge wants a token: `env_key = "AIMUX_TOKEN"`.
    pub token: bool,
    /// `web_search`, when aimux's config says (`[websearch] enabled`).
    pub web_search: Option<WebSearchMode>,
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The text of a new profile (the template), before [`profile_edits`].
pub fn initial_text(spec: &ProfileSpec) -> String {
    TEMPLATE
        .replace("{model}", &quoted(&spec.model))
        .replace("{catalog}", &quoted(&path_str(&spec.catalog_file)))
        .replace("{base_url}", &quoted(&spec.base_url))
}

/// The edits that make `doc` say `spec`. Keys aimux does not manage are never touched; a key
/// aimux manages is removed only when it holds what aimux itself would have written.
pub fn profile_edits(doc: &DocumentMut, spec: &ProfileSpec) -> Vec<ConfigEdit> {
    let p = |key: &'static str| ["model_providers", PROVIDER, key];
    let mut edits = vec![
        ConfigEdit::set(&["model"], spec.model.as_str()),
        ConfigEdit::set(&["model_provider"], PROVIDER),
    ];
    let catalog_file = path_str(&spec.catalog_file);
    match spec.catalog {
        CatalogSource::File => {
            edits.push(ConfigEdit::set(&["model_catalog_json"], catalog_file));
            if get_str(doc, &p("model_catalog_url")) == Some(spec.catalog_url.as_str()) {
                edits.push(ConfigEdit::remove(&p("model_catalog_url")));
            }
        }
        CatalogSource::Url => {
            if get_str(doc, &["model_catalog_json"]) == Some(catalog_file.as_str()) {
                edits.push(ConfigEdit::remove(&["model_catalog_json"]));
            }
        }
    }
    match &spec.instructions_file {
        Some(file) => edits.push(ConfigEdit::set(
            &["model_instructions_file"],
            path_str(file),
        )),
        None => {
            if get_str(doc, &["model_instructions_file"])
                == Some(path_str(&spec.our_instructions_file).as_str())
            {
                edits.push(ConfigEdit::remove(&["model_instructions_file"]));
            }
        }
    }
    if let Some(mode) = spec.web_search {
        edits.push(ConfigEdit::set(&["web_search"], mode.as_str()));
    }
    // The display name is the user's to change; it is only filled in when missing.
    if get_str(doc, &p("name")).is_none() {
        edits.push(ConfigEdit::set(&p("name"), "aimux"));
    }
    edits.push(ConfigEdit::set(&p("base_url"), spec.base_url.as_str()));
    edits.push(ConfigEdit::set(&p("wire_api"), "responses"));
    if spec.catalog == CatalogSource::Url {
        edits.push(ConfigEdit::set(
            &p("model_catalog_url"),
            spec.catalog_url.as_str(),
        ));
    }
    if spec.token {
        edits.push(ConfigEdit::set(&p("env_key"), TOKEN_ENV));
        edits.push(ConfigEdit::set(&p("env_key_instructions"), TOKEN_HINT));
    } else {
        if get_str(doc, &p("env_key")) == Some(TOKEN_ENV) {
            edits.push(ConfigEdit::remove(&p("env_key")));
        }
        if get_str(doc, &p("env_key_instructions")) == Some(TOKEN_HINT) {
            edits.push(ConfigEdit::remove(&p("env_key_instructions")));
        }
    }
    edits
}

/// Entries in the base `config.toml` that make Codex 0.169 fail, each with its fix.
pub fn legacy_problems(base: &DocumentMut, profile: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(item) = base.get("profile") {
        let name = item.as_str().unwrap_or("?");
        problems.push(format!(
            "config.toml sets the legacy `profile = {}`: Codex 0.169 refuses to start with it \
             (\"legacy `profile` config is no longer supported\").\nhint: delete that line and \
             move the settings of [profiles.{name}] into {name}.config.toml",
            quoted(name)
        ));
    }
    if base
        .get("profiles")
        .and_then(|p| p.as_table_like())
        .is_some_and(|t| t.contains_key(profile))
    {
        problems.push(format!(
            "config.toml has a legacy [profiles.{profile}] table: `codex -p {profile}` fails while \
             it exists.\nhint: delete [profiles.{profile}] from config.toml (aimux keeps its \
             settings in {profile}.config.toml)"
        ));
    }
    problems
}
