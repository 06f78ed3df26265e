//! Every algorithm round trip, and every refusal with its own kind.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::*;

const RSA: &str = include_str!("testkeys/rsa.pem");
const RSA_PUB: &str = include_str!("testkeys/rsa.pub.pem");
const RSA_1024: &str = include_str!("testkeys/rsa1024.pem");
const P256: &str = include_str!("testkeys/p256.pem");
const P256_PUB: &str = include_str!("testkeys/p256.pub.pem");
const P384: &str = include_str!("testkeys/p384.pem");
const P384_PUB: &str = include_str!("testkeys/p384.pub.pem");
const ED: &str = include_str!("testkeys/ed25519.pem");
const ED_PUB: &str = include_str!("testkeys/ed25519.pub.pem");
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const NOW: u64 = 1_700_000_000;
const NOW_F: f64 = NOW as f64;

fn hs256() -> KeySet {
    let mut keys = KeySet::new();
    keys.add(
        Key::from_secret("hs", Algorithm::HS256, &SECRET[..32]).unwrap(),
        true,
    )
    .unwrap();
    keys
}

fn single(key: Key) -> KeySet {
    let signing = key.can_sign();
    let mut keys = KeySet::new();
    keys.add(key, signing).unwrap();
    keys
}

fn claims() -> Vec<u8> {
    format!(r#"{{"sub":"ada","iat":{NOW},"exp":{}}}"#, NOW + 60).into_bytes()
}

fn refusal(keys: &KeySet, token: &str) -> &'static str {
    decode(keys, &Validation::default(), token, NOW_F)
        .unwrap_err()
        .kind()
}

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

#[test]
fn every_algorithm_round_trips_and_public_keys_verify() {
    let cases: [(Algorithm, &str, &str); 9] = [
        (Algorithm::RS256, RSA, RSA_PUB),
        (Algorithm::RS384, RSA, RSA_PUB),
        (Algorithm::RS512, RSA, RSA_PUB),
        (Algorithm::PS256, RSA, RSA_PUB),
        (Algorithm::PS384, RSA, RSA_PUB),
        (Algorithm::PS512, RSA, RSA_PUB),
        (Algorithm::ES256, P256, P256_PUB),
        (Algorithm::ES384, P384, P384_PUB),
        (Algorithm::EdDSA, ED, ED_PUB),
    ];
    for (alg, private, public) in cases {
        let signer = single(Key::from_pem("k", alg, private.as_bytes()).unwrap());
        let verifier = single(Key::from_pem("k", alg, public.as_bytes()).unwrap());
        let token = encode(&signer, &claims(), None).unwrap();
        for keys in [&signer, &verifier] {
            let verified = decode(keys, &Validation::default(), &token, NOW_F).unwrap();
            assert_eq!(verified.claims["sub"], "ada");
            assert_eq!(verified.algorithm, alg);
        }
    }
    for (alg, len) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        let keys = single(Key::from_secret("h", alg, &SECRET[..len]).unwrap());
        let token = encode(&keys, &claims(), None).unwrap();
        assert_eq!(
            decode(&keys, &Validation::default(), &token, NOW_F)
                .unwrap()
                .kid,
            "h"
        );
    }
}

