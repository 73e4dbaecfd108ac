//! The `codex` backend: Chat Completions served by `codex exec --json`, so OpenAI-compatible tools
//! can use the user's Codex login without an API key.
//!
//! One request = one `codex exec` child:
//! `codex exec --json --color never --skip-git-repo-check --sandbox read-only
//! -c model_provider="<provider>" -c approval_policy="never" -c features.shell_snapshot=false
//! [--ephemeral] [--ignore-user-config]
//! [-c mcp_servers.<name>.enabled=false ...] [--model=M] [-c model_reasoning_effort="E"]
//! -C <empty temp dir> [--image=F ...] -- -` with the prompt on stdin ([`prompt`] builds it from
//! the Chat messages). A session's later turns run
//! `codex exec <same flags> resume [--image=F ...] -- <thread id> -` with only the new messages.
//!
//! * The child is the leader of its own process group; the group is killed when the client goes
//!   away (the receiver is dropped), when `timeout` passes, or when the task is dropped.
//! * The user's MCP servers (from `$CODEX_HOME/config.toml`) are switched off: their tools are not
//!   covered by the read-only sandbox. A session keeps its working directory between turns.
//! * For the default model (`codex`) with provider `openai`, when the user's `config.toml` selects
//!   another provider (e.g. aimux) and a `model` of that provider, `--ignore-user-config` lets
//!   Codex pick its own default model (the user's `cli_auth_credentials_store` is kept).
//! * `concurrency` children run at once; up to `queue` more requests wait for a slot, beyond that
//!   `start` answers 429.
//! * Loop guard: `-c model_provider=...` is always passed, provider `aimux` is refused, and so is
//!   a provider whose `base_url` is an aimux port ([`guard`]).
//! * `--json` lines become [`BackendEvent`]s as they arrive ([`events`]): each completed agent
//!   message is `Content` (consecutive messages separated by a blank line), reasoning items are
//!   `Reasoning`, `turn.completed` gives `Usage` and then `Done`; failures become `Error`.

mod events;
mod guard;
mod process;
mod prompt;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;

use crate::bridge::translate::UpstreamError;
use crate::proxy::backend::{Backend, BackendEvent};

use events::ExecEvent;
use process::GroupGuard;
use prompt::Message;

/// How the backend runs `codex`.
#[derive(Debug, Clone)]
pub struct CodexExecSettings {
    /// The `codex` binary (default: `codex` on PATH).
    pub bin: PathBuf,
    /// `CODEX_HOME` for the child; `None` inherits the user's.
    pub codex_home: Option<PathBuf>,
    /// Provider id forced on the child with `-c model_provider=...` so it can never route back
    /// into aimux (default `openai`, Codex's native provider).
    pub provider: String,
    /// Children running at once (default 2).
    pub concurrency: usize,
    /// Requests waiting for a slot before new ones get 429 (default 8).
    pub queue: usize,
    /// Wall-clock limit of one child (default 300 s); the process group is killed after it.
    pub timeout: Duration,
    /// URLs of this aimux's own servers (bridge and proxy, e.g. `http://127.0.0.1:8403`). A
    /// provider whose `base_url` is on a loopback host with one of their ports (or the default
    /// ports 8403/8404) is refused as a loop.
    pub aimux_urls: Vec<String>,
    /// Extra environment variables for the child (set after the inherited environment).
    pub env: Vec<(String, String)>,
}

impl Default for CodexExecSettings {
    fn default() -> Self {
        CodexExecSettings {
            bin: PathBuf::from("codex"),
            codex_home: None,
            provider: "openai".to_owned(),
            concurrency: 2,
            queue: 8,
            timeout: Duration::from_secs(300),
            aimux_urls: Vec::new(),
            env: Vec::new(),
        }
    }
}

/// One Chat Completions request for the backend.
#[derive(Debug, Clone, Default)]
pub struct CodexRequest {
    /// The Codex model (`codex/<model>`); `None` for the user's default (`codex`).
    pub model: Option<String>,
    /// The Chat `messages` array as the client sent it.
    pub messages: Vec<serde_json::Value>,
    /// A stable session name (the OpenAI `user` field or `x-aimux-session`).
    pub session: Option<String>,
    /// `reasoning_effort`, passed as `-c model_reasoning_effort=...`.
    pub reasoning_effort: Option<String>,
}

