//! Hermetic installers for external test tools, under `<repo>/.tools/` (gitignored).
//!
//! * [`codex_bin`]: the real Codex CLI, `@openai/codex@0.169.0`, installed with
//!   `npm install --prefix .tools/codex`; binary `.tools/codex/node_modules/.bin/codex`.
//!   Override with `AIMUX_TEST_CODEX=/path/to/codex`.
//! * [`venv_python`]: `.tools/venv` (`python3 -m venv`) with `openai==3.54.0`.
//!   Override with `AIMUX_TEST_PYTHON=/path/to/python` (it must already have that package).
//! * [`playwright_modules`]: `playwright-core@1.65.1` (the driver only, no browser download),
//!   installed with `npm install --prefix .tools/playwright`; use it as `NODE_PATH`.
//! * [`chromium_bin`]: Debian's `chromium` (`apt-get install -y chromium` when missing; needs
//!   root or passwordless sudo). Override with `AIMUX_TEST_CHROMIUM=/path/to/chromium`.
//!
//! Installs are idempotent (a version marker file is written last, so a half-finished install
//! is redone) and serialized across threads and processes (cargo-nextest) with an exclusive
//! `flock` on `.tools/<name>.lock`. After the first install a call costs a file read.
//!
//! A missing `npm` / `python3`, or a failing registry, makes the calling test panic with a
//! message saying what to install: these tests never skip silently.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use super::process::run_with_timeout;

/// The Codex CLI version the e2e tests pin.
pub const CODEX_VERSION: &str = "0.169.0";
/// The `openai` Python package version the SDK tests pin.
pub const OPENAI_PY_VERSION: &str = "3.54.0";
/// The `playwright-core` version the browser tests pin (it drives the system Chromium).
pub const PLAYWRIGHT_CORE_VERSION: &str = "1.65.1";

const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

/// The crate root (`CARGO_MANIFEST_DIR`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `<repo>/.tools`.
pub fn tools_dir() -> PathBuf {
    repo_root().join(".tools")
}

/// Path of a working Codex CLI 0.169.0, installing it first if needed. Panics with a clear
/// message if that is impossible.
pub fn codex_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("AIMUX_TEST_CODEX").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "AIMUX_TEST_CODEX={} does not exist",
            p.display()
        );
        return p;
    }
    static CODEX: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match CODEX.get_or_init(install_codex) {
        Ok(p) => p.clone(),
        Err(e) => panic!("cannot provide the Codex CLI for the e2e tests:\n{e}"),
    }
}

/// Path of the venv's `python` with `openai==3.54.0`, creating the venv first if needed.
/// Panics with a clear message if that is impossible.
pub fn venv_python() -> PathBuf {
    if let Some(p) = std::env::var_os("AIMUX_TEST_PYTHON").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "AIMUX_TEST_PYTHON={} does not exist",
            p.display()
        );
        return p;
    }
    static PY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PY.get_or_init(install_venv) {
        Ok(p) => p.clone(),
        Err(e) => panic!("cannot provide the Python venv with openai=={OPENAI_PY_VERSION}:\n{e}"),
    }
}

/// Run `f` while holding an exclusive flock on `.tools/<name>.lock`.
fn with_lock<T>(name: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    let dir = tools_dir();
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}.lock"));
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open lock file {}: {e}", path.display()))?;
    // Fully qualified: std's inherent `File::lock` is newer than this crate's MSRV.
    fs4::FileExt::lock(&file).map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
    let out = f();
    drop(file); // closing the descriptor releases the flock
    Ok(out)
}

fn marker_ok(marker: &Path, expected: &str) -> bool {
    fs::read_to_string(marker).is_ok_and(|s| s.trim() == expected)
}

fn write_marker(marker: &Path, content: &str) -> Result<(), String> {
    let tmp = marker.with_extension("tmp");
    fs::write(&tmp, content)
        .and_then(|_| fs::rename(&tmp, marker))
        .map_err(|e| format!("cannot write {}: {e}", marker.display()))
}

fn scratch() -> PathBuf {
    tools_dir().join("logs")
}

