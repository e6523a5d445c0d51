//! importdesk: plan, price, run and triage imports of historical webshop orders into
//! customers' accounting systems.

pub mod cli;
pub mod config;
pub mod connect;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod logging;
pub mod sim;
pub mod store;
pub mod tui;
