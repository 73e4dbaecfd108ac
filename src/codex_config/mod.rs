//! Edits of a user's TOML files (Codex's `config.toml`, the `aimux.config.toml` profile, aimux's
//! own `config.toml`) that never lose a byte the user wrote.
//!
//! A closed set of [`ConfigEdit`]s is applied to a `toml_edit::DocumentMut` ([`apply`]), which
//! says whether anything changed; comments, key order, blank lines and unrelated tables are kept
//! as they were, and a replaced value keeps its key's comments. [`write`] then backs the old file
//! up (timestamped, never overwritten) and replaces it atomically, keeping its permissions and
//! writing through a symlink. Pure except for [`read`] and [`write`].

pub mod desktop;
pub mod profile;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use toml_edit::{DocumentMut, InlineTable, Item, Table, TableLike, Value};

use crate::settings::Env;

/// Codex's home: `$CODEX_HOME`, else `~/.codex`.
pub fn codex_home(env: &Env) -> Option<PathBuf> {
    if let Some(h) = env.get("CODEX_HOME") {
        return Some(PathBuf::from(h));
    }
    env.get("HOME")
        .map(PathBuf::from)
        .or_else(dirs::home_dir)
        .map(|h| h.join(".codex"))
}

/// One change to a TOML document. Paths are key segments (`["model_providers", "aimux", "name"]`).
#[derive(Debug, Clone)]
pub enum ConfigEdit {
    /// Set the value at `path`, creating the tables on the way (inline inside inline tables).
    /// A key that already exists keeps its position and comments; an equal value is no change.
    Set { path: Vec<String>, value: Value },
    /// Remove the key at `path`; nothing when it is absent.
    Remove { path: Vec<String> },
    /// Remove the table at `path` when it holds nothing (no keys, no sub-tables).
    RemoveTableIfEmpty { path: Vec<String> },
}

impl ConfigEdit {
    pub fn set(path: &[&str], value: impl Into<Value>) -> Self {
        ConfigEdit::Set {
            path: owned(path),
            value: value.into(),
        }
    }

    pub fn remove(path: &[&str]) -> Self {
        ConfigEdit::Remove { path: owned(path) }
    }

    pub fn remove_table_if_empty(path: &[&str]) -> Self {
        ConfigEdit::RemoveTableIfEmpty { path: owned(path) }
    }
}

fn owned(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| (*s).to_owned()).collect()
}

/// A dotted path for messages: `model_providers.aimux.name`.
pub fn dotted(path: &[String]) -> String {
    path.join(".")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// A segment of the path holds a value where a table is needed.
    NotATable {
        path: String,
        at: String,
    },
    /// The key holds a table where a value is to be set.
    NotAValue {
        path: String,
    },
    EmptyPath,
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::NotATable { path, at } => {
                write!(f, "cannot set `{path}`: `{at}` is not a table")
            }
            EditError::NotAValue { path } => {
                write!(f, "cannot set `{path}`: it is a table, not a value")
            }
            EditError::EmptyPath => f.write_str("an edit with an empty key path"),
        }
    }
}

impl std::error::Error for EditError {}

/// Applies `edits` in order; returns whether the document changed.
pub fn apply(doc: &mut DocumentMut, edits: &[ConfigEdit]) -> Result<bool, EditError> {
    let mut changed = false;
    for edit in edits {
        changed |= match edit {
            ConfigEdit::Set { path, value } => set(doc, path, value.clone())?,
            ConfigEdit::Remove { path } => remove(doc, path, false),
            ConfigEdit::RemoveTableIfEmpty { path } => remove(doc, path, true),
        };
    }
    Ok(changed)
}

fn set(doc: &mut DocumentMut, path: &[String], mut value: Value) -> Result<bool, EditError> {
    let (last, parents) = path.split_last().ok_or(EditError::EmptyPath)?;
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    let mut inline = false;
    for (i, segment) in parents.iter().enumerate() {
        if !table.contains_key(segment) {
            if inline {
                insert_inline(table, segment, Value::InlineTable(InlineTable::new()));
            } else {
                let mut t = Table::new();
                // Only a table that ends up holding keys gets a `[header]`.
                t.set_implicit(true);
                table.insert(segment, Item::Table(t));
            }
        }
        let not_a_table = || EditError::NotATable {
            path: dotted(path),
            at: dotted(&path[..=i]),
        };
        let item = table.get_mut(segment).ok_or_else(not_a_table)?;
        inline = matches!(item, Item::Value(Value::InlineTable(_)));
        table = item.as_table_like_mut().ok_or_else(not_a_table)?;
    }
    match table.get_mut(last) {
        Some(Item::Value(existing)) => {
            if same_value(existing, &value) {
                return Ok(false);
            }
            *value.decor_mut() = existing.decor().clone();
            *existing = value;
            Ok(true)
        }
        Some(Item::None) | None => {
            if inline {
                insert_inline(table, last, value);
            } else {
                table.insert(last, Item::Value(value));
            }
            Ok(true)
        }
        Some(_) => Err(EditError::NotAValue { path: dotted(path) }),
    }
}

