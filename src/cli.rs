//! Every command-line type, in one place. No I/O: `settings` turns these into plain values.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// aimux: one local endpoint in front of every model you can reach.
///
/// Lets the OpenAI Codex CLI use any Chat Completions model (DeepSeek, GLM, Kimi, Qwen, OpenRouter,
/// Ollama, vLLM, ...) by translating the Responses API both ways, streaming, with tools, reasoning
/// and images intact.
#[derive(Debug, Parser)]
#[command(name = "aimux", version, about, long_about, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Responses API (what Codex speaks) in front of a Chat Completions upstream.
    ///
    /// Codex sends `POST /v1/responses`; the bridge translates each request to
    /// `POST {upstream}/chat/completions` and streams the answer back as Responses events.
    Bridge(BridgeArgs),

    /// Serve the credential-holding router: Chat Completions routed by model to providers.
    ///
    /// Holds every provider key; answers the bridge (internal secret) and clients with
    /// AIMUX_TOKEN. With no `[providers]` in the config, enables every preset whose key is in the
    /// environment, `codex` when logged in, and local servers (Ollama, LM Studio, vLLM, llama.cpp)
    /// that answer on their usual ports.
    Proxy(ProxyArgs),

    /// List the models the proxy can route to, and which provider serves each.
    Models {
        /// Print JSON (the proxy's `/v1/models` list) instead of a table.
        #[arg(long)]
        json: bool,
    },

    /// Usage per day and per model from the usage store.
    Usage {
        /// How many days back, today included.
        #[arg(long, value_name = "N", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..))]
        days: u32,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },

    /// Print a shell completion script to stdout.
    ///
    /// Example: `aimux completions bash > ~/.local/share/bash-completion/completions/aimux`
    Completions {
        /// The shell to generate completions for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Default, Args)]
pub struct BridgeArgs {
    /// Address to bind [env: AIMUX_BRIDGE_HOST] [default: 127.0.0.1]. A non-loopback address
    /// needs a token.
    #[arg(long, value_name = "H")]
    pub host: Option<String>,

    /// Port to bind; 0 picks a free one [env: AIMUX_BRIDGE_PORT] [default: 8403].
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,

    /// Chat Completions base URL, e.g. http://127.0.0.1:8404/v1 (the bridge posts to
    /// `{URL}/chat/completions`) [env: AIMUX_UPSTREAM] [default: http://127.0.0.1:8404/v1].
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,

    /// Write `{"pid","port","url"}` as one JSON line to FILE once accepting connections.
    #[arg(long, value_name = "FILE")]
    pub server_info: Option<PathBuf>,

    /// Require `Authorization: Bearer T` from clients [env: AIMUX_TOKEN].
    #[arg(long, value_name = "T")]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ProxyArgs {
    /// Address to bind [env: AIMUX_PROXY_HOST] [default: 127.0.0.1]. A non-loopback address
    /// needs a token.
    #[arg(long, value_name = "H")]
    pub host: Option<String>,

    /// Port to bind; 0 picks a free one [env: AIMUX_PROXY_PORT] [default: 8404].
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,

    /// Write `{"pid","port","url"}` as one JSON line to FILE once accepting connections.
    #[arg(long, value_name = "FILE")]
    pub server_info: Option<PathBuf>,
}
