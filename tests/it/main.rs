//! All integration tests live in this one binary (one link step, shared helpers).

mod common;

mod bridge_http;
mod codex_backend;
mod codex_e2e;
mod codex_faults;
mod codex_integration;
mod config_files;
mod dashboard;
mod doctor;
mod faults;
#[cfg(target_os = "linux")]
mod lifecycle;
mod openai_sdk;
mod proxy_http;
mod websearch;
