//! The demo's review loop: an editor sends two files from a mirror through the custom action (a
//! click, the form, the submit, signed as Frame.io signs them), Workfront gets each file as a
//! document with a Unified Approvals request, the approver approves one and asks for changes on the
//! other, and each decision shows on its Frame.io file; then a new cut stacked on the first becomes
//! its document's second version.

use crate::frameio::actions::sign;
use crate::secret::Secret;
use crate::store::Store;
use anyhow::Context;
use frameio_sync_sandbox::files::FileContent;
use frameio_sync_sandbox::Sandbox;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The secret the demo's action is signed with (`http.frameio_action_secret_file`).
const ACTION_SECRET: &str = "demo-action-secret";
const EDITOR: &str = "demo-editor";
const APPROVER: &str = "demo-approver";
const WAIT: Duration = Duration::from_secs(60);

/// Turns the review loop on in the demo's configuration: Workfront through an IMS credential (the
/// sandbox hands out tokens), Unified Approvals asked of the project owner, the HTTP listener for
/// the custom action with the demo's action secret.
pub fn enable(dir: &Path, config: &Path, sandbox: &Sandbox) -> anyhow::Result<()> {
    crate::store::secret_files::write_secret_file(&dir.join("frameio-action-secret"), &Secret::new(ACTION_SECRET))?;
    let text = std::fs::read_to_string(config)?.replace(
        "api_key_file = \"workfront-api-key\"",
        &format!(
            "auth = \"adobe_server_to_server\"\nclient_id = \"demo-client\"\nclient_secret_file = \"workfront-api-key\"\nscopes = \"openid\"\nims_org_id = \"DEMO@AdobeOrg\"\nims_token_url = \"{}/ims/token/v3\"",
            sandbox.workfront_url
        ),
    ) + &format!(
        "\n[review]\napprovals = \"unified\"\napprovals_url = \"{}/workfront-approvals/\"\n\n[http]\nlisten = \"127.0.0.1:0\"\nframeio_action_secret_file = \"frameio-action-secret\"\n",
        sandbox.workfront_url
    );
    std::fs::write(config, text)?;
    Ok(())
}

/// People for the loop: an editor who may add documents to the first project (Standard, with
/// Contribute shared), in Frame.io's directory by the same email; the project's owner approves.
pub fn prepare(sandbox: &Sandbox) -> String {
    let world = sandbox.world();
    let project = world.workfront.projects[0].id.clone();
    let (account, _) = world.default_target();
    sandbox.add_access_level("lvl-demo-standard", "Standard");
    sandbox.upsert_workfront_user(EDITOR, "editor@demo.example", true, true);
    sandbox.update_workfront_users(&[EDITOR], |u| {
        u["accessLevelID"] = "lvl-demo-standard".into();
        u["name"] = "Dana Editor".into();
    });
    sandbox.add_frameio_account_user(account, "fio-demo-editor", "editor@demo.example");
    sandbox.share_project(&project, EDITOR, "LIMITED_EDIT");
    sandbox.set_workfront_project_owner(&project, APPROVER);
    project
}

