//! The configuration file: TOML → validated [`Settings`], with every secret read from its `*_file`.
//!
//! Loading happens in two phases, as in ripgrep: the TOML is parsed into plain `Raw*` structs that
//! reject unknown keys, then [`Settings`] is built from them, checking every value and reading every
//! secret file. Nothing else starts until both phases succeed, and every error names the key (and
//! the file for a secret), never a secret's value.

mod duration;
mod folder;
mod review;

pub use duration::parse_duration;
use folder::RawFolder;
pub use folder::{folder_name_problem, FolderSettings, DEFAULT_MAX_FILE_SIZE};
use review::RawReview;
pub use review::{ApprovalSystem, Approver, ApproverRole, ReviewSettings, DEFAULT_MAX_UPLOAD_SIZE};

use crate::core::collaborator_plan::Policy;
use crate::core::model::{CollaboratorRole, RoleChoice};
use crate::ids::{FrameioAccountId, FrameioWorkspaceId};
use crate::ims::ImsCredentials;
use crate::secret::Secret;
use crate::telemetry::LogFormat;
use reqwest::Url;
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where `--config` points when it is not given and `$FRAMEIO_SYNC_CONFIG` is not set.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/frameio-sync/config.toml";

/// A configuration the daemon can run with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The file the settings came from, for messages.
    pub source: PathBuf,
    pub workfront: WorkfrontSettings,
    pub frameio: FrameioSettings,
    pub state: StateSettings,
    /// The HTTP listener (webhooks, custom actions, health); `None` when `[http]` is absent.
    pub http: Option<HttpSettings>,
    /// How `run` writes logs to stderr when not under systemd's journal.
    pub log_format: LogFormat,
    pub collaborators: CollaboratorSettings,
    pub review: ReviewSettings,
    /// `[folder]`: the one-way folder (F7).
    pub folder: FolderSettings,
    /// Things that work but should not be so, for `run` to log: secret files that others than
    /// their owner may read.
    pub warnings: Vec<String>,
}

/// `[collaborators]`: how flagged Workfront users become collaborators on mirrors (F3–F5).
#[derive(Debug, Clone)]
pub struct CollaboratorSettings {
    /// The role, what happens on deactivation, and the mass-removal guard's limits.
    pub policy: Policy,
    /// At most one refetch of an account's user directory per this interval, and only when an
    /// email was not found in it.
    pub directory_refresh: Duration,
    /// While work is parked for a user missing from an account's directory, the directory is
    /// read again at most this often (sooner than `directory_refresh`: an admin who invites the
    /// user expects them added within a minute or two).
    pub missing_user_recheck: Duration,
}

#[derive(Debug, Clone)]
pub struct WorkfrontSettings {
    /// The tenant's host, e.g. `https://acme.my.workfront.com`.
    pub base_url: Url,
    /// Pinned, because an unversioned URL follows Workfront's newest version.
    pub api_version: String,
    pub auth: WorkfrontAuth,
    /// How often changed projects are polled.
    pub poll_interval: Duration,
    /// How far before the last seen `lastUpdateDate` an incremental poll starts again, so a change
    /// written while the previous poll ran (or with a skewed clock) is not missed.
    pub poll_overlap: Duration,
    /// The custom field that marks a Frame.io user (F3).
    pub frameio_user_field: String,
    /// The project custom field (`DE:<name>`) that gets each mirror's Frame.io address, and
    /// names the mirror to adopt when the state is lost; `None`: no link is written or read.
    pub link_field: Option<String>,
    /// Requests in flight at once; Workfront limits concurrent requests per customer.
    pub max_in_flight: usize,
    /// Rows per search page; Workfront refuses more than 2000.
    pub page_size: usize,
}

/// How the daemon authenticates to Workfront.
#[derive(Debug, Clone)]
pub enum WorkfrontAuth {
    ApiKey(Secret),
    /// An Adobe Developer Console OAuth server-to-server credential and the IMS organization.
    ServerToServer {
        credentials: ImsCredentials,
        org_id: String,
    },
}

/// How the daemon authenticates to a Frame.io account.
#[derive(Debug, Clone)]
pub enum FrameioCredential {
    /// A legacy developer token (accounts not on the Adobe Admin Console).
    DeveloperToken(Secret),
    /// An Adobe Developer Console OAuth server-to-server credential (accounts on the Admin Console).
    ServerToServer(ImsCredentials),
}

