//! The registered-claim checks (RFC 7519 4.1): time window, audience and issuer.

use serde_json::{Map, Value};

use super::error::JwtError;

/// What a verifier accepts besides a good signature.
#[derive(Clone, Debug, Default)]
pub struct Validation {
    /// The accepted algorithms; empty means those of the keys in the set.
    pub algorithms: Vec<jsonwebtoken::Algorithm>,
    /// Seconds of clock skew forgiven on `exp`, `nbf` and `iat`.
    pub leeway: u64,
    /// The accepted `iss`, when set.
    pub issuer: Option<String>,
    /// The names this service answers to; a token's `aud` must contain one of them. A token
    /// with an `aud` is refused when this is empty (RFC 7519 4.1.3).
    pub audience: Vec<String>,
    /// Claims that must be present (for example `exp`).
    pub required: Vec<String>,
}

impl Validation {
    /// Checks the claims of a token whose signature is already verified, at time `now`
    /// (seconds since the Unix epoch, fractions allowed).
    pub fn check(&self, claims: &Map<String, Value>, now: f64) -> Result<(), JwtError> {
        for name in &self.required {
            if !claims.contains_key(name) {
                return Err(JwtError::MissingClaim(name.clone()));
            }
        }
        let leeway = self.leeway as f64;
        if numeric(claims, "exp")?.is_some_and(|exp| now >= exp + leeway) {
            return Err(JwtError::Expired);
        }
        if numeric(claims, "nbf")?.is_some_and(|nbf| now + leeway < nbf) {
            return Err(JwtError::NotYetValid);
        }
        if numeric(claims, "iat")?.is_some_and(|iat| now + leeway < iat) {
            return Err(JwtError::IssuedInFuture);
        }
        self.check_issuer(claims)?;
        self.check_audience(claims)
    }

    fn check_issuer(&self, claims: &Map<String, Value>) -> Result<(), JwtError> {
        let Some(expected) = &self.issuer else {
            return Ok(());
        };
        match claims.get("iss") {
            Some(Value::String(iss)) if iss == expected => Ok(()),
            Some(Value::String(_)) => Err(JwtError::InvalidIssuer),
            Some(_) => Err(JwtError::InvalidClaim("iss".into())),
            None => Err(JwtError::MissingClaim("iss".into())),
        }
    }

    fn check_audience(&self, claims: &Map<String, Value>) -> Result<(), JwtError> {
        let names: Vec<&str> = match claims.get("aud") {
            None if self.audience.is_empty() => return Ok(()),
            None => return Err(JwtError::MissingClaim("aud".into())),
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| JwtError::InvalidClaim("aud".into()))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(JwtError::InvalidClaim("aud".into())),
        };
        if names
            .iter()
            .any(|name| self.audience.iter().any(|a| a == name))
        {
            Ok(())
        } else {
            Err(JwtError::InvalidAudience)
        }
    }
}

/// A NumericDate claim: absent, or a JSON number (integer or not).
fn numeric(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| JwtError::InvalidClaim(name.into())),
        Some(_) => Err(JwtError::InvalidClaim(name.into())),
    }
}
