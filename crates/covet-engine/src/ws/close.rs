//! Close codes (RFC 6455 section 7.4) and close frame payloads.

use super::ProtocolError;

/// Normal closure.
pub const NORMAL: u16 = 1000;
/// The endpoint is going away (server shutdown).
pub const GOING_AWAY: u16 = 1001;
/// A protocol error.
pub const PROTOCOL_ERROR: u16 = 1002;
/// The message data was not consistent with its type (invalid UTF-8 in a text message).
pub const INVALID_DATA: u16 = 1007;
/// A policy was violated (e.g. a client that does not read what it is sent).
pub const POLICY_VIOLATION: u16 = 1008;
/// A message was too big to process.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// The server met an unexpected condition.
pub const INTERNAL_ERROR: u16 = 1011;
/// No close code was present (never sent on the wire).
pub const NO_STATUS: u16 = 1005;
/// The connection was dropped without a close frame (never sent on the wire).
pub const ABNORMAL: u16 = 1006;

/// Longest reason that fits a control frame (125 bytes minus the two-byte code).
pub const MAX_REASON: usize = 123;

/// Whether `code` may appear in a close frame on the wire.
pub fn is_valid(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Reads a received close payload: `(code, reason)`, code 1005 when the frame had none.
pub fn parse(payload: &[u8]) -> Result<(u16, String), ProtocolError> {
    match payload.len() {
        0 => Ok((NO_STATUS, String::new())),
        1 => Err(ProtocolError::protocol(
            "Close frame with a one-byte payload",
        )),
        _ => {
            let code = u16::from_be_bytes([payload[0], payload[1]]);
            if !is_valid(code) {
                return Err(ProtocolError::protocol("Invalid close code"));
            }
            let reason = std::str::from_utf8(&payload[2..]).map_err(|_| ProtocolError {
                code: INVALID_DATA,
                reason: "Close reason is not valid UTF-8",
            })?;
            Ok((code, reason.to_owned()))
        }
    }
}

/// A close payload for `code` and `reason`; the reason is cut (on a character boundary) to
/// fit a control frame. Code 1005 gives an empty payload.
pub fn payload(code: u16, reason: &str) -> Vec<u8> {
    if code == NO_STATUS {
        return Vec::new();
    }
    let mut end = reason.len().min(MAX_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = Vec::with_capacity(2 + end);
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(&reason.as_bytes()[..end]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        for ok in [1000, 1001, 1002, 1003, 1007, 1008, 1011, 3000, 4999] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [0, 999, 1004, 1005, 1006, 1015, 1100, 2999, 5000] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn parse_payloads() {
        assert_eq!(parse(b"").unwrap(), (1005, String::new()));
        assert_eq!(parse(&[3, 232, b'o', b'k']).unwrap(), (1000, "ok".into()));
        assert_eq!(parse(&[3]).unwrap_err().code, 1002);
        assert_eq!(parse(&[3, 237]).unwrap_err().code, 1002); // 1005 on the wire
        assert_eq!(parse(&[3, 232, 0xff]).unwrap_err().code, 1007);
    }

    #[test]
    fn long_reason_cut_on_a_char_boundary() {
        let reason = "é".repeat(100);
        let p = payload(1000, &reason);
        assert!(p.len() <= 125);
        assert!(std::str::from_utf8(&p[2..]).is_ok());
        assert_eq!(payload(1005, "x"), b"");
    }
}
