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
    /// One shot: start the link in the background (or reuse it), set up Codex, check everything.
    ///
    /// Runs `aimux start --detach` unless the link already runs, then `aimux setup` (the Codex
    /// profile and catalog), then `aimux doctor`, and ends with the command to use it:
    /// `codex -p aimux`. Running it again changes nothing and says so. Exit codes: 0 ready, 1 the
    /// link could not start or a check failed, 2 an internal error.
    Up(UpArgs),

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

    /// Start the proxy and the bridge, supervised: restarted when they crash, stopped together.
    ///
    /// Runs in the foreground (Ctrl-C stops both children and exits 0) and shows one line per
    /// request; `--detach` runs the supervisor in the background and returns once both are ready.
    /// Logs go to `$AIMUX_HOME/logs/{proxy,bridge,supervisor}.log`. With `[proxy] command` in the
    /// config, that command is supervised instead of `aimux proxy` and the bridge forwards to
    /// `[proxy] url`. Exit codes: 0 stopped cleanly, 1 already running, a port is taken, a child
    /// failed to start or kept crashing, 2 an internal error.
    Start(StartArgs),

    /// Stop the running `aimux start`: its children drain in-flight requests, then everything exits.
    ///
    /// Only ever signals processes whose pid AND executable (and start time) match the state file,
    /// so a pid reused by another program is left alone. Exits 0 when nothing is running.
    Stop {
        /// Seconds to wait for a graceful stop before killing the processes.
        #[arg(long, value_name = "SECS", default_value_t = 20)]
        timeout: u64,
    },

    /// Is aimux running? Pids, uptime, URLs, health, providers, restarts, requests served.
    ///
    /// Exit code 0 when running, 1 when not.
    Status {
        /// Print JSON on stdout instead of text.
        #[arg(long)]
        json: bool,
    },

    /// Show the logs of the supervised children (`$AIMUX_HOME/logs/`).
    Logs {
        /// Keep printing new lines as they are written (Ctrl-C to quit).
        #[arg(short, long)]
        follow: bool,
        /// How many of the last lines to show first.
        #[arg(short = 'n', long, value_name = "N", default_value_t = 50)]
        lines: usize,
        /// Whose log: `bridge`, `proxy` or `supervisor`; all of them when omitted.
        #[arg(value_enum)]
        which: Option<LogName>,
    },

    /// Run `aimux start` at login as a user service (systemd on Linux, launchd on macOS).
    Daemon {
        #[command(subcommand)]
        action: DaemonAction,
    },

    /// Write the Codex profile and model catalog, so `codex -p aimux` uses aimux.
    ///
    /// Writes `$CODEX_HOME/aimux.config.toml` (model, `model_provider = "aimux"`, the catalog, and
    /// `[model_providers.aimux]` pointing at the bridge, with `env_key = "AIMUX_TOKEN"` when the
    /// bridge has a token), `$CODEX_HOME/aimux-catalog.json`, and Codex's own base prompt in
    /// `$CODEX_HOME/aimux-instructions.md` when `codex` is installed. Re-running merges: keys you
    /// added stay, and a run with nothing to change says so. Warns about legacy
    /// `[profiles.aimux]` / `profile =` entries in config.toml, which make Codex 0.169 fail.
    Setup(SetupArgs),

    /// Build the Codex model catalog from the models aimux can route to.
    ///
    /// Asks the running proxy (`/v1/models`), else the bridge, else reads the config and presets
    /// (and says so). Each model gets its real context window, image input only with vision,
    /// reasoning levels only when it reasons, and the `apply_patch` tool. Priority: routes, then
    /// agents, then known models by provider (yours, then model makers' APIs, aggregators, local
    /// gateways, local servers) in their curated order; extra ids from a provider's live list are
    /// hidden from the picker when the provider also has curated ones. The bridge serves the
    /// same catalog at `/v1/aimux/catalog` (for `model_catalog_url`).
    GenCatalog(GenCatalogArgs),

    /// Point Codex Desktop (the base `$CODEX_HOME/config.toml`) at aimux, or back.
    ///
    /// `on` sets model, model_provider, model_catalog_json (and model_instructions_file) and
    /// `[model_providers.aimux]`, keeping every comment and unrelated table, and records what it
    /// replaced in `$AIMUX_HOME/desktop-state.json`; `off` puts exactly that back. Each change
    /// first saves a timestamped backup under `$AIMUX_HOME/backups/`. Restart Codex Desktop
    /// afterwards.
    Desktop {
        #[command(subcommand)]
        action: SwitchAction,
    },

    /// Turn web search on or off, for aimux and for `codex -p aimux`.
    ///
    /// Sets `[websearch] enabled` in aimux's config.toml and Codex's `web_search` (`live` /
    /// `disabled`) in `$CODEX_HOME/aimux.config.toml`, leaving every other key as it is.
    Websearch {
        #[command(subcommand)]
        action: SwitchAction,
    },

    /// Print shell exports that point OpenAI-compatible tools at the bridge.
    ///
    /// `OPENAI_BASE_URL` (the bridge's `/v1`) and `OPENAI_API_KEY` (the bridge token, or the
    /// placeholder `aimux` when the bridge has none). Use: `eval "$(aimux env)"`.
    Env {
        /// Shell syntax [default: fish when $SHELL is fish, else bash/zsh].
        #[arg(long, value_enum, value_name = "SHELL")]
        shell: Option<EnvShell>,
    },

    /// Check the whole link, read-only: Codex, its profile and catalog, aimux's config, the
    /// bridge, the proxy, each provider, and one real round trip.
    ///
    /// Each check is a row: ✓ ok, ! warning, ✗ failed, with one hint per problem. The round trip
    /// streams one tiny `/v1/responses` request through bridge → proxy → the profile's model (a
    /// few tokens) and reports its latency. Keys and tokens are never shown. The report goes to
    /// stdout. Exit codes: 0 no check failed, 1 a check failed, 2 an internal error.
    Doctor(DoctorArgs),

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

