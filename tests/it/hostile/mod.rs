//! A hostile server: every answer a server stopbook does not control might give (huge
//! `Retry-After`s, endless or slow bodies, giant heads, odd status codes, bytes that are not
//! UTF-8), through the client and through the real binary. Never a panic, never a hang past the
//! timeout, never more memory than the bounds allow: always an answer or a `CallError`.

mod props;
mod run;
mod server;

use std::time::{Duration, Instant};

use stopbook::api::client::{Answer, Client, Credentials};
use stopbook::api::error::{AfterWrite, CallError, Failure};
use stopbook::api::retry_after::MAX_RETRY_AFTER;
use stopbook::drs::JobId;

pub use server::{Hostile, Script, answer};

const P: &str = "054ba152d480d55b2f5dc0069e7ddef0";
const JOB: &str = "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r";

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub fn client(url: &str) -> Client {
    let token = Credentials::Token(stopbook::secret::Secret::new("hostile-token"));
    Client::new(url, P, token, None, 1, None).unwrap()
}

/// One stop through `client` with a one-second timeout; the test fails if it does not return at
/// all within half a minute (a hang), never on how fast it was.
pub fn stop(runtime: &tokio::runtime::Runtime, client: &Client) -> Result<Answer, CallError> {
    let job: JobId = JOB.parse().unwrap();
    runtime.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(30),
            client.stop(&job, false, Duration::from_secs(1)),
        )
        .await
        .expect("the client returned within its timeout")
    })
}

fn one(status_line: &str, headers: &[&str], body: &[u8]) -> Result<Answer, CallError> {
    let runtime = runtime();
    let server = Hostile::start(&runtime, vec![answer(status_line, headers, body)]);
    stop(&runtime, &client(&server.url))
}

#[test]
fn retry_after_of_any_size_or_form_is_bounded() {
    for (value, expected) in [
        ("18446744073709551615", Some(MAX_RETRY_AFTER)),
        ("99999999999999999999999999", Some(MAX_RETRY_AFTER)),
        ("7", Some(Duration::from_secs(7))),
        ("Fri, 31 Dec 9999 23:59:59 GMT", Some(MAX_RETRY_AFTER)),
        ("Sun, 06 Nov 1994 08:49:37 GMT", Some(Duration::ZERO)),
        ("soon", None),
        ("-5", None),
    ] {
        let header = format!("retry-after: {value}");
        let answer = one("429 Too Many Requests", &[&header], b"{}").unwrap();
        assert_eq!(answer.http, 429);
        assert_eq!(answer.retry_after, expected, "{value}");
        // Whatever it asks for can be added to a clock.
        let _ = Instant::now() + answer.retry_after.unwrap_or_default();
    }
}

#[test]
fn a_body_over_the_limit_is_a_clear_failure() {
    let body = vec![b'x'; 2 * 1024 * 1024];
    let err = one("200 OK", &["content-type: application/json"], &body).unwrap_err();
    assert!(
        matches!(
            &err,
            CallError::Unknown(Failure {
                at: AfterWrite::TooLarge,
                ..
            })
        ),
        "{err}"
    );
}

#[test]
fn an_endless_body_ends_at_the_limit_or_the_timeout() {
    let runtime = runtime();
    let head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    let server = Hostile::start(
        &runtime,
        vec![Script::Drip {
            head: head.clone(),
            piece: format!("10000\r\n{}\r\n", "y".repeat(0x10000)).into_bytes(),
            every: Duration::from_millis(1),
            times: 4096,
        }],
    );
    let client = client(&server.url);
    assert!(matches!(
        stop(&runtime, &client),
        Err(CallError::Unknown(_))
    ));
    // Slow: a byte every 100 ms never completes within the one-second timeout.
    server.set(vec![Script::Drip {
        head,
        piece: b"1\r\nz\r\n".to_vec(),
        every: Duration::from_millis(100),
        times: 600,
    }]);
    let err = stop(&runtime, &client).unwrap_err();
    assert!(
        matches!(
            &err,
            CallError::Unknown(Failure {
                at: AfterWrite::Timeout,
                ..
            })
        ),
        "{err}"
    );
}

#[test]
fn a_server_that_never_answers_is_a_timeout() {
    let runtime = runtime();
    let server = Hostile::start(
        &runtime,
        vec![Script::Silent {
            for_: Duration::from_secs(20),
        }],
    );
    let err = stop(&runtime, &client(&server.url)).unwrap_err();
    assert!(
        matches!(
            &err,
            CallError::Unknown(Failure {
                at: AfterWrite::Timeout,
                ..
            })
        ),
        "{err}"
    );
}

#[test]
fn giant_heads_are_refused() {
    let big = format!("x-big: {}", "h".repeat(1024 * 1024));
    assert!(one("200 OK", &[&big], b"{}").is_err());
    let many: Vec<String> = (0..500).map(|i| format!("x-h{i}: v")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert!(one("200 OK", &many, b"{}").is_err());
}

#[test]
fn bytes_that_are_not_utf8_are_an_answer_that_is_not_json() {
    let answer = one("200 OK", &[], b"\xff\xfe{\"status\":\"success\"}").unwrap();
    assert_eq!(answer.http, 200);
    assert!(answer.body.is_none());
    assert_eq!(
        stopbook::check::body_violations(&answer),
        ["the 200 answer is not JSON"]
    );
    let mut raw =
        b"HTTP/1.1 429 T\r\nretry-after: \xff\xfe\r\ncontent-length: 2\r\n\r\n{}".to_vec();
    let runtime = runtime();
    let server = Hostile::start(&runtime, vec![Script::Bytes(raw.clone())]);
    assert_eq!(
        stop(&runtime, &client(&server.url)).unwrap().retry_after,
        None
    );
    raw = b"HTTP/1.1 200 \xff\xfe\r\ncontent-length: 2\r\n\r\n{}".to_vec();
    server.set(vec![Script::Bytes(raw)]);
    assert_eq!(stop(&runtime, &client(&server.url)).unwrap().http, 200);
}

#[test]
fn unknown_status_codes_are_answers_and_bad_status_lines_are_errors() {
    for code in [300, 302, 399, 600, 799, 999] {
        let answer = one(
            &format!("{code} Odd"),
            &["location: http://127.0.0.1:1/"],
            b"{}",
        )
        .unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(answer.http, code);
    }
    for line in ["1000 Too Long", "000 Zero", "abc Letters", ""] {
        assert!(one(line, &[], b"{}").is_err(), "{line}");
    }
    // Informational codes are not a final answer: whatever follows them is read as one.
    for line in ["101 Switching Protocols", "199 Odd"] {
        let _ = one(line, &[], b"{}");
    }
    // An informational answer, then nothing: the request times out.
    let runtime = runtime();
    let server = Hostile::start(
        &runtime,
        vec![Script::Bytes(b"HTTP/1.1 100 Continue\r\n\r\n".to_vec())],
    );
    assert!(stop(&runtime, &client(&server.url)).is_err());
    let garbage = Script::Bytes(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec());
    server.set(vec![garbage]);
    assert!(stop(&runtime, &client(&server.url)).is_err());
    assert!(server.served() >= 1);
}
