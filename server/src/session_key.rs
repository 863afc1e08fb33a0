//! The key that signs and encrypts session cookies: given, or generated once
//! and kept in the data dir (mode 0600) so cookies survive restarts.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use actix_web::cookie::Key;
use anyhow::{bail, Context};
use chat_shared::bus::signature::session_key_bytes;

/// Smallest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 64;

/// Reads a key given as hex (128+ hex digits) or as raw text (64+ bytes).
pub fn parse(given: &str) -> anyhow::Result<Key> {
    let bytes = session_key_bytes(given);
    if bytes.len() < MIN_KEY_BYTES {
        bail!(
            "the session key must be at least {MIN_KEY_BYTES} bytes (e.g. `openssl rand -hex 64`)"
        );
    }
    Key::try_from(bytes.as_slice()).context("unusable session key")
}

/// Loads `dir/session.key`, creating it with a fresh key if missing.
pub fn load_or_create(dir: &Path) -> anyhow::Result<Key> {
    let path = dir.join("session.key");
    if path.exists() {
        let mode = fs::metadata(&path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
                .with_context(|| format!("could not restrict {}", path.display()))?;
        }
        let text = fs::read_to_string(&path)
            .with_context(|| format!("could not read {}", path.display()))?;
        return parse(&text).with_context(|| {
            format!(
                "{} is damaged; delete it to log everyone out and start afresh",
                path.display()
            )
        });
    }
    let key = Key::generate();
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("could not create {}", path.display()))?;
    writeln!(file, "{}", hex::encode(key.master()))?;
    tracing::info!(path = %path.display(), "generated a new session key");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_refused() {
        assert!(parse("tooshort").is_err());
        assert!(
            parse(&"ab".repeat(32)).is_err(),
            "32 bytes of hex is too short"
        );
        assert!(parse(&"ab".repeat(64)).is_ok());
        assert!(parse(&"k".repeat(64)).is_ok());
    }

    #[test]
    fn the_archiver_derives_the_bus_key_the_servers_do() {
        use chat_shared::bus::BusKey;
        for given in [
            "k".repeat(70),
            "ab".repeat(64),
            format!(" {}\n", "q".repeat(64)),
        ] {
            let key = parse(&given).unwrap();
            assert_eq!(
                BusKey::from_session_key(&given).unwrap(),
                BusKey::derive(key.master()),
                "{given:?}"
            );
        }
    }

    #[test]
    fn a_generated_key_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let mode = fs::metadata(dir.path().join("session.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = load_or_create(dir.path()).unwrap();
        assert_eq!(first.master(), again.master());
    }
}
