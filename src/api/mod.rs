//! The DRS API as both sides speak it: request signing now; the client arrives with the executor.

pub mod signing;
