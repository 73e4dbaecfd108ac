//! `aimux completions SHELL`: the completion script on stdout.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The completion script for `shell`, as committed under `completions/`.
pub fn render(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "aimux", &mut out);
    out
}

pub fn run(shell: Shell) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&render(shell))?;
    stdout.flush()?;
    Ok(())
}