/// `Retry-After` (seconds) of the 429 answer when the queue is full.
const BUSY_RETRY_AFTER_SECS: u64 = 5;
/// Sessions remembered at most (least recently used forgotten first).
const MAX_SESSIONS: usize = 256;
/// How long a child may take to exit after `turn.completed` before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(10);
/// Events buffered between the child and the consumer.
const CHANNEL_CAPACITY: usize = 64;
/// Bytes of the child's stderr kept for error messages.
const STDERR_TAIL: usize = 16 * 1024;

/// The `codex exec` backend. Cheap to share behind an `Arc`; all state is internal.
pub struct CodexExec {
    inner: Arc<Inner>,
}

struct Inner {
    settings: CodexExecSettings,
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    sessions: Mutex<HashMap<String, Session>>,
    /// The base `config.toml` selects another provider and a `model` that belongs to it: for the
    /// default model (`codex`), skip the user config so Codex picks its own default.
    ignore_user_config_for_default: bool,
    /// The user's `cli_auth_credentials_store`, kept when the user config is skipped.
    auth_store: Option<String>,
    /// The child's `CODEX_HOME` (for the MCP servers to disable), when known.
    codex_home: Option<PathBuf>,
    /// Monotonic counter for session recency.
    clock: AtomicUsize,
}

/// What a session remembers between turns.
struct Session {
    thread_id: String,
    /// Fingerprints of every message of the conversation so far, including the answer.
    history: Vec<u64>,
    /// The working directory of the thread (kept so Codex sees the same cwd on resume).
    workdir: tempfile::TempDir,
    last_used: usize,
}

impl CodexExec {
    /// Validates settings. Refuses (Err with a clear message naming the fix) a configuration that
    /// would loop back into aimux: `provider` = "aimux", or a provider whose `base_url` in the
    /// child's `$CODEX_HOME/config.toml` / `aimux.config.toml` points at a loopback aimux port
    /// (8403/8404 or one of `settings.aimux_urls`).
    pub fn new(settings: CodexExecSettings) -> Result<CodexExec, String> {
        guard::validate_provider(&settings.provider)?;
        if settings.concurrency == 0 {
            return Err("codex backend: concurrency must be at least 1".into());
        }
        if settings.timeout.is_zero() {
            return Err("codex backend: timeout must be greater than zero".into());
        }
        let codex_home = guard::codex_home(settings.codex_home.as_deref(), &settings.env);
        let base = match &codex_home {
            Some(home) => guard::check_configs(&settings.provider, home, &settings.aimux_urls)?,
            None => guard::BaseConfig::default(),
        };
        let ignore_user_config_for_default = settings.provider == "openai"
            && base.model.is_some()
            && base
                .model_provider
                .as_deref()
                .is_some_and(|p| p != settings.provider);
        Ok(CodexExec {
            inner: Arc::new(Inner {
                slots: Arc::new(Semaphore::new(settings.concurrency)),
                settings,
                waiting: AtomicUsize::new(0),
                sessions: Mutex::new(HashMap::new()),
                ignore_user_config_for_default,
                auth_store: base.auth_store,
                codex_home,
                clock: AtomicUsize::new(0),
            }),
        })
    }

    /// The settings in use.
    pub fn settings(&self) -> &CodexExecSettings {
        &self.inner.settings
    }

    /// Children running now.
    pub fn running(&self) -> usize {
        self.inner.settings.concurrency - self.inner.slots.available_permits()
    }