#[derive(Debug, Clone)]
pub struct FrameioSettings {
    /// `https://api.frame.io`; `/v4/` is appended.
    pub base_url: Url,
    /// F1's default account; `None` when projects are only routed through group connections.
    pub default: Option<DefaultAccount>,
    /// How long one request may take before it counts as failed (and, for a write, as
    /// possibly carried out).
    pub request_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct DefaultAccount {
    pub credential: FrameioCredential,
    pub account_id: FrameioAccountId,
    pub workspace_id: FrameioWorkspaceId,
}

#[derive(Debug, Clone)]
pub struct StateSettings {
    /// Where sled and the control socket live.
    pub dir: PathBuf,
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub listen: SocketAddr,
    pub workfront_webhook_token: Option<Secret>,
    pub frameio_action_secret: Option<Secret>,
    pub limits: ListenerLimits,
    /// `http.metrics_listen`: `/metrics` (and `/healthz`) on an address of their own, and not on
    /// the public listener.
    pub metrics_listen: Option<SocketAddr>,
    /// `http.metrics_token_file`: `/metrics` asks for `Authorization: Bearer <token>`.
    pub metrics_token: Option<Secret>,
}

impl HttpSettings {
    /// A listener on `listen` with the default limits and nothing else configured.
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            workfront_webhook_token: None,
            frameio_action_secret: None,
            limits: ListenerLimits::default(),
            metrics_listen: None,
            metrics_token: None,
        }
    }
}

/// What one client, or many, may take of the HTTP listener before anyone is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerLimits {
    /// `http.max_connections`: open connections; more are answered 503 and closed.
    pub max_connections: usize,
    /// `http.max_requests_in_flight`: requests being handled at once; more are answered 503.
    pub max_requests: usize,
    /// `http.header_timeout`: the longest a request's head may take to arrive, and the longest a
    /// kept-alive connection may sit idle.
    pub header_timeout: Duration,
    /// `http.body_timeout`: the longest a request's body may take to arrive.
    pub body_timeout: Duration,
}

impl Default for ListenerLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            max_requests: 64,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// A configuration that cannot be used, with the key (and file) it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file.
    pub path: PathBuf,
    /// The key, dotted (`workfront.poll_interval`), or the section for a syntax error.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config {}: {}: {}", self.path.display(), self.key, self.message)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    log_format: Option<String>,
    workfront: RawWorkfront,
    #[serde(default)]
    frameio: RawFrameio,
    #[serde(default)]
    state: RawState,
    http: Option<RawHttp>,
    #[serde(default)]
    collaborators: RawCollaborators,
    #[serde(default)]
    review: RawReview,
    #[serde(default)]
    folder: RawFolder,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCollaborators {
    #[serde(default = "default_role")]
    role: String,
    #[serde(default = "default_on_deactivate")]
    on_deactivate: String,
    #[serde(default = "default_max_removals")]
    max_removals: usize,
    #[serde(default = "default_max_removal_percent")]
    max_removal_percent: u32,
    #[serde(default = "default_directory_refresh", deserialize_with = "duration::deserialize")]
    directory_refresh: Duration,
    #[serde(default = "default_missing_user_recheck", deserialize_with = "duration::deserialize")]
    missing_user_recheck: Duration,
}

impl Default for RawCollaborators {
    fn default() -> Self {
        Self {
            role: default_role(),
            on_deactivate: default_on_deactivate(),
            max_removals: default_max_removals(),
            max_removal_percent: default_max_removal_percent(),
            directory_refresh: default_directory_refresh(),
            missing_user_recheck: default_missing_user_recheck(),
        }
    }
}

