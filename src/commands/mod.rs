//! One module per subcommand: thin orchestration over the domain modules.

pub mod bridge;
pub mod completions;
pub mod daemon;
pub mod desktop;
pub mod doctor;
pub mod env;
pub mod gen_catalog;
pub mod logs;
pub mod models;
pub mod proxy;
pub mod setup;
pub mod start;
pub mod status;
pub mod stop;
pub mod up;
pub mod usage;
pub mod websearch;