/// `{ a = 1 }` + b → `{ a = 1, b = 2 }`: the space before `}` moves to the new last entry (and
/// back on removal, so a round trip gives the same bytes).
fn insert_inline(table: &mut dyn TableLike, key: &str, mut value: Value) {
    if let Some(prev) = last_inline_value(table) {
        let suffix = prev.decor().suffix().cloned();
        prev.decor_mut().set_suffix("");
        if let Some(suffix) = suffix {
            value.decor_mut().set_suffix(suffix);
        }
    }
    value.decor_mut().set_prefix(" ");
    table.insert(key, Item::Value(value));
}

fn last_inline_value(table: &mut dyn TableLike) -> Option<&mut Value> {
    match table.iter_mut().last() {
        Some((_, Item::Value(v))) => Some(v),
        _ => None,
    }
}

fn remove(doc: &mut DocumentMut, path: &[String], only_empty_table: bool) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let root = parents.is_empty();
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    let mut inline = false;
    for segment in parents {
        let Some(item) = table.get_mut(segment) else {
            return false;
        };
        inline = matches!(item, Item::Value(Value::InlineTable(_)));
        match item.as_table_like_mut() {
            Some(t) => table = t,
            None => return false,
        }
    }
    match table.get(last) {
        None => return false,
        Some(item) if only_empty_table && !item.as_table_like().is_some_and(|t| t.is_empty()) => {
            return false;
        }
        Some(_) => {}
    }
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_owned()).collect();
    let was_last = keys.last().is_some_and(|k| k == last);
    let comment = table
        .key(last)
        .and_then(|k| k.leaf_decor().prefix())
        .and_then(|p| p.as_str())
        .filter(|p| p.contains('#'))
        .map(str::to_owned);
    let Some(removed) = table.remove(last) else {
        return false;
    };
    if inline && was_last {
        // The inverse of the suffix move in `set`.
        let suffix = removed.as_value().and_then(|v| v.decor().suffix().cloned());
        if let (Some(prev), Some(suffix)) = (last_inline_value(table), suffix) {
            prev.decor_mut().set_suffix(suffix);
        }
    }
    if let Some(comment) = comment {
        keep_comment(table, &keys, last, root, &comment);
    }
    true
}

/// A comment above a removed key stays in the file: above the next key, else (at the top
/// level) above the first table.
fn keep_comment(
    table: &mut dyn TableLike,
    keys: &[String],
    removed: &str,
    root: bool,
    comment: &str,
) {
    let after = keys.iter().skip_while(|k| *k != removed).skip(1);
    for k in after {
        if table.get(k).is_some_and(Item::is_value)
            && let Some(mut key) = table.key_mut(k)
        {
            let old = key
                .leaf_decor()
                .prefix()
                .and_then(|p| p.as_str())
                .unwrap_or("")
                .to_owned();
            key.leaf_decor_mut().set_prefix(format!("{comment}{old}"));
            return;
        }
    }
    if root {
        let first = table
            .iter_mut()
            .filter_map(|(_, item)| match item {
                Item::Table(t) => Some(t),
                _ => None,
            })
            .min_by_key(|t| t.position().unwrap_or(isize::MAX));
        if let Some(t) = first {
            let old = t
                .decor()
                .prefix()
                .and_then(|p| p.as_str())
                .unwrap_or("")
                .to_owned();
            t.decor_mut().set_prefix(format!("{comment}{old}"));
        }
    }
}

/// The document's text. A file that did not end with a newline still does not.
pub fn render(doc: &DocumentMut, original: &str) -> String {
    let mut text = doc.to_string();
    if !original.is_empty() && !original.ends_with('\n') && text.ends_with('\n') {
        text.pop();
    }
    text
}

