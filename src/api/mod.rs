//! The DRS API as both sides speak it: request signing, and the client a run uses.

pub mod client;
pub mod retry_after;
pub mod route;
pub mod signing;
pub mod status;
pub mod transport;
