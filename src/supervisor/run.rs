//! The supervisor: one single-threaded event loop that starts the proxy, then the bridge once the
//! proxy is ready, restarts whichever crashes (capped exponential backoff, giving up after too
//! many crashes in a window), logs their output, counts requests, keeps the state file current,
//! and on SIGINT/SIGTERM/SIGHUP forwards SIGTERM to both, waits for them to drain, kills what is
//! left after the deadline and exits 0.

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::child::{self, Event, Spec};
use super::logfile::{self, RotatingLog};
use super::policy::{CrashWindow, Decision, RestartPolicy};
use super::procs::{self, Identity};
use super::state::{self, ChildPhase, ChildState, ProcInfo, RunStatus, State};
use super::{Paths, Which, lock, reqline, summary, tilde};
use crate::error::user_error;
use crate::proxy::config::ExternalCommand;
use crate::server_info::ServerInfo;

const TICK: Duration = Duration::from_millis(25);
/// Lines of a child's output kept in memory for the give-up message.
const TAIL_LINES: usize = 20;

/// How the proxy child is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyMode {
    /// `aimux proxy` on this host and port.
    Internal { host: String, port: u16 },
    /// `[proxy] command`, serving `[proxy] url` (a `.../v1` base URL).
    External {
        command: ExternalCommand,
        url: String,
    },
}

/// Everything the supervisor needs, resolved by `commands::start`.
#[derive(Debug, Clone)]
pub struct Config {
    pub paths: Paths,
    /// The `aimux` binary the children run.
    pub exe: PathBuf,
    /// `-v` count passed on to the children.
    pub verbose: u8,
    pub proxy: ProxyMode,
    pub bridge_host: String,
    pub bridge_port: u16,
    /// The bridge's client token, for the summary's model count.
    pub bridge_token: Option<String>,
    /// The per-start internal secret, given to both aimux children in their environment.
    pub secret: String,
    pub policy: RestartPolicy,
    /// How long one start of a child may take to become ready.
    pub ready_timeout: Duration,
    /// How long children may drain after SIGTERM before they are killed.
    pub drain_timeout: Duration,
    pub log_max_bytes: u64,
    pub log_keep: usize,
    /// This process is the background supervisor of `start --detach`.
    pub detached: bool,
    pub color: bool,
    /// Show an indicatif spinner while starting (stderr is a terminal).
    pub spinner: bool,
    pub codex_profile: PathBuf,
}

/// The host to connect to for a server bound on `host` (`0.0.0.0` → `127.0.0.1`).
pub fn connect_host(host: &str) -> String {
    match host {
        "0.0.0.0" | "localhost" | "" => "127.0.0.1".to_owned(),
        "::" | "[::]" => "[::1]".to_owned(),
        h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        h => h.to_owned(),
    }
}

/// `(host, port)` of a URL, with the scheme's default port.
pub fn url_host_port(url: &str) -> Option<(String, u16)> {
    let u = reqwest::Url::parse(url).ok()?;
    Some((u.host_str()?.to_owned(), u.port_or_known_default()?))
}

/// Refuses to start when a fixed port is taken, naming the process that holds it.
pub fn check_ports(cfg: &Config) -> anyhow::Result<()> {
    let mut wanted: Vec<(Which, String, u16, bool)> = Vec::new();
    match &cfg.proxy {
        ProxyMode::Internal { host, port } => {
            wanted.push((Which::Proxy, host.clone(), *port, false));
        }
        ProxyMode::External { url, .. } => {
            if let Some((host, port)) = url_host_port(url)
                && crate::commands::bridge::is_loopback(&host)
            {
                wanted.push((
                    Which::Proxy,
                    host.trim_matches(['[', ']']).to_owned(),
                    port,
                    true,
                ));
            }
        }
    }
    wanted.push((
        Which::Bridge,
        cfg.bridge_host.clone(),
        cfg.bridge_port,
        false,
    ));
    for (which, host, port, external) in wanted {
        if port == 0 {
            continue;
        }
        let host = host.trim_matches(['[', ']']).to_owned();
        match std::net::TcpListener::bind((host.as_str(), port)) {
            Ok(l) => drop(l),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                let holder = procs::describe_port_holder(port);
                let hint = if external {
                    "hint: is the external proxy already running? Stop it first: `aimux start` runs \
                     [proxy] command itself"
                        .to_owned()
                } else {
                    format!(
                        "hint: stop that process, or pick another port: aimux start {} {} \
                         (0 picks a free one)",
                        which.port_flag(),
                        port.saturating_add(10)
                    )
                };
                return Err(user_error(format!(
                    "port {port} for the {which} ({host}:{port}) is already in use by {holder}.\n{hint}"
                )));
            }
            Err(e) => {
                return Err(user_error(format!(
                    "cannot bind {host}:{port} for the {which}: {e}"
                )));
            }
        }
    }
    Ok(())
}