/// Runs the loop against the running daemon (its listener at `http`).
pub async fn show(
    sandbox: &Sandbox,
    store: &Store,
    http: &str,
    project: &str,
    resync: &mpsc::Sender<()>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mirror = store
        .mirrors()?
        .into_iter()
        .find(|m| m.wf_project.as_str() == project)
        .context("the first project has no mirror")?;
    let world = sandbox.world();
    let (account, workspace) = world.default_target();
    let frameio_project = mirror.frameio_project.to_string();
    println!("\nthe review loop, on {:?}'s mirror:", mirror.name);
    sandbox.add_frameio_file_with(
        &frameio_project,
        "demo-cut-1",
        "Hero cut v1.mov",
        FileContent::Pattern { size: 3 << 20, seed: 1 },
    );
    sandbox.add_frameio_file_with(
        &frameio_project,
        "demo-poster",
        "Poster.png",
        FileContent::Pattern {
            size: 400 << 10,
            seed: 2,
        },
    );
    let action = Action {
        http: http.to_owned(),
        account: account.to_owned(),
        workspace: workspace.to_owned(),
        project: frameio_project.clone(),
    };
    action
        .send(
            "demo-click-1",
            "demo-cut-1",
            "Please look at the grade in the last shot.",
        )
        .await?;
    action.send("demo-click-2", "demo-poster", "").await?;

    let approvals = |s: &Store| -> anyhow::Result<Vec<_>> {
        Ok(s.submissions()?
            .into_iter()
            .filter(|r| sandbox.workfront_unified_approval(r.version.as_str()).is_some())
            .collect())
    };
    wait("both documents and approvals", || Ok(approvals(store)?.len() == 2)).await?;
    for r in store.submissions()? {
        let document = sandbox
            .workfront_documents()
            .into_iter()
            .find(|d| d["ID"] == r.document.as_str())
            .unwrap_or(Value::Null);
        let size = document["currentVersion"]["docSize"].as_u64().unwrap_or_default();
        let approval = sandbox
            .workfront_unified_approval(r.version.as_str())
            .unwrap_or(Value::Null);
        let participants: Vec<String> = approval["stages"][0]["participants"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                format!(
                    "{} ({})",
                    p["participantId"].as_str().unwrap_or(""),
                    p["participantRole"].as_str().unwrap_or("")
                )
            })
            .collect();
        println!(
            "  [{:>5.1}s] {:?} is Workfront document {} ({} bytes, version {}), approval asked of {} on behalf of {}",
            started.elapsed().as_secs_f64(),
            r.asset_name,
            r.document,
            size,
            r.version,
            participants.join(", "),
            approval["creatorId"].as_str().unwrap_or("")
        );
    }

    // The approver decides in Workfront.
    let records = store.submissions()?;
    let version_of = |file: &str| {
        records
            .iter()
            .find(|r| r.file.as_str() == file)
            .map(|r| r.version.to_string())
    };
    let cut = version_of("demo-cut-1").context("the cut's submission")?;
    let poster = version_of("demo-poster").context("the poster's submission")?;
    sandbox.decide_unified(&cut, APPROVER, "Olga Owner", "approved");
    sandbox.decide_unified(&poster, APPROVER, "Olga Owner", "needs work");
    println!("  Olga Owner approves the cut and asks for changes on the poster, in Workfront.");
    let shows = |file: &str, state: &str| {
        sandbox.frameio_field_value(account, file, "Workfront review") == Some(vec![state.to_owned()])
            && !sandbox.frameio_comments(file).is_empty()
    };
    wait("the decisions in Frame.io", || {
        let _ = resync.try_send(());
        Ok(shows("demo-cut-1", "Approved") && shows("demo-poster", "Needs work"))
    })
    .await?;
    for file in ["demo-cut-1", "demo-poster"] {
        let field = sandbox
            .frameio_field_value(account, file, "Workfront review")
            .unwrap_or_default()
            .join(", ");
        let comment = sandbox.frameio_comments(file)[0]["text"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        println!(
            "  [{:>5.1}s] Frame.io file {file}: \"Workfront review\" = {field}; comment: {comment}",
            started.elapsed().as_secs_f64()
        );
    }

    // A new cut stacked on the first and sent: the same document's second version.
    sandbox.add_frameio_file_with(
        &frameio_project,
        "demo-cut-2",
        "Hero cut v2.mov",
        FileContent::Pattern { size: 3 << 20, seed: 3 },
    );
    sandbox.stack_frameio_files("demo-stack", &["demo-cut-1", "demo-cut-2"]);
    action.send("demo-click-3", "demo-cut-2", "The grade is fixed.").await?;
    let document = records
        .iter()
        .find(|r| r.file.as_str() == "demo-cut-1")
        .map(|r| r.document.to_string())
        .unwrap_or_default();
    wait("the second version", || {
        Ok(sandbox.workfront_document_versions(&document).len() == 2)
    })
    .await?;
    let labels: Vec<String> = sandbox
        .workfront_document_versions(&document)
        .into_iter()
        .map(|(v, upload)| format!("{} ({} bytes)", v["version"].as_str().unwrap_or(""), upload.size))
        .collect();
    println!(
        "  [{:>5.1}s] \"Hero cut v2.mov\" stacked on v1 and sent: document {document} now has versions {}",
        started.elapsed().as_secs_f64(),
        labels.join(", ")
    );
    Ok(())
}

/// The custom action as Frame.io runs it: a signed click, then the form submitted.
struct Action {
    http: String,
    account: String,
    workspace: String,
    project: String,
}

impl Action {
    async fn send(&self, interaction: &str, file: &str, message: &str) -> anyhow::Result<()> {
        let click = json!({
            "account_id": self.account, "action_id": "demo-action", "interaction_id": interaction,
            "project": { "id": self.project }, "resource": { "id": file, "type": "file" },
            "type": "workfront.review", "user": { "id": "fio-demo-editor" }, "workspace": { "id": self.workspace },
        });
        let form = self.post(&click).await?;
        let target = form["fields"][0]["value"]
            .as_str()
            .context("the action did not answer with the form")?
            .to_owned();
        let submit = json!({
            "action_id": "demo-action", "interaction_id": interaction, "type": "workfront.review",
            "data": { "target": target, "message": message },
        });
        let answer = self.post(&submit).await?;
        println!(
            "  Dana Editor sends {file} (form: \"{}\" → {target}): {} — {}",
            form["title"].as_str().unwrap_or(""),
            answer["title"].as_str().unwrap_or(""),
            answer["description"].as_str().unwrap_or("")
        );
        Ok(())
    }

    async fn post(&self, body: &Value) -> anyhow::Result<Value> {
        let body = body.to_string();
        let timestamp = crate::timestamp::Timestamp::now().millis() / 1000;
        let signature = sign(&Secret::new(ACTION_SECRET), &timestamp.to_string(), body.as_bytes());
        let response = reqwest::Client::new()
            .post(format!("{}/frameio/actions", self.http))
            .header("content-type", "application/json")
            .header("x-frameio-request-timestamp", timestamp.to_string())
            .header("x-frameio-signature", signature)
            .body(body)
            .send()
            .await
            .context("the daemon's listener did not answer")?;
        Ok(response.json().await?)
    }
}

async fn wait(what: &str, done: impl FnMut() -> anyhow::Result<bool>) -> anyhow::Result<()> {
    super::converge("review loop", what, WAIT, done).await
}
