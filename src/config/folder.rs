//! `[folder]`: the one-way folder (F7). Each mirror gets a folder at its root holding the current
//! version of every document on the Workfront project, while the project's status equates with
//! one of `folder.statuses`.

use super::{ConfigError, Validator};
use serde::Deserialize;

/// The default `folder.max_file_size`: Workfront caps document downloads at 4 GB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 4 << 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderSettings {
    pub enabled: bool,
    /// The folder's name at the root of each mirror.
    pub name: String,
    /// The system status codes (`CUR`, `PLN`…) a project's status must equate with.
    pub statuses: Vec<String>,
    /// Documents on the project's tasks and issues too, in subfolders named after them.
    pub include_tasks: bool,
    /// Larger documents are skipped, with the reason in `status` (bytes).
    pub max_file_size: u64,
}

impl Default for FolderSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            name: "From Workfront".into(),
            statuses: vec!["CUR".into()],
            include_tasks: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFolder {
    enabled: Option<bool>,
    name: Option<String>,
    statuses: Option<Vec<String>>,
    include_tasks: Option<bool>,
    max_file_size: Option<String>,
}

/// A name Frame.io shows as one folder: not empty, no path separator, no control character.
pub fn folder_name_problem(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        Some("is empty")
    } else if name.chars().count() > 255 {
        Some("is longer than 255 characters")
    } else if name.contains('/') || name.contains('\\') {
        Some("contains a path separator")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    }
}

impl Validator<'_> {
    pub(super) fn folder(&self, raw: RawFolder) -> Result<FolderSettings, ConfigError> {
        let defaults = FolderSettings::default();
        let name = match raw.name {
            None => defaults.name,
            Some(name) => {
                let name = name.trim().to_owned();
                if let Some(problem) = folder_name_problem(&name) {
                    return Err(self.err("folder.name", format!("{name:?} {problem}")));
                }
                name
            }
        };
        let statuses = match raw.statuses {
            None => defaults.statuses,
            Some(list) if list.is_empty() => {
                return Err(self.err(
                    "folder.statuses",
                    "names no status: leave it out for [\"CUR\"], or set folder.enabled = false",
                ))
            }
            Some(list) => list
                .into_iter()
                .map(|s| {
                    let code = s.trim().to_ascii_uppercase();
                    let plain = (1..=8).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric());
                    if plain {
                        Ok(code)
                    } else {
                        Err(self.err(
                            "folder.statuses",
                            format!("{s:?} is not a Workfront status code (like \"CUR\" or \"PLN\")"),
                        ))
                    }
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let max_file_size = match raw.max_file_size {
            None => defaults.max_file_size,
            Some(text) => self.size("folder.max_file_size", &text)?,
        };
        Ok(FolderSettings {
            enabled: raw.enabled.unwrap_or(defaults.enabled),
            name,
            statuses,
            include_tasks: raw.include_tasks.unwrap_or(defaults.include_tasks),
            max_file_size,
        })
    }
}
