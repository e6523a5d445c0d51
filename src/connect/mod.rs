//! HTTP to the webshops and accounting systems: their wire formats, nothing about jobs.

pub mod bucket;
pub mod economic;
pub mod economic_gate;
pub mod economic_wire;
pub mod http;
pub mod link;
pub mod reply;
pub mod retry;
pub mod shopify;
pub mod sink;
pub mod source;
pub mod wire;
pub mod woocommerce;

pub use http::{ConnectError, System};
pub use source::{OrderQuery, Page, Source, source_for};
