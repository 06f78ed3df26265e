//! `permessage-deflate` (RFC 7692): negotiation and the per-message (de)compressor.
//!
//! covet always answers with `server_no_context_takeover; client_no_context_takeover`: each
//! message is compressed on its own, so no compressor or 32 KB window is kept between
//! messages and an idle connection holds nothing for compression. `server_max_window_bits`
//! below 15 is declined (the offer is skipped), since the compressor always uses a 32 KB
//! window; `client_max_window_bits` is accepted (a smaller client window decodes the same).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::ProtocolError;

/// The extension name.
pub const NAME: &str = "permessage-deflate";
/// The response covet sends when it accepts an offer.
pub const RESPONSE: &str =
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
/// Messages shorter than this are sent uncompressed (RSV1 clear), which the extension allows:
/// compressing them costs more than it saves.
pub const COMPRESS_MIN: usize = 256;
/// The tail every compressed message ends with on the wire, removed by the sender (7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Picks the first acceptable `permessage-deflate` offer from a `Sec-WebSocket-Extensions`
/// value; returns the response header value, or `None` to decline compression.
pub fn negotiate(extensions: &str) -> Option<&'static str> {
    extensions.split(',').any(acceptable).then_some(RESPONSE)
}

fn acceptable(offer: &str) -> bool {
    let mut parts = offer.split(';').map(str::trim);
    if parts.next() != Some(NAME) {
        return false;
    }
    let mut seen: Vec<&str> = Vec::new();
    for param in parts {
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (param, None),
        };
        if seen.contains(&name) {
            return false;
        }
        seen.push(name);
        let bits = value.map(|v| v.parse::<u8>().ok().filter(|b| (8..=15).contains(b)));
        let ok = match name {
            "server_no_context_takeover" | "client_no_context_takeover" => value.is_none(),
            // Only the full window: the compressor cannot use a smaller one.
            "server_max_window_bits" => bits == Some(Some(15)),
            "client_max_window_bits" => !matches!(bits, Some(None)),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Compresses one whole message (no context kept), without the trailing `00 00 ff ff`.
pub fn compress(payload: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(payload.len() / 2 + 64);
    loop {
        let consumed = c.total_in() as usize;
        // Errors only come from misuse of the stream; a plain buffer cannot cause them.
        let _ = c.compress_vec(&payload[consumed..], &mut out, FlushCompress::Sync);
        if c.total_in() as usize == payload.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity().max(64));
    }
    if out.ends_with(&TAIL) {
        out.truncate(out.len() - TAIL.len());
    }
    out
}

/// Decompresses one message, fed fragment by fragment, refusing output past a limit.
pub struct Inflater {
    d: Decompress,
}

impl Default for Inflater {
    fn default() -> Self {
        Inflater {
            d: Decompress::new(false),
        }
    }
}

impl Inflater {
    /// Decompresses a fragment's payload onto `out`; with `last`, also the implied tail.
    /// Past `limit` bytes of output: 1009. Corrupt data: 1007.
    pub fn feed(
        &mut self,
        input: &[u8],
        last: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        self.run(input, out, limit)?;
        if last {
            self.run(&TAIL, out, limit)?;
        }
        Ok(())
    }

    fn run(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        loop {
            let room = (limit + 1).saturating_sub(out.len()).clamp(64, 64 * 1024);
            out.reserve(room);
            let (in_before, out_before) = (self.d.total_in(), self.d.total_out());
            let status = self
                .d
                .decompress_vec(input, out, FlushDecompress::Sync)
                .map_err(|_| ProtocolError {
                    code: super::close::INVALID_DATA,
                    reason: "Invalid compressed data",
                })?;
            if out.len() > limit {
                return Err(ProtocolError {
                    code: super::close::MESSAGE_TOO_BIG,
                    reason: "Message too big",
                });
            }
            input = &input[(self.d.total_in() - in_before) as usize..];
            let stuck = self.d.total_in() == in_before && self.d.total_out() == out_before;
            let drained = input.is_empty() && out.len() < out.capacity();
            if drained || stuck || status == Status::StreamEnd {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(negotiate("permessage-deflate"), Some(RESPONSE));
        assert_eq!(
            negotiate("permessage-deflate; client_max_window_bits"),
            Some(RESPONSE)
        );
        assert_eq!(
            negotiate("permessage-deflate; client_max_window_bits=10; server_no_context_takeover"),
            Some(RESPONSE)
        );
        // A smaller server window is declined; a later acceptable offer is taken.
        assert_eq!(
            negotiate("permessage-deflate; server_max_window_bits=10"),
            None
        );
        assert_eq!(
            negotiate("permessage-deflate; server_max_window_bits=10, permessage-deflate"),
            Some(RESPONSE)
        );
        assert_eq!(negotiate("permessage-deflate; unknown=1"), None);
        assert_eq!(
            negotiate("permessage-deflate; client_max_window_bits=20"),
            None
        );
        assert_eq!(
            negotiate("permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
            None
        );
        assert_eq!(negotiate("x-webkit-deflate-frame"), None);
        assert_eq!(negotiate(""), None);
    }

    #[test]
    fn roundtrip_in_fragments() {
        let text = "covet websocket compression ".repeat(200);
        let packed = compress(text.as_bytes());
        assert!(packed.len() < text.len() / 4);
        let mut out = Vec::new();
        let mut inf = Inflater::default();
        let (a, b) = packed.split_at(packed.len() / 3);
        inf.feed(a, false, &mut out, 1 << 20).unwrap();
        inf.feed(b, true, &mut out, 1 << 20).unwrap();
        assert_eq!(out, text.as_bytes());
    }

    #[test]
    fn limits_and_corruption() {
        let bomb = compress(&vec![0u8; 1 << 20]);
        let mut out = Vec::new();
        let err = Inflater::default()
            .feed(&bomb, true, &mut out, 1000)
            .unwrap_err();
        assert_eq!(err.code, 1009);
        assert!(out.len() <= 64 * 1024 + 1000);
        let err = Inflater::default()
            .feed(&[0xff, 0xff, 0xff, 0xff], true, &mut Vec::new(), 1000)
            .unwrap_err();
        assert_eq!(err.code, 1007);
    }
}
