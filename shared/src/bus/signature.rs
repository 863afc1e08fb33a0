//! Which chat messages on the bus come from a chat server: servers sign what
//! they publish on `chat.msg.<channel>` (header `Chat-Sig`, the hex HMAC-SHA256
//! of the payload) with a key derived from the session key they all share.
//! NATS does not tell a subscriber who published, and anyone allowed to
//! publish there (the bot, operators) can set any other header.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::Envelope;
use crate::subjects::SIGNATURE_HEADER;

type HmacSha256 = Hmac<Sha256>;

/// What the bus key is derived for; a new purpose gets a new label.
const PURPOSE: &[u8] = b"chat bus signing v1";
/// Smallest session key accepted, in bytes (as the servers require).
pub const MIN_SESSION_KEY_BYTES: usize = 64;
/// The bytes of the session key the bus key is derived from: its first 64,
/// the part the servers' cookie key is made of.
const MASTER_BYTES: usize = 64;

/// The bytes of a session key as given in `CHAT_SESSION_KEY`: hex, or else
/// the text itself.
pub fn session_key_bytes(given: &str) -> Vec<u8> {
    let given = given.trim();
    hex::decode(given).unwrap_or_else(|_| given.as_bytes().to_vec())
}

/// A session key shorter than [`MIN_SESSION_KEY_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the session key must be at least {MIN_SESSION_KEY_BYTES} bytes (e.g. `openssl rand -hex 64`)"
)]
pub struct ShortSessionKey;

/// The key chat servers sign their messages with and everyone checks them
/// with. Never printed: `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct BusKey([u8; 32]);

impl BusKey {
    /// Derives the bus key from the servers' 64-byte master session key
    /// (the cookie key's bytes).
    pub fn derive(master: &[u8]) -> Self {
        let mut mac = HmacSha256::new_from_slice(master).expect("HMAC takes keys of any length");
        mac.update(PURPOSE);
        Self(mac.finalize().into_bytes().into())
    }

    /// The bus key of a session key as given in `CHAT_SESSION_KEY` (hex or
    /// raw, at least 64 bytes): the same key the servers derive from it.
    pub fn from_session_key(given: &str) -> Result<Self, ShortSessionKey> {
        let bytes = session_key_bytes(given);
        match bytes.get(..MASTER_BYTES) {
            Some(master) => Ok(Self::derive(master)),
            None => Err(ShortSessionKey),
        }
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    /// The signature of `payload`, as it goes in the `Chat-Sig` header.
    pub fn sign(&self, payload: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(payload);
        hex::encode(mac.finalize().into_bytes())
    }

    /// The `Chat-Sig` header for `payload`.
    pub fn header(&self, payload: &[u8]) -> (String, String) {
        (SIGNATURE_HEADER.to_owned(), self.sign(payload))
    }

    /// Whether `signature` (hex) is this key's signature of `payload`,
    /// compared in constant time.
    pub fn verify(&self, payload: &[u8], signature: &str) -> bool {
        let Ok(bytes) = hex::decode(signature) else {
            return false;
        };
        let mut mac = self.mac();
        mac.update(payload);
        mac.verify_slice(&bytes).is_ok()
    }

    /// Whether a chat server signed this envelope's payload.
    pub fn signed(&self, envelope: &Envelope) -> bool {
        envelope
            .header(SIGNATURE_HEADER)
            .is_some_and(|sig| self.verify(&envelope.payload, sig))
    }
}

impl std::fmt::Debug for BusKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BusKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    const GIVEN: &str = "test-session-key-test-session-key-test-session-key-test-session-key!";

    fn key() -> BusKey {
        BusKey::from_session_key(GIVEN).unwrap()
    }

    fn envelope(headers: Vec<(String, String)>, payload: &'static [u8]) -> Envelope {
        Envelope {
            subject: "chat.msg.general".to_owned(),
            reply: None,
            headers,
            payload: Bytes::from_static(payload),
        }
    }

    #[test]
    fn a_signature_verifies_only_for_its_payload_and_key() {
        let sig = key().sign(b"{\"text\":\"hi\"}");
        assert_eq!(sig.len(), 64, "hex of 32 bytes");
        assert!(key().verify(b"{\"text\":\"hi\"}", &sig));
        assert!(
            !key().verify(b"{\"text\":\"hi!\"}", &sig),
            "another payload"
        );
        let other = BusKey::from_session_key(&"k".repeat(64)).unwrap();
        assert!(!other.verify(b"{\"text\":\"hi\"}", &sig), "another key");
        for bad in ["", "zz", &sig[..62], &format!("{sig}00")] {
            assert!(!key().verify(b"{\"text\":\"hi\"}", bad), "{bad:?}");
        }
    }

    #[test]
    fn the_key_comes_from_the_first_64_bytes_of_the_session_key_hex_or_raw() {
        let raw = BusKey::from_session_key(GIVEN).unwrap();
        assert_eq!(raw, BusKey::derive(&GIVEN.as_bytes()[..64]));
        let hex_key = "ab".repeat(64);
        assert_eq!(
            BusKey::from_session_key(&format!(" {hex_key}\n")).unwrap(),
            BusKey::derive(&[0xab; 64])
        );
        assert_eq!(BusKey::from_session_key("too-short"), Err(ShortSessionKey));
        assert_ne!(raw, BusKey::derive(&[0xab; 64]));
    }

    #[test]
    fn only_an_envelope_with_a_valid_chat_sig_header_is_signed() {
        let k = key();
        let payload = b"{\"text\":\"hi\"}";
        assert!(k.signed(&envelope(vec![k.header(payload)], payload)));
        assert!(!k.signed(&envelope(Vec::new(), payload)));
        let forged = vec![("Chat-Sig".to_owned(), "00".repeat(32))];
        assert!(!k.signed(&envelope(forged, payload)));
        let origin_only = vec![("Chat-Origin".to_owned(), "srv-1".to_owned())];
        assert!(!k.signed(&envelope(origin_only, payload)));
    }

    #[test]
    fn the_key_is_never_printed() {
        assert_eq!(format!("{:?}", key()), "BusKey(<redacted>)");
    }
}
