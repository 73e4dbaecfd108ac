//! `aimux doctor [--json] [--offline]`: every check of the link, read-only. The report goes to
//! stdout (text, or JSON with `--json`); a spinner, only on a terminal and never with `--json`,
//! goes to stderr. Exit 1 when any check failed.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use crate::cli::DoctorArgs;
use crate::doctor::{self, Inputs, Report, Status, render};
use crate::error::user_error;
use crate::settings::Env;

/// Runs the checks, with a spinner on stderr when it is a terminal and `quiet` is false.
pub async fn diagnose(env: &Env, home: &Path, offline: bool, quiet: bool) -> Report {
    let inputs = Inputs::gather(env, home, offline);
    let spinner = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(if offline {
            "checking the link"
        } else {
            "checking the link (and one round trip through it)"
        });
        pb.enable_steady_tick(Duration::from_millis(90));
        pb
    });
    let report = doctor::diagnose(&inputs).await;
    if let Some(pb) = spinner {
        pb.finish_and_clear();
    }
    report
}

/// Whether a stream gets colour: a terminal, and no `NO_COLOR`.
pub fn color_for(stream_is_terminal: bool, env: &Env) -> bool {
    stream_is_terminal && env.get("NO_COLOR").is_none()
}

/// The error `doctor` (and `up`) exits 1 with when a check failed.
pub fn failed(report: &Report) -> anyhow::Error {
    let n = report.counts.fail;
    user_error(format!("{n} check{} failed", if n == 1 { "" } else { "s" }))
}

pub async fn run(args: DoctorArgs, env: &Env, home: &Path) -> anyhow::Result<()> {
    let report = diagnose(env, home, args.offline, args.json).await;
    if args.json {
        print!("{}", render::json(&report));
    } else {
        let color = color_for(std::io::stdout().is_terminal(), env);
        print!("{}", render::human(&report, color));
    }
    if report.status == Status::Fail {
        return Err(failed(&report));
    }
    Ok(())
}