fn require_program(program: &str, version_arg: &str, hint: &str) -> Result<(), String> {
    match Command::new(program).arg(version_arg).output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "`{program} {version_arg}` failed ({}): {}\n{hint}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Err(format!(
            "`{program}` is not available on PATH ({e}).\n{hint}"
        )),
    }
}

/// `npm install --prefix DIR PACKAGE@VERSION`, quietly, with the install time limit.
fn npm_install(dir: &Path, package: &str) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut cmd = Command::new("npm");
    cmd.arg("install")
        .arg("--prefix")
        .arg(dir)
        .args([
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--no-update-notifier",
        ])
        .arg(package);
    let out = run_with_timeout(cmd, INSTALL_TIMEOUT, &scratch());
    if out.success() {
        Ok(())
    } else {
        Err(format!(
            "`npm install --prefix {} {package}` failed:\n{}",
            dir.display(),
            out.dump()
        ))
    }
}

fn install_codex() -> Result<PathBuf, String> {
    let dir = tools_dir().join("codex");
    let bin = dir.join("node_modules/.bin/codex");
    let marker = dir.join(".aimux-installed");
    let want = format!("@openai/codex@{CODEX_VERSION}");
    if marker_ok(&marker, &want) && bin.is_file() {
        return Ok(bin);
    }
    with_lock("codex", || {
        if marker_ok(&marker, &want) && bin.is_file() {
            return Ok(bin.clone());
        }
        require_program(
            "npm",
            "--version",
            "The Codex e2e tests need Node.js and npm (e.g. `apt-get install nodejs npm`) to install @openai/codex, \
             or set AIMUX_TEST_CODEX to an existing codex 0.169.0 binary.",
        )?;
        let _ = fs::remove_file(&marker);
        npm_install(&dir, &want)?;
        let mut ver = Command::new(&bin);
        ver.arg("--version");
        let v = run_with_timeout(ver, Duration::from_secs(60), &scratch());
        if !v.success() || !v.stdout.contains(CODEX_VERSION) {
            return Err(format!(
                "installed {} but `codex --version` says:\n{}",
                bin.display(),
                v.dump()
            ));
        }
        write_marker(&marker, &want)?;
        Ok(bin.clone())
    })?
}

fn install_venv() -> Result<PathBuf, String> {
    let dir = tools_dir().join("venv");
    let python = dir.join("bin/python");
    let marker = dir.join(".aimux-installed");
    let want = format!("openai=={OPENAI_PY_VERSION}");
    if marker_ok(&marker, &want) && python.is_file() {
        return Ok(python);
    }
    with_lock("venv", || {
        if marker_ok(&marker, &want) && python.is_file() {
            return Ok(python.clone());
        }
        let hint = "The OpenAI SDK tests need python3 with the venv module (e.g. `apt-get install python3 python3-venv`), \
                    or set AIMUX_TEST_PYTHON to a python that has openai==3.54.0.";
        require_program("python3", "--version", hint)?;
        // A venv without the marker is half-built or stale: start over.
        if dir.exists() {
            fs::remove_dir_all(&dir)
                .map_err(|e| format!("cannot remove stale {}: {e}", dir.display()))?;
        }
        let mut mk = Command::new("python3");
        mk.arg("-m").arg("venv").arg(&dir);
        let out = run_with_timeout(mk, INSTALL_TIMEOUT, &scratch());
        if !out.success() {
            return Err(format!(
                "`python3 -m venv {}` failed:\n{}\n{hint}",
                dir.display(),
                out.dump()
            ));
        }
        let mut pip = Command::new(&python);
        pip.args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "-q",
        ])
        .arg(&want);
        let out = run_with_timeout(pip, INSTALL_TIMEOUT, &scratch());
        if !out.success() {
            return Err(format!(
                "`pip install {want}` into {} failed:\n{}",
                dir.display(),
                out.dump()
            ));
        }
        let mut check = Command::new(&python);
        check.args(["-c", "import openai; print(openai.__version__)"]);
        let v = run_with_timeout(check, Duration::from_secs(60), &scratch());
        if !v.success() || v.stdout.trim() != OPENAI_PY_VERSION {
            return Err(format!(
                "venv python cannot import openai {OPENAI_PY_VERSION}:\n{}",
                v.dump()
            ));
        }
        write_marker(&marker, &want)?;
        Ok(python.clone())
    })?
}

