//! Frame.io: the only code that knows Frame.io's URLs and JSON (v4 API).
//!
//! A [`FrameioClient`] holds one credential and its own [`rate_limit::RateLimiter`], because
//! Frame.io's limits are per user. It returns the plain values below, never wire types.

pub mod actions;
mod client;
mod error;
pub mod folder;
pub mod rate_limit;
pub mod review;
mod wire;

pub use client::FrameioClient;
pub use error::FrameioError;

use crate::config::FrameioCredential;
use crate::ids::{FrameioAccountId, FrameioUserId, FrameioWorkspaceId};
use crate::ims::ImsTokenSource;
use crate::secret::Secret;
use std::sync::Arc;

/// How requests authenticate. A legacy developer token works only for accounts not administered
/// through the Adobe Admin Console (and needs `x-frameio-legacy-token-auth: true`); accounts on
/// the Admin Console take IMS server-to-server access tokens as a plain bearer token.
#[derive(Clone, Debug)]
pub enum FrameioAuth {
    DeveloperToken(Secret),
    ServerToServer(Arc<ImsTokenSource>),
}

impl From<&FrameioCredential> for FrameioAuth {
    fn from(credential: &FrameioCredential) -> Self {
        match credential {
            FrameioCredential::DeveloperToken(token) => FrameioAuth::DeveloperToken(token.clone()),
            FrameioCredential::ServerToServer(ims) => {
                FrameioAuth::ServerToServer(Arc::new(ImsTokenSource::new(ims.clone())))
            }
        }
    }
}

/// The user a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameioProfile {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameioAccount {
    pub id: FrameioAccountId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameioWorkspace {
    pub id: FrameioWorkspaceId,
    pub name: String,
}

/// A project as Frame.io lists it: a core value (the adoption rule reads it).
pub use crate::core::model::FrameioProject;

/// A user of an account or a project, as the directory and the look-before-adding need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameioMember {
    pub id: FrameioUserId,
    pub email: Option<String>,
    /// The account role (`admin`/`member`) or project role (`editor`, …).
    pub role: Option<String>,
    pub active: bool,
}

/// A custom action in a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameioAction {
    pub id: String,
    pub name: String,
    pub url: String,
}

/// A file (an asset), as a submission names and links it.
#[derive(Debug, Clone)]
pub struct FrameioFile {
    pub id: String,
    pub name: String,
    pub view_url: Option<String>,
    /// Bytes, once uploaded.
    pub size: Option<u64>,
    pub media_type: Option<String>,
    /// The folder or version stack it is in.
    pub parent: Option<String>,
    /// The signed address of the original (`media_links.original.download_url`), when asked for
    /// and allowed: a secret, short-lived, never stored.
    pub original: Option<crate::secret::Secret>,
}

/// A version stack: its id, and its newest file (the "head version").
#[derive(Debug, Clone)]
pub struct FrameioVersionStack {
    pub id: crate::ids::FrameioVersionStackId,
    pub head: FrameioFile,
}
