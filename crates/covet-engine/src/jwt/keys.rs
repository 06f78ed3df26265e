//! One key: its id, the single algorithm it is configured for, and the crypto halves.
//!
//! Binding a key to exactly one algorithm is what defeats algorithm confusion: a token is only
//! ever checked with the algorithm its key was created for, never with the one its header asks.

use std::str::FromStr;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use super::error::JwtError;
use jsonwebtoken::AlgorithmFamily;

/// The smallest RSA modulus accepted, in bytes (2048 bits, NIST SP 800-131A).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// Parses an algorithm name from a header or a configuration; `none` gets its own refusal.
pub fn parse_algorithm(name: &str) -> Result<Algorithm, JwtError> {
    if name.eq_ignore_ascii_case("none") {
        return Err(JwtError::AlgNone);
    }
    Algorithm::from_str(name).map_err(|_| JwtError::UnsupportedAlgorithm(name.to_owned()))
}

/// The name of an algorithm as it appears in a JOSE header.
pub fn algorithm_name(alg: Algorithm) -> String {
    KeyAlgorithm::from(alg).to_string()
}

/// A signing and/or verification key bound to one algorithm and one key id.
#[derive(Clone)]
pub struct Key {
    kid: String,
    alg: Algorithm,
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
    /// The public half as a JWK; `None` for HMAC secrets, which are never published.
    public_jwk: Option<Jwk>,
}

impl Key {
    /// An HMAC key (HS256/384/512). The secret must be at least as long as the hash output,
    /// as RFC 7518 3.2 requires, so that it cannot be brute-forced from one token.
    pub fn from_secret(kid: &str, alg: Algorithm, secret: &[u8]) -> Result<Self, JwtError> {
        let min = match alg {
            Algorithm::HS256 => 32,
            Algorithm::HS384 => 48,
            Algorithm::HS512 => 64,
            other => {
                return Err(invalid(format!(
                    "{} is not an HMAC algorithm",
                    algorithm_name(other)
                )))
            }
        };
        if secret.len() < min {
            return Err(invalid(format!(
                "{} needs a secret of at least {min} bytes",
                algorithm_name(alg)
            )));
        }
        Ok(Self {
            kid: kid.to_owned(),
            alg,
            encoding: Some(EncodingKey::from_secret(secret)),
            decoding: DecodingKey::from_secret(secret),
            public_jwk: None,
        })
    }

    /// An RSA, EC or Ed25519 key from PEM: a private key signs and verifies, a public key
    /// only verifies.
    pub fn from_pem(kid: &str, alg: Algorithm, pem: &[u8]) -> Result<Self, JwtError> {
        let private = std::str::from_utf8(pem)
            .map(|s| s.contains("PRIVATE KEY-----"))
            .unwrap_or(false);
        let family = alg.family();
        if family == AlgorithmFamily::Hmac {
            return Err(invalid(format!(
                "{} takes a secret, not a PEM key",
                algorithm_name(alg)
            )));
        }
        let bad_pem =
            |e: jsonwebtoken::errors::Error| invalid(format!("not a {family:?} PEM key: {e}"));
        let (encoding, jwk) = if private {
            let encoding = match family {
                AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(pem),
                AlgorithmFamily::Ec => EncodingKey::from_ec_pem(pem),
                _ => EncodingKey::from_ed_pem(pem),
            }
            .map_err(bad_pem)?;
            let jwk = Jwk::from_encoding_key(&encoding, alg).map_err(bad_pem)?;
            (Some(encoding), jwk)
        } else {
            let decoding = match family {
                AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(pem),
                AlgorithmFamily::Ec => DecodingKey::from_ec_pem(pem),
                _ => DecodingKey::from_ed_pem(pem),
            }
            .map_err(bad_pem)?;
            (
                None,
                Jwk::from_decoding_key(&decoding, Some(alg)).map_err(bad_pem)?,
            )
        };
        Self::from_parts(kid, alg, encoding, jwk)
    }

