//! File helpers shared by everything that reads or writes a user's or our own files: the one
//! atomic writer, and reading a config file so that a broken one is reported with its path,
//! line and column (and never written over: editors read, edit the parsed bytes, then write).

use std::fs::File;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The permissions a written file gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perms {
    /// The replaced file's; a new file is 0600.
    Keep,
    /// 0600 whatever the old file had (it holds a secret).
    Private,
}

/// Temp files end with this; `.<file name>.<pid>.<random>.aimux-tmp`, next to the file.
const TEMP_SUFFIX: &str = ".aimux-tmp";

/// Replaces `path` with `bytes` so that a reader (or a crash, or SIGKILL, at any moment) sees
/// the old content or the new, never a mix: a temp file in the same directory created 0600,
/// given the final permissions, written, fsynced, renamed over the target (the file a symlink
/// points to), then the directory fsynced. On an error the target is untouched and the temp
/// file removed; one left by a killed writer is removed by the next write in that directory
/// (its pid is in the name and no longer runs).
pub fn write_atomic(path: &Path, bytes: &[u8], perms: Perms) -> std::io::Result<()> {
    write_with(path, perms, true, |f| f.write_all(bytes))
}

/// Like [`write_atomic`] for a file that must not exist yet (backups): `AlreadyExists` if it
/// does, and then nothing changes. The new file is 0600.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with(path, Perms::Private, false, |f| f.write_all(bytes))
}

fn write_with(
    path: &Path,
    perms: Perms,
    replace: bool,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let target = resolve_symlink(path)?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| std::io::Error::other(format!("{} names no file", target.display())))?;
    std::fs::create_dir_all(&dir)?;
    remove_stale_temps(&dir);
    let old = std::fs::metadata(&target).ok().map(|m| m.permissions());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.{}.", std::process::id()))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(&dir)?;
    if let Some(p) = final_permissions(perms, old) {
        tmp.as_file().set_permissions(p)?;
    }
    fill(tmp.as_file_mut())?;
    tmp.as_file().sync_all()?;
    if replace {
        tmp.persist(&target).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(&target).map_err(|e| e.error)?;
    }
    sync_dir(&dir)
}

/// The file a symlink points to (so the link stays a link), else `path`.
fn resolve_symlink(path: &Path) -> std::io::Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path),
        _ => Ok(path.to_owned()),
    }
}

/// `None`: keep the temp file's mode (tempfile creates it 0600 on Unix, so no byte is ever
/// readable by others before the final mode is set).
fn final_permissions(
    perms: Perms,
    old: Option<std::fs::Permissions>,
) -> Option<std::fs::Permissions> {
    match perms {
        Perms::Keep => old,
        #[cfg(unix)]
        Perms::Private => {
            use std::os::unix::fs::PermissionsExt;
            Some(std::fs::Permissions::from_mode(0o600))
        }
        #[cfg(not(unix))]
        Perms::Private => None,
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Removes the temp files (`.<name>.<pid>.<random>.aimux-tmp`) in `dir` whose writer no longer
/// runs: a killed write of any file there, backups included (best effort).
fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_suffix(TEMP_SUFFIX))
            .and_then(|rest| rest.rsplit_once('.'))
            .and_then(|(rest, _random)| rest.rsplit_once('.'))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !process_runs(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(unix)]
fn process_runs(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_runs(_pid: u32) -> bool {
    true
}

/// A config file's text; `None` when it does not exist. `Err` says what is wrong, naming the
/// file (for bytes that are not UTF-8, the line and column too).
pub fn read_text(path: &Path) -> Result<Option<String>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    String::from_utf8(bytes).map(Some).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let valid = String::from_utf8_lossy(&bytes[..at]);
        let (line, column) = line_column(&valid, at);
        format!(
            "{}, line {line}, column {column}: not UTF-8 text (byte 0x{:02x})",
            path.display(),
            bytes[at]
        )
    })
}

/// A TOML error in `path`: `PATH, line L, column C: MESSAGE`, then that line with a caret under
/// the spot. For a `secret` file (credentials) neither the line nor the values in the message
/// are shown: they may hold a key.
pub fn toml_problem(
    path: &Path,
    text: &str,
    span: Option<Range<usize>>,
    message: &str,
    secret: bool,
) -> String {
    let message = message.trim_end();
    let message = if secret {
        hide_values(message)
    } else {
        message.to_owned()
    };
    let Some(span) = span else {
        return format!("{}: {message}", path.display());
    };
    let at = span.start.min(text.len());
    let (line, column) = line_column(text, at);
    let mut out = format!(
        "{}, line {line}, column {column}: {message}",
        path.display()
    );
    if !secret {
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let source = text[start..].lines().next().unwrap_or("");
        let gutter = " ".repeat(line.to_string().len());
        out.push_str(&format!(
            "\n{gutter} |\n{line} | {source}\n{gutter} | {}^",
            " ".repeat(column - 1)
        ));
    }
    out
}

/// The CLI's error for a config file aimux cannot use: the problem, then what to do.
pub fn config_error(problem: String) -> anyhow::Error {
    crate::error::user_error(format!(
        "{problem}\nhint: fix the file (or move it away) and run the command again; aimux has \
         not changed it"
    ))
}

/// 1-based line and column (in characters) of byte `at` (a char boundary) of `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// The values serde quotes in a message (`string "sk-..."`) replaced by `"…"`.
fn hide_values(message: &str) -> String {
    const OPEN: &str = "string \"";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i + OPEN.len()]);
        out.push_str("…\"");
        let value = &rest[i + OPEN.len()..];
        // The closing quote: the first one not escaped (serde writes the value with {:?}).
        let mut escaped = false;
        let end = value.char_indices().find_map(|(j, c)| match c {
            '\\' if !escaped => {
                escaped = true;
                None
            }
            '"' if !escaped => Some(j + 1),
            _ => {
                escaped = false;
                None
            }
        });
        rest = end.map_or("", |j| &value[j..]);
    }
    out.push_str(rest);
    out
}

#[cfg(all(test, unix))]
mod tests;
