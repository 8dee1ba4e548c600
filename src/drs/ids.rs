//! The identifiers of the API's paths: a job ID and a project ID, each parsed with a message
//! that says what was expected.

use std::fmt;
use std::str::FromStr;

use super::Invalid;

/// A DRS job ID: 36 characters, groups of 8-4-4-4-12 lowercase letters and digits.
///
/// Not a UUID: the vendor's own example ends in `jb20r`, which is not hex. Held inline (no heap
/// allocation), because a large maintenance window lists hundreds of thousands of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId([u8; 36]);

impl JobId {
    /// The ID as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters, digits and `-` are ever stored (see `from_str`).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl FromStr for JobId {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        // A byte scan without allocation: large runbooks parse hundreds of thousands of these.
        let bytes = s.as_bytes();
        let shape_ok = bytes.len() == 36
            && bytes.iter().enumerate().all(|(i, &b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_alphanumeric(),
            });
        if shape_ok && !bytes.iter().any(u8::is_ascii_uppercase) {
            let mut id = [0u8; 36];
            id.copy_from_slice(bytes);
            return Ok(JobId(id));
        }
        Err(Invalid::JobId {
            shown: crate::diag::mask::shown_value(s).to_string(),
            upper_case: shape_ok,
        })
    }
}

impl<'de> serde::Deserialize<'de> for JobId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tenant's project ID in a region: 32 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectId(String);

impl FromStr for ProjectId {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        if s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(ProjectId(s.to_owned()))
        } else {
            Err(Invalid::ProjectId {
                shown: crate::diag::mask::shown_value(s).to_string(),
            })
        }
    }
}

impl ProjectId {
    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

serialize_as_text!(JobId, ProjectId);
