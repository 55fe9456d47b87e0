//! A local Workfront and Frame.io v4 for `demo` and the end-to-end tests.
//!
//! Both servers are stateful and keep to the API shapes in `shared/reference/`: Workfront's
//! `$$FIRST`/`$$LIMIT` paging (and its refusal of `$$LIMIT` over 2000), the `{"error":…}` envelope,
//! the `apiKey` header, a cap on concurrent requests answered with 429; Frame.io's `{"data":…}`
//! bodies, cursor paging whose `links.next` carries only `after`, both developer-token headers,
//! and per-endpoint leaky-bucket rate limits reported in `x-ratelimit-*` headers on every answer.
//! Faults can be injected (failed requests, creates whose answer is lost) to test the daemon's
//! handling of them. Everything binds to 127.0.0.1 on an ephemeral port.

pub mod dates;
mod faults;
pub mod files;
mod frameio;
mod review;
mod uploads;
mod workfront;
pub mod world;

pub use faults::{FaultCounts, FaultRates};
pub use review::CUSTOMER_ID;
/// The date crate the sandbox's API takes its dates in.
pub use time;
pub use world::World;

use dates::Date;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use world::ProjectRow;

/// Frame.io rate limits, per token and endpoint class: `limit` requests per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub create_per_window: u64,
    pub read_per_window: u64,
    pub window: Duration,
    /// Workfront requests in flight at once before it answers 429.
    pub workfront_concurrency: usize,
}

impl Limits {
    /// Frame.io's documented limits: 10 creates and 100 reads a minute.
    pub fn production() -> Self {
        Self {
            create_per_window: 10,
            read_per_window: 100,
            window: Duration::from_secs(60),
            workfront_concurrency: 10,
        }
    }

    /// The same shape, sped up 60 times: 10 creates and 100 reads a second.
    pub fn fast() -> Self {
        Self {
            window: Duration::from_secs(1),
            ..Self::production()
        }
    }

    /// Only creates are limited, to `n` a second: a convergence that spans many rounds.
    pub fn creates_per_second(n: u64) -> Self {
        Self {
            create_per_window: n,
            window: Duration::from_secs(1),
            ..Self::unlimited()
        }
    }

    /// Limits that never bind, for tests that are not about pacing.
    pub fn unlimited() -> Self {
        Self {
            create_per_window: 1_000_000,
            read_per_window: 1_000_000,
            window: Duration::from_secs(1),
            workfront_concurrency: 64,
        }
    }
}

/// Faults to inject; each counter is used up one request at a time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// The next N Frame.io requests of any kind fail with 503 and do nothing.
    pub frameio_unavailable: u32,
    /// The next N creates make the project, then answer 502: the caller cannot know it worked.
    pub ambiguous_creates: u32,
    /// The next N Workfront requests (searches and writes) fail with 500.
    pub workfront_errors: u32,
}

/// A project in the sandbox's Frame.io.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxProject {
    pub id: String,
    pub name: String,
    pub account_id: String,
    pub workspace_id: String,
    pub created_at: Date,
    /// The user who created it.
    pub owner_id: String,
}

/// What the sandbox's Workfront does with a write to a custom field that is not on the project's
/// custom form: the documentation does not say, so both are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingField {
    /// Takes the write and keeps nothing.
    #[default]
    Ignore,
    /// Refuses it (422).
    Refuse,
}

/// What the sandbox's Workfront does with a document version added through the API (`POST
/// /docv`): no documentation gives the call, so both outcomes are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersionsByApi {
    /// The new version becomes the document's current one, as in the UI.
    #[default]
    MakeCurrent,
    /// The version is kept, but the document's current version stays as it was.
    KeepCurrent,
}

/// What Frame.io answers for a file's original. The documentation names both refusals: a 403 on
/// the whole call without download permission, and a null link under a watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Original {
    Allowed,
    Forbidden,
    Watermarked,
}