fn default_role() -> String {
    "editor".into()
}
fn default_on_deactivate() -> String {
    "remove".into()
}
fn default_max_removals() -> usize {
    25
}
fn default_max_removal_percent() -> u32 {
    10
}
fn default_directory_refresh() -> Duration {
    Duration::from_secs(600)
}
fn default_missing_user_recheck() -> Duration {
    Duration::from_secs(60)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkfront {
    base_url: String,
    #[serde(default = "default_api_version")]
    api_version: String,
    #[serde(default = "default_workfront_auth")]
    auth: String,
    api_key_file: Option<PathBuf>,
    client_id: Option<String>,
    client_secret_file: Option<PathBuf>,
    scopes: Option<String>,
    ims_token_url: Option<String>,
    ims_org_id: Option<String>,
    #[serde(default = "default_poll_interval", deserialize_with = "duration::deserialize")]
    poll_interval: Duration,
    #[serde(default = "default_poll_overlap", deserialize_with = "duration::deserialize")]
    poll_overlap: Duration,
    #[serde(default = "default_user_field")]
    frameio_user_field: String,
    link_field: Option<String>,
    #[serde(default = "default_max_in_flight")]
    max_in_flight: usize,
    #[serde(default = "default_page_size")]
    page_size: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFrameio {
    #[serde(default = "default_frameio_url")]
    base_url: String,
    default: Option<RawFrameioAccount>,
    #[serde(default = "default_request_timeout", deserialize_with = "duration::deserialize")]
    request_timeout: Duration,
}

impl Default for RawFrameio {
    fn default() -> Self {
        Self {
            base_url: default_frameio_url(),
            default: None,
            request_timeout: default_request_timeout(),
        }
    }
}

fn default_request_timeout() -> Duration {
    Duration::from_secs(45)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFrameioAccount {
    #[serde(default = "default_frameio_auth")]
    auth: String,
    token_file: Option<PathBuf>,
    client_id: Option<String>,
    client_secret_file: Option<PathBuf>,
    scopes: Option<String>,
    ims_token_url: Option<String>,
    account_id: String,
    workspace_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    #[serde(default = "default_state_dir")]
    dir: PathBuf,
}

impl Default for RawState {
    fn default() -> Self {
        Self {
            dir: default_state_dir(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    listen: String,
    workfront_webhook_token_file: Option<PathBuf>,
    frameio_action_secret_file: Option<PathBuf>,
    max_connections: Option<usize>,
    max_requests_in_flight: Option<usize>,
    #[serde(default, deserialize_with = "duration::deserialize_option")]
    header_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "duration::deserialize_option")]
    body_timeout: Option<Duration>,
    metrics_listen: Option<String>,
    metrics_token_file: Option<PathBuf>,
}

fn default_api_version() -> String {
    "v21.0".into()
}
fn default_workfront_auth() -> String {
    "api_key".into()
}
fn default_frameio_auth() -> String {
    "developer_token".into()
}
fn default_poll_interval() -> Duration {
    Duration::from_secs(60)
}
fn default_poll_overlap() -> Duration {
    Duration::from_secs(300)
}
fn default_user_field() -> String {
    "DE:Add to projects in Frame.io".into()
}
fn default_max_in_flight() -> usize {
    3
}
fn default_page_size() -> usize {
    2000
}
fn default_frameio_url() -> String {
    "https://api.frame.io".into()
}
fn default_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/frameio-sync")
}

/// Reads and validates the configuration file at `path`.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|err| ConfigError {
        path: path.to_owned(),
        key: "(file)".into(),
        message: format!("cannot read the configuration file: {err}"),
    })?;
    parse(path, &text)
}

/// Validates configuration text; `path` names the file in errors and anchors relative secret paths.
pub fn parse(path: &Path, text: &str) -> Result<Settings, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|err| toml_error(path, text, &err))?;
    Validator {
        path,
        base: path.parent().unwrap_or(Path::new(".")),
        warnings: Default::default(),
    }
    .settings(raw)
}

/// Turns toml's multi-line error into one line that names where it is: the key (`section.key`)
/// for a value that did not read (a duration, say), else the section and the line.
fn toml_error(path: &Path, text: &str, err: &toml::de::Error) -> ConfigError {
    let (section, line) = match err.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let line = text[..start].matches('\n').count() + 1;
            // Up to the end of the error's line: for an unknown table, the span is its header.
            let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            let before = &text[..end];
            let section = before
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| l.starts_with('[') && l.ends_with(']'))
                .unwrap_or("(top level)")
                .to_owned();
            // A value's error: the span starts after the `=` of a `key = value` line.
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_text = &text[line_start..end];
            if let Some(eq) = line_text.find('=').filter(|eq| line_start + eq < start) {
                let key = line_text[..eq].trim().trim_matches('"');
                let simple = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if simple {
                    let table = section.trim_start_matches('[').trim_end_matches(']');
                    let name = if section == "(top level)" {
                        key.to_owned()
                    } else {
                        format!("{table}.{key}")
                    };
                    return ConfigError {
                        path: path.to_owned(),
                        key: name,
                        message: err.message().replace('\n', " "),
                    };
                }
            }
            (section, Some(line))
        }
        None => ("(file)".to_owned(), None),
    };
    let message = err.message().replace('\n', " ");
    ConfigError {
        path: path.to_owned(),
        key: match line {
            Some(line) => format!("{section} line {line}"),
            None => section,
        },
        message,
    }
}