/// The error for a second `aimux start`.
pub fn already_running(paths: &Paths, pid: u32) -> anyhow::Error {
    let url = State::read(&paths.state())
        .ok()
        .flatten()
        .and_then(|s| s.bridge.url)
        .map(|u| format!("; bridge {u}/v1"))
        .unwrap_or_default();
    user_error(format!(
        "aimux is already running (supervisor pid {pid}{url}).\nhint: `aimux status` shows it, \
         `aimux stop` stops it"
    ))
}

/// Stops children that a supervisor which died without cleaning up left behind (only processes
/// whose pid, executable and start time match its state file), then removes that file.
fn cleanup_leftovers(paths: &Paths, printer: &mut Printer) {
    let old = match State::read(&paths.state()) {
        Ok(Some(s)) => s,
        Ok(None) => return,
        Err(e) => {
            printer.warn(&format!("ignoring an unreadable state file: {e:#}"));
            let _ = state::remove(&paths.state());
            return;
        }
    };
    for which in Which::ALL {
        let Some(p) = &old.child(which).process else {
            continue;
        };
        if procs::check(p) != Identity::Same {
            continue;
        }
        printer.say(&format!(
            "stopping a leftover {which} (pid {}) of an aimux that did not exit cleanly",
            p.pid
        ));
        procs::signal_group(p.pid, procs::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while procs::check(p) == Identity::Same && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if procs::check(p) == Identity::Same {
            procs::signal_group(p.pid, procs::SIGKILL);
        }
    }
    let _ = state::remove(&paths.state());
}

/// Runs the supervisor until a shutdown signal (Ok) or until a child cannot be kept running
/// (a user error naming the child, with its last log lines).
pub async fn run(cfg: Config) -> anyhow::Result<()> {
    let lock = match lock::try_acquire(&cfg.paths.lock())? {
        Ok(l) => l,
        Err(pid) => return Err(already_running(&cfg.paths, pid)),
    };
    let mut printer = Printer::new(&cfg);
    cleanup_leftovers(&cfg.paths, &mut printer);
    check_ports(&cfg)?;
    let mut sup = Supervisor::new(cfg, printer)?;
    let result = sup.run().await;
    drop(lock);
    result
}

/// Where the supervisor's own words go: `logs/supervisor.log` (with timestamps) and, in the
/// foreground, the terminal (through the spinner while there is one).
struct Printer {
    echo: bool,
    color: bool,
    spinner: Option<ProgressBar>,
    log: Option<RotatingLog>,
}

impl Printer {
    fn new(cfg: &Config) -> Self {
        let log = RotatingLog::open(
            &cfg.paths.log("supervisor"),
            cfg.log_max_bytes,
            cfg.log_keep,
        )
        .ok();
        let spinner = (cfg.spinner && !cfg.detached).then(|| {
            let pb = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner:.cyan} {msg}") {
                pb.set_style(style);
            }
            pb.enable_steady_tick(Duration::from_millis(90));
            pb
        });
        Printer {
            echo: !cfg.detached,
            color: cfg.color,
            spinner,
            log,
        }
    }

    fn log_line(&mut self, text: &str) {
        if let Some(log) = &mut self.log {
            let ts = logfile::utc_timestamp(std::time::SystemTime::now());
            let _ = log.write_line(&format!("{ts} {text}"));
        }
    }

    /// Straight to the terminal (foreground only), around the spinner.
    fn terminal(&self, text: &str) {
        if !self.echo {
            return;
        }
        let write = || {
            let _ = writeln!(std::io::stderr(), "{text}");
        };
        match &self.spinner {
            Some(pb) => pb.suspend(write),
            None => write(),
        }
    }

    fn say(&mut self, text: &str) {
        self.log_line(text);
        let styled = console::Style::new()
            .dim()
            .force_styling(self.color)
            .apply_to(format!("aimux: {text}"));
        self.terminal(&styled.to_string());
    }

    fn warn(&mut self, text: &str) {
        self.log_line(&format!("warning: {text}"));
        let styled = console::Style::new()
            .yellow()
            .force_styling(self.color)
            .apply_to(format!("aimux: {text}"));
        self.terminal(&styled.to_string());
    }

    /// A step of the first start: the spinner's message, or a plain line.
    fn progress(&mut self, text: &str) {
        self.log_line(text);
        match &self.spinner {
            Some(pb) => pb.set_message(text.to_owned()),
            None => self.terminal(&format!("aimux: {text}")),
        }
    }

    fn finish_progress(&mut self) {
        if let Some(pb) = self.spinner.take() {
            pb.finish_and_clear();
        }
    }
}

