//! The DRS API as both sides speak it: request signing, and the client a run uses.

pub mod client;
pub mod error;
pub mod retry_after;
pub mod route;
pub mod sdk_time;
pub mod signing;
pub mod transport;
