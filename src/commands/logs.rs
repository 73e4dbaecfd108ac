//! `aimux logs [--follow] [-n N] [bridge|proxy|supervisor]`: the last lines of the children's
//! logs under `$AIMUX_HOME/logs/`, then (with `--follow`) new lines as they are written, across
//! rotations. Several logs are shown with a `name |` prefix.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::LogName;
use crate::supervisor::logfile;
use crate::supervisor::{Paths, tilde};

const POLL: Duration = Duration::from_millis(200);

fn name(n: LogName) -> &'static str {
    match n {
        LogName::Bridge => "bridge",
        LogName::Proxy => "proxy",
        LogName::Supervisor => "supervisor",
    }
}

struct Followed {
    label: Option<&'static str>,
    path: PathBuf,
    offset: u64,
    id: Option<(u64, u64)>,
    partial: Vec<u8>,
}

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_m: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

impl Followed {
    /// New complete lines since the last call.
    fn poll(&mut self) -> Vec<String> {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return Vec::new();
        };
        let id = file_id(&meta);
        if id != self.id || meta.len() < self.offset {
            // Rotated or truncated: the new file from its start.
            self.id = id;
            self.offset = 0;
            self.partial.clear();
        }
        if meta.len() == self.offset {
            return Vec::new();
        }
        let Ok(mut f) = File::open(&self.path) else {
            return Vec::new();
        };
        if f.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut buf = Vec::new();
        let Ok(n) = f.read_to_end(&mut buf) else {
            return Vec::new();
        };
        self.offset += n as u64;
        self.partial.extend_from_slice(&buf);
        let mut lines = Vec::new();
        while let Some(pos) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=pos).collect();
            lines.push(
                String::from_utf8_lossy(&line)
                    .trim_end_matches(['\n', '\r'])
                    .to_owned(),
            );
        }
        lines
    }
}

fn emit(out: &mut impl Write, label: Option<&str>, line: &str) -> std::io::Result<()> {
    match label {
        Some(l) => writeln!(out, "{l:<10} | {line}"),
        None => writeln!(out, "{line}"),
    }
}

pub fn run(home: &Path, which: Option<LogName>, lines: usize, follow: bool) -> anyhow::Result<()> {
    let paths = Paths::new(home);
    let names: Vec<LogName> = match which {
        Some(n) => vec![n],
        None => vec![LogName::Supervisor, LogName::Proxy, LogName::Bridge],
    };
    let multi = names.len() > 1;
    let mut followed: Vec<Followed> = names
        .iter()
        .map(|&n| {
            let path = paths.log(name(n));
            let meta = std::fs::metadata(&path).ok();
            Followed {
                label: multi.then_some(name(n)),
                offset: meta.as_ref().map(|m| m.len()).unwrap_or(0),
                id: meta.as_ref().and_then(file_id),
                path,
                partial: Vec::new(),
            }
        })
        .collect();
    if !followed.iter().any(|f| f.path.exists()) {
        let _ = writeln!(
            std::io::stderr(),
            "aimux: no logs yet in {} (`aimux start` writes them)",
            tilde(&paths.logs_dir())
        );
        if !follow {
            return Ok(());
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for f in &followed {
        for line in logfile::tail(&f.path, lines)? {
            if emit(&mut out, f.label, &line).is_err() {
                return Ok(()); // broken pipe: the reader is gone
            }
        }
    }
    if out.flush().is_err() || !follow {
        return Ok(());
    }
    loop {
        let mut wrote = false;
        for f in &mut followed {
            for line in f.poll() {
                if emit(&mut out, f.label, &line).is_err() {
                    return Ok(());
                }
                wrote = true;
            }
        }
        if wrote && out.flush().is_err() {
            return Ok(());
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_appends_partial_lines_and_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bridge.log");
        std::fs::write(&path, "old\n").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let mut f = Followed {
            label: None,
            path: path.clone(),
            offset: meta.len(),
            id: file_id(&meta),
            partial: Vec::new(),
        };
        assert!(f.poll().is_empty());
        let append = |s: &str| {
            let mut h = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            h.write_all(s.as_bytes()).unwrap();
        };
        append("one\ntw");
        assert_eq!(f.poll(), vec!["one"]);
        append("o\n");
        assert_eq!(f.poll(), vec!["two"]);
        // Rotation: the old file is renamed away and a new one starts.
        std::fs::rename(&path, dir.path().join("bridge.log.1")).unwrap();
        std::fs::write(&path, "fresh\n").unwrap();
        assert_eq!(f.poll(), vec!["fresh"]);
    }
}