    /// Requests waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.inner.waiting.load(Ordering::SeqCst)
    }

    /// Starts one answer. Errors before any output (queue full → 429 `rate_limit_exceeded` with a
    /// Retry-After; codex binary missing → 502 with a hint; bad request → 400) are returned as
    /// Err. Otherwise events arrive on the receiver in order and end with `Done` or `Error`.
    /// Dropping the receiver (the client went away) kills the child's whole process group.
    pub async fn start(
        &self,
        req: CodexRequest,
    ) -> Result<mpsc::Receiver<BackendEvent>, UpstreamError> {
        let inner = &self.inner;
        let model = validate_model(req.model.as_deref())?;
        let effort = validate_effort(req.reasoning_effort.as_deref())?;
        let messages = prompt::parse_messages(&req.messages).map_err(bad_request)?;
        let fingerprints: Vec<u64> = messages.iter().map(Message::fingerprint).collect();

        let permit = inner.acquire_slot().await?;

        // Session: resume the remembered thread when this conversation extends it.
        let session_name = req.session.filter(|s| !s.is_empty());
        let remembered = session_name.as_ref().and_then(|s| inner.take_session(s));
        let (resume, from, workdir) = match remembered {
            Some(s)
                if fingerprints.len() > s.history.len()
                    && fingerprints[..s.history.len()] == s.history[..] =>
            {
                let n = s.history.len();
                (Some(s.thread_id), n, Some(s.workdir))
            }
            _ => (None, 0, None),
        };
        let workdir = match workdir {
            Some(w) => w,
            None => temp_dir("aimux-codex-work-").map_err(|e| internal("working directory", &e))?,
        };

        let rendered = prompt::render(&messages[from..]);
        let images_dir = if rendered.images.is_empty() {
            None
        } else {
            Some(temp_dir("aimux-codex-img-").map_err(|e| internal("image directory", &e))?)
        };
        let mut image_paths = Vec::new();
        if let Some(dir) = &images_dir {
            for (i, img) in rendered.images.iter().enumerate() {
                let path = dir
                    .path()
                    .join(format!("image-{}.{}", i + 1, img.extension()));
                std::fs::write(&path, &img.bytes).map_err(|e| internal("image file", &e))?;
                image_paths.push(path);
            }
        }

        let ignore_user_config = model.is_none() && inner.ignore_user_config_for_default;
        // MCP tools are not covered by the read-only sandbox: the user's servers stay off.
        let disable_mcp = match (&inner.codex_home, ignore_user_config) {
            (Some(home), false) => guard::mcp_server_names(home),
            _ => Vec::new(),
        };
        let args = exec_args(&ExecPlan {
            provider: &inner.settings.provider,
            model,
            effort,
            workdir: workdir.path(),
            ephemeral: session_name.is_none(),
            ignore_user_config,
            auth_store: inner.auth_store.as_deref(),
            disable_mcp: &disable_mcp,
            resume: resume.as_deref(),
            images: &image_paths,
        });
        let mut cmd = Command::new(&inner.settings.bin);
        cmd.args(&args)
            .current_dir(workdir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("NO_COLOR", "1")
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        if let Some(home) = &inner.settings.codex_home {
            cmd.env("CODEX_HOME", home);
        }
        for (k, v) in &inner.settings.env {
            cmd.env(k, v);
        }
        tracing::debug!(bin = %inner.settings.bin.display(), ?args, "starting codex exec");
        let child = cmd
            .spawn()
            .map_err(|e| spawn_error(&inner.settings.bin, &e))?;
        let group = GroupGuard::new(child.id());

        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let run = Run {
            inner: inner.clone(),
            permit,
            session: session_name.map(|name| (name, fingerprints)),
            resumed: resume,
            workdir,
            _images: images_dir,
            deadline: Instant::now() + inner.settings.timeout,
            prompt: rendered.text,
        };
        tokio::spawn(drive(run, child, group, tx));
        Ok(rx)
    }
}

impl Backend for CodexExec {
    fn start(
        &self,
        request: CodexRequest,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<mpsc::Receiver<BackendEvent>, UpstreamError>>
                + Send
                + '_,
        >,
    > {
        Box::pin(CodexExec::start(self, request))
    }
}

impl Inner {
    /// A run slot, waiting in the queue if needed; 429 when the queue is full.
    async fn acquire_slot(&self) -> Result<OwnedSemaphorePermit, UpstreamError> {
        if let Ok(p) = self.slots.clone().try_acquire_owned() {
            return Ok(p);
        }
        let max = self.settings.queue;
        if self
            .waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| {
                (w < max).then_some(w + 1)
            })
            .is_err()
        {
            return Err(UpstreamError {
                status: 429,
                kind: "rate_limit_error".into(),
                code: "rate_limit_exceeded".into(),
                message: format!(
                    "the codex backend is busy ({} answers running, {} waiting); try again later",
                    self.settings.concurrency, max
                ),
                retry_after: Some(BUSY_RETRY_AFTER_SECS.to_string()),
            });
        }
        // Leaves the queue however this future ends (also when the client goes away).
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _waiting = Waiting(&self.waiting);
        self.slots.clone().acquire_owned().await.map_err(|_| {
            internal(
                "run slot",
                &std::io::Error::other("the backend is shutting down"),
            )
        })
    }

