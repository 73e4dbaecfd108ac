//! Size-rotated log files (`bridge.log` → `bridge.log.1` → ... → `bridge.log.N`), reading the tail
//! of a log, and UTC timestamps without a date library.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
pub const DEFAULT_KEEP: usize = 3;

/// `path.N` (`bridge.log.1`).
pub fn rotated_name(path: &Path, n: usize) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// The renames that rotate `path` keeping `keep` old files, oldest first: `log.{keep-1}` →
/// `log.{keep}`, ..., `log` → `log.1`. With `keep == 0` there are none (the log is truncated).
pub fn rotation_plan(path: &Path, keep: usize) -> Vec<(PathBuf, PathBuf)> {
    let mut plan = Vec::new();
    for n in (1..keep).rev() {
        plan.push((rotated_name(path, n), rotated_name(path, n + 1)));
    }
    if keep > 0 {
        plan.push((path.to_owned(), rotated_name(path, 1)));
    }
    plan
}

/// An append-only log that rotates itself when it would grow past `max_bytes`.
#[derive(Debug)]
pub struct RotatingLog {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    file: File,
    size: u64,
}

fn open_append(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

impl RotatingLog {
    pub fn open(path: &Path, max_bytes: u64, keep: usize) -> std::io::Result<Self> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingLog {
            path: path.to_owned(),
            max_bytes: max_bytes.max(1024),
            keep,
            file,
            size,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `line` and a newline, rotating first when it would not fit.
    pub fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        let len = line.len() as u64 + 1;
        if self.size > 0 && self.size + len > self.max_bytes {
            self.rotate()?;
        }
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        self.file.write_all(&buf)?;
        self.size += len;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        if self.keep == 0 {
            File::create(&self.path)?;
        } else {
            let _ = std::fs::remove_file(rotated_name(&self.path, self.keep));
            for (from, to) in rotation_plan(&self.path, self.keep) {
                match std::fs::rename(&from, &to) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// The last `n` lines of a file (reads at most the last 1 MiB). A missing file has none.
pub fn tail(path: &Path, n: usize) -> std::io::Result<Vec<String>> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    let start = len.saturating_sub(1024 * 1024);
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    Ok(last_lines(&String::from_utf8_lossy(&buf), n, start > 0))
}

/// The last `n` lines of `text`; when `partial_first` the first line may be cut and is dropped.
pub fn last_lines(text: &str, n: usize, partial_first: bool) -> Vec<String> {
    let mut lines: Vec<&str> = text.lines().collect();
    if partial_first && !lines.is_empty() {
        lines.remove(0);
    }
    let skip = lines.len().saturating_sub(n);
    lines[skip..].iter().map(|l| (*l).to_owned()).collect()
}

/// `2026-01-02T03:04:05Z`.
pub fn utc_timestamp(t: SystemTime) -> String {
    let u = crate::utc::utc(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        u.year, u.month, u.day, u.hour, u.minute, u.second
    )
}

/// `3d 4h`, `2h 5m`, `4m 10s`, `12s`.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        (secs % 86_400) / 3600,
        (secs % 3600) / 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn rotation_plans() {
        let p = Path::new("/l/bridge.log");
        let names = |v: Vec<(PathBuf, PathBuf)>| -> Vec<(String, String)> {
            v.into_iter()
                .map(|(a, b)| (a.display().to_string(), b.display().to_string()))
                .collect()
        };
        let s = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        let cases: [(usize, Vec<(String, String)>); 3] = [
            (0, vec![]),
            (1, vec![s("/l/bridge.log", "/l/bridge.log.1")]),
            (
                3,
                vec![
                    s("/l/bridge.log.2", "/l/bridge.log.3"),
                    s("/l/bridge.log.1", "/l/bridge.log.2"),
                    s("/l/bridge.log", "/l/bridge.log.1"),
                ],
            ),
        ];
        for (keep, want) in cases {
            assert_eq!(names(rotation_plan(p, keep)), want, "keep={keep}");
        }
    }

    #[test]
    fn rotates_by_size_and_keeps_n() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/x.log");
        let mut log = RotatingLog::open(&path, 1024, 2).unwrap();
        let line = "a".repeat(299); // 300 bytes with the newline: 3 lines fit in 1024
        for i in 0..10 {
            log.write_line(&format!("{i}{}", &line[1..])).unwrap();
        }
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap();
        let first_digits = |t: String| -> String { t.lines().map(|l| &l[..1]).collect() };
        assert_eq!(first_digits(read(path.clone())), "9");
        assert_eq!(first_digits(read(rotated_name(&path, 1))), "678");
        assert_eq!(first_digits(read(rotated_name(&path, 2))), "345");
        assert!(!rotated_name(&path, 3).exists());
        // Reopening continues the same file with its size accounted.
        let mut log = RotatingLog::open(&path, 1024, 2).unwrap();
        log.write_line("x").unwrap();
        assert_eq!(read(path.clone()).lines().count(), 2);
    }

    #[test]
    fn tails() {
        let cases: [(&str, usize, bool, &[&str]); 5] = [
            ("", 3, false, &[]),
            ("a\nb\nc\n", 2, false, &["b", "c"]),
            ("a\nb\nc", 10, false, &["a", "b", "c"]),
            ("cut\nb\nc\n", 10, true, &["b", "c"]),
            ("a\nb\n", 0, false, &[]),
        ];
        for (text, n, partial, want) in cases {
            assert_eq!(last_lines(text, n, partial), want, "{text:?} {n}");
        }
        let dir = tempfile::tempdir().unwrap();
        assert!(tail(&dir.path().join("none"), 5).unwrap().is_empty());
    }

    #[test]
    fn timestamps_and_durations() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_700_000_000, "2023-11-14T22:13:20Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
        ];
        for (secs, want) in cases {
            assert_eq!(
                utc_timestamp(UNIX_EPOCH + Duration::from_secs(secs)),
                want,
                "{secs}"
            );
        }
        let cases = [
            (0, "0s"),
            (59, "59s"),
            (61, "1m 1s"),
            (3600 * 2 + 300, "2h 5m"),
            (86_400 * 3 + 3600 * 4 + 5, "3d 4h"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want);
        }
    }
}