struct Validator<'a> {
    path: &'a Path,
    base: &'a Path,
    warnings: std::cell::RefCell<Vec<String>>,
}

impl Validator<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: self.path.to_owned(),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    fn settings(&self, raw: RawConfig) -> Result<Settings, ConfigError> {
        let workfront = self.workfront(raw.workfront)?;
        let review = self.review(raw.review, &workfront.auth)?;
        let mut settings = Settings {
            source: self.path.to_owned(),
            workfront,
            frameio: self.frameio(raw.frameio)?,
            state: StateSettings {
                dir: self.resolve(&raw.state.dir),
            },
            http: raw.http.map(|h| self.http(h)).transpose()?,
            collaborators: self.collaborators(raw.collaborators)?,
            review,
            folder: self.folder(raw.folder)?,
            log_format: match raw.log_format.as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    return Err(self.err("log_format", format!("{other:?} is not one of \"text\", \"json\"")))
                }
            },
            warnings: Vec::new(),
        };
        settings.warnings = self.warnings.take();
        Ok(settings)
    }

    fn workfront(&self, raw: RawWorkfront) -> Result<WorkfrontSettings, ConfigError> {
        let base_url = self.url("workfront.base_url", &raw.base_url)?;
        let version_ok = raw
            .api_version
            .strip_prefix('v')
            .and_then(|v| v.split_once('.'))
            .is_some_and(|(major, minor)| {
                !major.is_empty() && !minor.is_empty() && major.bytes().chain(minor.bytes()).all(|c| c.is_ascii_digit())
            });
        if !version_ok {
            return Err(self.err(
                "workfront.api_version",
                format!("{:?} is not an API version; write e.g. \"v21.0\"", raw.api_version),
            ));
        }
        let auth = match raw.auth.as_str() {
            "api_key" => {
                let file = raw
                    .api_key_file
                    .ok_or_else(|| self.err("workfront.api_key_file", "is required when auth = \"api_key\""))?;
                WorkfrontAuth::ApiKey(self.secret("workfront.api_key_file", &file)?)
            }
            "adobe_server_to_server" => WorkfrontAuth::ServerToServer {
                credentials: self.ims(
                    "workfront",
                    raw.client_id,
                    raw.client_secret_file,
                    raw.scopes,
                    raw.ims_token_url,
                )?,
                org_id: raw.ims_org_id.filter(|o| !o.trim().is_empty()).ok_or_else(|| {
                    self.err(
                        "workfront.ims_org_id",
                        "is required when auth = \"adobe_server_to_server\" (e.g. \"ABC123@AdobeOrg\")",
                    )
                })?,
            },
            other => {
                return Err(self.err(
                    "workfront.auth",
                    format!("{other:?} is not one of \"api_key\", \"adobe_server_to_server\""),
                ))
            }
        };
        let poll_interval = raw.poll_interval;
        if poll_interval < Duration::from_secs(1) {
            return Err(self.err("workfront.poll_interval", "must be at least \"1s\""));
        }
        if !(1..=16).contains(&raw.max_in_flight) {
            return Err(self.err("workfront.max_in_flight", "must be between 1 and 16"));
        }
        if !(1..=2000).contains(&raw.page_size) {
            return Err(self.err(
                "workfront.page_size",
                "must be between 1 and 2000 (Workfront's $$LIMIT maximum)",
            ));
        }
        if raw.frameio_user_field.trim().is_empty() {
            return Err(self.err("workfront.frameio_user_field", "must not be empty"));
        }
        if let Some(field) = &raw.link_field {
            let name = field.strip_prefix("DE:").map(str::trim).unwrap_or_default();
            if name.is_empty() || field.chars().count() > 255 || field.chars().any(char::is_control) {
                return Err(self.err(
                    "workfront.link_field",
                    "must be a custom field's API name: \"DE:\" and the field's name, e.g. \"DE:Frame.io project\"",
                ));
            }
        }
        Ok(WorkfrontSettings {
            base_url,
            api_version: raw.api_version,
            auth,
            poll_interval,
            poll_overlap: raw.poll_overlap,
            frameio_user_field: raw.frameio_user_field,
            link_field: raw.link_field,
            max_in_flight: raw.max_in_flight,
            page_size: raw.page_size,
        })
    }

    fn frameio(&self, raw: RawFrameio) -> Result<FrameioSettings, ConfigError> {
        let base_url = self.url("frameio.base_url", &raw.base_url)?;
        let default = match raw.default {
            None => None,
            Some(account) => {
                let credential = match account.auth.as_str() {
                    "developer_token" => {
                        let file = account.token_file.ok_or_else(|| {
                            self.err(
                                "frameio.default.token_file",
                                "is required when auth = \"developer_token\"",
                            )
                        })?;
                        FrameioCredential::DeveloperToken(self.secret("frameio.default.token_file", &file)?)
                    }
                    "adobe_server_to_server" => FrameioCredential::ServerToServer(self.ims(
                        "frameio.default",
                        account.client_id,
                        account.client_secret_file,
                        account.scopes,
                        account.ims_token_url,
                    )?),
                    other => {
                        return Err(self.err(
                            "frameio.default.auth",
                            format!("{other:?} is not one of \"developer_token\", \"adobe_server_to_server\""),
                        ))
                    }
                };
                Some(DefaultAccount {
                    credential,
                    account_id: FrameioAccountId::new(account.account_id)
                        .map_err(|e| self.err("frameio.default.account_id", e.to_string()))?,
                    workspace_id: FrameioWorkspaceId::new(account.workspace_id)
                        .map_err(|e| self.err("frameio.default.workspace_id", e.to_string()))?,
                })
            }
        };
        let request_timeout = raw.request_timeout;
        if request_timeout < Duration::from_secs(1) {
            return Err(self.err("frameio.request_timeout", "must be at least \"1s\""));
        }
        Ok(FrameioSettings {
            base_url,
            default,
            request_timeout,
        })
    }

    /// A size like `"2GiB"` or `"500 MB"`, from 1 byte to 1 TiB.
    fn size(&self, key: &str, text: &str) -> Result<u64, ConfigError> {
        let size = text
            .trim()
            .parse::<bytesize::ByteSize>()
            .map_err(|_| self.err(key, format!("{text:?} is not a size like \"2GiB\" or \"500 MB\"")))?
            .as_u64();
        if !(1..=1 << 40).contains(&size) {
            return Err(self.err(key, format!("{text:?} must be between 1 byte and 1 TiB")));
        }
        Ok(size)
    }

    fn collaborators(&self, raw: RawCollaborators) -> Result<CollaboratorSettings, ConfigError> {
        let role = match raw.role.as_str() {
            "from_access" => RoleChoice::FromAccess,
            name => RoleChoice::Fixed(CollaboratorRole::parse(name).ok_or_else(|| {
                let names: Vec<String> = CollaboratorRole::ALL
                    .iter()
                    .map(|r| format!("{:?}", r.as_str()))
                    .collect();
                self.err(
                    "collaborators.role",
                    format!("{:?} is not one of {} or \"from_access\"", raw.role, names.join(", ")),
                )
            })?),
        };
        let remove_on_deactivate = match raw.on_deactivate.as_str() {
            "remove" => true,
            "keep" => false,
            other => {
                return Err(self.err(
                    "collaborators.on_deactivate",
                    format!("{other:?} is not one of \"remove\", \"keep\""),
                ))
            }
        };
        if raw.max_removal_percent > 100 {
            return Err(self.err("collaborators.max_removal_percent", "must be between 0 and 100"));
        }
        Ok(CollaboratorSettings {
            policy: Policy {
                role,
                remove_on_deactivate,
                max_removals: raw.max_removals,
                max_removal_percent: raw.max_removal_percent,
            },
            directory_refresh: raw.directory_refresh,
            missing_user_recheck: {
                let key = "collaborators.missing_user_recheck";
                let every = raw.missing_user_recheck;
                // A directory read is one or more pages of Frame.io reads (100 a minute per user;
                // the client paces them, so this only bounds how much of that budget goes here).
                if every < Duration::from_secs(1) {
                    return Err(self.err(key, "must be at least \"1s\""));
                }
                every
            },
        })
    }

    fn http(&self, raw: RawHttp) -> Result<HttpSettings, ConfigError> {
        let address = |key: &str, text: &str| -> Result<SocketAddr, ConfigError> {
            text.parse().map_err(|_| {
                self.err(
                    key,
                    format!("{text:?} is not an address; write e.g. \"127.0.0.1:8787\""),
                )
            })
        };
        let defaults = ListenerLimits::default();
        // Descriptors are the limit that matters: systemd's LimitNOFILE= is 8192 in our units.
        let count = |key: &str, value: Option<usize>, default: usize| -> Result<usize, ConfigError> {
            match value {
                None => Ok(default),
                Some(n) if (1..=4096).contains(&n) => Ok(n),
                Some(n) => Err(self.err(key, format!("{n} is out of range; write a number from 1 to 4096"))),
            }
        };
        let timeout = |key: &str, value: Option<Duration>, default: Duration| -> Result<Duration, ConfigError> {
            let Some(value) = value else { return Ok(default) };
            if value < Duration::from_millis(100) || value > Duration::from_secs(600) {
                return Err(self.err(
                    key,
                    format!(
                        "\"{}\" is out of range; write from \"100ms\" to \"10m\"",
                        humantime::format_duration(value)
                    ),
                ));
            }
            Ok(value)
        };
        let listen = address("http.listen", &raw.listen)?;
        let metrics_listen = raw
            .metrics_listen
            .map(|text| address("http.metrics_listen", &text))
            .transpose()?;
        if metrics_listen == Some(listen) {
            return Err(self.err(
                "http.metrics_listen",
                "is the same address as http.listen; give metrics an address of their own, or leave it out",
            ));
        }
        Ok(HttpSettings {
            listen,
            workfront_webhook_token: raw
                .workfront_webhook_token_file
                .map(|f| self.secret("http.workfront_webhook_token_file", &f))
                .transpose()?,
            frameio_action_secret: raw
                .frameio_action_secret_file
                .map(|f| self.secret("http.frameio_action_secret_file", &f))
                .transpose()?,
            limits: ListenerLimits {
                max_connections: count("http.max_connections", raw.max_connections, defaults.max_connections)?,
                max_requests: count(
                    "http.max_requests_in_flight",
                    raw.max_requests_in_flight,
                    defaults.max_requests,
                )?,
                header_timeout: timeout("http.header_timeout", raw.header_timeout, defaults.header_timeout)?,
                body_timeout: timeout("http.body_timeout", raw.body_timeout, defaults.body_timeout)?,
            },
            metrics_listen,
            metrics_token: raw
                .metrics_token_file
                .map(|f| self.secret("http.metrics_token_file", &f))
                .transpose()?,
        })
    }

    /// The server-to-server keys of `section`: `client_id`, `client_secret_file` and `scopes`
    /// are required; `ims_token_url` defaults to Adobe's.
    fn ims(
        &self,
        section: &str,
        client_id: Option<String>,
        client_secret_file: Option<PathBuf>,
        scopes: Option<String>,
        token_url: Option<String>,
    ) -> Result<ImsCredentials, ConfigError> {
        let required = |key: &str| {
            self.err(
                &format!("{section}.{key}"),
                "is required when auth = \"adobe_server_to_server\"",
            )
        };
        let client_id = client_id
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| required("client_id"))?;
        let secret_file = client_secret_file.ok_or_else(|| required("client_secret_file"))?;
        let scopes = scopes
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| required("scopes"))?;
        Ok(ImsCredentials {
            client_id,
            client_secret: self.secret(&format!("{section}.client_secret_file"), &secret_file)?,
            scopes,
            token_url: self.url(
                &format!("{section}.ims_token_url"),
                token_url.as_deref().unwrap_or(crate::ims::DEFAULT_TOKEN_URL),
            )?,
        })
    }

    fn url(&self, key: &str, value: &str) -> Result<Url, ConfigError> {
        let url = Url::parse(value).map_err(|e| self.err(key, format!("{value:?} is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(self.err(key, format!("{value:?} must be an http(s) URL with a host")));
        }
        Ok(url)
    }

    /// Relative paths are read from the configuration file's folder.
    fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.base.join(path)
        }
    }

    fn secret(&self, key: &str, file: &Path) -> Result<Secret, ConfigError> {
        use std::os::unix::fs::PermissionsExt;
        let path = self.resolve(file);
        let secret = Secret::read_file(&path).map_err(|e| self.err(key, format!("{}: {e}", path.display())))?;
        // Secrets at rest are for the service user alone; a looser file still works (refusing it
        // would stop a running service over a chmod), but every start says so.
        if let Ok(meta) = std::fs::metadata(&path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                self.warnings.borrow_mut().push(format!(
                    "{key}: {} can be read by others than its owner (mode {mode:04o}); run `chmod 600 {}` and make the service user its owner",
                    path.display(),
                    path.display()
                ));
            }
        }
        Ok(secret)
    }
}

#[cfg(test)]
mod tests;
