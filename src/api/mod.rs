//! The DRS API as both sides speak it: request signing, and the client a run uses.
//!
//! It knows neither the runbook format nor the mock, so the client is written to the vendor's
//! page alone and can be judged against any server; the mock takes only the signature and the
//! date formats from here, the two things both sides must compute alike.

mod classify;
pub mod client;
mod connect;
pub mod error;
pub mod retry_after;
pub(crate) mod route;
pub mod signing;
pub mod transport;