#[test]
fn alg_none_is_refused_with_or_without_a_signature() {
    let keys = hs256();
    let payload = URL_SAFE_NO_PAD.encode(claims());
    for alg in ["none", "None", "NONE"] {
        let header = b64(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        assert_eq!(refusal(&keys, &format!("{header}.{payload}.")), "alg_none");
        assert_eq!(
            refusal(&keys, &format!("{header}.{payload}.c2ln")),
            "alg_none"
        );
    }
}

#[test]
fn hmac_token_made_with_the_rsa_public_key_is_refused() {
    // The classic confusion: the attacker knows the public key and uses it as an HMAC secret.
    let attacker = single(Key::from_secret("rsa", Algorithm::HS256, RSA_PUB.as_bytes()).unwrap());
    let forged = encode(&attacker, &claims(), None).unwrap();
    let verifier = single(Key::from_pem("rsa", Algorithm::RS256, RSA_PUB.as_bytes()).unwrap());
    assert_eq!(refusal(&verifier, &forged), "algorithm_not_allowed");
    // Even when HS256 is (wrongly) allowed, the RSA key is never used as an HMAC secret.
    let lax = Validation {
        algorithms: vec![Algorithm::RS256, Algorithm::HS256],
        ..Validation::default()
    };
    assert_eq!(
        decode(&verifier, &lax, &forged, NOW_F).unwrap_err().kind(),
        "key_algorithm_mismatch"
    );
    let no_kid = format!(
        "{}.{}",
        b64(r#"{"alg":"HS256"}"#),
        forged.split_once('.').unwrap().1
    );
    assert_eq!(
        decode(&verifier, &lax, &no_kid, NOW_F).unwrap_err().kind(),
        "key_algorithm_mismatch"
    );
}

#[test]
fn an_algorithm_outside_the_allowed_list_is_refused() {
    let keys = single(Key::from_pem("k", Algorithm::ES256, P256.as_bytes()).unwrap());
    let token = encode(&keys, &claims(), None).unwrap();
    let only_eddsa = Validation {
        algorithms: vec![Algorithm::EdDSA],
        ..Validation::default()
    };
    assert_eq!(
        decode(&keys, &only_eddsa, &token, NOW_F)
            .unwrap_err()
            .kind(),
        "algorithm_not_allowed"
    );
    let unknown = format!(
        "{}.{}",
        b64(r#"{"alg":"HS1"}"#),
        token.split_once('.').unwrap().1
    );
    assert_eq!(refusal(&keys, &unknown), "unsupported_algorithm");
}

#[test]
fn tampered_and_truncated_tokens_are_refused() {
    for keys in [
        hs256(),
        single(Key::from_pem("r", Algorithm::RS256, RSA.as_bytes()).unwrap()),
    ] {
        let token = encode(&keys, &claims(), None).unwrap();
        let (head, signature) = token.rsplit_once('.').unwrap();
        let other_payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"root"}"#);
        let swapped = format!(
            "{}.{other_payload}.{signature}",
            head.split_once('.').unwrap().0
        );
        assert_eq!(refusal(&keys, &swapped), "invalid_signature");
        let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
        assert_eq!(
            refusal(&keys, &format!("{head}.{flipped}{}", &signature[1..])),
            "invalid_signature"
        );
        let cut = &signature[..signature.len() / 4 * 4 - 4];
        assert_eq!(
            refusal(&keys, &format!("{head}.{cut}")),
            "invalid_signature"
        );
        assert_eq!(
            refusal(&keys, &format!("{head}.{}", &signature[..5])),
            "base64"
        );
        assert_eq!(refusal(&keys, head), "malformed");
        assert_eq!(refusal(&keys, &format!("{head}.")), "malformed");
        assert_eq!(refusal(&keys, &format!("{token}.x")), "malformed");
        assert_eq!(refusal(&keys, ""), "malformed");
    }
}

#[test]
fn bad_base64_and_bad_json_are_refused() {
    let keys = hs256();
    let token = encode(&keys, &claims(), None).unwrap();
    let rest = token.split_once('.').unwrap().1;
    assert_eq!(refusal(&keys, &format!("e30=.{rest}")), "base64");
    assert_eq!(refusal(&keys, &format!("!!.{rest}")), "base64");
    assert_eq!(
        refusal(&keys, &format!("{}.{rest}", b64("{not json"))),
        "json"
    );
    assert_eq!(
        refusal(&keys, &format!("{}.{rest}", b64(r#"{"typ":"JWT"}"#))),
        "json"
    );
    assert_eq!(
        refusal(
            &keys,
            &format!("{}.{rest}", b64(r#"{"alg":"HS256","kid":7}"#))
        ),
        "json"
    );
    let (head, _) = token.rsplit_once('.').unwrap();
    assert_eq!(refusal(&keys, &format!("{head}.@@@@")), "base64");
    // A payload that is not JSON, or not an object, but correctly signed.
    let key = keys.signing_key().unwrap();
    let header = b64(r#"{"alg":"HS256","kid":"hs"}"#);
    for payload in [b64("not json"), b64("[1,2]"), "@@".to_owned()] {
        let message = format!("{header}.{payload}");
        let signed = format!("{message}.{}", key.sign(message.as_bytes()).unwrap());
        let kind = refusal(&keys, &signed);
        assert!(kind == "json" || kind == "base64", "{kind}");
    }
    assert_eq!(encode(&keys, b"[1]", None).unwrap_err().kind(), "json");
}

#[test]
fn the_time_window_is_enforced_with_leeway() {
    let keys = hs256();
    let token = |body: String| encode(&keys, body.as_bytes(), None).unwrap();
    let strict = Validation::default();
    let lenient = Validation {
        leeway: 30,
        ..Validation::default()
    };
    let expired = token(format!(r#"{{"exp":{}}}"#, NOW - 10));
    assert_eq!(
        decode(&keys, &strict, &expired, NOW_F).unwrap_err().kind(),
        "expired"
    );
    assert!(decode(&keys, &lenient, &expired, NOW_F).is_ok());
    let at_exp = token(format!(r#"{{"exp":{NOW}}}"#));
    assert_eq!(
        decode(&keys, &strict, &at_exp, NOW_F).unwrap_err().kind(),
        "expired"
    );
    let early = token(format!(r#"{{"nbf":{}}}"#, NOW + 10));
    assert_eq!(
        decode(&keys, &strict, &early, NOW_F).unwrap_err().kind(),
        "not_yet_valid"
    );
    assert!(decode(&keys, &lenient, &early, NOW_F).is_ok());
    let future = token(format!(r#"{{"iat":{}}}"#, NOW + 10));
    assert_eq!(
        decode(&keys, &strict, &future, NOW_F).unwrap_err().kind(),
        "issued_in_future"
    );
    assert!(decode(&keys, &lenient, &future, NOW_F).is_ok());
    let fractional = token(format!(r#"{{"iat":{NOW}.25,"exp":{NOW}.5}}"#));
    assert!(decode(&keys, &strict, &fractional, NOW_F + 0.3).is_ok());
    assert_eq!(
        decode(&keys, &strict, &fractional, NOW_F + 0.5)
            .unwrap_err()
            .kind(),
        "expired"
    );
    assert_eq!(
        decode(&keys, &strict, &fractional, NOW_F)
            .unwrap_err()
            .kind(),
        "issued_in_future"
    );
    let text = token(r#"{"exp":"tomorrow"}"#.into());
    assert_eq!(
        decode(&keys, &strict, &text, NOW_F).unwrap_err().kind(),
        "invalid_claim"
    );
    let required = Validation {
        required: vec!["exp".into()],
        ..Validation::default()
    };
    let forever = token(r#"{"sub":"ada"}"#.into());
    assert_eq!(
        decode(&keys, &required, &forever, NOW_F)
            .unwrap_err()
            .kind(),
        "missing_claim"
    );
}

#[test]
fn audience_and_issuer_are_enforced() {
    let keys = hs256();
    let token = |body: &str| encode(&keys, body.as_bytes(), None).unwrap();
    let api = Validation {
        audience: vec!["api".into()],
        issuer: Some("covet".into()),
        ..Validation::default()
    };
    let check = |body: &str| {
        decode(&keys, &api, &token(body), NOW_F)
            .map(|_| ())
            .map_err(|e| e.kind())
    };
    assert_eq!(check(r#"{"aud":"api","iss":"covet"}"#), Ok(()));
    assert_eq!(check(r#"{"aud":["web","api"],"iss":"covet"}"#), Ok(()));
    assert_eq!(
        check(r#"{"aud":"web","iss":"covet"}"#),
        Err("invalid_audience")
    );
    assert_eq!(
        check(r#"{"aud":[],"iss":"covet"}"#),
        Err("invalid_audience")
    );
    assert_eq!(check(r#"{"aud":5,"iss":"covet"}"#), Err("invalid_claim"));
    assert_eq!(check(r#"{"iss":"covet"}"#), Err("missing_claim"));
    assert_eq!(
        check(r#"{"aud":"api","iss":"evil"}"#),
        Err("invalid_issuer")
    );
    assert_eq!(check(r#"{"aud":"api"}"#), Err("missing_claim"));
    // A token meant for some audience is not accepted by a verifier that names none.
    let anyone = Validation::default();
    assert_eq!(
        decode(&keys, &anyone, &token(r#"{"aud":"api"}"#), NOW_F)
            .unwrap_err()
            .kind(),
        "invalid_audience"
    );
}

#[test]
fn kid_selects_the_key_and_old_keys_keep_verifying() {
    let mut old = KeySet::new();
    old.add(
        Key::from_pem("2024", Algorithm::ES256, P256.as_bytes()).unwrap(),
        true,
    )
    .unwrap();
    let old_token = encode(&old, &claims(), None).unwrap();
    let mut rotated = KeySet::new();
    rotated
        .add(
            Key::from_pem("2024", Algorithm::ES256, P256_PUB.as_bytes()).unwrap(),
            false,
        )
        .unwrap();
    rotated
        .add(
            Key::from_pem("2025", Algorithm::EdDSA, ED.as_bytes()).unwrap(),
            true,
        )
        .unwrap();
    let new_token = encode(&rotated, &claims(), None).unwrap();
    assert_eq!(
        decode(&rotated, &Validation::default(), &old_token, NOW_F)
            .unwrap()
            .kid,
        "2024"
    );
    assert_eq!(
        decode(&rotated, &Validation::default(), &new_token, NOW_F)
            .unwrap()
            .kid,
        "2025"
    );
    assert_eq!(refusal(&old, &new_token), "algorithm_not_allowed");
    assert!(rotated.remove("2024"));
    assert_eq!(refusal(&rotated, &old_token), "algorithm_not_allowed");
    let strange = format!(
        "{}.{}",
        b64(r#"{"alg":"EdDSA","kid":"1999"}"#),
        new_token.split_once('.').unwrap().1
    );
    assert_eq!(refusal(&rotated, &strange), "unknown_key");
    // Without a kid, every key of the algorithm is tried.
    let mut two = KeySet::new();
    two.add(
        Key::from_secret("a", Algorithm::HS256, &SECRET[..32]).unwrap(),
        false,
    )
    .unwrap();
    two.add(
        Key::from_secret("b", Algorithm::HS256, &SECRET[32..]).unwrap(),
        true,
    )
    .unwrap();
    let signed = encode(&two, &claims(), Some("a")).unwrap();
    let bare = format!(
        "{}.{}",
        b64(r#"{"alg":"HS256"}"#),
        signed.split_once('.').unwrap().1
    );
    let message = bare.rsplit_once('.').unwrap().0.to_owned();
    let resigned = format!(
        "{message}.{}",
        two.find("a").unwrap().sign(message.as_bytes()).unwrap()
    );
    assert_eq!(
        decode(&two, &Validation::default(), &resigned, NOW_F)
            .unwrap()
            .kid,
        "a"
    );
}

#[test]
fn jwks_round_trip_publishes_only_public_keys() {
    let mut issuer = KeySet::new();
    issuer
        .add(
            Key::from_pem("r", Algorithm::RS256, RSA.as_bytes()).unwrap(),
            false,
        )
        .unwrap();
    issuer
        .add(
            Key::from_pem("e", Algorithm::ES384, P384.as_bytes()).unwrap(),
            false,
        )
        .unwrap();
    issuer
        .add(
            Key::from_pem("d", Algorithm::EdDSA, ED.as_bytes()).unwrap(),
            true,
        )
        .unwrap();
    issuer
        .add(
            Key::from_secret("s", Algorithm::HS256, &SECRET[..32]).unwrap(),
            false,
        )
        .unwrap();
    let jwks = issuer.to_jwks();
    assert!(
        !jwks.contains("\"d\":") && !jwks.contains("\"k\":"),
        "private parts leaked: {jwks}"
    );
    let mut verifier = KeySet::new();
    assert_eq!(
        verifier.add_jwks(jwks.as_bytes(), None).unwrap(),
        ["r", "e", "d"]
    );
    for kid in ["r", "e", "d"] {
        let token = encode(&issuer, &claims(), Some(kid)).unwrap();
        assert_eq!(
            decode(&verifier, &Validation::default(), &token, NOW_F)
                .unwrap()
                .kid,
            kid
        );
        assert!(!verifier.find(kid).unwrap().can_sign());
    }
    assert_eq!(
        verifier.to_jwks(),
        jwks.replace(r#"{"kty":"oct""#, "").replace(",]", "]")
    );
}

#[test]
fn bad_jwks_documents_are_refused_whole() {
    let mut keys = KeySet::new();
    assert_eq!(keys.add_jwks(b"{", None).unwrap_err().kind(), "json");
    let oct = br#"{"keys":[{"kty":"oct","kid":"s","alg":"HS256","k":"c2VjcmV0"}]}"#;
    assert_eq!(keys.add_jwks(oct, None).unwrap_err().kind(), "invalid_key");
    let ed = single(Key::from_pem("d", Algorithm::EdDSA, ED.as_bytes()).unwrap()).to_jwks();
    let no_alg = ed.replace(r#""alg":"EdDSA","#, "");
    assert_eq!(
        keys.add_jwks(no_alg.as_bytes(), None).unwrap_err().kind(),
        "invalid_key"
    );
    let mislabelled = ed.replace(r#""alg":"EdDSA""#, r#""alg":"RS256""#);
    assert_eq!(
        keys.add_jwks(mislabelled.as_bytes(), None)
            .unwrap_err()
            .kind(),
        "invalid_key"
    );
    let none = ed.replace(r#""alg":"EdDSA""#, r#""alg":"none""#);
    assert!(keys.add_jwks(none.as_bytes(), None).is_err());
    assert!(keys.keys().is_empty());
    assert_eq!(
        keys.add_jwks(no_alg.as_bytes(), Some(Algorithm::EdDSA))
            .unwrap(),
        ["d"]
    );
}

#[test]
fn weak_or_mismatched_keys_are_refused() {
    let kind = |r: Result<Key, JwtError>| r.err().map(|e| e.kind());
    assert_eq!(
        kind(Key::from_secret("s", Algorithm::HS256, b"short")),
        Some("invalid_key")
    );
    assert_eq!(
        kind(Key::from_secret("s", Algorithm::HS512, &SECRET[..32])),
        Some("invalid_key")
    );
    assert_eq!(
        kind(Key::from_secret("s", Algorithm::RS256, SECRET)),
        Some("invalid_key")
    );
    assert_eq!(
        kind(Key::from_pem("r", Algorithm::RS256, RSA_1024.as_bytes())),
        Some("invalid_key")
    );
    assert_eq!(
        kind(Key::from_pem("e", Algorithm::ES384, P256.as_bytes())),
        Some("invalid_key")
    );
    assert_eq!(
        kind(Key::from_pem("e", Algorithm::ES256, P384_PUB.as_bytes())),
        Some("invalid_key")
    );
    assert_eq!(
        kind(Key::from_pem("e", Algorithm::RS256, P256.as_bytes())),
        Some("invalid_key")
    );
    assert_eq!(
        kind(Key::from_pem("e", Algorithm::HS256, P256.as_bytes())),
        Some("invalid_key")
    );
    assert_eq!(
        kind(Key::from_pem("e", Algorithm::EdDSA, b"not a pem")),
        Some("invalid_key")
    );
    let mut keys = KeySet::new();
    let public = Key::from_pem("p", Algorithm::EdDSA, ED_PUB.as_bytes()).unwrap();
    assert_eq!(
        keys.add(public.clone(), true).unwrap_err().kind(),
        "invalid_key"
    );
    keys.add(public.clone(), false).unwrap();
    assert_eq!(keys.add(public, false).unwrap_err().kind(), "invalid_key");
    assert_eq!(
        encode(&keys, &claims(), None).unwrap_err().kind(),
        "no_signing_key"
    );
    assert_eq!(
        encode(&keys, &claims(), Some("p")).unwrap_err().kind(),
        "no_signing_key"
    );
    assert_eq!(
        encode(&keys, &claims(), Some("q")).unwrap_err().kind(),
        "unknown_key"
    );
    assert_eq!(parse_algorithm("none").unwrap_err().kind(), "alg_none");
}

#[test]
fn critical_extensions_are_refused() {
    let keys = hs256();
    let key = keys.signing_key().unwrap();
    let message = format!(
        "{}.{}",
        b64(r#"{"alg":"HS256","crit":["exp"],"exp":1}"#),
        b64("{}")
    );
    let token = format!("{message}.{}", key.sign(message.as_bytes()).unwrap());
    assert_eq!(refusal(&keys, &token), "unsupported_critical");
}