    fn take_session(&self, name: &str) -> Option<Session> {
        self.sessions.lock().ok()?.remove(name)
    }

    fn store_session(&self, name: String, mut session: Session) {
        let Ok(mut map) = self.sessions.lock() else {
            return;
        };
        session.last_used = self.clock.fetch_add(1, Ordering::SeqCst);
        map.insert(name, session);
        while map.len() > MAX_SESSIONS {
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
    }
}

/// Everything one running child needs besides the process itself.
struct Run {
    inner: Arc<Inner>,
    /// The run slot; released before the last event, so a client that saw `Done` or `Error`
    /// finds it free.
    permit: OwnedSemaphorePermit,
    /// The session name and the fingerprints of the request's messages.
    session: Option<(String, Vec<u64>)>,
    /// The thread being resumed.
    resumed: Option<String>,
    workdir: tempfile::TempDir,
    _images: Option<tempfile::TempDir>,
    deadline: Instant,
    prompt: String,
}

/// How the read loop ended.
enum End {
    /// stdout closed.
    Eof,
    /// The receiver was dropped.
    Gone,
    /// The deadline passed.
    Timeout,
}

/// Reads the child's events until it exits, forwarding them to `tx`.
async fn drive(
    mut run: Run,
    mut child: Child,
    mut group: GroupGuard,
    tx: mpsc::Sender<BackendEvent>,
) {
    if let Some(mut stdin) = child.stdin.take() {
        let prompt = std::mem::take(&mut run.prompt);
        tokio::spawn(async move {
            // A child that dies early closes the pipe; the failure shows on stdout/exit status.
            let _ = stdin.write_all(prompt.as_bytes()).await;
            let _ = stdin.shutdown().await;
        });
    }
    let stderr = child.stderr.take().map(|s| tokio::spawn(read_tail(s)));
    let Some(stdout) = child.stdout.take() else {
        group.kill();
        let _ = child.kill().await;
        let _ = tx
            .send(BackendEvent::Error(internal(
                "child stdout",
                &std::io::Error::other("not captured"),
            )))
            .await;
        return;
    };
    let mut stdout = BufReader::new(stdout);
    let mut buf: Vec<u8> = Vec::new();

    let mut thread_id = run.resumed.clone();
    let mut answer = String::new();
    let mut reasoning_seen = false;
    let mut completed = false;
    let mut failed: Option<String> = None;
    let mut last_error: Option<String> = None;
    // After the turn completed, Codex gets a short grace to finish writing and exit.
    let mut deadline = run.deadline;

    let end = loop {
        tokio::select! {
            biased;
            _ = tx.closed() => break End::Gone,
            _ = tokio::time::sleep_until(deadline) => break End::Timeout,
            // Every other branch ends the loop, so a partly read line is never lost.
            read = stdout.read_until(b'\n', &mut buf) => {
                if !matches!(read, Ok(n) if n > 0) {
                    break End::Eof;
                }
                let line = String::from_utf8_lossy(&buf).into_owned();
                buf.clear();
                let event = match events::parse_line(&line) {
                    ExecEvent::ThreadStarted(id) => {
                        thread_id = Some(id);
                        None
                    }
                    ExecEvent::AgentMessage(text) if !text.is_empty() => {
                        let text = if answer.is_empty() { text } else { format!("\n\n{text}") };
                        answer.push_str(&text);
                        Some(BackendEvent::Content(text))
                    }
                    ExecEvent::Reasoning(text) if !text.is_empty() => {
                        let text = if reasoning_seen { format!("\n\n{text}") } else { text };
                        reasoning_seen = true;
                        Some(BackendEvent::Reasoning(text))
                    }
                    ExecEvent::TurnCompleted(usage) => {
                        completed = true;
                        deadline = deadline.min(Instant::now() + EXIT_GRACE);
                        Some(BackendEvent::Usage(usage))
                    }
                    ExecEvent::TurnFailed(msg) => {
                        failed = Some(msg);
                        None
                    }
                    ExecEvent::StreamError(msg) => {
                        tracing::debug!(message = %msg, "codex exec reported an error");
                        last_error = Some(msg);
                        None
                    }
                    _ => None,
                };
                if let Some(ev) = event {
                    // A client that stops reading (without going away) still meets the deadline.
                    tokio::select! {
                        sent = tx.send(ev) => if sent.is_err() { break End::Gone },
                        _ = tokio::time::sleep_until(deadline) => break End::Timeout,
                    }
                }
            }
        }
    };

    let end = match end {
        End::Eof => tokio::select! {
            biased;
            _ = tx.closed() => Err(End::Gone),
            _ = tokio::time::sleep_until(deadline) => Err(End::Timeout),
            status = child.wait() => Ok(status),
        },
        other => Err(other),
    };
    let status: Option<ExitStatus> = match end {
        Ok(status) => {
            // Helpers Codex left behind (e.g. a shell still starting) are still in the group;
            // while any is, the group id cannot be reused, so this reaches only them.
            group.kill();
            group.disarm();
            status.ok()
        }
        Err(why) => {
            group.kill();
            let _ = child.kill().await;
            group.disarm();
            match why {
                End::Gone => {
                    tracing::debug!("client went away; codex exec killed");
                    return;
                }
                _ if completed => None,
                _ => {
                    tracing::warn!(timeout = ?run.inner.settings.timeout, "codex exec timed out; killed");
                    drop(run.permit);
                    let _ = tx
                        .send(BackendEvent::Error(events::timeout_error(
                            run.inner.settings.timeout,
                        )))
                        .await;
                    return;
                }
            }
        }
    };

    let outcome = if completed {
        if let (Some((name, mut history)), Some(thread_id), Some(_)) =
            (run.session, thread_id, status)
        {
            history.push(Message::assistant(&answer).fingerprint());
            run.inner.store_session(
                name,
                Session {
                    thread_id,
                    history,
                    workdir: run.workdir,
                    last_used: 0,
                },
            );
        }
        BackendEvent::Done {
            finish_reason: "stop".into(),
        }
    } else {
        let stderr = match stderr {
            Some(task) => task.await.unwrap_or_default(),
            None => String::new(),
        };
        let message = failed
            .or(last_error)
            .or_else(|| events::stderr_summary(&stderr))
            .unwrap_or_else(|| match status {
                Some(s) if s.success() => "codex exec ended without finishing the turn".to_owned(),
                Some(s) => format!("codex exec exited with {s}"),
                None => "codex exec ended abnormally".to_owned(),
            });
        tracing::warn!(%message, "codex exec failed");
        BackendEvent::Error(events::classify_failure(&message))
    };
    drop(run.permit);
    let _ = tx.send(outcome).await;
}

/// The last [`STDERR_TAIL`] bytes of a stream, read to its end.
async fn read_tail(stream: impl AsyncRead + Unpin) -> String {
    let mut stream = stream;
    let mut tail: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > 2 * STDERR_TAIL {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
            }
        }
    }
    if tail.len() > STDERR_TAIL {
        tail.drain(..tail.len() - STDERR_TAIL);
    }
    String::from_utf8_lossy(&tail).into_owned()
}