struct Slot {
    generation: u64,
    pid: Option<u32>,
    /// Starting: the readiness deadline. Backoff: when to restart. Stopping: when to kill.
    deadline: Option<Instant>,
    /// The port of the first ready run, reused by restarts so URLs stay put.
    pinned_port: Option<u16>,
    crashes: CrashWindow,
    ever_ready: bool,
    started_once: bool,
    /// Why the supervisor killed it, added to its exit description.
    kill_reason: Option<String>,
    /// Stopping, but not signalled yet: the proxy waits for the bridge to finish first.
    term_pending: bool,
    log: Option<RotatingLog>,
    tail: VecDeque<String>,
}

impl Slot {
    fn new(which: Which, cfg: &Config) -> Self {
        Slot {
            generation: 0,
            pid: None,
            deadline: None,
            pinned_port: None,
            crashes: CrashWindow::default(),
            ever_ready: false,
            started_once: false,
            kill_reason: None,
            term_pending: false,
            log: RotatingLog::open(
                &cfg.paths.log(which.name()),
                cfg.log_max_bytes,
                cfg.log_keep,
            )
            .ok(),
            tail: VecDeque::new(),
        }
    }
}

struct Failure {
    which: Which,
    reason: String,
}

struct Supervisor {
    cfg: Config,
    printer: Printer,
    state: State,
    proxy: Slot,
    bridge: Slot,
    tx: UnboundedSender<Event>,
    rx: UnboundedReceiver<Event>,
    shutting_down: bool,
    failure: Option<Failure>,
    announced: bool,
    dirty: bool,
    last_flush: Instant,
    state_warned: bool,
}

