//! The business rules, pure: no I/O, no clock, no async.

pub mod billing;
pub mod calendar;
pub mod cause;
pub mod customer;
pub mod job;
pub mod money;
pub mod order;
pub mod plan;
pub mod quote;
pub mod runtime;
