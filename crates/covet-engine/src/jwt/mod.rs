//! JSON Web Tokens (RFC 7519) signed as compact JWS (RFC 7515): HS256/384/512,
//! RS256/384/512, PS256/384/512, ES256/384 and EdDSA (Ed25519).
//!
//! Sans-IO like the rest of the engine: the caller passes the current time. The crypto is
//! the `jsonwebtoken` crate on RustCrypto; this module owns the policy:
//!
//! * [`keys`]: a key bound to one algorithm (so the header cannot pick the algorithm).
//! * [`keyset`]: keys by `kid` for rotation, and JWKS import and export.
//! * [`claims`]: `exp`, `nbf`, `iat`, `aud`, `iss` with leeway.
//! * [`token`]: encoding, and verification in a fixed order.
//! * [`error`]: one [`JwtError`] variant per reason for refusal.
//!
//! ```
//! use covet_engine::jwt::{decode, encode, Key, KeySet, Validation};
//! use jsonwebtoken::Algorithm;
//!
//! let mut keys = KeySet::new();
//! keys.add(Key::from_secret("k1", Algorithm::HS256, &[7u8; 32]).unwrap(), true).unwrap();
//! let token = encode(&keys, br#"{"sub":"ada","exp":2000}"#, None).unwrap();
//! let verified = decode(&keys, &Validation::default(), &token, 1000.0).unwrap();
//! assert_eq!(verified.claims["sub"], "ada");
//! assert_eq!(decode(&keys, &Validation::default(), &token, 3000.0).unwrap_err().kind(), "expired");
//! ```

pub mod claims;
pub mod error;
pub mod keys;
pub mod keyset;
pub mod token;

#[cfg(test)]
mod tests;

pub use claims::Validation;
pub use error::JwtError;
pub use jsonwebtoken::Algorithm;
pub use keys::{algorithm_name, parse_algorithm, Key};
pub use keyset::KeySet;
pub use token::{decode, encode, Verified};
