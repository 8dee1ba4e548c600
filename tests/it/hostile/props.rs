//! Random status lines, headers and bodies, fed to the client and the body rules: never a panic,
//! always an answer or a `CallError`, and never an answer body over the transport's limit.

use proptest::prelude::*;
use stopbook::api::transport::MAX_BODY_BYTES;

use super::{Hostile, Script, client, runtime, stop};

/// A status line: a well-formed one with any code, or near-misses and noise.
fn status_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0u16..1100, "[ -~]{0,20}")
            .prop_map(|(code, reason)| format!("HTTP/1.1 {code} {reason}").into_bytes()),
        prop::sample::select(vec![
            "HTTP/1.0 200 OK",
            "HTTP/2 200",
            "HTTP/1.1 200",
            "HTTP/1.1  200  OK",
            "http/1.1 200 ok",
            "HTTP/1.1 -1 Negative",
            "HTTP/1.1 2000 Long",
            "",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..40),
    ]
}

/// A header line: the ones that matter to the client with odd values, or random bytes.
fn header() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        "[0-9]{1,30}",
        "-?[0-9]{1,5}",
        "[ -~]{0,40}",
        Just("Sun, 06 Nov 1994 08:49:37 GMT".to_owned()),
        Just("Fri, 31 Dec 9999 23:59:59 GMT".to_owned()),
    ];
    let name = prop::sample::select(vec![
        "retry-after",
        "content-length",
        "transfer-encoding",
        "content-type",
        "connection",
        "x-subject-token",
        "location",
    ]);
    prop_oneof![
        (name, value).prop_map(|(n, v)| format!("{n}: {v}").into_bytes()),
        Just(b"transfer-encoding: chunked".to_vec()),
        prop::collection::vec(any::<u8>(), 0..60),
    ]
}

/// A body: JSON-ish text, random bytes, or a long run of one byte (up to twice the limit).
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![
            r#"{"status":"success"}"#,
            r#"{"error_code":"DRS.10000010","error_msg":"x"}"#,
            r#"{"error_code":7,"error_msg":""}"#,
            r#"{"status":["a"],"error_msg":"#,
            "5\r\nhello\r\n0\r\n\r\n",
            "zz\r\n",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..512),
        (0..2 * MAX_BODY_BYTES, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_answer_is_an_outcome_never_a_panic(
        status in status_line(),
        headers in prop::collection::vec(header(), 0..6),
        body in body(),
    ) {
        let mut bytes = status;
        bytes.extend_from_slice(b"\r\n");
        for h in headers {
            bytes.extend_from_slice(&h);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(&body);
        let runtime = runtime();
        let server = Hostile::start(&runtime, vec![Script::Bytes(bytes)]);
        match stop(&runtime, &client(&server.url)) {
            Ok(answer) => {
                // An answer is judged like any other.
                let _ = stopbook::check::body_violations(&answer);
                let _ = stopbook::check::describe(&answer);
                if let Some(pause) = answer.retry_after {
                    prop_assert!(pause <= stopbook::api::retry_after::MAX_RETRY_AFTER);
                }
                if let Some(json) = &answer.body {
                    prop_assert!(json.to_string().len() <= MAX_BODY_BYTES);
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
