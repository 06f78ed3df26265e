//! Compact JWS encoding and the verification order: shape, header, algorithm, key, signature,
//! then claims. The payload is only parsed once its signature has been checked.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde_json::{json, Map, Value};

use super::claims::Validation;
use super::error::JwtError;
use super::keys::{algorithm_name, parse_algorithm, Key};
use super::keyset::KeySet;

/// A verified token: its header and its claims (also as the raw JSON payload).
#[derive(Debug, Clone)]
pub struct Verified {
    /// The algorithm the token was verified with.
    pub algorithm: Algorithm,
    /// The id of the key that verified it.
    pub kid: String,
    /// The claims.
    pub claims: Map<String, Value>,
    /// The payload bytes exactly as signed (a JSON object).
    pub payload: Vec<u8>,
}

/// Signs `claims` (a JSON object) with the key `kid`, or the set's signing key.
pub fn encode(keys: &KeySet, claims: &[u8], kid: Option<&str>) -> Result<String, JwtError> {
    let key: &Key = match kid {
        Some(kid) => keys
            .find(kid)
            .ok_or_else(|| JwtError::UnknownKey(kid.to_owned()))?,
        None => keys.signing_key().ok_or(JwtError::NoSigningKey)?,
    };
    serde_json::from_slice::<Map<String, Value>>(claims).map_err(|_| JwtError::Json("payload"))?;
    let header = json!({"alg": algorithm_name(key.algorithm()), "typ": "JWT", "kid": key.kid()});
    let mut message = URL_SAFE_NO_PAD.encode(header.to_string());
    message.push('.');
    message.push_str(&URL_SAFE_NO_PAD.encode(claims));
    let signature = key.sign(message.as_bytes())?;
    message.push('.');
    message.push_str(&signature);
    Ok(message)
}

/// Verifies `token` against `keys` and `validation` at time `now` (Unix seconds,
/// fractions allowed).
pub fn decode(
    keys: &KeySet,
    validation: &Validation,
    token: &str,
    now: f64,
) -> Result<Verified, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    if header.is_empty() {
        return Err(JwtError::Malformed);
    }
    // The header is read first so that an unsigned `alg: none` token is named as such.
    let (alg, kid) = read_header(header)?;
    if payload.is_empty() || signature.is_empty() {
        return Err(JwtError::Malformed);
    }
    let allowed = if validation.algorithms.is_empty() {
        keys.keys().iter().any(|k| k.algorithm() == alg)
    } else {
        validation.algorithms.contains(&alg)
    };
    if !allowed {
        return Err(JwtError::AlgorithmNotAllowed(algorithm_name(alg)));
    }
    let message = &token.as_bytes()[..header.len() + 1 + payload.len()];
    let mut verified_by = None;
    for key in keys.candidates(alg, kid.as_deref())? {
        if key.verify(signature, message)? {
            verified_by = Some(key.kid().to_owned());
            break;
        }
    }
    let kid = verified_by.ok_or(JwtError::InvalidSignature)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| JwtError::Base64("payload"))?;
    let claims: Map<String, Value> =
        serde_json::from_slice(&payload).map_err(|_| JwtError::Json("payload"))?;
    validation.check(&claims, now)?;
    Ok(Verified {
        algorithm: alg,
        kid,
        claims,
        payload,
    })
}

/// The algorithm and key id of a header, refusing what covet will not verify.
fn read_header(segment: &str) -> Result<(Algorithm, Option<String>), JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| JwtError::Base64("header"))?;
    let header: Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|_| JwtError::Json("header"))?;
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => parse_algorithm(alg)?,
        _ => return Err(JwtError::Json("header")),
    };
    if header.contains_key("crit") {
        return Err(JwtError::UnsupportedCritical);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(JwtError::Json("header")),
    };
    Ok((alg, kid))
}
