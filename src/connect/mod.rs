//! HTTP to the webshops and accounting systems: their wire formats, nothing about jobs.

pub mod economic_wire;
pub mod http;
pub mod shopify;
pub mod source;
pub mod woocommerce;

pub use http::{ConnectError, System};
pub use source::{OrderQuery, Page, Source, source_for};
