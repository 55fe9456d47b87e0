//! Workfront's access rules (F8) and the asset-submission gate (F6), as plain functions over
//! values: [`levels`] (access levels and the license table), [`sharing`] (permissions, shares,
//! inheritance) and [`decide`] (`can`, `may_submit_asset`). The Workfront client builds the values
//! (`workfront::access`); nothing here does I/O.

pub mod decide;
pub mod levels;
pub mod sharing;

pub use decide::{can, collaborator_role, may_submit_asset, Action, Decision, Rule};
pub use levels::{AccessLevel, BuiltinLevel, LevelSetting, License, ObjectType};
pub use sharing::{Accessor, Permission, SecuredObject, Share, Subject};

#[cfg(test)]
mod tests;
