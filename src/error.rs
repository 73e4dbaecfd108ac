//! Exit-code classes: a `UserError` (bad input or environment) exits 1, anything else 2.

use std::fmt;

/// The user's input or environment is at fault; the message says what to change.
#[derive(Debug)]
pub struct UserError(pub String);

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

pub fn user_error(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UserError(message.into()))
}

/// 1 when any error in the chain is a `UserError`, else 2.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if error.chain().any(|e| e.is::<UserError>()) {
        1
    } else {
        2
    }
}
