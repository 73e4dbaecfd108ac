//! Shared helpers for the `it` integration-test binary.
//!
//! * [`mock`]: [`MockUpstream`], a scripted OpenAI Chat Completions server (axum, own runtime
//!   thread, so it works from plain `#[test]`s and from `#[tokio::test]`s alike), plus the
//!   [`chat`] chunk builders used to script it.
//! * [`bridge`]: [`Bridge`], the real `aimux bridge` binary as a child process.
//! * [`tools`]: hermetic, idempotent, cross-process-locked installers for the real Codex CLI
//!   (`@openai/codex@0.169.0`) and a Python venv with `openai==3.54.0`, under `<repo>/.tools/`.
//! * [`codex`]: [`CodexHome`], a throwaway `CODEX_HOME` + profile + model catalog, and
//!   [`CodexHome::run_exec`] to drive `codex exec --json` against a bridge.
//! * [`process`]: run a command with a deadline, output captured to files.
//!
//! Every helper panics with a descriptive message instead of returning errors: a missing
//! prerequisite (npm, python3, registry access) must make the test FAIL, never skip.

#![allow(dead_code, unused_imports)]

pub mod bridge;
pub mod codex;
pub mod codex_exec_home;
pub mod faulty;
pub mod mock;
pub mod mock_responses;
pub mod process;
#[cfg(test)]
mod selftest;
pub mod tools;

pub use bridge::{Bridge, BridgeOptions};
pub use codex::{BASE_INSTRUCTIONS, CodexConfig, CodexHome, ExecOptions, ExecOutput, TEST_MODEL};
pub use mock::{HttpReply, MockUpstream, RecordedRequest, Reply, SseEnd, SseItem, SseReply, chat};
pub use process::{CommandOutput, run_with_timeout};
pub use tools::{chromium_bin, codex_bin, playwright_modules, repo_root, tools_dir, venv_python};

use std::time::{Duration, Instant};

/// Poll `f` every 10 ms until it returns `Some`, or panic with `what` after `timeout`.
///
/// Use this (never a fixed sleep) to wait for something to become ready.
pub fn wait_until<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
