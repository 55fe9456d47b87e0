//! Secrets kept as files in the state dir (mode 0600 in 0700 folders), written whole and renamed
//! into place so a reader never sees half of one: connection tokens (`tokens/<group>`) and custom
//! action secrets (`actions/<action id>`). Plain functions over the state dir's path, because the
//! CLI writes action secrets while a running daemon holds the sled store.

use super::StoreError;
use crate::secret::Secret;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `secret` to `path` (0600), creating its folder (0700), durably.
pub fn write_secret_file(path: &Path, secret: &Secret) -> Result<(), StoreError> {
    let error = |e: std::io::Error| StoreError::Token {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let dir = path.parent().expect("a secret file has a folder");
    crate::durable::create_dir_all(dir, 0o700).map_err(error)?;
    crate::durable::write_private(path, |file| file.write_all(secret.expose().as_bytes())).map_err(error)
}

/// Where a webhook's secret lives (`webhooks/<id>`); `None` for an id that is not plainly one.
pub fn webhook_secret_path(state_dir: &Path, webhook_id: &str) -> Option<PathBuf> {
    action_secret_path(state_dir, webhook_id).map(|p| state_dir.join("webhooks").join(p.file_name().expect("a name")))
}

pub fn save_webhook_secret(state_dir: &Path, webhook_id: &str, secret: &Secret) -> Result<(), StoreError> {
    let path = webhook_secret_path(state_dir, webhook_id).ok_or_else(|| StoreError::Token {
        path: state_dir.join("webhooks"),
        message: format!("{webhook_id:?} is not a usable webhook id"),
    })?;
    write_secret_file(&path, secret)
}

/// The stored secret of a webhook, if there is one.
pub fn webhook_secret(state_dir: &Path, webhook_id: &str) -> Option<Secret> {
    Secret::read_file(&webhook_secret_path(state_dir, webhook_id)?).ok()
}

/// Every stored webhook secret (a delivery names no webhook, so each is tried).
pub fn webhook_secrets(state_dir: &Path) -> Vec<Secret> {
    let Ok(entries) = std::fs::read_dir(state_dir.join("webhooks")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| Secret::read_file(&e.path()).ok())
        .take(64)
        .collect()
}

/// Where an action's secret lives. `None` for an id that is not plainly an id: the id comes from
/// a request body before its signature is checked, so it must never name another path.
pub fn action_secret_path(state_dir: &Path, action_id: &str) -> Option<PathBuf> {
    let plain = !action_id.is_empty()
        && action_id.len() <= 128
        && action_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    plain.then(|| state_dir.join("actions").join(action_id))
}

pub fn save_action_secret(state_dir: &Path, action_id: &str, secret: &Secret) -> Result<(), StoreError> {
    let path = action_secret_path(state_dir, action_id).ok_or_else(|| StoreError::Token {
        path: state_dir.join("actions"),
        message: format!("{action_id:?} is not a usable action id"),
    })?;
    write_secret_file(&path, secret)
}

/// The stored secret of an action, if there is one.
pub fn action_secret(state_dir: &Path, action_id: &str) -> Option<Secret> {
    let path = action_secret_path(state_dir, action_id)?;
    Secret::read_file(&path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_secrets_round_trip_and_odd_ids_name_no_path() {
        let dir = tempfile::tempdir().unwrap();
        save_action_secret(dir.path(), "a1-b2", &Secret::new("s3cret")).unwrap();
        assert_eq!(action_secret(dir.path(), "a1-b2").unwrap().expose(), "s3cret");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("actions/a1-b2"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        for odd in ["", "../tokens/g1", "a/b", "a.b", &"x".repeat(129)] {
            assert!(action_secret_path(dir.path(), odd).is_none(), "{odd}");
        }
        assert!(action_secret(dir.path(), "missing").is_none());
    }
}