/// What one `codex exec` invocation needs.
struct ExecPlan<'a> {
    provider: &'a str,
    model: Option<&'a str>,
    effort: Option<&'a str>,
    workdir: &'a Path,
    ephemeral: bool,
    ignore_user_config: bool,
    /// `cli_auth_credentials_store` to restore when the user config is skipped.
    auth_store: Option<&'a str>,
    /// MCP servers to turn off with `-c mcp_servers.<name>.enabled=false`.
    disable_mcp: &'a [String],
    resume: Option<&'a str>,
    images: &'a [PathBuf],
}

/// The child's arguments (after the program name). The prompt is read from stdin (`-`).
fn exec_args(p: &ExecPlan<'_>) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    let mut push = |s: &str| a.push(OsString::from(s));
    push("exec");
    push("--json");
    push("--color");
    push("never");
    push("--skip-git-repo-check");
    push("--sandbox");
    push("read-only");
    push("-c");
    push(&format!("model_provider={}", toml_string(p.provider)));
    push("-c");
    push("approval_policy=\"never\"");
    // No login-shell snapshot (it runs the user's shell profile in the background).
    push("-c");
    push("features.shell_snapshot=false");
    if p.ephemeral {
        push("--ephemeral");
    }
    if p.ignore_user_config {
        push("--ignore-user-config");
        if let Some(store) = p.auth_store {
            push("-c");
            push(&format!(
                "cli_auth_credentials_store={}",
                toml_string(store)
            ));
        }
    }
    for name in p.disable_mcp {
        push("-c");
        push(&format!("mcp_servers.{name}.enabled=false"));
    }
    if let Some(m) = p.model {
        push(&format!("--model={m}"));
    }
    if let Some(e) = p.effort {
        push("-c");
        push(&format!("model_reasoning_effort={}", toml_string(e)));
    }
    a.push(OsString::from("-C"));
    a.push(p.workdir.as_os_str().to_owned());
    // `--image` is variadic at the exec level: `=` keeps each flag to one value, and `--` ends
    // the options before the positionals.
    let image_args = |a: &mut Vec<OsString>| {
        for img in p.images {
            let mut s = OsString::from("--image=");
            s.push(img.as_os_str());
            a.push(s);
        }
    };
    match p.resume {
        Some(thread) => {
            a.push("resume".into());
            image_args(&mut a);
            a.push("--".into());
            a.push(thread.into());
        }
        None => {
            image_args(&mut a);
            a.push("--".into());
        }
    }
    a.push("-".into());
    a
}

