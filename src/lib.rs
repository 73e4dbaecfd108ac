//! aimux: a local AI router. See README.md for the tour.

pub mod api_error;
pub mod bridge;
pub mod catalog;
pub mod cli;
pub mod codex_config;
pub mod commands;
pub mod dashboard;
pub mod doctor;
pub mod error;
pub mod fsutil;
pub mod guard;
pub mod logbuf;
pub mod memory;
pub mod proxy;
pub mod secret;
pub mod serve;
pub mod server_info;
pub mod settings;
pub mod signals;
pub mod sse;
pub mod supervisor;
pub mod upstream;
pub mod utc;
pub mod websearch;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use settings::{BridgeSettings, Env, ProxySettings};

/// Parses the command line, runs the command, maps the outcome to an exit code
/// (0 success, 1 the user's input or environment failed, 2 an internal error).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = Env::from_process();
    init_tracing(cli.verbose, &env);
    match run(cli, &env) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(error::exit_code(&e))
        }
    }
}

fn init_tracing(verbose: u8, env: &Env) {
    let filter = match (env.get("AIMUX_LOG"), verbose) {
        (Some(f), _) => f.to_owned(),
        (None, 0) => "aimux=info".to_owned(),
        (None, 1) => "aimux=debug".to_owned(),
        (None, _) => "aimux=trace,tower_http=debug".to_owned(),
    };
    use std::io::IsTerminal;
    let color = std::io::stderr().is_terminal() && env.get("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(logbuf::Stderr)
        .with_ansi(color)
        .with_target(false)
        .try_init();
}

pub fn run(cli: Cli, env: &Env) -> anyhow::Result<()> {
    if let Command::Completions { shell } = cli.command {
        return commands::completions::run(shell);
    }
    let home = settings::aimux_home(env)
        .ok_or_else(|| error::user_error("cannot find a home for aimux's files: set AIMUX_HOME"))?;
    // Doctor runs (and reports) even when the config file does not parse.
    if let Command::Doctor(args) = &cli.command {
        return runtime()?.block_on(commands::doctor::run(args.clone(), env, &home));
    }
    let path = home.join("config.toml");
    let file = settings::load_file(&path)?;
    match cli.command {
        Command::Completions { .. } | Command::Doctor(_) => Ok(()),
        Command::Up(args) => runtime()?.block_on(commands::up::run(
            args,
            env,
            &file,
            &path,
            &home,
            cli.verbose,
        )),
        Command::Bridge(args) => {
            let mut bridge = BridgeSettings::resolve(args, env, &file, &path)?;
            if commands::bridge::upstream_is_local(&bridge.upstream.value) {
                bridge.internal_secret = Some(secret::internal_secret(env, &home)?);
            }
            run_server(commands::bridge::run(bridge, env, &home))
        }
        Command::Proxy(args) => {
            let proxy = ProxySettings::resolve(args, env, &file, &path)?;
            run_server(commands::proxy::run(proxy, file, env.clone(), &home))
        }
        Command::Models { json } => {
            runtime()?.block_on(commands::models::run(env, &file, &path, &home, json))
        }
        Command::Usage { days, json } => commands::usage::run(&home, days, json),
        Command::Start(args) => commands::start::run(args, env, &file, &home, cli.verbose),
        Command::Stop { timeout } => commands::stop::run(&home, timeout),
        Command::Status { json } => commands::status::run(&home, json),
        Command::Logs {
            follow,
            lines,
            which,
        } => commands::logs::run(&home, which, lines, follow),
        Command::Daemon { action } => match action {
            cli::DaemonAction::Install => commands::daemon::install(env, &home),
            cli::DaemonAction::Uninstall => commands::daemon::uninstall(env),
            cli::DaemonAction::Status => commands::daemon::status(env, &home),
        },
        Command::Setup(args) => {
            runtime()?.block_on(commands::setup::run(args, env, &file, &path, &home))
        }
        Command::GenCatalog(args) => {
            runtime()?.block_on(commands::gen_catalog::run(args, env, &file, &path, &home))
        }
        Command::Desktop { action } => {
            runtime()?.block_on(commands::desktop::run(action, env, &file, &path, &home))
        }
        Command::Websearch { action } => commands::websearch::run(action, env, &path, &home),
        Command::Env { shell } => commands::env::run(shell, env, &file, &path),
    }
}

/// The servers' runtime: single-threaded; [`serve::serve`] adds one thread (and runtime) per
/// further core.
fn server_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    small_pages();
    logbuf::batch_this_thread();
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_park(logbuf::flush)
        .build()?)
}

/// Runs a server to the end on [`server_runtime`], then writes the last log lines.
fn run_server(server: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    let rt = server_runtime()?;
    let result = rt.block_on(server);
    logbuf::flush();
    // Dropping a runtime would wait without limit for blocking tasks still running.
    rt.shutdown_timeout(serve::BLOCKING_GRACE);
    result
}

/// Asks Linux for no transparent huge pages in this (server) process: mimalloc's arenas would
/// otherwise be backed by 2 MiB pages, which for a server that needs a few MiB doubles its
/// resident memory (measured: bridge 18.4 → 11 MiB idle, proxy 22.4 → 14 MiB) at no speed
/// benefit. Inherited by children (the codex backend's `codex exec`), which is harmless.
fn small_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integer arguments and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
