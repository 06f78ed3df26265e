//! The physical limit for the benchmark suite: the smallest reasonable hyper 1.x server on one
//! tokio thread, answering the same bytes as the Python apps. Whatever it costs per request is
//! what the HTTP stack and the kernel cost on this machine; no framework can go below it.
//!
//! Usage: `hyper-limit [PORT]` (default 8103), listening on 127.0.0.1 only.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::OnceLock;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const JSON_BODY: &[u8] = br#"{"message":"Hello, World!"}"#;
const PLAIN_BODY: &[u8] = b"Hello, World!";
const JSON_TYPE: &str = "application/json";
const PLAIN_TYPE: &str = "text/plain; charset=utf-8";

fn respond(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn not_found() -> Response<Full<Bytes>> {
    respond(
        StatusCode::NOT_FOUND,
        JSON_TYPE,
        Bytes::from_static(br#"{"detail":"Not Found"}"#),
    )
}

/// The /large body: 500 small objects (about 100 KB), built with the same formula as
/// `large_payload()` in benchmarks/apps/common.py, so the bytes are the Python apps' bytes.
fn large_body() -> Bytes {
    static BODY: OnceLock<Bytes> = OnceLock::new();
    BODY.get_or_init(|| {
        let mut out = String::with_capacity(110_000);
        out.push('[');
        for i in 1..=500u32 {
            if i > 1 {
                out.push(',');
            }
            let _ = write!(
                out,
                concat!(
                    r#"{{"id":{i},"name":"item-{i:04}","category":"category-{cat}","#,
                    r#""price_cents":{price},"in_stock":{stock},"#,
                    r#""tags":["tag-{t5}","tag-{t11}","tag-{t13}"],"#,
                    r#""description":"Deterministic sample object number {i:04} for the large response."}}"#,
                ),
                i = i,
                cat = i % 7,
                price = (i * 7919) % 100_000,
                stock = i % 3 != 0,
                t5 = i % 5,
                t11 = i % 11,
                t13 = i % 13,
            );
        }
        out.push(']');
        Bytes::from(out)
    })
    .clone()
}

/// The /cached body: what `make bench-cache`'s apps answer (benchmarks/cache/apps.py,
/// `PAYLOAD`), ten small objects, the same bytes as Python's compact JSON of them.
fn cached_body() -> Bytes {
    static BODY: OnceLock<Bytes> = OnceLock::new();
    BODY.get_or_init(|| {
        let items: Vec<String> = (0..10u32)
            .map(|i| {
                let price = f64::from(i) * 1.5;
                format!(r#"{{"id":{i},"name":"item {i}","price":{price:?}}}"#)
            })
            .collect();
        Bytes::from(format!(r#"{{"items":[{}]}}"#, items.join(",")))
    })
    .clone()
}

/// /cached as a response cache answers it: the body with the same cache headers (an `ETag`
/// of the same length, `Cache-Control`, `Age`), so the bytes on the wire are the same.
fn cached() -> Response<Full<Bytes>> {
    let mut resp = respond(StatusCode::OK, JSON_TYPE, cached_body());
    let headers = resp.headers_mut();
    headers.insert("cache-control", HeaderValue::from_static("max-age=600"));
    headers.insert("etag", HeaderValue::from_static("\"0123456789abcdef\""));
    headers.insert("age", HeaderValue::from_static("0"));
    resp
}

/// Append `s` to `out` as a JSON string literal (quotes included).
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// GET /users/{uid}?q=... -> {"uid":<int>,"q":<string or null>}; q is not percent-decoded.
fn user(rest: &str, query: Option<&str>) -> Response<Full<Bytes>> {
    let Ok(uid) = rest.parse::<i64>() else {
        return not_found();
    };
    let q = query.and_then(|qs| qs.split('&').find_map(|pair| pair.strip_prefix("q=")));
    let mut body = String::with_capacity(32);
    body.push_str("{\"uid\":");
    body.push_str(&uid.to_string());
    body.push_str(",\"q\":");
    match q {
        Some(v) => push_json_str(&mut body, v),
        None => body.push_str("null"),
    }
    body.push('}');
    respond(StatusCode::OK, JSON_TYPE, Bytes::from(body))
}

/// POST /items/{id} with a compact JSON object body -> the body with `"id":<id>` put first,
/// the bytes the Python apps answer. The limit reads the body but does not validate it.
async fn create_item(req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let id = req.uri().path().trim_start_matches("/items/").to_owned();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return not_found();
    }
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return not_found(),
    };
    if body.first() != Some(&b'{') {
        return not_found();
    }
    let mut out = Vec::with_capacity(body.len() + id.len() + 8);
    out.extend_from_slice(b"{\"id\":");
    out.extend_from_slice(id.as_bytes());
    out.push(b',');
    out.extend_from_slice(&body[1..]);
    respond(StatusCode::OK, JSON_TYPE, Bytes::from(out))
}

async fn handle(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() == Method::POST && req.uri().path().starts_with("/items/") {
        return Ok(create_item(req).await);
    }
    if req.method() != Method::GET {
        return Ok(respond(
            StatusCode::METHOD_NOT_ALLOWED,
            JSON_TYPE,
            Bytes::from_static(br#"{"detail":"Method Not Allowed"}"#),
        ));
    }
    let uri = req.uri();
    let resp = match uri.path() {
        "/json" => respond(StatusCode::OK, JSON_TYPE, Bytes::from_static(JSON_BODY)),
        "/plaintext" => respond(StatusCode::OK, PLAIN_TYPE, Bytes::from_static(PLAIN_BODY)),
        "/large" => respond(StatusCode::OK, JSON_TYPE, large_body()),
        "/cached" => cached(),
        path => match path.strip_prefix("/users/") {
            Some(rest) if !rest.is_empty() && !rest.contains('/') => user(rest, uri.query()),
            _ => not_found(),
        },
    };
    Ok(resp)
}

fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("PORT must be an integer"))
        .unwrap_or(8103);
    // One thread only: the comparison is one worker on one pinned core.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("tokio runtime");
    rt.block_on(serve(SocketAddr::from(([127, 0, 0, 1], port))));
}

async fn serve(addr: SocketAddr) {
    let listener = TcpListener::bind(addr).await.expect("bind");
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(pair) => pair,
            Err(err) => {
                eprintln!("accept error: {err}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let conn = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service_fn(handle));
            if let Err(err) = conn.await {
                // Peers vanishing at the end of a wrk run is normal; keep quiet about it.
                if !err.is_incomplete_message() {
                    eprintln!("connection error: {err}");
                }
            }
        });
    }
}