/// A TOML basic string (JSON string escapes are valid TOML escapes).
fn toml_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn temp_dir(prefix: &str) -> std::io::Result<tempfile::TempDir> {
    tempfile::Builder::new().prefix(prefix).tempdir()
}

fn bad_request(message: String) -> UpstreamError {
    UpstreamError {
        status: 400,
        kind: "invalid_request_error".into(),
        code: "invalid_request".into(),
        message,
        retry_after: None,
    }
}

fn internal(what: &str, e: &std::io::Error) -> UpstreamError {
    UpstreamError {
        status: 502,
        kind: "server_error".into(),
        code: "codex_exec_failed".into(),
        message: format!("codex backend: cannot prepare the {what}: {e}"),
        retry_after: None,
    }
}

fn spawn_error(bin: &Path, e: &std::io::Error) -> UpstreamError {
    let (code, hint) = match e.kind() {
        std::io::ErrorKind::NotFound => (
            "codex_not_found",
            "install the Codex CLI (`npm install -g @openai/codex`) and run `codex login`, or set \
             the codex backend's binary path",
        ),
        std::io::ErrorKind::PermissionDenied => (
            "codex_not_found",
            "make the file executable or set the codex backend's binary path",
        ),
        _ => ("codex_exec_failed", "check the codex backend's binary path"),
    };
    UpstreamError {
        status: 502,
        kind: "server_error".into(),
        code: code.into(),
        message: format!("cannot run the Codex CLI `{}`: {e}; {hint}", bin.display()),
        retry_after: None,
    }
}

/// `None`/empty → the user's default model; otherwise a plain model id.
fn validate_model(model: Option<&str>) -> Result<Option<&str>, UpstreamError> {
    match model.map(str::trim) {
        None | Some("") => Ok(None),
        Some(m)
            if m.len() <= 200 && !m.starts_with('-') && m.chars().all(|c| c.is_ascii_graphic()) =>
        {
            Ok(Some(m))
        }
        Some(m) => Err(bad_request(format!(
            "model `codex/{m}` is not a valid Codex model id"
        ))),
    }
}

