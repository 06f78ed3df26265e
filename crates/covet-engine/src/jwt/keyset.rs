//! A set of keys: several that verify (key rotation), one that signs, and their JWKS form.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::Algorithm;

use super::error::JwtError;
use super::keys::{algorithm_name, Key};

/// The keys of one issuer or verifier. Tokens are signed with the signing key and carry its
/// `kid`; verification picks the key by `kid`, so old keys keep verifying until removed.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Vec<Key>,
    signing: Option<usize>,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; with `signing`, it becomes the key new tokens are signed with.
    pub fn add(&mut self, key: Key, signing: bool) -> Result<(), JwtError> {
        if self.find(key.kid()).is_some() {
            return Err(JwtError::InvalidKey(format!(
                "key id {:?} is already in the set",
                key.kid()
            )));
        }
        if signing && !key.can_sign() {
            return Err(JwtError::InvalidKey(format!(
                "key {:?} is public: it cannot sign",
                key.kid()
            )));
        }
        self.keys.push(key);
        if signing {
            self.signing = Some(self.keys.len() - 1);
        }
        Ok(())
    }

    /// Removes the key with this id (a retired key); returns whether it was there.
    pub fn remove(&mut self, kid: &str) -> bool {
        let Some(index) = self.keys.iter().position(|k| k.kid() == kid) else {
            return false;
        };
        self.keys.remove(index);
        self.signing = match self.signing {
            Some(s) if s == index => None,
            Some(s) if s > index => Some(s - 1),
            other => other,
        };
        true
    }

    /// The key new tokens are signed with.
    pub fn signing_key(&self) -> Option<&Key> {
        self.signing.map(|i| &self.keys[i])
    }

    /// The key with this id.
    pub fn find(&self, kid: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.kid() == kid)
    }

    /// All keys, in the order they were added.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The keys that may verify a token whose header names `alg` and, maybe, `kid`. A key is
    /// only ever used with its own algorithm, whatever the header asks.
    pub fn candidates(&self, alg: Algorithm, kid: Option<&str>) -> Result<Vec<&Key>, JwtError> {
        if let Some(kid) = kid {
            let key = self
                .find(kid)
                .ok_or_else(|| JwtError::UnknownKey(kid.to_owned()))?;
            if key.algorithm() != alg {
                return Err(JwtError::KeyAlgorithmMismatch(algorithm_name(alg)));
            }
            return Ok(vec![key]);
        }
        let keys: Vec<&Key> = self.keys.iter().filter(|k| k.algorithm() == alg).collect();
        if keys.is_empty() {
            return Err(JwtError::KeyAlgorithmMismatch(algorithm_name(alg)));
        }
        Ok(keys)
    }

    /// The public keys as a JWKS document (`{"keys": [...]}`); HMAC secrets are left out.
    pub fn to_jwks(&self) -> String {
        let set = JwkSet {
            keys: self
                .keys
                .iter()
                .filter_map(|k| k.public_jwk().cloned())
                .collect(),
        };
        serde_json::to_string(&set).unwrap_or_else(|_| "{\"keys\":[]}".to_owned())
    }

    /// Adds the verification keys of a JWKS document; returns their ids. `default_alg` is used
    /// for keys that carry no `alg`. Nothing is added unless every key is accepted.
    pub fn add_jwks(
        &mut self,
        jwks: &[u8],
        default_alg: Option<Algorithm>,
    ) -> Result<Vec<String>, JwtError> {
        let set: JwkSet = serde_json::from_slice(jwks).map_err(|_| JwtError::Json("JWKS"))?;
        let keys = set
            .keys
            .iter()
            .map(|jwk: &Jwk| Key::from_jwk(jwk, default_alg))
            .collect::<Result<Vec<_>, _>>()?;
        let mut next = self.clone();
        for key in keys {
            next.add(key, false)?;
        }
        let added = next.keys[self.keys.len()..]
            .iter()
            .map(|k| k.kid().to_owned())
            .collect();
        *self = next;
        Ok(added)
    }
}