#[derive(Debug, Clone, Default, Args)]
pub struct StartArgs {
    /// Port for the bridge (what Codex and other tools talk to); 0 picks a free one
    /// [env: AIMUX_BRIDGE_PORT] [default: 8403].
    #[arg(long, value_name = "N")]
    pub bridge_port: Option<u16>,

    /// Port for the proxy; 0 picks a free one [env: AIMUX_PROXY_PORT] [default: 8404].
    #[arg(long, value_name = "N")]
    pub proxy_port: Option<u16>,

    /// Run the supervisor in the background; return once both children are ready.
    #[arg(long)]
    pub detach: bool,

    /// Internal: this process is the background supervisor started by `--detach`.
    #[arg(long, hide = true)]
    pub detached_child: bool,
}

/// A log under `$AIMUX_HOME/logs/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogName {
    /// The bridge's output (`bridge.log`).
    Bridge,
    /// The proxy's output (`proxy.log`).
    Proxy,
    /// What the supervisor did: starts, crashes, restarts, stops (`supervisor.log`).
    Supervisor,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum DaemonAction {
    /// Write the user service (no secrets in it), enable it at login and start it.
    Install,
    /// Stop and disable the user service and remove its file.
    Uninstall,
    /// What the service manager says about the aimux service.
    Status,
}

#[derive(Debug, Clone, Default, Args)]
pub struct SetupArgs {
    /// The default model: a routable id (`provider/model`, a route or `aimux:AGENT`; a bare
    /// model id works when one provider serves it). Without it, the profile's current model is
    /// kept if still routable, else the catalog's first.
    #[arg(long, value_name = "SLUG")]
    pub model: Option<String>,

    /// Where Codex reads the catalog: `file` (model_catalog_json) or `url` (the bridge's
    /// `/v1/aimux/catalog`, via model_catalog_url) [default: what the profile uses, else file].
    #[arg(long, value_enum, value_name = "FROM")]
    pub catalog: Option<CatalogFrom>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct UpArgs {
    /// The default model for `codex -p aimux` (as `aimux setup --model`): a routable id such as
    /// `provider/model`. Without it, the profile's model is kept if still routable.
    #[arg(long, value_name = "SLUG")]
    pub model: Option<String>,

    /// Check without the round trip and without probing providers beyond this machine.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Clone, Default, Args)]
pub struct DoctorArgs {
    /// Print the report as JSON on stdout: `{schema_version, aimux_version, status, offline,
    /// counts, checks: [{id, status, summary, details, hint}]}`.
    #[arg(long)]
    pub json: bool,

    /// Skip the round trip and the probes of providers beyond this machine (no request leaves
    /// it, no tokens are spent).
    #[arg(long)]
    pub offline: bool,
}

/// Where Codex reads the model catalog from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CatalogFrom {
    /// `model_catalog_json = "$CODEX_HOME/aimux-catalog.json"`.
    File,
    /// `model_catalog_url` = the bridge's `/v1/aimux/catalog` (always current; needs the bridge
    /// running when Codex starts).
    Url,
}

#[derive(Debug, Clone, Default, Args)]
pub struct GenCatalogArgs {
    /// Where to write the catalog (`-` for stdout) [default: $CODEX_HOME/aimux-catalog.json].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Write nothing; exit 1 when the file differs from what would be written.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum SwitchAction {
    /// Switch it on.
    On,
    /// Switch it off.
    Off,
    /// Print `on` or `off` (details on stderr).
    Status,
}

/// Shell syntax for `aimux env`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EnvShell {
    Bash,
    Zsh,
    Fish,
}
