//! The three files aimux reads (its `config.toml`, `credentials.toml`, Codex's `config.toml`),
//! broken one way at a time, under every command that reads them: the error names the file, line
//! and column, the exit code is 1 (doctor: a ✗ row), a key never shows, and the file keeps its
//! bytes and mtime. Then crash safety: writers SIGKILLed at spread-out moments leave each file
//! (and every backup) exactly the old or the new content, and no temp file survives the next
//! write; a control run shows the same loop catches a writer that is not atomic.

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::common::bridge::aimux_bin;
use crate::common::{CommandOutput, run_with_timeout};

/// A temp `AIMUX_HOME` (`aimux/`), `CODEX_HOME` (`codex/`), `HOME`, `TMPDIR`; nothing on PATH
/// but the system's (no `codex`), ports nobody listens on.
struct Homes {
    root: tempfile::TempDir,
}

const MOCK_KEY: &str = "sk-config-files-env-key";

impl Homes {
    fn new() -> Homes {
        let root = tempfile::Builder::new()
            .prefix("aimux-config-files-")
            .tempdir()
            .unwrap();
        for d in ["aimux", "codex", "home", "tmp"] {
            fs::create_dir_all(root.path().join(d)).unwrap();
        }
        let h = Homes { root };
        let (bridge, proxy, upstream) = (closed_port(), closed_port(), closed_port());
        h.write(
            "aimux/config.toml",
            format!(
                "# mine\n[bridge]\nport = {bridge}\n\n[proxy]\nport = {proxy}\n\n\
                 [providers.a]\nbase_url = \"http://127.0.0.1:{upstream}/v1\"\n\
                 env_key = \"MOCK_KEY\"\nmodels = [{{ id = \"m1\", context = 64000 }}]\n\n\
                 [websearch]\nenabled = false\n"
            )
            .as_bytes(),
        );
        h.write("codex/config.toml", b"# the user's\nmodel = \"gpt-5.5\"\n");
        h
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    fn write(&self, rel: &str, bytes: &[u8]) {
        fs::write(self.path(rel), bytes).unwrap();
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(aimux_bin());
        cmd.args(args);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("OPENAI_")
                || k.starts_with("CODEX_")
                || k.starts_with("AIMUX_")
                || k.ends_with("_API_KEY")
                || k.ends_with("_TOKEN")
            {
                cmd.env_remove(&k);
            }
        }
        let home = self.path("home");
        cmd.env("PATH", "/usr/bin:/bin")
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("TMPDIR", self.path("tmp"))
            .env("NO_COLOR", "1")
            .env("AIMUX_HOME", self.path("aimux"))
            .env("CODEX_HOME", self.path("codex"))
            .env("MOCK_KEY", MOCK_KEY)
            .current_dir(&home);
        cmd
    }

    fn aimux(&self, args: &[&str]) -> CommandOutput {
        run_with_timeout(
            self.command(args),
            Duration::from_secs(60),
            &self.path("tmp"),
        )
    }
}

