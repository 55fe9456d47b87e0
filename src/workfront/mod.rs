//! Workfront: the only code that knows Workfront's URLs and JSON.
//!
//! The client turns searches into pages of wire rows and those into [`crate::core::model`] values.
//! Errors are classified ([`WorkfrontError`]) so callers can branch on transient / auth / permanent.

pub mod access;
pub mod approvals;
mod client;
mod documents;
mod error;
pub mod events;
mod links;
pub mod project_documents;
mod subscriptions;
mod tasks;
mod wire;

pub use client::WorkfrontClient;
pub use documents::{FoundDocument, FoundVersion};
pub use error::WorkfrontError;
pub use links::workfront_project_url;
pub use subscriptions::Subscription;