/// A file in the sandbox's Frame.io.
#[derive(Debug, Clone)]
struct SandboxFile {
    project: String,
    name: String,
    content: files::FileContent,
    original: Original,
    /// The version stack it is in, if any.
    stack: Option<String>,
    /// The folder it is in, when not the project's root folder (`f-<project>`).
    folder: Option<String>,
}

/// A custom action in the sandbox's Frame.io.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxAction {
    pub id: String,
    pub account_id: String,
    pub workspace_id: String,
    pub name: String,
    pub url: String,
    pub secret: String,
}

/// Requests the sandbox answered, by system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub workfront_requests: u64,
    pub frameio_requests: u64,
    pub frameio_creates: u64,
    pub frameio_rate_limited: u64,
    /// Project-user PATCHes (adds or role changes) that were carried out.
    pub frameio_user_patches: u64,
    pub frameio_user_deletes: u64,
    /// Project renames (`PATCH …/projects/{p}`).
    pub frameio_renames: u64,
    /// Downloads of files' originals.
    pub frameio_downloads: u64,
    /// Workfront uploads taken in.
    pub workfront_uploads: u64,
    /// Workfront project writes (`PUT /proj/{id}`), taken or not.
    pub workfront_project_writes: u64,
    /// Frame.io upload parts taken (`local_upload`).
    pub frameio_parts: u64,
    /// Version stack reorders (`PATCH /version_stacks/{id}/versions`).
    pub frameio_stack_reorders: u64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: tokio::time::Instant,
}

struct State {
    world: World,
    projects: Vec<SandboxProject>,
    next_project: u64,
    /// Frame.io project id → user id → role.
    project_users: HashMap<String, BTreeMap<String, String>>,
    /// Frame.io custom actions, with their secrets.
    actions: Vec<SandboxAction>,
    /// Frame.io files, by id.
    files: HashMap<String, SandboxFile>,
    /// Frame.io version stacks: their files, oldest first (the last is the head version).
    stacks: HashMap<String, Vec<String>>,
    /// Custom project statuses and the system status each equates with (every group has them).
    custom_statuses: Vec<(String, String)>,
    /// Workfront uploads by handle, and which upload each document was made from.
    uploads: HashMap<String, files::Upload>,
    document_uploads: HashMap<String, String>,
    /// Workfront documents and notes created through the API.
    documents: Vec<serde_json::Value>,
    /// Workfront document versions (a document's first one too), and the upload each was made from.
    versions: Vec<serde_json::Value>,
    version_uploads: HashMap<String, String>,
    /// What a version added through the API (`POST /docv`) does to its document.
    versions_by_api: VersionsByApi,
    notes: Vec<serde_json::Value>,
    next_handle: u64,
    /// Workfront refuses every new document (422), as it would a project that takes none.
    refuse_documents: bool,
    /// The custom fields on the custom form every Workfront project has (but those in
    /// `formless_projects`), and what a write to any other field does.
    form_fields: BTreeSet<String>,
    formless_projects: BTreeSet<String>,
    missing_field: MissingField,
    /// Leaky buckets per token and endpoint class: Frame.io limits each user separately.
    buckets: HashMap<(String, &'static str), Bucket>,
    next_workspace: u64,
    faults: Faults,
    /// Faults drawn at random, when set.
    random_faults: Option<faults::RandomFaults>,
    /// Frame.io answers requests made with these tokens only after this long (an outage of one
    /// user's requests, say).
    slow_tokens: HashMap<String, Duration>,
    counts: Counts,
    limits: Limits,
    /// Approvals, Frame.io fields and comments (`review.rs`).
    review: review::ReviewWorld,
    /// Frame.io `local_upload`s not yet whole, the part size they are cut into, and how many began
    /// (`uploads.rs`).
    pending_uploads: HashMap<String, uploads::Pending>,
    /// Workfront documents seeded with content (a brief, a storyboard), by document id.
    document_contents: HashMap<String, files::FileContent>,
    /// Frame.io folders made through the API: id → (project, parent folder, name).
    folders: HashMap<String, (String, String, String)>,
    upload_part_size: u64,
    uploads_started: u64,
    /// Digests of large uploads (their bytes are not kept), by Frame.io file id.
    upload_digests: HashMap<String, u64>,
    /// Where a file moved into a version stack lands (`set_stack_move_to_bottom`).
    stack_move_to_bottom: bool,
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<State>>,
    creates: broadcast::Sender<SandboxProject>,
    workfront_in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("sandbox state lock")
    }
}