#[cfg(unix)]
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT",
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> anyhow::Result<Self> {
        Ok(Signals)
    }

    async fn recv(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

impl Supervisor {
    fn new(cfg: Config, printer: Printer) -> anyhow::Result<Self> {
        let me = std::process::id();
        let supervisor = procs::identify(me).unwrap_or_else(|| ProcInfo {
            pid: me,
            exe: procs::normalize_exe(&cfg.exe),
            start_time: None,
        });
        let external = matches!(cfg.proxy, ProxyMode::External { .. });
        let state = State {
            version: state::VERSION,
            status: RunStatus::Starting,
            supervisor,
            started_at: state::unix_now(),
            detached: cfg.detached,
            error: None,
            proxy: ChildState::new(external),
            bridge: ChildState::new(false),
        };
        let (tx, rx) = unbounded_channel();
        Ok(Supervisor {
            proxy: Slot::new(Which::Proxy, &cfg),
            bridge: Slot::new(Which::Bridge, &cfg),
            cfg,
            printer,
            state,
            tx,
            rx,
            shutting_down: false,
            failure: None,
            announced: false,
            dirty: true,
            last_flush: Instant::now(),
            state_warned: false,
        })
    }

    fn slot(&mut self, which: Which) -> &mut Slot {
        match which {
            Which::Proxy => &mut self.proxy,
            Which::Bridge => &mut self.bridge,
        }
    }

    fn external(&self) -> bool {
        matches!(self.cfg.proxy, ProxyMode::External { .. })
    }

    async fn run(&mut self) -> anyhow::Result<()> {
        let mut signals = Signals::new()?;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.flush();
        self.start(Which::Proxy);
        while !(self.shutting_down && self.proxy.pid.is_none() && self.bridge.pid.is_none()) {
            tokio::select! {
                sig = signals.recv() => self.on_signal(sig),
                ev = self.rx.recv() => if let Some(ev) = ev { self.on_event(ev) },
                _ = tick.tick() => self.on_tick().await,
            }
        }
        // Output that arrived with the last exits.
        while let Ok(ev) = self.rx.try_recv() {
            self.on_event(ev);
        }
        self.finish()
    }

    fn spec(&self, which: Which) -> Result<Spec, String> {
        let cfg = &self.cfg;
        let verbosity = std::iter::repeat_n("-v".to_owned(), cfg.verbose.min(3) as usize);
        let secret = vec![(crate::secret::ENV.to_owned(), cfg.secret.clone())];
        let info = cfg.paths.server_info(which).display().to_string();
        match (which, &cfg.proxy) {
            (Which::Proxy, ProxyMode::Internal { port, .. }) => {
                let port = self.proxy.pinned_port.unwrap_or(*port);
                let mut args = vec!["proxy".to_owned()];
                args.extend(verbosity);
                args.extend([
                    "--port".into(),
                    port.to_string(),
                    "--server-info".into(),
                    info,
                ]);
                Ok(Spec {
                    program: cfg.exe.clone(),
                    args,
                    env: secret,
                })
            }
            // The external command gets the per-start secret too: harmless for a third-party
            // server, and what lets `aimux proxy` itself (or a wrapper around it) serve there.
            (Which::Proxy, ProxyMode::External { command, .. }) => match command {
                ExternalCommand::Shell(line) => Ok(Spec {
                    program: "sh".into(),
                    args: vec!["-c".into(), line.clone()],
                    env: secret,
                }),
                ExternalCommand::Argv(argv) => {
                    let (program, args) = argv
                        .split_first()
                        .ok_or_else(|| "[proxy] command is an empty list".to_owned())?;
                    Ok(Spec {
                        program: program.into(),
                        args: args.to_vec(),
                        env: secret,
                    })
                }
            },
            (Which::Bridge, _) => {
                let port = self.bridge.pinned_port.unwrap_or(cfg.bridge_port);
                let mut args = vec!["bridge".to_owned()];
                args.extend(verbosity);
                args.extend([
                    "--port".into(),
                    port.to_string(),
                    "--upstream".into(),
                    self.proxy_upstream(),
                    "--server-info".into(),
                    info,
                ]);
                Ok(Spec {
                    program: cfg.exe.clone(),
                    args,
                    env: secret,
                })
            }
        }
    }

    /// The bridge's `--upstream`.
    fn proxy_upstream(&self) -> String {
        match &self.cfg.proxy {
            ProxyMode::Internal { host, port } => format!(
                "http://{}:{}/v1",
                connect_host(host),
                self.proxy.pinned_port.unwrap_or(*port)
            ),
            ProxyMode::External { url, .. } => url.clone(),
        }
    }

    fn start(&mut self, which: Which) {
        let spec = match self.spec(which) {
            Ok(s) => s,
            Err(e) => return self.fail(which, e),
        };
        let _ = std::fs::remove_file(self.cfg.paths.server_info(which));
        let tx = self.tx.clone();
        let slot = self.slot(which);
        slot.generation += 1;
        let generation = slot.generation;
        let pid = match child::spawn(&spec, which, generation, tx) {
            Ok(pid) => pid,
            Err(e) => {
                return self.fail(
                    which,
                    format!("cannot start the {which} (`{}`): {e}", spec.display()),
                );
            }
        };
        let ready_timeout = self.cfg.ready_timeout;
        let slot = self.slot(which);
        let restart = slot.started_once;
        slot.started_once = true;
        slot.pid = Some(pid);
        slot.kill_reason = None;
        // The give-up message shows the output of the last run only.
        slot.tail.clear();
        slot.deadline = Some(Instant::now() + ready_timeout);
        if let Some(log) = &mut slot.log {
            let ts = logfile::utc_timestamp(std::time::SystemTime::now());
            let _ = log.write_line(&format!(
                "--- {ts} aimux start: `{}` (pid {pid}) ---",
                spec.display()
            ));
        }
        let process = procs::identify(pid).unwrap_or_else(|| ProcInfo {
            pid,
            exe: procs::normalize_exe(&spec.program),
            start_time: None,
        });
        let st = self.state.child_mut(which);
        st.phase = ChildPhase::Starting;
        st.process = Some(process);
        st.since = Some(state::unix_now());
        if restart {
            st.restarts += 1;
        }
        let restarts = st.restarts;
        self.dirty = true;
        self.flush();
        if restart {
            self.printer.say(&format!(
                "restarted the {which} (pid {pid}, restart #{restarts})"
            ));
        } else {
            self.printer
                .progress(&format!("starting the {which}: {}", spec.display()));
        }
    }

    /// `Some((port, url))` once the child is accepting connections.
    async fn probe_ready(&mut self, which: Which) -> Option<(u16, String)> {
        let pid = self.slot(which).pid?;
        match (&self.cfg.proxy, which) {
            (ProxyMode::External { url, .. }, Which::Proxy) => {
                let (host, port) = url_host_port(url)?;
                let addr = format!("{}:{port}", connect_host(&host));
                let conn = tokio::time::timeout(
                    Duration::from_millis(200),
                    tokio::net::TcpStream::connect(addr),
                )
                .await;
                matches!(conn, Ok(Ok(_))).then(|| (port, url.trim_end_matches('/').to_owned()))
            }
            _ => {
                let info = ServerInfo::read(&self.cfg.paths.server_info(which)).ok()?;
                (info.pid == pid).then_some((info.port, info.url))
            }
        }
    }

    async fn on_tick(&mut self) {
        let now = Instant::now();
        for which in Which::ALL {
            let phase = self.state.child(which).phase;
            let deadline = self.slot(which).deadline;
            match phase {
                ChildPhase::Starting => {
                    if let Some((port, url)) = self.probe_ready(which).await {
                        self.on_ready(which, port, url).await;
                    } else if deadline.is_some_and(|d| now >= d) {
                        let secs = self.cfg.ready_timeout.as_secs();
                        let slot = self.slot(which);
                        slot.deadline = None;
                        slot.kill_reason = Some(format!("was not ready within {secs} s"));
                        if let Some(pid) = slot.pid {
                            procs::signal_group(pid, procs::SIGKILL);
                        }
                    }
                }
                ChildPhase::Backoff if deadline.is_some_and(|d| now >= d) => {
                    self.slot(which).deadline = None;
                    self.start(which);
                }
                ChildPhase::Stopping if deadline.is_some_and(|d| now >= d) => {
                    let slot = self.slot(which);
                    slot.deadline = None;
                    if let Some(pid) = slot.pid {
                        procs::signal_group(pid, procs::SIGKILL);
                        self.printer.warn(&format!(
                            "the {which} (pid {pid}) did not stop in time; killed it"
                        ));
                    }
                }
                _ => {}
            }
        }
        if self.dirty && self.last_flush.elapsed() >= Duration::from_millis(500) {
            self.flush();
        }
    }

    async fn on_ready(&mut self, which: Which, port: u16, url: String) {
        let external = self.external() && which == Which::Proxy;
        let slot = self.slot(which);
        if !external {
            slot.pinned_port = Some(port);
        }
        slot.deadline = None;
        let first = !slot.ever_ready;
        slot.ever_ready = true;
        let pid = slot.pid.unwrap_or(0);
        let st = self.state.child_mut(which);
        st.phase = ChildPhase::Running;
        st.port = Some(port);
        st.url = Some(url.clone());
        self.dirty = true;
        if first {
            self.printer
                .progress(&format!("the {which} is ready at {url} (pid {pid})"));
        } else {
            self.printer
                .say(&format!("the {which} is back at {url} (pid {pid})"));
        }
        if which == Which::Proxy && self.state.bridge.phase == ChildPhase::Pending {
            self.start(Which::Bridge);
        }
        let both = self.state.proxy.phase == ChildPhase::Running
            && self.state.bridge.phase == ChildPhase::Running;
        if both && !self.announced {
            self.announced = true;
            self.state.status = RunStatus::Running;
            self.flush();
            self.printer.finish_progress();
            let bridge = self.state.bridge.url.clone().unwrap_or_default();
            let proxy = self.state.proxy.url.clone().unwrap_or_default();
            self.printer.log_line(&format!(
                "ready: bridge {bridge}/v1, proxy {proxy} (supervisor pid {})",
                self.state.supervisor.pid
            ));
            if !self.cfg.detached {
                let s = summary::gather(
                    &self.state,
                    self.cfg.bridge_token.as_deref(),
                    Some(&self.cfg.secret),
                    &self.cfg.codex_profile,
                    &self.cfg.paths.logs_dir(),
                )
                .await;
                let text = summary::render(&s, self.cfg.color);
                self.printer.terminal(text.trim_end());
            }
        }
        self.flush();
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Line { which, line } => self.on_line(which, line),
            Event::Exited {
                which,
                generation,
                status,
            } => self.on_exit(which, generation, status),
        }
    }

    fn on_line(&mut self, which: Which, line: String) {
        let slot = self.slot(which);
        if let Some(log) = &mut slot.log {
            let _ = log.write_line(&line);
        }
        if slot.tail.len() >= TAIL_LINES {
            slot.tail.pop_front();
        }
        slot.tail.push_back(line.clone());
        if let Some(r) = reqline::parse(&line) {
            self.state.child_mut(which).requests += 1;
            self.dirty = true;
            self.printer
                .terminal(&reqline::format(&r, self.printer.color));
        } else if let Some((level, msg)) = reqline::notable(&line) {
            let style = if level == "ERROR" {
                console::Style::new().red()
            } else {
                console::Style::new().yellow()
            };
            let text = style
                .force_styling(self.printer.color)
                .apply_to(format!("{which} {level} {msg}"));
            self.printer.terminal(&text.to_string());
        }
    }

    fn on_exit(&mut self, which: Which, generation: u64, status: Option<std::process::ExitStatus>) {
        let slot = self.slot(which);
        if generation != slot.generation {
            return;
        }
        let pid = slot.pid.take().unwrap_or(0);
        let mut desc = child::describe_exit(status);
        if let Some(reason) = slot.kill_reason.take() {
            desc = format!("{reason}; {desc}");
        }
        let ever_ready = slot.ever_ready;
        let _ = std::fs::remove_file(self.cfg.paths.server_info(which));
        let st = self.state.child_mut(which);
        st.process = None;
        st.last_exit = Some(desc.clone());
        self.dirty = true;
        if self.shutting_down {
            self.state.child_mut(which).phase = ChildPhase::Stopped;
            self.slot(which).deadline = None;
            if which == Which::Bridge && self.slot(Which::Proxy).term_pending {
                self.terminate(Which::Proxy);
            }
            if self.failure.is_none() {
                self.printer
                    .say(&format!("the {which} (pid {pid}) stopped: {desc}"));
            }
            self.flush();
            return;
        }
        self.printer
            .warn(&format!("the {which} (pid {pid}) {desc}"));
        let own = !(self.external() && which == Which::Proxy);
        if own && !ever_ready && status.and_then(|s| s.code()) == Some(1) {
            return self.fail(
                which,
                format!("the {which} could not start ({desc}): see its error below"),
            );
        }
        let policy = self.cfg.policy;
        match self.slot(which).crashes.record(Instant::now(), &policy) {
            Decision::Restart { delay, crashes } => {
                let slot = self.slot(which);
                slot.deadline = Some(Instant::now() + delay);
                self.state.child_mut(which).phase = ChildPhase::Backoff;
                self.printer.say(&format!(
                    "restarting the {which} in {:.2} s (crash {crashes}; aimux gives up at {} within {} s)",
                    delay.as_secs_f64(),
                    policy.max_crashes,
                    policy.window.as_secs()
                ));
            }
            Decision::GiveUp { crashes } => {
                self.fail(
                    which,
                    format!(
                        "the {which} crashed {crashes} times within {} s (last: {desc}); giving up",
                        policy.window.as_secs()
                    ),
                );
            }
        }
        self.flush();
    }

    fn on_signal(&mut self, sig: &str) {
        if self.shutting_down {
            self.printer
                .warn(&format!("{sig} again: killing the children now"));
            for which in Which::ALL {
                if let Some(pid) = self.slot(which).pid {
                    procs::signal_group(pid, procs::SIGKILL);
                }
            }
            return;
        }
        self.printer.finish_progress();
        self.printer.say(&format!(
            "{sig}: stopping the bridge and the proxy, letting in-flight requests finish \
             (press Ctrl-C again to force)"
        ));
        self.begin_shutdown();
    }

    fn begin_shutdown(&mut self) {
        self.shutting_down = true;
        self.state.status = RunStatus::Stopping;
        // The bridge first, and the proxy once the bridge has gone: the bridge's in-flight
        // requests (and web searches) still need the proxy while they drain.
        let bridge_running = self.slot(Which::Bridge).pid.is_some();
        for which in [Which::Bridge, Which::Proxy] {
            let slot = self.slot(which);
            match slot.pid {
                Some(_) if which == Which::Proxy && bridge_running => {
                    slot.term_pending = true;
                    slot.deadline = None;
                    self.state.child_mut(which).phase = ChildPhase::Stopping;
                }
                Some(_) => {
                    self.terminate(which);
                }
                None => {
                    slot.deadline = None;
                    self.state.child_mut(which).phase = ChildPhase::Stopped;
                }
            }
        }
        self.dirty = true;
        self.flush();
    }

    /// SIGTERM, with `drain_timeout` before the SIGKILL.
    fn terminate(&mut self, which: Which) {
        let drain = self.cfg.drain_timeout;
        let slot = self.slot(which);
        slot.term_pending = false;
        if let Some(pid) = slot.pid {
            slot.deadline = Some(Instant::now() + drain);
            procs::signal_group(pid, procs::SIGTERM);
            self.state.child_mut(which).phase = ChildPhase::Stopping;
        }
    }

    fn fail(&mut self, which: Which, reason: String) {
        self.printer.finish_progress();
        if self.failure.is_none() {
            self.printer.log_line(&format!("error: {reason}"));
            self.failure = Some(Failure { which, reason });
            self.state.child_mut(which).phase = ChildPhase::Failed;
        }
        if !self.shutting_down {
            self.begin_shutdown();
        }
    }

    fn flush(&mut self) {
        self.dirty = false;
        self.last_flush = Instant::now();
        if let Err(e) = self.state.write(&self.cfg.paths.state())
            && !self.state_warned
        {
            self.state_warned = true;
            self.printer.warn(&format!("{e:#}"));
        }
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        for which in Which::ALL {
            let _ = std::fs::remove_file(self.cfg.paths.server_info(which));
        }
        match self.failure.take() {
            None => {
                let _ = state::remove(&self.cfg.paths.state());
                self.printer.say("stopped");
                Ok(())
            }
            Some(Failure { which, reason }) => {
                self.state.status = RunStatus::Failed;
                self.state.error = Some(reason.clone());
                self.state.child_mut(which).phase = ChildPhase::Failed;
                self.flush();
                let log = self.cfg.paths.log(which.name());
                let slot = self.slot(which);
                let skip = slot.tail.len().saturating_sub(12);
                let lines: Vec<String> = slot
                    .tail
                    .iter()
                    .skip(skip)
                    .map(|l| format!("  | {l}"))
                    .collect();
                let tail = if lines.is_empty() {
                    format!("it printed nothing (log: {})", tilde(&log))
                } else {
                    format!("its last lines ({}):\n{}", tilde(&log), lines.join("\n"))
                };
                Err(user_error(format!("{reason}.\n{tail}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_hosts() {
        let cases = [
            ("127.0.0.1", "127.0.0.1"),
            ("0.0.0.0", "127.0.0.1"),
            ("localhost", "127.0.0.1"),
            ("::", "[::1]"),
            ("::1", "[::1]"),
            ("[::1]", "[::1]"),
            ("10.0.0.2", "10.0.0.2"),
        ];
        for (host, want) in cases {
            assert_eq!(connect_host(host), want, "{host}");
        }
    }

    #[test]
    fn url_host_ports() {
        let cases = [
            ("http://127.0.0.1:4000/v1", Some(("127.0.0.1", 4000))),
            ("http://localhost/v1", Some(("localhost", 80))),
            ("https://example.com/v1", Some(("example.com", 443))),
            ("not a url", None),
        ];
        for (url, want) in cases {
            assert_eq!(
                url_host_port(url),
                want.map(|(h, p)| (h.to_owned(), p)),
                "{url}"
            );
        }
    }
}
