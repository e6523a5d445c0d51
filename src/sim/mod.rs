//! The simulated vendors, on loopback (being written).
