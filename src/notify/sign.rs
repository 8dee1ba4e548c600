//! The signature a receiver checks a notification by: HMAC-SHA256 of the exact body bytes,
//! keyed with the webhook's secret, as `sha256=<hex>` (the form GitHub's webhooks made common).

use ring::hmac;

/// `sha256=<hex HMAC-SHA256 of body, key = secret>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    format!("sha256={}", hex::encode(hmac::sign(&key, body).as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test case 2.
    #[test]
    fn matches_the_rfc_4231_vector() {
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
