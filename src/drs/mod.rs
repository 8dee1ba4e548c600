//! The DRS API's own vocabulary, below everything that speaks it: job and project IDs, the
//! endpoint and region, the request language, job statuses, and the error codes the client and
//! the mock both name. `runbook` decodes these from YAML, `api` sends them, `mock` serves them;
//! none of those has to depend on another for a word of the API.

/// Serialized as their text form, in plans, reports and journals.
macro_rules! serialize_as_text {
    ($($t:ty),*) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    )*};
}

pub(crate) mod codes;
mod endpoint;
mod ids;
mod invalid;
mod language;
pub(crate) mod rules;
pub(crate) mod status;

pub use endpoint::{Endpoint, Region, is_loopback_host};
pub use ids::{JobId, ProjectId};
pub use invalid::Invalid;
pub use language::Language;
pub use rules::RuleId;
