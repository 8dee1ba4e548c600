//! The `X-Language` header the API answers in: a word of the API, so it lives here, below both
//! the runbook that names it and the client that sends it.

use std::fmt;
use std::str::FromStr;

/// The request language header: `en-us` or `zh-cn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// English, `en-us`.
    EnUs,
    /// Chinese, `zh-cn`.
    ZhCn,
}

impl FromStr for Language {
    type Err = super::Invalid;
    fn from_str(s: &str) -> Result<Self, super::Invalid> {
        match s {
            "en-us" => Ok(Language::EnUs),
            "zh-cn" => Ok(Language::ZhCn),
            _ => Err(super::Invalid::Language {
                shown: crate::diag::mask::shown_value(s).to_string(),
            }),
        }
    }
}

impl Language {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::EnUs => "en-us",
            Language::ZhCn => "zh-cn",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Language {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
