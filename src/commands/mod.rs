//! One module per subcommand: thin orchestration over the domain modules.

pub mod bridge;
pub mod completions;
pub mod models;
pub mod proxy;
pub mod usage;
