//! Bearer tokens (RFC 6750) checked before the application runs: reading the token from
//! `Authorization`, verifying it as a JWT, and the 401 answers a refused request gets.
//!
//! The answers are those of `covet.jwt.JWTAuth` in Python, byte for byte: `{"detail": ...}` with
//! `WWW-Authenticate: Bearer` for a request without a token, and with
//! `error="invalid_token"` and a fixed description for a token that does not verify.

use super::Early;
use crate::jwt::{decode, KeySet, Validation, Verified};

/// The token of an `Authorization: Bearer <token>` header; None when there is none (no header,
/// another scheme, or an empty token).
pub fn bearer_token(authorization: Option<&[u8]>) -> Option<&str> {
    let value = std::str::from_utf8(authorization?).ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Verifies `token` at `now` (Unix seconds); with `token_type`, its `type` claim must be that.
/// The error is the reason, worded as `covet.jwt` words it.
pub fn verify(
    keys: &KeySet,
    validation: &Validation,
    token_type: Option<&str>,
    token: &str,
    now: f64,
) -> Result<Verified, String> {
    let verified = decode(keys, validation, token, now).map_err(|e| e.to_string())?;
    if let Some(expected) = token_type {
        if verified.claims.get("type").and_then(|t| t.as_str()) != Some(expected) {
            return Err(format!("expected a {expected} token"));
        }
    }
    Ok(verified)
}

/// 401 for a request without a bearer token.
pub fn not_authenticated() -> Early {
    unauthorized("Not authenticated", b"Bearer".to_vec())
}

/// The challenge of every refused token. Fixed text: a reason can quote the token's own header
/// (an unknown `kid`), and attacker text never goes into a response header; the reason is in
/// the JSON body, escaped, and in the log.
pub const INVALID_TOKEN_CHALLENGE: &str =
    "Bearer error=\"invalid_token\", error_description=\"The access token is invalid\"";

/// 401 for a token that was refused for `reason`.
pub fn invalid_token(reason: &str) -> Early {
    let detail = format!("Invalid token: {reason}");
    unauthorized(&detail, INVALID_TOKEN_CHALLENGE.as_bytes().to_vec())
}

fn unauthorized(detail: &str, challenge: Vec<u8>) -> Early {
    let body = serde_json::to_vec(&serde_json::json!({ "detail": detail }))
        .unwrap_or_else(|_| b"{\"detail\":\"Unauthorized\"}".to_vec());
    Early {
        status: 401,
        headers: vec![
            ("www-authenticate", challenge),
            ("content-type", b"application/json".to_vec()),
        ],
        body,
        refused: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::{encode, Algorithm, Key};

    fn keys() -> KeySet {
        let mut keys = KeySet::new();
        let key = Key::from_secret("k", Algorithm::HS256, &[3u8; 32]).unwrap();
        keys.add(key, true).unwrap();
        keys
    }

    #[test]
    fn reads_the_bearer_scheme_only() {
        assert_eq!(bearer_token(Some(b"Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some(b"bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(Some(b"Basic abc")), None);
        assert_eq!(bearer_token(Some(b"Bearer")), None);
        assert_eq!(bearer_token(Some(b"Bearer ")), None);
        assert_eq!(bearer_token(None), None);
    }

    #[test]
    fn verifies_signature_claims_and_type() {
        let keys = keys();
        let v = Validation::default();
        let token = encode(&keys, br#"{"sub":"a","exp":2000,"type":"access"}"#, None).unwrap();
        assert_eq!(
            verify(&keys, &v, Some("access"), &token, 1000.0)
                .unwrap()
                .claims["sub"],
            "a"
        );
        assert_eq!(
            verify(&keys, &v, Some("refresh"), &token, 1000.0).unwrap_err(),
            "expected a refresh token"
        );
        assert_eq!(
            verify(&keys, &v, None, &token, 3000.0).unwrap_err(),
            "token has expired"
        );
        let mut tampered = token.clone();
        tampered.insert(tampered.rfind('.').unwrap() + 1, 'A');
        assert!(verify(&keys, &v, None, &tampered, 1000.0).is_err());
    }

    #[test]
    fn refusals_are_401_with_a_challenge() {
        let e = not_authenticated();
        assert_eq!(
            (e.status, e.body.as_slice()),
            (401, &br#"{"detail":"Not authenticated"}"#[..])
        );
        assert_eq!(e.headers[0], ("www-authenticate", b"Bearer".to_vec()));
        let e = invalid_token("unknown key id \"x\\\"");
        let challenge = String::from_utf8(e.headers[0].1.clone()).unwrap();
        assert_eq!(
            challenge,
            r#"Bearer error="invalid_token", error_description="The access token is invalid""#
        );
        let hostile = invalid_token("unknown key id \"\u{4e2d}\r\n\"");
        assert_eq!(hostile.headers[0].1, INVALID_TOKEN_CHALLENGE.as_bytes());
        assert_eq!(
            e.body,
            br#"{"detail":"Invalid token: unknown key id \"x\\\""}"#
        );
    }
}
