//! aimux: a local AI router. See README.md for the tour.

pub mod api_error;
pub mod bridge;
pub mod cli;
pub mod commands;
pub mod error;
pub mod fsutil;
pub mod guard;
pub mod proxy;
pub mod secret;
pub mod server_info;
pub mod settings;
pub mod signals;
pub mod sse;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use settings::{BridgeSettings, Env};

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
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .try_init();
}

pub fn run(cli: Cli, env: &Env) -> anyhow::Result<()> {
    match cli.command {
        Command::Completions { shell } => commands::completions::run(shell),
        Command::Bridge(args) => {
            let path = settings::config_path(env).unwrap_or_else(|| "config.toml".into());
            let file = settings::load_file(&path)?;
            let bridge = BridgeSettings::resolve(args, env, &file, &path)?;
            runtime()?.block_on(commands::bridge::run(bridge))
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