impl Drop for Homes {
    /// A regression that let `up` start a link must not leave it running.
    fn drop(&mut self) {
        let _ = self.aimux(&["stop"]);
    }
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// One broken file: its bytes and where the error must point.
struct Broken {
    what: &'static str,
    bytes: &'static [u8],
    line: usize,
    column: usize,
}

/// Writes `case` to `rel`, runs each command, and checks the error, the exit code and that the
/// file kept its bytes and mtime. `secret`: text that must never be shown.
fn check_commands(h: &Homes, rel: &str, case: &Broken, commands: &[&[&str]], secret: &str) {
    let path = h.path(rel);
    fs::write(&path, case.bytes).unwrap();
    let mtime = |p: &Path| -> SystemTime { fs::metadata(p).unwrap().modified().unwrap() };
    let before = mtime(&path);
    let want = format!(
        "{}, line {}, column {}: ",
        path.display(),
        case.line,
        case.column
    );
    for args in commands {
        let out = h.aimux(args);
        let all = format!("{}{}", out.stdout, out.stderr);
        let label = format!("{rel} ({}) under `aimux {}`", case.what, args.join(" "));
        assert_eq!(
            out.status.and_then(|s| s.code()),
            Some(1),
            "{label}\n{}",
            out.dump()
        );
        if args[0] == "doctor" {
            assert!(
                all.lines().any(|l| l.contains('✗') && l.contains(&want)),
                "{label}: no ✗ row with {want:?}\n{}",
                out.dump()
            );
        } else {
            assert!(
                out.stderr.starts_with("error: ") && out.stderr.contains(&want),
                "{label}: want {want:?}\n{}",
                out.dump()
            );
            assert!(
                out.stderr.contains("aimux has not changed it"),
                "{label}\n{}",
                out.dump()
            );
        }
        assert!(
            secret.is_empty() || !all.contains(secret),
            "{label} shows the key\n{}",
            out.dump()
        );
        assert_eq!(fs::read(&path).unwrap(), case.bytes, "{label} changed it");
        assert_eq!(mtime(&path), before, "{label} wrote it");
    }
}

#[test]
fn a_broken_aimux_config_is_located_and_left_alone() {
    let cases = [
        Broken {
            what: "unclosed table",
            bytes: b"[bridge\nport = 1\n",
            line: 1,
            column: 8,
        },
        Broken {
            what: "unterminated string",
            bytes: b"# mine\n[bridge]\nhost = \"127.0.0.1\n",
            line: 3,
            column: 18,
        },
        Broken {
            what: "not UTF-8",
            bytes: b"[bridge]\nport = 1\n# caf\xe9\n",
            line: 3,
            column: 6,
        },
        Broken {
            what: "wrong type",
            bytes: b"[bridge]\nport = \"x\"\n",
            line: 2,
            column: 8,
        },
    ];
    let commands: &[&[&str]] = &[
        &["proxy", "--port", "0"],
        &["start"],
        &["setup"],
        &["desktop", "on"],
        &["desktop", "off"],
        &["desktop", "status"],
        &["websearch", "on"],
        &["websearch", "off"],
        &["websearch", "status"],
        &["models"],
        &["up"],
        &["gen-catalog"],
        &["doctor", "--offline"],
    ];
    for case in &cases {
        let h = Homes::new();
        check_commands(&h, "aimux/config.toml", case, commands, "");
    }
}

#[test]
fn a_broken_credentials_file_is_located_without_showing_a_key() {
    const KEY: &str = "sk-broken-credentials-0123";
    let cases = [
        Broken {
            what: "unterminated string",
            bytes: b"[a]\napi_key = \"sk-broken-credentials-0123\n",
            line: 2,
            column: 38,
        },
        Broken {
            what: "unknown key",
            bytes: b"[b]\napi_key = \"k\"\n\n[a]\nx = 1\n",
            line: 5,
            column: 1,
        },
        Broken {
            what: "wrong type",
            bytes: b"a = \"sk-broken-credentials-0123\"\n",
            line: 1,
            column: 5,
        },
        Broken {
            what: "not UTF-8",
            bytes: b"[a]\napi_key = \"sk-broken-credentials-0123\"\n\xff\n",
            line: 3,
            column: 1,
        },
    ];
    let commands: &[&[&str]] = &[
        &["proxy", "--port", "0"],
        &["start"],
        &["setup"],
        &["desktop", "on"],
        &["models"],
        &["up"],
        &["gen-catalog"],
        &["doctor", "--offline"],
    ];
    for case in &cases {
        let h = Homes::new();
        let path = h.path("aimux/credentials.toml");
        fs::write(&path, case.bytes).unwrap();
        fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        check_commands(&h, "aimux/credentials.toml", case, commands, KEY);
    }
}

#[test]
fn a_broken_codex_config_is_located_and_left_alone() {
    let cases = [
        Broken {
            what: "unterminated string",
            bytes: b"# the user's\nmodel = \"gpt-5.5\n",
            line: 2,
            column: 17,
        },
        Broken {
            what: "unclosed table",
            bytes: b"[profiles\n",
            line: 1,
            column: 10,
        },
        Broken {
            what: "duplicate key",
            bytes: b"model = \"a\"\nmodel = \"b\"\n",
            line: 2,
            column: 1,
        },
        Broken {
            what: "not UTF-8",
            bytes: b"model = \"a\"\n# \xff\n",
            line: 2,
            column: 3,
        },
    ];
    let commands: &[&[&str]] = &[
        &["setup"],
        &["desktop", "on"],
        &["desktop", "off"],
        &["desktop", "status"],
        &["up"],
        &["doctor", "--offline"],
    ];
    for case in &cases {
        let h = Homes::new();
        // Desktop mode on first, so `desktop off` has something to restore.
        let on = h.aimux(&["desktop", "on"]);
        assert!(on.success(), "{}", on.dump());
        let record = h.path("aimux/desktop-state.json");
        let record_bytes = fs::read(&record).unwrap();
        check_commands(&h, "codex/config.toml", case, commands, "");
        assert_eq!(fs::read(&record).unwrap(), record_bytes);
    }
}

/// Kill delays: `iterations` moments spread evenly over 0 ..= 1.5 × `runtime` (a median run),
/// so kills land before, during and after the write.
fn delay(i: usize, iterations: usize, runtime: Duration) -> Duration {
    runtime.mul_f64(1.5 * (i % iterations) as f64 / iterations as f64)
}

/// The median wall time of `run` over five runs.
fn median_runtime(mut run: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[2]
}

/// Starts `cmd`, SIGKILLs it after `after` (the point of the test, not a readiness wait), and
/// says whether the kill ended it (false: it had already exited 0).
fn kill_after(mut cmd: Command, after: Duration) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child: Child = cmd.spawn().expect("spawn the writer");
    std::thread::sleep(after);
    let _ = child.kill();
    let status = child.wait().expect("reap the writer");
    match status.signal() {
        Some(libc::SIGKILL) => true,
        _ => {
            assert!(status.success(), "the writer failed: {status:?}");
            false
        }
    }
}

