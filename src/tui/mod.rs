//! The terminal UI support staff run over SSH while on the phone: customer lookup,
//! subscription usage, the import planner with the job steps, the live import log and the
//! failure inspector (Elm style: `App` state, `Action`s, one
//! `update`, a pure `draw`; the run loop performs the `Effect`s).

pub mod app;
pub mod clipboard;
pub mod effects;
pub mod keymap;
pub mod layout;
pub mod panes;
pub mod run;
pub mod text_field;
pub mod theme;
pub mod view;

#[cfg(test)]
mod jobs_tests;
#[cfg(test)]
mod update_tests;

use std::path::PathBuf;

pub use app::{Action, App, Effect, update};
pub use run::run;
pub use view::draw;

/// What the CLI hands the UI.
pub struct TuiOptions {
    pub db_path: PathBuf,
    pub config: crate::config::Config,
    /// The config file given on the command line, passed on to the workers the UI starts.
    pub config_path: Option<PathBuf>,
    /// A line the status bar shows at start, e.g. "demo: simulator on 127.0.0.1:40123".
    pub note: Option<String>,
}
