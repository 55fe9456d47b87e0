//! The project link field (`workfront.link_field`): a custom field on each mirrored project that
//! holds its mirror's Frame.io address, so a coordinator clicks through from Workfront, and that
//! names the mirror to adopt after the state dir is lost.
//!
//! A `DE:` value only sticks when the custom form holding the field is attached to the project;
//! Workfront may refuse the write, or take it and keep nothing. So a write is read back.

use super::client::WorkfrontClient;
use super::error::WorkfrontError;
use crate::ids::WorkfrontProjectId;
use crate::store::SendPermit;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A project row with whatever custom fields were asked for.
#[derive(Deserialize)]
struct FieldsRow {
    #[serde(rename = "parameterValues", default)]
    parameter_values: Option<Map<String, Value>>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl FieldsRow {
    /// `field`'s text, top-level (`fields=DE:…`) or in `parameterValues`; an empty one is none.
    fn text(&self, field: &str) -> Option<String> {
        let value = self
            .rest
            .get(field)
            .or_else(|| self.parameter_values.as_ref()?.get(field))?;
        value
            .as_str()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }
}

/// Where a person opens Workfront project `id` on the tenant at `base` (its web address, with any
/// path prefix the admin configured).
pub fn workfront_project_url(base: &reqwest::Url, id: &WorkfrontProjectId) -> String {
    crate::url_segments::under(base, &["project", id.as_str()]).to_string()
}

/// The longest link read back: a Frame.io address is a few dozen characters.
const MAX_LINK: usize = 2048;

impl WorkfrontClient {
    /// What `field` holds on `project` (`GET /proj/{id}?fields=DE:…`), if anything.
    pub async fn project_field(
        &self,
        project: &WorkfrontProjectId,
        field: &str,
    ) -> Result<Option<String>, WorkfrontError> {
        let row: FieldsRow = self.get_object("proj", project.as_str(), field).await?;
        Ok(row.text(field).filter(|v| v.len() <= MAX_LINK))
    }

    /// Sets `field` on `project` to `value` (`PUT /proj/{id}?updates={"DE:…":"…"}`). Setting the
    /// same value twice changes nothing.
    pub async fn set_project_field(
        &self,
        _permit: &SendPermit,
        project: &WorkfrontProjectId,
        field: &str,
        value: &str,
    ) -> Result<(), WorkfrontError> {
        let mut updates = Map::new();
        updates.insert(field.to_owned(), Value::from(value));
        let query = [
            ("updates", Value::Object(updates).to_string()),
            ("fields", "ID".to_owned()),
        ];
        let _: Value = self
            .write(Method::PUT, &["proj", project.as_str()], &query, None)
            .await?;
        Ok(())
    }
}
