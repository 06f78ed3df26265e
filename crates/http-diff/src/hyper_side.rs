//! hyper's side: the bytes written to hyper's HTTP/1 server connection over an in-memory
//! duplex stream, the requests its service receives collected.

use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{Outcome, Seen};

/// A hyper HTTP/1 server on a current-thread runtime, reused for many inputs.
pub struct HyperServer {
    runtime: tokio::runtime::Runtime,
}

impl Default for HyperServer {
    fn default() -> Self {
        Self::new()
    }
}

impl HyperServer {
    /// A server with hyper's default HTTP/1 settings (plus half-close, so that the end of the
    /// input is not taken for an abort while pipelined requests are still being answered).
    pub fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        HyperServer { runtime }
    }

    /// What hyper makes of `input` sent at once, then the end of the stream.
    pub fn run(&self, input: &[u8]) -> Outcome {
        self.runtime.block_on(serve(input))
    }
}

async fn serve(input: &[u8]) -> Outcome {
    let (client, server) = tokio::io::duplex(input.len() + 64 * 1024);
    let requests = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&requests);
    let service = service_fn(move |req: Request<Incoming>| {
        let sink = Rc::clone(&sink);
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await?.to_bytes();
            sink.borrow_mut().push(seen(&parts, &body));
            Ok::<_, hyper::Error>(Response::new(Empty::<Bytes>::new()))
        }
    });
    let connection = http1::Builder::new()
        .half_close(true)
        .serve_connection(TokioIo::new(server), service);
    let (mut reader, mut writer) = tokio::io::split(client);
    let client = async move {
        // Errors here only mean hyper closed early; its own result says why.
        let _ = writer.write_all(input).await;
        let _ = writer.shutdown().await;
        let mut answers = Vec::new();
        let _ = reader.read_to_end(&mut answers).await;
    };
    let (result, ()) = tokio::join!(connection, client);
    let requests = requests.take();
    Outcome {
        requests,
        error: result.err().map(|e| e.to_string()),
        idle_noise: false,
    }
}

fn seen(parts: &hyper::http::request::Parts, body: &Bytes) -> Seen {
    let uri = &parts.uri;
    let mut target = if uri.path().is_empty() {
        b"/".to_vec()
    } else {
        uri.path().as_bytes().to_vec()
    };
    if let Some(query) = uri.query().filter(|q| !q.is_empty()) {
        target.push(b'?');
        target.extend_from_slice(query.as_bytes());
    }
    let host = match uri.authority() {
        Some(authority) => Some(authority.as_str().as_bytes().to_vec()),
        None => parts.headers.get("host").map(|v| v.as_bytes().to_vec()),
    };
    let mut headers: Vec<(String, Vec<u8>)> = parts
        .headers
        .iter()
        .filter(|(name, _)| name.as_str() != "host")
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    crate::normalize_headers(&mut headers);
    Seen {
        method: parts.method.as_str().to_owned(),
        target,
        host,
        headers,
        body: body.to_vec(),
    }
}