/// `.tools/playwright/node_modules` holding `playwright-core`, installing it first if needed
/// (for `NODE_PATH`). Panics with a clear message if that is impossible.
pub fn playwright_modules() -> PathBuf {
    static PW: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PW.get_or_init(install_playwright) {
        Ok(p) => p.clone(),
        Err(e) => panic!(
            "cannot provide playwright-core@{PLAYWRIGHT_CORE_VERSION} for the browser tests:\n{e}"
        ),
    }
}

/// A headless-capable Chromium: `AIMUX_TEST_CHROMIUM`, else Debian's `/usr/bin/chromium`,
/// installed with apt-get when missing. Panics with a clear message if that is impossible.
pub fn chromium_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("AIMUX_TEST_CHROMIUM").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "AIMUX_TEST_CHROMIUM={} does not exist",
            p.display()
        );
        return p;
    }
    static CHROMIUM: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match CHROMIUM.get_or_init(install_chromium) {
        Ok(p) => p.clone(),
        Err(e) => panic!("cannot provide Chromium for the browser tests:\n{e}"),
    }
}

fn install_playwright() -> Result<PathBuf, String> {
    let dir = tools_dir().join("playwright");
    let modules = dir.join("node_modules");
    let package = modules.join("playwright-core/package.json");
    let marker = dir.join(".aimux-installed");
    let want = format!("playwright-core@{PLAYWRIGHT_CORE_VERSION}");
    if marker_ok(&marker, &want) && package.is_file() {
        return Ok(modules);
    }
    with_lock("playwright", || {
        if marker_ok(&marker, &want) && package.is_file() {
            return Ok(modules.clone());
        }
        require_program(
            "npm",
            "--version",
            "The browser tests need Node.js and npm (e.g. `apt-get install nodejs npm`) to \
             install playwright-core.",
        )?;
        let _ = fs::remove_file(&marker);
        npm_install(&dir, &want)?;
        if !package.is_file() {
            return Err(format!(
                "`npm install` finished but {} is missing",
                package.display()
            ));
        }
        write_marker(&marker, &want)?;
        Ok(modules.clone())
    })?
}

fn chromium_works(bin: &Path) -> bool {
    let mut cmd = Command::new(bin);
    cmd.arg("--version");
    let out = run_with_timeout(cmd, Duration::from_secs(60), &scratch());
    out.success() && out.stdout.contains("Chromium")
}

fn install_chromium() -> Result<PathBuf, String> {
    let bin = PathBuf::from("/usr/bin/chromium");
    if bin.is_file() && chromium_works(&bin) {
        return Ok(bin);
    }
    with_lock("chromium", || {
        if bin.is_file() && chromium_works(&bin) {
            return Ok(bin.clone());
        }
        let hint = "The browser tests drive Debian's `chromium` package: install it with \
                    `apt-get install -y chromium` (as root), or set AIMUX_TEST_CHROMIUM to a \
                    Chromium binary.";
        require_program("apt-get", "--version", hint)?;
        // Root runs apt-get itself; anyone else needs passwordless sudo.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let apt = |args: &[&str]| {
            let mut cmd = if root {
                Command::new("apt-get")
            } else {
                let mut c = Command::new("sudo");
                c.args(["-n", "apt-get"]);
                c
            };
            cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
            run_with_timeout(cmd, INSTALL_TIMEOUT, &scratch())
        };
        let update = apt(&["update", "-q"]);
        if !update.success() {
            return Err(format!(
                "`apt-get update` failed:\n{}\n{hint}",
                update.dump()
            ));
        }
        let install = apt(&["install", "-y", "-q", "chromium"]);
        if !install.success() {
            return Err(format!(
                "`apt-get install -y chromium` failed:\n{}\n{hint}",
                install.dump()
            ));
        }
        if !chromium_works(&bin) {
            return Err(format!(
                "installed chromium, but `{} --version` does not work.\n{hint}",
                bin.display()
            ));
        }
        Ok(bin.clone())
    })?
}
