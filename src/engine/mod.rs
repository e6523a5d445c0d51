//! Wires the connectors to the store and the domain: estimates now, import workers later.

pub mod estimate;
pub mod jobs;
pub mod preflight;
pub mod triage;
pub mod worker;
