//! The bridge: what clients talk to. It holds no provider credentials; it translates Responses
//! requests to Chat Completions and sends them upstream (the aimux proxy, or any Chat URL).

pub mod server;
pub mod translate;

pub use server::{BridgeState, app, normalize_upstream};
