//! Why a word of the API was refused: one typed error for the identifiers, the endpoint, the
//! region, the language and the rule IDs, each message saying what was expected. Values are
//! shown masked (`diag::mask`), so a secret pasted into the wrong field never prints.

/// A value that is not a word of the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// Not a job ID.
    #[error(
        "invalid job ID `{shown}`: expected 36 characters in groups of 8-4-4-4-12 lowercase letters and digits, like `c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r`{}",
        if *upper_case { " (job IDs are lower case)" } else { "" }
    )]
    JobId {
        /// The value as shown.
        shown: String,
        /// It has the shape of one, in upper case.
        upper_case: bool,
    },
    /// Not a project ID.
    #[error(
        "invalid project ID `{shown}`: expected 32 lowercase hex characters, like `054ba152d480d55b2f5dc0069e7ddef0`"
    )]
    ProjectId {
        /// The value as shown.
        shown: String,
    },
    /// Not a region name.
    #[error(
        "invalid region `{shown}`: expected a region name like `cn-north-4` or `ap-southeast-1`"
    )]
    Region {
        /// The value as shown.
        shown: String,
    },
    /// Not a language the API answers in.
    #[error("invalid language `{shown}`: expected `en-us` or `zh-cn`")]
    Language {
        /// The value as shown.
        shown: String,
    },
    /// Not a rule of the catalogue.
    #[error("unknown rule `{given}`; the rules are: {known}")]
    Rule {
        /// The value given.
        given: String,
        /// Every rule ID, comma-separated.
        known: String,
    },
    /// Not a URL.
    #[error(
        "invalid endpoint `{shown}`: {reason}; expected a URL like `https://drs.cn-north-4.myhuaweicloud.com`"
    )]
    Url {
        /// The URL as shown (user information masked).
        shown: String,
        /// What the URL parser said.
        reason: String,
    },
    /// A URL with user information.
    #[error("the endpoint URL carries credentials: remove them and use `auth`")]
    Credentials,
    /// A URL with no host.
    #[error("invalid endpoint `{shown}`: no host")]
    NoHost {
        /// The URL as shown.
        shown: String,
    },
    /// `http://` to a host that is not loopback.
    #[error(
        "plaintext `http://` endpoint `{shown}` is not a loopback host: credentials would cross the network unencrypted; use `https://`"
    )]
    Plaintext {
        /// The URL as shown.
        shown: String,
    },
    /// A scheme other than https (or http on loopback).
    #[error("invalid endpoint `{shown}`: scheme `{scheme}`, expected `https`")]
    Scheme {
        /// The URL as shown.
        shown: String,
        /// Its scheme.
        scheme: String,
    },
    /// A URL with a path, query or fragment.
    #[error(
        "invalid endpoint `{shown}`: give only scheme, host and port; stopbook adds the API paths"
    )]
    Path {
        /// The URL as shown.
        shown: String,
    },
}