/// `*.aimux-tmp` files in `dir`.
fn temps(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".aimux-tmp"))
                .collect()
        })
        .unwrap_or_default()
}

/// `aimux websearch on|off` edits aimux's config.toml and the Codex profile (each after a
/// backup). A non-atomic write (truncate, then write) would leave an empty or partial file when
/// a kill lands between the two; every state after a kill is compared byte for byte with the two
/// complete ones, and the loop is shown to land kills on both sides of the first write (so it
/// covers the write itself). With `write_atomic` swapped for `File::create` + `write_all`, this
/// test failed within 60 iterations in each of three runs; the control below
/// (`the_kill_loop_catches_a_writer_that_is_not_atomic`) keeps checking that the kill spread
/// still catches such a writer on the machine running the tests.
#[test]
fn killed_writes_leave_the_old_or_the_new_file() {
    const ITERATIONS: usize = 150;
    let h = Homes::new();
    h.write(
        "codex/aimux.config.toml",
        b"# profile\nweb_search = \"disabled\"\n",
    );
    let config = h.path("aimux/config.toml");
    let profile = h.path("codex/aimux.config.toml");
    let read = |p: &Path| fs::read(p).unwrap();
    let run = |word: &str| {
        let out = h.aimux(&["websearch", word]);
        assert!(out.success(), "{}", out.dump());
    };
    // The two complete states of each file.
    let (config_off, profile_off) = (read(&config), read(&profile));
    run("on");
    let (config_on, profile_on) = (read(&config), read(&profile));
    assert_ne!(config_on, config_off);
    assert_ne!(profile_on, profile_off);
    let runtime = median_runtime(|| {
        run("off");
        run("on");
    }) / 2;

    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut killed_unchanged, mut killed_changed) = (0, 0);
    for i in 0..ITERATIONS {
        assert!(Instant::now() < deadline, "the kill loop took over 120 s");
        let turn_on = read(&config) == config_off;
        let (before, after) = if turn_on {
            (&config_off, &config_on)
        } else {
            (&config_on, &config_off)
        };
        let profile_before = read(&profile);
        let killed = kill_after(
            h.command(&["websearch", if turn_on { "on" } else { "off" }]),
            delay(i, ITERATIONS, runtime),
        );
        let now = read(&config);
        assert!(
            now == *before || now == *after,
            "iteration {i}: config.toml is neither the old nor the new content:\n{}",
            String::from_utf8_lossy(&now)
        );
        let target = if turn_on { &profile_on } else { &profile_off };
        let p = read(&profile);
        assert!(
            p == profile_before || p == *target,
            "iteration {i}: the profile is neither the old nor the new content:\n{}",
            String::from_utf8_lossy(&p)
        );
        if killed {
            if now == *before {
                killed_unchanged += 1;
            } else {
                killed_changed += 1;
            }
        }
    }
    assert!(
        killed_unchanged > 0 && killed_changed > 0,
        "kills must land before and after the write (runtime {runtime:?}): {killed_unchanged} \
         before, {killed_changed} after"
    );

    // Every backup is a complete copy of one of the two states.
    for b in fs::read_dir(h.path("aimux/backups")).unwrap().flatten() {
        let (name, bytes) = (
            b.file_name().to_string_lossy().into_owned(),
            read(&b.path()),
        );
        if name.ends_with(".aimux-tmp") {
            continue;
        }
        let ok = if name.starts_with("aimux-config.toml.") {
            bytes == config_on || bytes == config_off
        } else {
            bytes == profile_on || bytes == profile_off
        };
        assert!(
            ok,
            "backup {name} is torn:\n{}",
            String::from_utf8_lossy(&bytes)
        );
    }
    // Temp files of killed writers go with the next complete write in their directory.
    run("on");
    run("off");
    for dir in ["aimux", "aimux/backups", "codex"] {
        let left = temps(&h.path(dir));
        assert!(left.is_empty(), "temp files left in {dir}: {left:?}");
    }
}