/// A running sandbox. Dropping it stops both servers.
pub struct Sandbox {
    pub workfront_url: String,
    pub frameio_url: String,
    shared: Shared,
    stop: CancellationToken,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Sandbox {
    pub async fn start(world: World, limits: Limits) -> std::io::Result<Self> {
        let shared = Shared {
            state: Arc::new(Mutex::new(State {
                world,
                projects: Vec::new(),
                next_project: 1,
                project_users: HashMap::new(),
                actions: Vec::new(),
                files: HashMap::new(),
                stacks: HashMap::new(),
                custom_statuses: vec![("WSX".into(), "CUR".into()), ("JHY".into(), "PLN".into())],
                uploads: HashMap::new(),
                document_uploads: HashMap::new(),
                documents: Vec::new(),
                versions: Vec::new(),
                version_uploads: HashMap::new(),
                versions_by_api: VersionsByApi::default(),
                notes: Vec::new(),
                next_handle: 0,
                refuse_documents: false,
                form_fields: BTreeSet::new(),
                formless_projects: BTreeSet::new(),
                missing_field: MissingField::default(),
                buckets: HashMap::new(),
                next_workspace: 1,
                faults: Faults::default(),
                random_faults: None,
                slow_tokens: HashMap::new(),
                counts: Counts::default(),
                limits,
                review: review::ReviewWorld::default(),
                pending_uploads: HashMap::new(),
                folders: HashMap::new(),
                document_contents: HashMap::new(),
                upload_part_size: 1 << 20,
                uploads_started: 0,
                upload_digests: HashMap::new(),
                stack_move_to_bottom: false,
            })),
            creates: broadcast::channel(1024).0,
            workfront_in_flight: Arc::default(),
        };
        let stop = CancellationToken::new();
        let workfront_url = serve(workfront::router(shared.clone()), stop.clone()).await?;
        let frameio_url = serve(frameio::router(shared.clone()), stop.clone()).await?;
        Ok(Self {
            workfront_url,
            frameio_url,
            shared,
            stop,
        })
    }

    pub fn world(&self) -> World {
        self.shared.lock().world.clone()
    }

    /// Every project in the sandbox's Frame.io, in creation order.
    pub fn frameio_projects(&self) -> Vec<SandboxProject> {
        self.shared.lock().projects.clone()
    }

    /// Adds a project to the sandbox's Frame.io, as a person might by hand.
    pub fn insert_frameio_project(&self, name: &str, created_at: Date) -> SandboxProject {
        let mut state = self.shared.lock();
        let (account, workspace) = state.world.default_target();
        let (account, workspace) = (account.to_owned(), workspace.to_owned());
        let owner = state.world.frameio.user.id.clone();
        state.new_project(name, &account, &workspace, created_at, &owner)
    }

    /// Renames a Frame.io project, as a person might by hand.
    pub fn rename_frameio_project(&self, id: &str, name: &str) {
        let mut state = self.shared.lock();
        let project = state.projects.iter_mut().find(|p| p.id == id).expect("no such project");
        project.name = name.to_owned();
    }

    /// Puts a custom form with `fields` on every Workfront project but `formless`; a write to a
    /// field not on a project's form is handled as `missing` says.
    pub fn set_custom_form(&self, fields: &[&str], formless: &[&str], missing: MissingField) {
        let mut state = self.shared.lock();
        state.form_fields = fields.iter().map(|f| (*f).to_owned()).collect();
        state.formless_projects = formless.iter().map(|p| (*p).to_owned()).collect();
        state.missing_field = missing;
    }

    /// A custom field's value on a Workfront project, if set.
    pub fn workfront_project_field(&self, project: &str, field: &str) -> Option<String> {
        let state = self.shared.lock();
        let row = state.world.workfront.projects.iter().find(|p| p.id == project)?;
        row.custom.get(field)?.as_str().map(str::to_owned)
    }

    /// Sets a custom field on a Workfront project, as a person might by hand (not stamped as an
    /// update).
    pub fn set_workfront_project_field(&self, project: &str, field: &str, value: &str) {
        let mut state = self.shared.lock();
        let row = state
            .world
            .workfront
            .projects
            .iter_mut()
            .find(|p| p.id == project)
            .expect("no such project");
        row.custom.insert(field.to_owned(), value.into());
    }

    /// Adds or replaces a Workfront project without a group, stamped as updated now.
    pub fn upsert_workfront_project(&self, id: &str, name: &str) {
        self.upsert(ProjectRow {
            group_id: None,
            ..ProjectRow::in_group(id, name, "")
        });
    }

    /// Adds or replaces a Workfront project in `group`, stamped as updated now.
    pub fn upsert_workfront_project_in(&self, id: &str, name: &str, group: &str) {
        self.upsert(ProjectRow::in_group(id, name, group));
    }

    /// Custom field values and the team stay, as they would when a project is edited.
    fn upsert(&self, mut row: ProjectRow) {
        row.last_update_date = dates::workfront_rest(dates::now());
        let projects = &mut self.shared.lock().world.workfront.projects;
        if let Some(old) = projects.iter().find(|p| p.id == row.id) {
            row.custom = old.custom.clone();
            if row.project_users.is_empty() {
                row.project_users = old.project_users.clone();
            }
        }
        projects.retain(|p| p.id != row.id);
        projects.push(row);
    }

    /// Removes a Workfront project, as deleting it in Workfront would.
    pub fn delete_workfront_project(&self, id: &str) {
        self.shared.lock().world.workfront.projects.retain(|p| p.id != id);
    }

    /// Adds a developer token that reaches only `account_ids`, as another Frame.io user's would.
    pub fn add_token(&self, token: &str, account_ids: &[&str]) {
        self.add_any_token(token, account_ids, true);
    }

    /// Accepts an IMS access token (a plain bearer token, no legacy header) for `account_ids`.
    pub fn add_ims_token(&self, token: &str, account_ids: &[&str]) {
        self.add_any_token(token, account_ids, false);
    }

    fn add_any_token(&self, token: &str, account_ids: &[&str], legacy: bool) {
        let mut state = self.shared.lock();
        let user = world::FrameioUser {
            id: format!(
                "a0000000-0000-4000-8000-{:012x}",
                state.world.frameio.other_tokens.len() + 0x100
            ),
            email: format!("user{}@example.test", state.world.frameio.other_tokens.len()),
            name: "Other user".into(),
        };
        state.world.frameio.other_tokens.push(world::OtherToken {
            token: token.to_owned(),
            user,
            account_ids: account_ids.iter().map(|a| a.to_string()).collect(),
            legacy,
        });
    }

    /// Revokes a token added with [`Sandbox::add_token`]: Frame.io answers 401 to it from now on.
    pub fn revoke_token(&self, token: &str) {
        self.shared
            .lock()
            .world
            .frameio
            .other_tokens
            .retain(|t| t.token != token);
    }

    /// Adds an account (with one workspace) to the sandbox's Frame.io.
    pub fn add_account(&self, id: &str, name: &str, workspace_id: &str, workspace_name: &str) {
        self.shared.lock().world.frameio.accounts.push(world::FrameioAccount {
            id: id.to_owned(),
            display_name: name.to_owned(),
            workspaces: vec![world::FrameioWorkspace {
                id: workspace_id.to_owned(),
                name: workspace_name.to_owned(),
            }],
            users: Vec::new(),
        });
    }

    /// Adds a user to a Frame.io account's directory, as an invitation accepted there would.
    pub fn add_frameio_account_user(&self, account: &str, id: &str, email: &str) {
        let mut state = self.shared.lock();
        let acc = state
            .world
            .frameio
            .accounts
            .iter_mut()
            .find(|a| a.id == account)
            .expect("the sandbox has the account");
        acc.users.push(world::FrameioUser {
            id: id.to_owned(),
            email: email.to_owned(),
            name: email.to_owned(),
        });
    }

    /// The users on a Frame.io project, with their roles.
    pub fn frameio_project_users(&self, project: &str) -> BTreeMap<String, String> {
        self.shared
            .lock()
            .project_users
            .get(project)
            .cloned()
            .unwrap_or_default()
    }

    /// Puts a user on a Frame.io project by hand (not through the daemon).
    pub fn put_frameio_project_user(&self, project: &str, user: &str, role: &str) {
        self.shared
            .lock()
            .project_users
            .entry(project.to_owned())
            .or_default()
            .insert(user.to_owned(), role.to_owned());
    }

    /// Adds a file to a Frame.io project (what a user would upload).
    pub fn add_frameio_file(&self, project: &str, id: &str, name: &str) {
        let content = files::FileContent::Bytes(format!("the bytes of {name}").into_bytes());
        self.add_frameio_file_with(project, id, name, content);
    }

    /// Adds a file with `content` to a Frame.io project.
    pub fn add_frameio_file_with(&self, project: &str, id: &str, name: &str, content: files::FileContent) {
        self.shared.lock().files.insert(
            id.to_owned(),
            SandboxFile {
                project: project.to_owned(),
                name: name.to_owned(),
                content,
                original: Original::Allowed,
                stack: None,
                folder: None,
            },
        );
    }

    /// Puts `files` (oldest first) in version stack `stack`, as a user stacking versions would: the
    /// last is the head. Files already in it stay, below.
    pub fn stack_frameio_files(&self, stack: &str, files: &[&str]) {
        let mut state = self.shared.lock();
        for id in files {
            if let Some(file) = state.files.get_mut(*id) {
                file.stack = Some(stack.to_owned());
            }
        }
        let stacked = state.stacks.entry(stack.to_owned()).or_default();
        for id in files {
            stacked.retain(|f| f != id);
            stacked.push((*id).to_owned());
        }
    }

    /// What Frame.io answers when asked for the file's original (`media_links.original`).
    pub fn set_frameio_file_original(&self, id: &str, original: Original) {
        if let Some(file) = self.shared.lock().files.get_mut(id) {
            file.original = original;
        }
    }

    /// The file a Workfront document was made from, as it arrived.
    pub fn workfront_document_upload(&self, document: &str) -> Option<files::Upload> {
        let state = self.shared.lock();
        let handle = state.document_uploads.get(document)?;
        state.uploads.get(handle).cloned()
    }

    /// The custom actions in the sandbox's Frame.io, with their secrets.
    pub fn frameio_actions(&self) -> Vec<SandboxAction> {
        self.shared.lock().actions.clone()
    }

    /// Adds a document to a Workfront project, as a coordinator uploading a brief would: its
    /// current version holds `content`; `from_frameio` marks it as the native integration's
    /// (`externalIntegrationType = FRAMEIO`). Returns its id.
    pub fn add_workfront_document(
        &self,
        project: &str,
        name: &str,
        content: files::FileContent,
        from_frameio: bool,
    ) -> String {
        let mut state = self.shared.lock();
        let id = format!("d0c{:029x}", state.documents.len() + 1);
        let version = format!("d0cv{:028x}", state.versions.len() + 1);
        let size = content.len();
        let mut current = serde_json::json!({ "version": "v1", "fileName": name, "docSize": size });
        if from_frameio {
            current["externalIntegrationType"] = "FRAMEIO".into();
        }
        state.versions.push(
            serde_json::json!({ "ID": version, "documentID": id, "version": "v1", "fileName": name, "docSize": size }),
        );
        state.documents.push(serde_json::json!({
            "ID": id, "name": name, "docObjCode": "PROJ", "objID": project, "projectID": project,
            "currentVersionID": version, "currentVersion": current,
        }));
        state.document_contents.insert(id.clone(), content);
        id
    }

    /// Adds a document on a task (`TASK`) or issue (`OPTASK`) `holder` named `holder_name` of
    /// `project`.
    pub fn add_workfront_holder_document(
        &self,
        project: &str,
        (obj_code, holder, holder_name): (&str, &str, &str),
        name: &str,
        content: files::FileContent,
    ) -> String {
        let id = self.add_workfront_document(project, name, content, false);
        let mut state = self.shared.lock();
        let row = state
            .documents
            .iter_mut()
            .find(|d| d["ID"] == id.as_str())
            .expect("just added");
        row["docObjCode"] = obj_code.into();
        row["objID"] = holder.into();
        let reference = if obj_code == "TASK" { "task" } else { "opTask" };
        row[reference] = serde_json::json!({ "ID": holder, "name": holder_name });
        id
    }

    /// A new current version of a Workfront document, with its file; the version's ID.
    pub fn add_workfront_document_version(&self, document: &str, name: &str, content: files::FileContent) -> String {
        let mut state = self.shared.lock();
        let version = format!("d0cv{:028x}", state.versions.len() + 1);
        let size = content.len();
        let n = state.versions.iter().filter(|v| v["documentID"] == document).count() + 1;
        state.versions.push(serde_json::json!({
            "ID": version, "documentID": document, "version": format!("v{n}"), "fileName": name, "docSize": size,
        }));
        let row = state
            .documents
            .iter_mut()
            .find(|d| d["ID"] == document)
            .expect("no such document");
        row["currentVersionID"] = version.clone().into();
        row["currentVersion"] = serde_json::json!({ "version": format!("v{n}"), "fileName": name, "docSize": size });
        state.document_contents.insert(document.to_owned(), content);
        version
    }

    /// Deletes a Workfront document (as a user deleting it would).
    pub fn remove_workfront_document(&self, document: &str) {
        let mut state = self.shared.lock();
        state.documents.retain(|d| d["ID"] != document);
        state.document_contents.remove(document);
    }

    /// Sets a Workfront project's status (a system code, or a custom one like `WSX`, which
    /// equates with `CUR`), stamped as updated now.
    pub fn set_workfront_project_status(&self, project: &str, status: &str) {
        let now = dates::workfront_rest(dates::now());
        let mut state = self.shared.lock();
        let row = state.workfront_project(project);
        row.status = Some(status.to_owned());
        row.last_update_date = now;
    }

    /// The versions of a Workfront document, oldest first, each with the file it was made from.
    pub fn workfront_document_versions(&self, document: &str) -> Vec<(serde_json::Value, files::Upload)> {
        let state = self.shared.lock();
        state
            .versions
            .iter()
            .filter(|v| v["documentID"] == document)
            .filter_map(|v| {
                let handle = state.version_uploads.get(v["ID"].as_str()?)?;
                Some((v.clone(), state.uploads.get(handle)?.clone()))
            })
            .collect()
    }

    /// What a version added through the API does to its document.
    pub fn set_versions_by_api(&self, behaviour: VersionsByApi) {
        self.shared.lock().versions_by_api = behaviour;
    }

    /// Documents created in the sandbox's Workfront.
    pub fn workfront_documents(&self) -> Vec<serde_json::Value> {
        self.shared.lock().documents.clone()
    }

    /// Makes the sandbox's Workfront refuse (422) or accept new documents.
    pub fn set_refuse_documents(&self, refuse: bool) {
        self.shared.lock().refuse_documents = refuse;
    }

    /// Notes created in the sandbox's Workfront.
    pub fn workfront_notes(&self) -> Vec<serde_json::Value> {
        self.shared.lock().notes.clone()
    }

    /// Adds or replaces a Workfront user, stamped as updated now.
    pub fn upsert_workfront_user(&self, id: &str, email: &str, flagged: bool, active: bool) {
        let field = "DE:Add to projects in Frame.io";
        let row = serde_json::json!({
            "ID": id,
            "name": id,
            "emailAddr": email,
            "isActive": active,
            field: if flagged { "Yes" } else { "No" },
            "lastUpdateDate": dates::workfront_rest(dates::now()),
        });
        let users = &mut self.shared.lock().world.workfront.users;
        users.retain(|u| u["ID"] != id);
        users.push(row);
    }

    /// Adds a Workfront access level by name (a built-in name is read as that built-in level).
    pub fn add_access_level(&self, id: &str, name: &str) {
        self.shared
            .lock()
            .world
            .workfront
            .access_levels
            .push(serde_json::json!({
                "ID": id, "name": name, "isAdmin": false, "licenseType": "F", "accessLevelPermissions": []
            }));
    }

    /// Shares a Workfront project with a user (`coreAction` `VIEW`, `LIMITED_EDIT` or `EDIT`).
    pub fn share_project(&self, project: &str, user: &str, core_action: &str) {
        let mut state = self.shared.lock();
        let row = state.workfront_project(project);
        row.access_rules.push(serde_json::json!({
            "accessorID": user, "accessorObjCode": "USER", "coreAction": core_action
        }));
    }

    /// Sets a Workfront project's owner (`ownerID`).
    pub fn set_workfront_project_owner(&self, project: &str, user: &str) {
        let mut state = self.shared.lock();
        let row = state.workfront_project(project);
        row.custom.insert("ownerID".into(), user.into());
    }

    /// Adds (or replaces) a Workfront task of `project`, open (`NEW`), updated now.
    pub fn add_workfront_task(&self, id: &str, project: &str, name: &str) {
        let now = dates::workfront_rest(dates::now());
        let tasks = &mut self.shared.lock().world.workfront.tasks;
        tasks.retain(|t| t["ID"] != id);
        tasks.push(serde_json::json!({
            "ID": id, "name": name, "projectID": project, "status": "NEW",
            "lastUpdateDate": now, "accessRules": []
        }));
    }

    /// Changes a Workfront task (its `status`, `name`, `accessRules`…), stamping it as updated now.
    pub fn update_workfront_task(&self, id: &str, change: impl FnOnce(&mut serde_json::Value)) {
        let now = dates::workfront_rest(dates::now());
        let tasks = &mut self.shared.lock().world.workfront.tasks;
        if let Some(row) = tasks.iter_mut().find(|t| t["ID"] == id) {
            change(row);
            row["lastUpdateDate"] = now.into();
        }
    }

    /// Changes Workfront users in one step, as one admin action would, stamping them as updated
    /// now. `change` gets each user's row (`isActive`, `emailAddr`, the flag field, …).
    pub fn update_workfront_users(&self, ids: &[&str], change: impl Fn(&mut serde_json::Value)) {
        let now = dates::workfront_rest(dates::now());
        let users = &mut self.shared.lock().world.workfront.users;
        for row in users.iter_mut().filter(|u| ids.iter().any(|id| u["ID"] == *id)) {
            change(row);
            row["lastUpdateDate"] = now.clone().into();
        }
    }

    /// Sets a Workfront user's `lastUpdateDate` as it is, however wrong (a row dated in the future).
    pub fn set_workfront_user_updated(&self, id: &str, at: Date) {
        let users = &mut self.shared.lock().world.workfront.users;
        for row in users.iter_mut().filter(|u| u["ID"] == id) {
            row["lastUpdateDate"] = dates::workfront_rest(at).into();
        }
    }

    /// Sets a Workfront project's team. This leaves the project's `lastUpdateDate` alone (Adobe
    /// does not document that a team change moves it), so only a client that reads teams whole
    /// is sure to notice.
    pub fn set_team(&self, project: &str, users: &[&str]) {
        let mut state = self.shared.lock();
        let row = state.workfront_project(project);
        row.project_users = users
            .iter()
            .map(|u| world::ProjectUserRow { user_id: u.to_string() })
            .collect();
    }

    /// Adds a Workfront group.
    pub fn add_workfront_group(&self, id: &str, name: &str, parent: Option<&str>) {
        self.shared
            .lock()
            .world
            .workfront
            .groups
            .push(serde_json::json!({ "ID": id, "name": name, "parentID": parent }));
    }

    /// Faults drawn at random from now on (`None` stops them); returns the tally so far.
    pub fn set_fault_rates(&self, rates: Option<FaultRates>) -> FaultCounts {
        let mut state = self.shared.lock();
        let before = state.random_faults.as_ref().map(|f| f.counts).unwrap_or_default();
        state.random_faults = rates.map(faults::RandomFaults::new);
        before
    }

    /// The random faults injected so far.
    pub fn fault_counts(&self) -> FaultCounts {
        self.shared
            .lock()
            .random_faults
            .as_ref()
            .map(|f| f.counts)
            .unwrap_or_default()
    }

    /// Frame.io answers requests made with `token` only after `delay` (`None`: at once again).
    pub fn set_slow_token(&self, token: &str, delay: Option<Duration>) {
        let mut state = self.shared.lock();
        match delay {
            Some(delay) => state.slow_tokens.insert(token.to_owned(), delay),
            None => state.slow_tokens.remove(token),
        };
    }

    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = faults;
    }

