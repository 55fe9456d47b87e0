//! The pure core: values in, decisions out. Nothing here touches the network, the disk or the
//! clock (the current time, where needed, is a parameter), so all of it is tested exhaustively
//! without mocks.

pub mod access;
pub mod adoption;
pub mod collaborator_plan;
pub mod folder_plan;
pub mod mirror_plan;
pub mod model;
pub mod review;
pub mod routing;

#[cfg(test)]
mod proptests;
