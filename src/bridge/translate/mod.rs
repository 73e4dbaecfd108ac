//! Pure translation between the Responses API (what Codex speaks) and Chat Completions (what most
//! providers speak). No I/O here: the server feeds bytes in and writes what comes out.

pub mod chat;
pub mod errors;
mod fast_chunk;
pub mod leak;
pub mod raw;
pub mod request;
pub mod responses;
pub mod stream;
pub mod tools;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

pub use errors::UpstreamError;
pub use request::{
    RequestError, TranslateOptions, Translated, WEB_SEARCH_FUNCTION, translate_request,
    translate_request_with,
};
pub use stream::{Outcome, PendingSearch, RoundTurn, StreamTranslator, TurnCall};
