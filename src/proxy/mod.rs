//! The proxy: the process that holds every credential, routes Chat Completions requests by model
//! to providers, aggregates `/v1/models`, runs the `codex exec` backend and records usage.

pub mod backend;
pub mod codex_exec;
pub mod config;
pub mod gate;
pub mod presets;
pub mod registry;
pub mod render;
pub mod router;
pub mod server;
pub mod usage;
