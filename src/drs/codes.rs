//! The error codes stopbook acts on, named once: the client and the mock must agree on them,
//! and the conformance rules cite them.

/// 400: the job does not exist [doc].
pub const JOB_NOT_FOUND: &str = "DRS.10000010";
/// 400: the job is already ending or ended (the vendor's generic "Failed." code) [model].
pub const ALREADY_ENDING: &str = "DRS.10000001";
/// 401: the credentials were refused [doc].
pub const UNAUTHORIZED: &str = "APIGW.0301";
/// 429: throttled [doc for a sibling service].
pub const THROTTLED: &str = "APIGW.0308";
