//! covet's side: the bytes fed to a sans-IO `Connection`, its events collected.

use covet_engine::connection::{Connection, Event};
use covet_engine::http::request::Request;
use covet_engine::limits::Limits;

use crate::{Outcome, Seen};

/// What covet's connection makes of `input` received in two reads (split at `split`, clamped),
/// then the end of the stream.
pub fn run(input: &[u8], split: usize) -> Outcome {
    let mut conn = Connection::new(Limits::default());
    let (first, second) = input.split_at(split.min(input.len()));
    conn.feed(first);
    let mut out = Outcome::default();
    let mut streamed: Option<(Seen, bool)> = None;
    let mut fed_all = false;
    loop {
        let Some(event) = conn.next_event() else {
            if fed_all {
                break;
            }
            conn.feed(second);
            fed_all = true;
            continue;
        };
        let done = match event {
            Event::Request(r) => Some((seen(&r, r.body.clone()), r.keep_alive)),
            Event::Continue => None,
            Event::Stream(r) => {
                streamed = Some((seen(&r, r.body.clone()), r.keep_alive));
                None
            }
            Event::BodyChunk(chunk) => {
                if let Some((s, _)) = streamed.as_mut() {
                    s.body.extend_from_slice(&chunk);
                }
                None
            }
            Event::BodyEnd => streamed.take(),
            Event::Error(e) => {
                out.error = Some(e.detail.to_owned());
                return out;
            }
        };
        if let Some((request, keep_alive)) = done {
            out.requests.push(request);
            if !keep_alive {
                // The server closes the connection after answering: the rest is never read.
                return out;
            }
        }
    }
    let in_body = conn.in_body();
    let rest = conn.take_buffered();
    out.idle_noise = !in_body && !rest.is_empty() && rest.iter().all(|&b| b == b'\r' || b == b'\n');
    if in_body || !rest.is_empty() {
        out.error = Some("incomplete request at the end of the stream".to_owned());
    }
    out
}

fn seen(r: &Request, body: Vec<u8>) -> Seen {
    let mut target = r.raw_path.clone();
    if !r.query.is_empty() {
        target.push(b'?');
        target.extend_from_slice(&r.query);
    }
    let mut headers: Vec<(String, Vec<u8>)> = r
        .headers
        .iter()
        .filter(|(name, _)| name != "host")
        .cloned()
        .collect();
    crate::normalize_headers(&mut headers);
    Seen {
        method: r.method.clone(),
        target,
        host: r.header("host").map(<[u8]>::to_vec),
        headers,
        body,
    }
}
