//! Password hashing: bcrypt over a SHA-256 digest of the password, so every
//! byte counts (bcrypt alone ignores everything past 72 bytes).

use base64::Engine;
use sha2::{Digest, Sha256};

/// The bcrypt input for a password: its SHA-256, base64 (44 bytes).
fn prehash(password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(password.as_bytes()))
}

/// Hashes a password for storage. Slow on purpose: call off the async workers.
pub fn hash(password: &str, cost: u32) -> Result<String, bcrypt::BcryptError> {
    bcrypt::hash(prehash(password), cost)
}

/// Whether `password` matches the stored `hash`. Slow on purpose.
pub fn verify(password: &str, hash: &str) -> bool {
    bcrypt::verify(prehash(password), hash).unwrap_or(false)
}

/// A bcrypt hash of a random password at the server's cost, made once: an
/// unknown user's login is checked against it, so timing does not tell who exists.
pub fn dummy_hash(cost: u32) -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let secret = chat_shared::message::next_id().to_string();
        hash(&secret, cost).expect("bcrypt hashes a short string")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_longer_than_72_bytes_are_compared_in_full() {
        let a = format!("{}{}", "x".repeat(72), "tail-one");
        let b = format!("{}{}", "x".repeat(72), "tail-two");
        let stored = hash(&a, 4).unwrap();
        assert!(verify(&a, &stored));
        assert!(!verify(&b, &stored), "bytes past 72 matter");
        let multibyte = "é".repeat(128);
        assert!(verify(&multibyte, &hash(&multibyte, 4).unwrap()));
    }

    #[test]
    fn a_wrong_password_or_a_garbled_hash_does_not_verify() {
        let stored = hash("correct horse", 4).unwrap();
        assert!(!verify("correct hors", &stored));
        assert!(!verify("correct horse", "not a hash"));
    }
}