fn validate_effort(effort: Option<&str>) -> Result<Option<&str>, UpstreamError> {
    match effort.map(str::trim) {
        None | Some("") => Ok(None),
        Some(e)
            if e.len() <= 32
                && e.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            Ok(Some(e))
        }
        Some(e) => Err(bad_request(format!(
            "reasoning_effort `{e}` is not valid (e.g. low, medium, high)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args_of(plan: &ExecPlan<'_>) -> Vec<String> {
        exec_args(plan)
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn builds_exec_arguments() {
        let images = vec![PathBuf::from("/i/a.png"), PathBuf::from("/i/b.jpg")];
        let base = ExecPlan {
            provider: "openai",
            model: None,
            effort: None,
            workdir: Path::new("/w"),
            ephemeral: true,
            ignore_user_config: false,
            auth_store: Some("keyring"),
            disable_mcp: &[],
            resume: None,
            images: &[],
        };
        let mcp = vec!["github".to_owned()];
        let common = "exec --json --color never --skip-git-repo-check --sandbox read-only -c model_provider=\"openai\" -c approval_policy=\"never\" -c features.shell_snapshot=false";
        let cases: Vec<(ExecPlan<'_>, String)> = vec![
            (
                ExecPlan { ..base },
                format!("{common} --ephemeral -C /w -- -"),
            ),
            (
                ExecPlan {
                    model: Some("gpt-5.5"),
                    effort: Some("high"),
                    images: &images,
                    ignore_user_config: true,
                    ..base
                },
                format!(
                    "{common} --ephemeral --ignore-user-config -c cli_auth_credentials_store=\"keyring\" --model=gpt-5.5 -c model_reasoning_effort=\"high\" -C /w --image=/i/a.png --image=/i/b.jpg -- -"
                ),
            ),
            (
                ExecPlan {
                    ephemeral: false,
                    disable_mcp: &mcp,
                    resume: Some("01a2-thread"),
                    images: &images[..1],
                    ..base
                },
                format!(
                    "{common} -c mcp_servers.github.enabled=false -C /w resume --image=/i/a.png -- 01a2-thread -"
                ),
            ),
        ];
        for (plan, want) in cases {
            assert_eq!(args_of(&plan).join(" "), want);
        }
    }

    /// (input, Ok(accepted value) or Err(()) for a 400)
    type FieldCase<'a> = (Option<&'a str>, Result<Option<&'a str>, ()>);

    #[test]
    fn validates_request_fields() {
        let models: &[FieldCase<'_>] = &[
            (None, Ok(None)),
            (Some(""), Ok(None)),
            (Some("gpt-5.5"), Ok(Some("gpt-5.5"))),
            (Some("--danger"), Err(())),
            (Some("a b"), Err(())),
        ];
        for (m, want) in models {
            let got = validate_model(*m).map_err(|e| assert_eq!(e.status, 400));
            assert_eq!(got, *want, "{m:?}");
        }
        let efforts: &[FieldCase<'_>] = &[
            (None, Ok(None)),
            (Some("high"), Ok(Some("high"))),
            (Some("x\"; rm"), Err(())),
        ];
        for (e, want) in efforts {
            let got = validate_effort(*e).map_err(|e| assert_eq!(e.status, 400));
            assert_eq!(got, *want, "{e:?}");
        }
    }

    #[test]
    fn new_refuses_loops_and_bad_settings() {
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            home.path().join("config.toml"),
            "[model_providers.gw]\nbase_url = \"http://127.0.0.1:8404/v1\"\n",
        )
        .expect("write config");
        let settings = |provider: &str| CodexExecSettings {
            codex_home: Some(home.path().to_path_buf()),
            provider: provider.to_owned(),
            ..CodexExecSettings::default()
        };
        let err = |s: CodexExecSettings| CodexExec::new(s).err().unwrap_or_default();
        assert!(err(settings("aimux")).contains("loop"));
        assert!(err(settings("gw")).contains("model_providers.gw.base_url"));
        assert!(
            err(CodexExecSettings {
                concurrency: 0,
                ..settings("openai")
            })
            .contains("concurrency")
        );
        assert!(CodexExec::new(settings("openai")).is_ok());
    }

    #[test]
    fn default_model_skips_a_foreign_user_config() {
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            home.path().join("config.toml"),
            "model = \"deepseek/deepseek-chat\"\nmodel_provider = \"aimux\"\n[model_providers.aimux]\nbase_url = \"http://127.0.0.1:8403/v1\"\n",
        )
        .expect("write config");
        let exec = CodexExec::new(CodexExecSettings {
            codex_home: Some(home.path().to_path_buf()),
            ..CodexExecSettings::default()
        })
        .expect("openai provider is not a loop");
        assert!(exec.inner.ignore_user_config_for_default);

        // Without a `model` of its own, the user config is harmless and stays loaded.
        std::fs::write(
            home.path().join("config.toml"),
            "model_provider = \"aimux\"\n",
        )
        .expect("write config");
        let exec = CodexExec::new(CodexExecSettings {
            codex_home: Some(home.path().to_path_buf()),
            ..CodexExecSettings::default()
        })
        .expect("valid");
        assert!(!exec.inner.ignore_user_config_for_default);
    }
}