    /// A verification key from a public JWK. `alg` in the JWK wins; `default_alg` is used for
    /// JWKs that leave it out (the RSA family cannot be told apart from the key alone).
    pub fn from_jwk(jwk: &Jwk, default_alg: Option<Algorithm>) -> Result<Self, JwtError> {
        let kid = jwk
            .common
            .key_id
            .clone()
            .ok_or_else(|| invalid("JWK has no \"kid\"".into()))?;
        let alg = match jwk.common.key_algorithm {
            Some(name) => parse_algorithm(&name.to_string())?,
            None => default_alg.ok_or_else(|| invalid(format!("JWK {kid:?} has no \"alg\"")))?,
        };
        if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
            return Err(invalid(format!(
                "JWK {kid:?} is a symmetric secret: JWKS loading takes public keys only"
            )));
        }
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|u| *u != PublicKeyUse::Signature)
        {
            return Err(invalid(format!("JWK {kid:?} is not a signature key")));
        }
        let mut public = jwk.clone();
        public.common.key_algorithm = Some(alg.into());
        Self::from_parts(&kid, alg, None, public)
    }

    /// Checks the public half against the algorithm and builds the verifier from it.
    fn from_parts(
        kid: &str,
        alg: Algorithm,
        encoding: Option<EncodingKey>,
        mut jwk: Jwk,
    ) -> Result<Self, JwtError> {
        check_public(&jwk, alg)?;
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            kid: kid.to_owned(),
            alg,
            encoding,
            decoding,
            public_jwk: Some(jwk),
        })
    }

    /// The key id (`kid` header).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The one algorithm this key signs and verifies with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Whether this key holds a private key or secret.
    pub fn can_sign(&self) -> bool {
        self.encoding.is_some()
    }

    /// The public JWK (`None` for HMAC secrets).
    pub fn public_jwk(&self) -> Option<&Jwk> {
        self.public_jwk.as_ref()
    }

    /// The base64url signature of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<String, JwtError> {
        let key = self.encoding.as_ref().ok_or(JwtError::NoSigningKey)?;
        jsonwebtoken::crypto::sign(message, key, self.alg).map_err(|e| invalid(e.to_string()))
    }

    /// Whether `signature` (base64url) signs `message` under this key and its own algorithm.
    pub(crate) fn verify(&self, signature: &str, message: &[u8]) -> Result<bool, JwtError> {
        jsonwebtoken::crypto::verify(signature, message, &self.decoding, self.alg).map_err(|e| {
            match e.kind() {
                jsonwebtoken::errors::ErrorKind::Base64(_) => JwtError::Base64("signature"),
                _ => JwtError::InvalidSignature,
            }
        })
    }
}

/// Refuses a public key whose type, curve or size does not fit `alg`.
fn check_public(jwk: &Jwk, alg: Algorithm) -> Result<(), JwtError> {
    let name = algorithm_name(alg);
    match (&jwk.algorithm, alg.family()) {
        (AlgorithmParameters::RSA(rsa), AlgorithmFamily::Rsa) => {
            let n = base64_len(&rsa.n);
            if n < MIN_RSA_MODULUS_BYTES {
                return Err(invalid(format!(
                    "RSA keys must be at least 2048 bits, this one has {}",
                    n * 8
                )));
            }
            Ok(())
        }
        (AlgorithmParameters::EllipticCurve(ec), AlgorithmFamily::Ec) => {
            let expected = if alg == Algorithm::ES256 {
                EllipticCurve::P256
            } else {
                EllipticCurve::P384
            };
            if ec.curve != expected {
                return Err(invalid(format!(
                    "{name} needs a {expected:?} key, not {:?}",
                    ec.curve
                )));
            }
            Ok(())
        }
        (AlgorithmParameters::OctetKeyPair(okp), AlgorithmFamily::Ed)
            if okp.curve == EllipticCurve::Ed25519 =>
        {
            Ok(())
        }
        _ => Err(invalid(format!("this key does not fit {name}"))),
    }
}

/// The decoded length of an unpadded base64url string, leading zero bytes excluded.
fn base64_len(text: &str) -> usize {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_default();
    bytes.iter().skip_while(|b| **b == 0).count()
}

fn invalid(why: String) -> JwtError {
    JwtError::InvalidKey(why)
}
