//! `aimux desktop on|off`: Codex Desktop has no profile picker, so `on` switches the base
//! `config.toml` to aimux and records exactly what it replaced; `off` puts that back. On an
//! untouched file, on → off gives back the identical bytes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml_edit::{DocumentMut, Value};

use super::profile::PROVIDER;
use super::{ConfigEdit, dotted, get, has_table, parse_raw, raw, same_value};

pub const RECORD_VERSION: u32 = 1;

/// `$AIMUX_HOME/desktop-state.json`.
pub fn record_path(aimux_home: &Path) -> PathBuf {
    aimux_home.join("desktop-state.json")
}

/// What `on` changed, so `off` can undo exactly that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesktopRecord {
    pub version: u32,
    /// The Codex config that was switched.
    pub config: PathBuf,
    /// When `on` first switched it (UTC, `20260131T235959Z`).
    pub since: String,
    /// Every key `on` set, in order.
    pub keys: Vec<RecordedKey>,
    /// Tables `on` created; `off` removes them once they are empty again.
    pub created_tables: Vec<Vec<String>>,
    /// There was no config.toml: `off` deletes the file when it is empty again.
    #[serde(default)]
    pub created_file: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedKey {
    pub path: Vec<String>,
    /// The value as it was written in the file before `on` (`None`: the key was absent).
    pub before: Option<String>,
    /// The value `on` wrote.
    pub written: String,
}

/// What Codex Desktop should use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopSpec {
    pub model: String,
    pub base_url: String,
    pub catalog_file: PathBuf,
    pub instructions_file: Option<PathBuf>,
    /// The bridge token. Desktop apps do not inherit a shell's `AIMUX_TOKEN`, so it goes into an
    /// `Authorization` entry of the provider's `http_headers` (merged into an existing table).
    pub token: Option<String>,
}

/// The keys `on` sets, in order.
pub fn desktop_keys(spec: &DesktopSpec) -> Vec<(Vec<String>, Value)> {
    let path = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let s = |v: &str| Value::from(v);
    let mut keys = vec![
        (path(&["model"]), s(&spec.model)),
        (path(&["model_provider"]), s(PROVIDER)),
        (
            path(&["model_catalog_json"]),
            s(&spec.catalog_file.to_string_lossy()),
        ),
    ];
    if let Some(file) = &spec.instructions_file {
        keys.push((
            path(&["model_instructions_file"]),
            s(&file.to_string_lossy()),
        ));
    }
    keys.push((path(&["model_providers", PROVIDER, "name"]), s("aimux")));
    keys.push((
        path(&["model_providers", PROVIDER, "base_url"]),
        s(&spec.base_url),
    ));
    keys.push((
        path(&["model_providers", PROVIDER, "wire_api"]),
        s("responses"),
    ));
    if let Some(token) = &spec.token {
        keys.push((
            path(&["model_providers", PROVIDER, "http_headers", "Authorization"]),
            s(&format!("Bearer {token}")),
        ));
    }
    keys
}

fn matches_written(current: Option<&Value>, written: &str) -> bool {
    match (current, parse_raw(written)) {
        (Some(cur), Some(w)) => same_value(cur, &w),
        _ => false,
    }
}

/// The edit that puts a recorded key back as it was before `on`.
fn restore(key: &RecordedKey) -> Option<ConfigEdit> {
    match &key.before {
        Some(before) => parse_raw(before).map(|value| ConfigEdit::Set {
            path: key.path.clone(),
            value,
        }),
        None => Some(ConfigEdit::Remove {
            path: key.path.clone(),
        }),
    }
}

/// Plans `on`: the edits, and the record to save. With the record of an earlier `on`, a key
/// still holding what that `on` wrote keeps its original `before` (so `off` still goes back to
/// the user's own value), and a key that `on` no longer sets is put back now.
pub fn plan_on(
    doc: &DocumentMut,
    keys: &[(Vec<String>, Value)],
    prev: Option<&DesktopRecord>,
    config: &Path,
    now: &str,
) -> (Vec<ConfigEdit>, DesktopRecord) {
    let mut edits = Vec::new();
    let mut recorded = Vec::new();
    let mut created: Vec<Vec<String>> = prev.map(|r| r.created_tables.clone()).unwrap_or_default();
    for (path, value) in keys {
        for depth in 1..path.len() {
            let table = path[..depth].to_vec();
            if !has_table(doc, &table) && !created.contains(&table) {
                created.push(table);
            }
        }
        let current = get(doc, path);
        let prev_key = prev.and_then(|r| r.keys.iter().find(|k| &k.path == path));
        let before = match prev_key {
            Some(k) if matches_written(current, &k.written) => k.before.clone(),
            _ => current.map(raw),
        };
        recorded.push(RecordedKey {
            path: path.clone(),
            before,
            written: raw(value),
        });
        edits.push(ConfigEdit::Set {
            path: path.clone(),
            value: value.clone(),
        });
    }
    if let Some(prev) = prev {
        for old in &prev.keys {
            if keys.iter().any(|(p, _)| p == &old.path) {
                continue;
            }
            if matches_written(get(doc, &old.path), &old.written) {
                edits.extend(restore(old));
            }
        }
    }
    created.sort_by_key(|t| std::cmp::Reverse(t.len()));
    for table in &created {
        edits.push(ConfigEdit::RemoveTableIfEmpty {
            path: table.clone(),
        });
    }
    let record = DesktopRecord {
        version: RECORD_VERSION,
        config: config.to_owned(),
        since: prev.map_or_else(|| now.to_owned(), |r| r.since.clone()),
        keys: recorded,
        created_tables: created,
        created_file: prev.is_some_and(|r| r.created_file),
    };
    (edits, record)
}

/// Plans `off`: the edits, and the keys left alone because they changed since `on` (the user's
/// edits win).
pub fn plan_off(doc: &DocumentMut, record: &DesktopRecord) -> (Vec<ConfigEdit>, Vec<String>) {
    let mut edits = Vec::new();
    let mut kept = Vec::new();
    for key in record.keys.iter().rev() {
        let current = get(doc, &key.path);
        if current.is_some() && !matches_written(current, &key.written) {
            kept.push(dotted(&key.path));
            continue;
        }
        if current.is_none() && key.before.is_none() {
            continue;
        }
        match restore(key) {
            Some(edit) => edits.push(edit),
            None => kept.push(dotted(&key.path)),
        }
    }
    let mut tables = record.created_tables.clone();
    tables.sort_by_key(|t| std::cmp::Reverse(t.len()));
    for table in tables {
        edits.push(ConfigEdit::RemoveTableIfEmpty { path: table });
    }
    (edits, kept)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DesktopStatus {
    /// No record: config.toml is the user's own.
    Off,
    /// Switched, and every key still holds what `on` wrote.
    On,
    /// Switched, but these keys were changed since.
    Modified(Vec<String>),
}

pub fn status(doc: &DocumentMut, record: Option<&DesktopRecord>) -> DesktopStatus {
    let Some(record) = record else {
        return DesktopStatus::Off;
    };
    let changed: Vec<String> = record
        .keys
        .iter()
        .filter(|k| !matches_written(get(doc, &k.path), &k.written))
        .map(|k| dotted(&k.path))
        .collect();
    if changed.is_empty() {
        DesktopStatus::On
    } else {
        DesktopStatus::Modified(changed)
    }
}