    pub fn counts(&self) -> Counts {
        self.shared.lock().counts
    }

    /// Every project create, sent after the project exists and before the answer goes out.
    pub fn subscribe_creates(&self) -> broadcast::Receiver<SandboxProject> {
        self.shared.creates.subscribe()
    }
}

impl State {
    /// A Workfront project of the world, which a test helper names (a missing one is a test bug).
    fn workfront_project(&mut self, id: &str) -> &mut ProjectRow {
        self.world
            .workfront
            .projects
            .iter_mut()
            .find(|p| p.id == id)
            .expect("the sandbox has the project")
    }

    fn new_project(
        &mut self,
        name: &str,
        account: &str,
        workspace: &str,
        created_at: Date,
        owner: &str,
    ) -> SandboxProject {
        let project = SandboxProject {
            id: format!("b0000000-0000-4000-8000-{:012x}", self.next_project),
            name: name.to_owned(),
            account_id: account.to_owned(),
            workspace_id: workspace.to_owned(),
            created_at,
            owner_id: owner.to_owned(),
        };
        self.next_project += 1;
        self.projects.push(project.clone());
        project
    }

    /// Takes one request from `token`'s leaky bucket of `class`; returns (allowed, remaining, limit).
    fn take(&mut self, token: &str, class: &'static str) -> (bool, u64, u64) {
        let limit = match class {
            // Frame.io limits project-user PATCHes and project updates like creates: about 10 a
            // minute. `local_upload` (5 a second in Frame.io) shares the create limit here, so a
            // test can make a one-way folder backlog last.
            "create" | "project_user_update" | "project_update" | "metadata.values" | "local_upload" => {
                self.limits.create_per_window
            }
            _ => self.limits.read_per_window,
        };
        let window = self.limits.window.as_secs_f64();
        let now = tokio::time::Instant::now();
        let bucket = self.buckets.entry((token.to_owned(), class)).or_insert(Bucket {
            tokens: limit as f64,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * limit as f64 / window;
        bucket.tokens = (bucket.tokens + refill).min(limit as f64);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            (true, bucket.tokens.floor() as u64, limit)
        } else {
            (false, 0, limit)
        }
    }
}

async fn serve(router: axum::Router, stop: CancellationToken) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
    });
    Ok(url)
}
