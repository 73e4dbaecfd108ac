//! What doctor reads once, before any check runs: aimux's config (kept even when it does not
//! parse, so the other checks still run on the defaults), the supervisor's state, Codex's home
//! and the aimux profile. Reading never creates or changes a file.

use std::path::{Path, PathBuf};

use toml_edit::DocumentMut;

use crate::cli::BridgeArgs;
use crate::codex_config::profile::profile_path;
use crate::settings::{self, BridgeSettings, Env, FileConfig};
use crate::supervisor::procs::{self, Identity};
use crate::supervisor::state::State;
use crate::supervisor::{Paths, lock};

/// A TOML file as doctor found it.
#[derive(Debug)]
pub enum TomlFile {
    Missing,
    /// Could not be read or parsed: the reason, naming the file (`~/...`), line and column.
    Broken(String),
    Parsed(DocumentMut),
}

impl TomlFile {
    pub fn read(path: &Path) -> Self {
        let shown = PathBuf::from(crate::supervisor::tilde(path));
        match crate::fsutil::read_text(path) {
            Ok(Some(text)) => match text.parse::<DocumentMut>() {
                Ok(doc) => TomlFile::Parsed(doc),
                Err(e) => TomlFile::Broken(crate::fsutil::toml_problem(
                    &shown,
                    &text,
                    e.span(),
                    e.message(),
                    false,
                )),
            },
            Ok(None) => TomlFile::Missing,
            Err(e) => TomlFile::Broken(e),
        }
    }

    pub fn doc(&self) -> Option<&DocumentMut> {
        match self {
            TomlFile::Parsed(doc) => Some(doc),
            _ => None,
        }
    }
}

pub struct Inputs {
    pub env: Env,
    /// `$AIMUX_HOME`.
    pub home: PathBuf,
    pub config_path: PathBuf,
    pub config_exists: bool,
    /// The config; the defaults when it does not parse (`config_error` says why).
    pub file: FileConfig,
    pub config_error: Option<String>,
    /// The bridge's settings (port, token); `None` when they do not resolve (a bad env value).
    pub bridge: Option<BridgeSettings>,
    /// `$CODEX_HOME`, else `~/.codex`.
    pub codex_home: Option<PathBuf>,
    /// `$CODEX_HOME/aimux.config.toml`.
    pub profile: TomlFile,
    /// The running `aimux start` (its lock is held and its pid is still the recorded process).
    pub supervised: Option<State>,
    pub offline: bool,
}

impl Inputs {
    pub fn gather(env: &Env, home: &Path, offline: bool) -> Self {
        let config_path = home.join("config.toml");
        let config_exists = config_path.exists();
        let (file, config_error) = match settings::read_file(&config_path) {
            Ok(f) => (f, None),
            Err(e) => (FileConfig::default(), Some(e)),
        };
        let bridge = BridgeSettings::resolve(BridgeArgs::default(), env, &file, &config_path).ok();
        let codex_home = crate::codex_config::codex_home(env);
        let profile = match &codex_home {
            Some(h) => TomlFile::read(&profile_path(h)),
            None => TomlFile::Missing,
        };
        Inputs {
            env: env.clone(),
            home: home.to_owned(),
            config_path,
            config_exists,
            file,
            config_error,
            bridge,
            codex_home,
            profile,
            supervised: running_supervisor(home),
            offline,
        }
    }

    /// The bridge's token, for requests doctor sends it.
    pub fn token(&self) -> Option<&str> {
        self.bridge
            .as_ref()
            .and_then(|b| b.token.as_ref())
            .map(|t| t.value.as_str())
    }

    /// The profile's `model`.
    pub fn profile_model(&self) -> Option<&str> {
        self.profile
            .doc()
            .and_then(|d| crate::codex_config::get_str(d, &["model"]))
    }
}

/// The state of the `aimux start` that holds the lock, if it is still the recorded process.
pub fn running_supervisor(home: &Path) -> Option<State> {
    let paths = Paths::new(home);
    lock::holder(&paths.lock()).ok().flatten()?;
    let state = State::read(&paths.state()).ok().flatten()?;
    (procs::check(&state.supervisor) == Identity::Same).then_some(state)
}
