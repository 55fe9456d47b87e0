//! Frame.io: the only code that knows Frame.io's URLs and JSON (v4 API).
//!
//! A [`FrameioClient`] holds one credential and its own [`rate_limit::RateLimiter`], because
//! Frame.io's limits are per user. It returns the plain values below, never wire types.

mod client;
mod error;
pub mod rate_limit;
mod wire;

pub use client::FrameioClient;
pub use error::FrameioError;

use crate::ids::{FrameioAccountId, FrameioProjectId, FrameioWorkspaceId};
use crate::timestamp::Timestamp;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameioProject {
    pub id: FrameioProjectId,
    pub name: String,
    pub workspace_id: Option<FrameioWorkspaceId>,
    pub created_at: Option<Timestamp>,
}
