//! Why a token or a key was refused: one variant per reason, so a caller can tell an expired
//! token (ask for a refresh) from a forged one (log it) without parsing messages.

use std::fmt;

/// A refusal, with a stable machine-readable [`kind`](JwtError::kind) and a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    /// The token does not have three dot-separated segments (truncated or not a JWS).
    Malformed,
    /// A segment is not unpadded base64url.
    Base64(&'static str),
    /// The header or payload is not the JSON expected (payload must be an object).
    Json(&'static str),
    /// The header says `alg: none`: an unsigned token, never accepted.
    AlgNone,
    /// The header names an algorithm covet does not implement.
    UnsupportedAlgorithm(String),
    /// The algorithm is implemented but not in the verifier's allowed list.
    AlgorithmNotAllowed(String),
    /// The key chosen by `kid` (or every key, without a `kid`) is configured for another
    /// algorithm: the HS/RS confusion attack lands here.
    KeyAlgorithmMismatch(String),
    /// The header names a `kid` that is not in the key set, or no key fits the algorithm.
    UnknownKey(String),
    /// The header lists `crit` extensions, none of which covet understands (RFC 7515 4.1.11).
    UnsupportedCritical,
    /// The signature does not match the header and payload.
    InvalidSignature,
    /// `exp` is in the past (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture,
    /// `aud` does not name this service, or names one when none is configured.
    InvalidAudience,
    /// `iss` is not the configured issuer.
    InvalidIssuer,
    /// A claim the verifier requires is missing.
    MissingClaim(String),
    /// A registered claim has the wrong JSON type (`exp` as a string, `aud` as a number...).
    InvalidClaim(String),
    /// A key could not be built or used (bad PEM, too short a secret, wrong curve...).
    InvalidKey(String),
    /// Signing was asked of a key set with no private or secret key.
    NoSigningKey,
}

impl JwtError {
    /// A short stable name for the reason, shared with the Python exceptions.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Base64(_) => "base64",
            Self::Json(_) => "json",
            Self::AlgNone => "alg_none",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            Self::KeyAlgorithmMismatch(_) => "key_algorithm_mismatch",
            Self::UnknownKey(_) => "unknown_key",
            Self::UnsupportedCritical => "unsupported_critical",
            Self::InvalidSignature => "invalid_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::InvalidAudience => "invalid_audience",
            Self::InvalidIssuer => "invalid_issuer",
            Self::MissingClaim(_) => "missing_claim",
            Self::InvalidClaim(_) => "invalid_claim",
            Self::InvalidKey(_) => "invalid_key",
            Self::NoSigningKey => "no_signing_key",
        }
    }
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("token must have three dot-separated segments"),
            Self::Base64(part) => write!(f, "token {part} is not valid base64url"),
            Self::Json(part) => write!(f, "token {part} is not valid JSON"),
            Self::AlgNone => f.write_str("unsigned tokens (alg: none) are refused"),
            Self::UnsupportedAlgorithm(alg) => write!(f, "algorithm {alg:?} is not supported"),
            Self::AlgorithmNotAllowed(alg) => write!(f, "algorithm {alg} is not allowed"),
            Self::KeyAlgorithmMismatch(alg) => {
                write!(f, "no key configured for {alg} matches this token")
            }
            Self::UnknownKey(kid) => write!(f, "unknown key id {kid:?}"),
            Self::UnsupportedCritical => {
                f.write_str("critical header extensions are not supported")
            }
            Self::InvalidSignature => f.write_str("signature verification failed"),
            Self::Expired => f.write_str("token has expired"),
            Self::NotYetValid => f.write_str("token is not valid yet"),
            Self::IssuedInFuture => f.write_str("token was issued in the future"),
            Self::InvalidAudience => f.write_str("token audience is not accepted"),
            Self::InvalidIssuer => f.write_str("token issuer is not accepted"),
            Self::MissingClaim(name) => write!(f, "token has no {name:?} claim"),
            Self::InvalidClaim(name) => write!(f, "token claim {name:?} has the wrong type"),
            Self::InvalidKey(why) => write!(f, "invalid key: {why}"),
            Self::NoSigningKey => f.write_str("no signing key is configured"),
        }
    }
}

impl std::error::Error for JwtError {}
