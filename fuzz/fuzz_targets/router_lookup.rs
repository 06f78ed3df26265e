//! Looks arbitrary paths up in a fixed router, and round-trips arbitrary parameter values
//! through `url_path_for`, request parsing and `lookup`.
//!
//! Input layout: byte 0 picks the method and route, the rest (as UTF-8, lossily) is the path or
//! the parameter value.

#![no_main]

use std::sync::OnceLock;

use covet_engine::http::request::parse_head;
use covet_engine::limits::Limits;
use covet_engine::router::{Lookup, ParamValue, Router};
use libfuzzer_sys::fuzz_target;

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let mut r = Router::new(true);
        r.add("/", Some(&["GET"]), 0, Some("home")).unwrap();
        r.add("/users/{id:int}", Some(&["GET"]), 1, Some("user"))
            .unwrap();
        r.add("/u/{name}", None, 2, Some("name")).unwrap();
        r.add("/f/{x:float}/{u:uuid}", None, 3, None).unwrap();
        r.add(
            "/files/{rest:path}",
            Some(&["GET", "PUT"]),
            4,
            Some("files"),
        )
        .unwrap();
        r.add("/café/{s}/", None, 5, None).unwrap();
        r.mount("/static", 6, Some("static")).unwrap();
        r.add("/docs/", Some(&["POST"]), 7, None).unwrap();
        r
    })
}

/// The decoded path a request for `built` would carry.
fn decode(built: &str) -> String {
    let raw = format!("GET {built} HTTP/1.1\r\n\r\n");
    match parse_head(raw.as_bytes(), &Limits::default()) {
        Ok(Some((request, _, _))) => request.path,
        other => panic!("built path {built:?} does not parse: {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let r = router();
    let method = ["GET", "HEAD", "POST", "PUT", "DELETE", ""][usize::from(pick % 6)];
    match r.lookup(method, &text) {
        Lookup::Redirect { location_path } => {
            assert!(!matches!(
                r.lookup(method, &location_path),
                Lookup::NotFound
            ));
        }
        Lookup::MethodNotAllowed { allow } => assert!(!allow.is_empty()),
        _ => {}
    }

    // Round trip: whatever url_path_for accepts comes back with the same parameter.
    let (name, key) =
        [("name", "name"), ("files", "rest"), ("user", "id")][usize::from(pick / 6 % 3)];
    if let Ok(built) = r.url_path_for(name, &[(key, &text)]) {
        let path = decode(&built);
        let want = match key {
            "id" => ParamValue::Int(text.parse().unwrap()),
            _ => ParamValue::Str(text.to_string()),
        };
        match r.lookup("GET", &path) {
            Lookup::Found { params, .. } => assert_eq!(params, vec![(key.to_string(), want)]),
            other => panic!("{built:?} looked up as {other:?}"),
        }
    }
    if text.is_empty() || text.starts_with('/') {
        let built = r.url_path_for("static", &[("path", &text)]).unwrap();
        let want = if text.is_empty() { "/" } else { &text };
        match r.lookup("GET", &decode(&built)) {
            Lookup::Mount { rest, .. } => assert_eq!(rest, want),
            other => panic!("{built:?} looked up as {other:?}"),
        }
    }
});
