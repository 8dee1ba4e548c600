//! Black-box tests of the `stopbook` binary, plus property tests of the library: one test binary,
//! so the suite links once.

mod architecture;
mod batch;
mod bidi;
mod bounds;
mod conform;
mod conform_lag;
mod docs;
mod evidence;
mod exactly_once;
mod file_inputs;
mod hostile;
mod interrupted;
mod live_keys;
mod masked_inputs;
mod mock;
mod mutations;
mod openapi;
mod operator;
mod plan;
mod properties;
mod proxy;
mod refusals;
mod run;
mod schema;
mod secrets;
mod secrets_everywhere;
mod select;
mod soak;
mod spec_tests;
mod support;
mod tls;
mod validate;
