//! Reading a file a user names, within a bound. Every file input goes through here (runbooks,
//! stops files, fleet files, fixtures, plans, reports, CA certificates, token files), so a
//! mistaken path to an endless file (`/dev/zero`, a FIFO that never ends) or a huge one is
//! refused at once with the limit named, and never read into memory: a regular file larger
//! than its limit is refused from its size alone, anything else is read until one byte past
//! the limit.

use std::io::Read;
use std::path::Path;

/// A kind of input file and the most it may hold.
#[derive(Debug, Clone, Copy)]
pub struct Input {
    /// What the file is, for messages: "a plan file".
    pub what: &'static str,
    /// The most bytes it may hold.
    pub limit: u64,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// A runbook, or a conformance fixtures file (read with the runbook's decoder).
pub const RUNBOOK: Input = Input {
    what: "a runbook",
    limit: 32 * MIB,
};
/// A `stops_file`: about 1.5 million job IDs.
pub const STOPS_FILE: Input = Input {
    what: "a stops file",
    limit: 64 * MIB,
};
/// A mock fleet (`mock --jobs`, `target: { mock: { jobs: FILE } }`).
pub const FLEET: Input = Input {
    what: "a fleet file",
    limit: 64 * MIB,
};
/// A plan JSON or Markdown (`run --plan`, `verify --plan`, `show`): about a million stops.
pub const PLAN: Input = Input {
    what: "a plan file",
    limit: 256 * MIB,
};
/// A journal (`run --resume`, `verify --journal`): ten million stops' lines.
pub const JOURNAL: Input = Input {
    what: "a journal",
    limit: 2048 * MIB,
};
/// A JSON run report (`verify --report`, `show`, an attestation's subjects).
pub const REPORT: Input = Input {
    what: "a report",
    limit: 256 * MIB,
};
/// `stopbook show`'s file: a plan JSON or a JSON run report.
pub const PLAN_OR_REPORT: Input = Input {
    what: "a plan or a report",
    limit: 256 * MIB,
};
/// A PEM CA certificate or bundle (`--ca-cert`); a full system bundle is about 200 KiB.
pub const CA_CERT: Input = Input {
    what: "a CA certificate file",
    limit: 4 * MIB,
};
/// A `token_file`: IAM tokens are a few KiB.
pub const TOKEN_FILE: Input = Input {
    what: "a token file",
    limit: 64 * KIB,
};

/// Why a file could not be read. `Display` is the reason alone; the caller names the file.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// It could not be opened or read.
    #[error("{}", io_reason(.0))]
    Io(#[source] std::io::Error),
    /// It holds more than its kind may.
    #[error("{}", too_large(.input, *.size))]
    TooLarge {
        /// The kind of file, with its limit.
        input: Input,
        /// Its size when it is a regular file; `None` when it only would not end.
        size: Option<u64>,
    },
    /// It is not UTF-8 text.
    #[error("it is not UTF-8 text (byte {at} is invalid)")]
    NotUtf8 {
        /// The first invalid byte's offset.
        at: usize,
    },
}

/// `path` opened for reading, refused when it is a folder or a regular file past `input`'s
/// limit; reading stops one byte past the limit (the caller tells a file that only would not
/// end by that byte). Also gives the file's size, when it is a regular file.
pub fn open(path: &Path, input: Input) -> Result<(std::io::Take<std::fs::File>, u64), InputError> {
    let file = std::fs::File::open(path).map_err(InputError::Io)?;
    let meta = file.metadata().map_err(InputError::Io)?;
    if meta.is_dir() {
        return Err(InputError::Io(std::io::ErrorKind::IsADirectory.into()));
    }
    if meta.is_file() && meta.len() > input.limit {
        return Err(InputError::TooLarge {
            input,
            size: Some(meta.len()),
        });
    }
    let expected = if meta.is_file() { meta.len() } else { 0 };
    Ok((file.take(input.limit + 1), expected))
}

/// The bytes of `path`, refused past `input`'s limit.
pub fn read_bytes(path: &Path, input: Input) -> Result<Vec<u8>, InputError> {
    let (mut file, expected) = open(path, input)?;
    let mut bytes = Vec::with_capacity(expected.min(input.limit) as usize + 1);
    file.read_to_end(&mut bytes).map_err(InputError::Io)?;
    if bytes.len() as u64 > input.limit {
        return Err(InputError::TooLarge { input, size: None });
    }
    Ok(bytes)
}

/// The text of `path` (UTF-8), refused past `input`'s limit.
pub fn read_text(path: &Path, input: Input) -> Result<String, InputError> {
    let bytes = read_bytes(path, input)?;
    String::from_utf8(bytes).map_err(|e| InputError::NotUtf8 {
        at: e.utf8_error().valid_up_to(),
    })
}

/// A plain reason for an I/O error, without the OS error number.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::IsADirectory => "it is a directory".to_owned(),
        _ => e.to_string(),
    }
}

/// `64 KiB`, `32 MiB`, `10 GiB`: a limit or a size as people read it.
fn size(bytes: u64) -> String {
    const GIB: u64 = 1024 * MIB;
    match bytes {
        b if b >= GIB && b % GIB == 0 => format!("{} GiB", b / GIB),
        b if b >= GIB => format!("{:.1} GiB", b as f64 / GIB as f64),
        b if b >= MIB && b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b >= MIB => format!("{:.1} MiB", b as f64 / MIB as f64),
        b if b >= KIB => format!("{} KiB", b.div_ceil(KIB)),
        b => format!("{b} bytes"),
    }
}

fn too_large(input: &Input, known: Option<u64>) -> String {
    let limit = size(input.limit);
    match known {
        Some(bytes) => format!(
            "it holds {}, more than the {limit} limit for {}",
            size(bytes),
            input.what
        ),
        None => format!("it holds more than the {limit} limit for {}", input.what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Input = Input {
        what: "a test file",
        limit: 16,
    };

    #[test]
    fn a_file_within_its_limit_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "sixteen bytes ok").unwrap();
        assert_eq!(read_text(&path, SMALL).unwrap(), "sixteen bytes ok");
    }

    #[test]
    fn a_large_regular_file_is_refused_by_its_size_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse");
        std::fs::File::create(&path)
            .unwrap()
            .set_len(10 << 30)
            .unwrap();
        let err = read_bytes(&path, PLAN).unwrap_err();
        assert!(matches!(err, InputError::TooLarge { size: Some(s), .. } if s == 10 << 30));
        assert_eq!(
            err.to_string(),
            "it holds 10 GiB, more than the 256 MiB limit for a plan file"
        );
    }

    #[test]
    fn an_endless_file_is_read_to_one_byte_past_the_limit() {
        let err = read_bytes(Path::new("/dev/zero"), SMALL).unwrap_err();
        assert!(matches!(err, InputError::TooLarge { size: None, .. }));
        assert_eq!(
            err.to_string(),
            "it holds more than the 16 bytes limit for a test file"
        );
    }

    #[test]
    fn a_directory_and_a_missing_file_say_so_plainly() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_bytes(dir.path(), SMALL).unwrap_err();
        assert_eq!(err.to_string(), "it is a directory");
        let err = read_bytes(&dir.path().join("none"), SMALL).unwrap_err();
        assert_eq!(err.to_string(), "no such file");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(64 * KIB), "64 KiB");
        assert_eq!(size(32 * MIB), "32 MiB");
        assert_eq!(size(3 * MIB / 2), "1.5 MiB");
        assert_eq!(size(10 << 30), "10 GiB");
    }
}