/// The value at `path`, if it is a value (not a table).
pub fn get<'a>(doc: &'a DocumentMut, path: &[String]) -> Option<&'a Value> {
    let (last, parents) = path.split_last()?;
    let mut table: &dyn TableLike = doc.as_table();
    for segment in parents {
        table = table.get(segment)?.as_table_like()?;
    }
    table.get(last)?.as_value()
}

/// Whether a table exists at `path`.
pub fn has_table(doc: &DocumentMut, path: &[String]) -> bool {
    let mut table: &dyn TableLike = doc.as_table();
    for segment in path {
        match table.get(segment).and_then(Item::as_table_like) {
            Some(t) => table = t,
            None => return false,
        }
    }
    true
}

/// The string at `path`, if it is one.
pub fn get_str<'a>(doc: &'a DocumentMut, path: &[&str]) -> Option<&'a str> {
    get(doc, &owned(path)).and_then(Value::as_str)
}

/// A value as written in the file, without the whitespace and comments around it.
pub fn raw(value: &Value) -> String {
    let mut v = value.clone();
    v.decor_mut().clear();
    v.to_string()
}

/// Parses what [`raw`] returned; the value keeps its original spelling (quotes, escapes).
pub fn parse_raw(raw: &str) -> Option<Value> {
    raw.parse().ok()
}

/// Equal as TOML data (`'a'` equals `"a"`), whatever the spelling.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.value() == y.value(),
        (Value::Integer(x), Value::Integer(y)) => x.value() == y.value(),
        (Value::Boolean(x), Value::Boolean(y)) => x.value() == y.value(),
        (Value::Float(x), Value::Float(y)) => x.value() == y.value(),
        _ => raw(a) == raw(b),
    }
}

/// A TOML basic string, quoted and escaped, for templates.
pub fn quoted(s: &str) -> String {
    raw(&Value::from(s))
}

/// A file as read: its text (empty when it does not exist) and the parsed document.
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub exists: bool,
    pub text: String,
    pub doc: DocumentMut,
}

/// Reads and parses a TOML file; a missing file is an empty document. One that cannot be read
/// or parsed is an error naming the file, line and column (see [`crate::fsutil::toml_problem`]).
pub fn read(path: &Path) -> anyhow::Result<Loaded> {
    let text = crate::fsutil::read_text(path).map_err(crate::fsutil::config_error)?;
    let exists = text.is_some();
    let text = text.unwrap_or_default();
    let doc = text.parse::<DocumentMut>().map_err(|e| {
        crate::fsutil::config_error(crate::fsutil::toml_problem(
            path,
            &text,
            e.span(),
            e.message(),
            false,
        ))
    })?;
    Ok(Loaded {
        path: path.to_owned(),
        exists,
        text,
        doc,
    })
}

/// Replaces `loaded.path` with `text`: first a copy of the old file into `backup_dir` (named
/// `<label>.<UTC time>`, a new name every time), then an atomic rename that keeps the file's
/// permissions and, for a symlink, writes the file it points to. Returns the backup's path.
pub fn write(
    loaded: &Loaded,
    text: &str,
    backup_dir: &Path,
    label: &str,
) -> anyhow::Result<Option<PathBuf>> {
    let backup = if loaded.exists {
        Some(backup(&loaded.path, backup_dir, label, SystemTime::now())?)
    } else {
        None
    };
    crate::fsutil::write_atomic(&loaded.path, text.as_bytes(), crate::fsutil::Perms::Keep)
        .with_context(|| format!("writing {}", loaded.path.display()))?;
    Ok(backup)
}

/// Copies `path` to `dir/<label>.<stamp>` (then `-2`, `-3`, ... if taken; mode 0600, written
/// atomically); never overwrites.
pub fn backup(path: &Path, dir: &Path, label: &str, now: SystemTime) -> anyhow::Result<PathBuf> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let stamp = utc_stamp(now);
    for n in 1u32.. {
        let name = if n == 1 {
            format!("{label}.{stamp}")
        } else {
            format!("{label}.{stamp}-{n}")
        };
        let candidate = dir.join(name);
        match crate::fsutil::write_new(&candidate, &bytes) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("writing the backup {}", candidate.display()));
            }
        }
    }
    unreachable!("u32 ran out of backup names")
}

/// `20260131T235959Z`.
pub fn utc_stamp(t: SystemTime) -> String {
    let u = crate::utc::utc(t);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        u.year, u.month, u.day, u.hour, u.minute, u.second
    )
}

#[cfg(test)]
mod tests;
