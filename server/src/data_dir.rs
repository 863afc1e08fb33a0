//! The embedded mode's data directory: created readable by its owner only
//! (0700), with the database file 0600 before SQLite first opens it (SQLite
//! gives its `-wal` and `-shm` files the database file's mode).

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use anyhow::Context;

/// Creates `dir` (0700) if it does not exist, and `database` in it (0600) if
/// that does not exist; what exists already is left as it is.
pub fn prepare(dir: &Path, database: &Path) -> anyhow::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("could not create the data dir {}", dir.display()))?;
    let created = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(database);
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("could not create {}", database.display())),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_data_dir_is_private_and_an_existing_database_is_kept() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("new").join("data");
        let db = dir.join("chat.db");
        prepare(&dir, &db).unwrap();
        assert_eq!((mode(&dir), mode(&db)), (0o700, 0o600));
        fs::write(&db, b"kept").unwrap();
        prepare(&dir, &db).unwrap();
        assert_eq!(fs::read(&db).unwrap(), b"kept");
    }
}