/// The control for the test above: `sh -c 'cat NEW > FILE'` truncates FILE, then writes it.
/// The same spread of kills must catch it with an empty or partial file at least once.
#[test]
fn the_kill_loop_catches_a_writer_that_is_not_atomic() {
    const ITERATIONS: usize = 150;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let states: [Vec<u8>; 2] = [
        "[websearch]\nenabled = false\n".repeat(4000).into_bytes(),
        "[websearch]\nenabled = true\n".repeat(4000).into_bytes(),
    ];
    let sources = [dir.path().join("off"), dir.path().join("on")];
    for (s, bytes) in sources.iter().zip(&states) {
        fs::write(s, bytes).unwrap();
    }
    fs::write(&file, &states[0]).unwrap();
    let writer = |src: &Path| {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("cat \"$1\" > \"$2\"")
            .arg("sh")
            .arg(src)
            .arg(&file);
        cmd
    };
    let runtime = median_runtime(|| {
        let status = writer(&sources[1]).status().unwrap();
        assert!(status.success());
    });
    let mut torn = 0;
    for i in 0..ITERATIONS {
        kill_after(writer(&sources[i % 2]), delay(i, ITERATIONS, runtime));
        let now = fs::read(&file).unwrap();
        if !states.contains(&now) {
            torn += 1;
            fs::write(&file, &states[0]).unwrap();
        }
    }
    assert!(
        torn > 0,
        "{ITERATIONS} kills spread over 1.5 × {runtime:?} never caught `cat > file` mid-write"
    );
}
