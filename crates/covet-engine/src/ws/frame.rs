//! The frame format (RFC 6455 section 5.2): header parsing, masking, encoding.

use super::ProtocolError;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpCode {
    /// The next fragment of a message.
    Continuation,
    /// The first (or only) frame of a text message.
    Text,
    /// The first (or only) frame of a binary message.
    Binary,
    /// Close, with an optional code and reason.
    Close,
    /// Ping: answered by a pong with the same payload.
    Ping,
    /// Pong.
    Pong,
}

impl OpCode {
    fn from_bits(bits: u8) -> Option<Self> {
        Some(match bits {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    /// The four opcode bits.
    pub fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// Close, ping and pong.
    pub fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

/// Largest payload of a control frame.
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The last frame of its message.
    pub fin: bool,
    /// RSV1: the message is compressed (only with `permessage-deflate`).
    pub rsv1: bool,
    /// What the frame carries.
    pub opcode: OpCode,
    /// The masking key, when the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub len: u64,
    /// How many bytes the header took.
    pub header_len: usize,
}

/// Parses a frame header from the start of `buf`; `Ok(None)` when more bytes are needed.
///
/// Refused here: RSV2/RSV3 set, a reserved opcode, a fragmented or oversized control frame and
/// a 64-bit length with its top bit set (all 1002). Masking and RSV1 depend on the role and
/// the extensions, so the caller checks them.
pub fn parse_header(buf: &[u8]) -> Result<Option<Header>, ProtocolError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    if b0 & 0x30 != 0 {
        return Err(ProtocolError::protocol(
            "RSV2/RSV3 set without an extension",
        ));
    }
    let opcode = OpCode::from_bits(b0 & 0x0F).ok_or(ProtocolError::protocol("Reserved opcode"))?;
    let fin = b0 & 0x80 != 0;
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7F {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let mut n = [0u8; 8];
            n.copy_from_slice(&buf[2..10]);
            let len = u64::from_be_bytes(n);
            if len >> 63 != 0 {
                return Err(ProtocolError::protocol("Frame length with its top bit set"));
            }
            (len, 10)
        }
        n => (u64::from(n), 2),
    };
    if opcode.is_control() {
        if !fin {
            return Err(ProtocolError::protocol("Fragmented control frame"));
        }
        if len > MAX_CONTROL_PAYLOAD as u64 {
            return Err(ProtocolError::protocol("Control frame over 125 bytes"));
        }
    }
    let mask = if masked {
        if buf.len() < at + 4 {
            return Ok(None);
        }
        let key = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
        at += 4;
        Some(key)
    } else {
        None
    };
    Ok(Some(Header {
        fin,
        rsv1: b0 & 0x40 != 0,
        opcode,
        mask,
        len,
        header_len: at,
    }))
}

/// XORs `data` with the masking key (masking and unmasking are the same operation).
pub fn apply_mask(data: &mut [u8], key: [u8; 4]) {
    let word = u32::from_ne_bytes(key);
    let mut chunks = data.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let v = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ word;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i];
    }
}

/// Length of the header [`write_header`] writes for this payload length.
pub fn header_len(len: usize, masked: bool) -> usize {
    let base = match len {
        0..=125 => 2,
        126..=0xFFFF => 4,
        _ => 10,
    };
    base + if masked { 4 } else { 0 }
}

/// Appends a frame header.
pub fn write_header(
    out: &mut Vec<u8>,
    fin: bool,
    rsv1: bool,
    opcode: OpCode,
    len: usize,
    mask: Option<[u8; 4]>,
) {
    let b0 = (u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode.bits();
    let mbit = if mask.is_some() { 0x80 } else { 0 };
    out.push(b0);
    match len {
        0..=125 => out.push(mbit | len as u8),
        126..=0xFFFF => {
            out.push(mbit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mbit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
}

/// Appends a whole unfragmented frame; masked (as a client must) when `mask` is given.
pub fn write_frame(
    out: &mut Vec<u8>,
    opcode: OpCode,
    rsv1: bool,
    payload: &[u8],
    mask: Option<[u8; 4]>,
) {
    out.reserve(header_len(payload.len(), mask.is_some()) + payload.len());
    write_header(out, true, rsv1, opcode, payload.len(), mask);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_lengths() {
        for len in [0usize, 1, 125, 126, 65535, 65536, 70000] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut out = Vec::new();
                write_frame(&mut out, OpCode::Binary, false, &payload, mask);
                let h = parse_header(&out).unwrap().unwrap();
                assert_eq!(h.len, len as u64);
                assert_eq!(h.header_len, header_len(len, mask.is_some()));
                assert_eq!(h.mask, mask);
                assert!(h.fin && !h.rsv1);
                let mut body = out[h.header_len..].to_vec();
                if let Some(key) = h.mask {
                    apply_mask(&mut body, key);
                }
                assert_eq!(body, payload);
                // Any prefix of the header is "need more".
                for cut in 0..h.header_len {
                    assert_eq!(parse_header(&out[..cut]).unwrap(), None);
                }
            }
        }
    }

    #[test]
    fn refused_headers() {
        let code = |b: &[u8]| parse_header(b).unwrap_err().code;
        assert_eq!(code(&[0x81 | 0x20, 0x80]), 1002); // RSV2
        assert_eq!(code(&[0x83, 0x80]), 1002); // reserved opcode 3
        assert_eq!(code(&[0x0B, 0x80]), 1002); // reserved control opcode
        assert_eq!(code(&[0x09, 0x80]), 1002); // fragmented ping
        assert_eq!(code(&[0x89, 0x80 | 126, 0, 126]), 1002); // ping of 126 bytes
        let mut big = vec![0x82, 0x80 | 127];
        big.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(code(&big), 1002);
    }

    #[test]
    fn mask_is_its_own_inverse() {
        let mut data = b"Hello, masked world".to_vec();
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d]);
        assert_ne!(&data[..], b"Hello, masked world");
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(&data[..], b"Hello, masked world");
        // The RFC's example: "Hello" masked.
        let mut hello = b"Hello".to_vec();
        apply_mask(&mut hello, [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(hello, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }
}
