//! The demo's one-way folder: a brief and a storyboard on the first Workfront project arrive in
//! its mirror's "From Workfront" folder, then a new version of the storyboard stacks on the first.

use crate::store::Store;
use anyhow::Context;
use frameio_sync_sandbox::files::FileContent;
use frameio_sync_sandbox::Sandbox;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(60);

/// Turns the one-way folder on in the demo's configuration.
pub fn enable(config: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(config)? + "\n[folder]\nenabled = true\n";
    std::fs::write(config, text)?;
    Ok(())
}

/// The documents the project coordinator put on the first project: a brief and a storyboard.
/// Returns the storyboard's document id.
pub fn prepare(sandbox: &Sandbox) -> String {
    let project = sandbox.world().workfront.projects[0].id.clone();
    sandbox.add_workfront_document(
        &project,
        "Brief.pdf",
        FileContent::Bytes(b"Campaign brief: three cuts, 30 s, 15 s and 6 s; tone warm.".to_vec()),
        false,
    );
    sandbox.add_workfront_document(
        &project,
        "Storyboard.pdf",
        FileContent::Pattern { size: 2 << 20, seed: 4 },
        false,
    )
}

/// Shows the documents arriving, then a new version stacking.
pub async fn show(sandbox: &Sandbox, store: &Store, storyboard: &str, resync: &mpsc::Sender<()>) -> anyhow::Result<()> {
    let started = Instant::now();
    let project = sandbox.world().workfront.projects[0].id.clone();
    let mirror = store
        .mirrors()?
        .into_iter()
        .find(|m| m.wf_project.as_str() == project)
        .context("the first project has no mirror")?;
    println!("\nthe one-way folder, on {:?}'s mirror:", mirror.name);
    wait("both documents in the folder", || Ok(store.pushed_all()?.len() >= 2)).await?;
    let frameio_project = mirror.frameio_project.to_string();
    let (folder, _, name) = sandbox
        .frameio_folders(&frameio_project)
        .into_iter()
        .find(|(_, parent, _)| *parent == sandbox.frameio_root_folder(&frameio_project))
        .context("no folder at the mirror's root")?;
    for (id, file, size, _) in sandbox.frameio_folder_files(&folder) {
        println!(
            "  [{:>5.1}s] {file:?} is in \"{name}\" ({size} bytes, Frame.io file {id})",
            started.elapsed().as_secs_f64()
        );
    }
    sandbox.add_workfront_document_version(
        storyboard,
        "Storyboard v2.pdf",
        FileContent::Pattern { size: 2 << 20, seed: 5 },
    );
    println!("  the coordinator uploads a new version of the storyboard in Workfront;");
    resync.send(()).await.context("the daemon stopped")?;
    wait("the new version stacked", || {
        Ok(store.pushed_all()?.iter().any(|p| p.stack.is_some()))
    })
    .await?;
    for stack in sandbox.frameio_folder_stacks(&folder) {
        let names: Vec<String> = stack
            .iter()
            .map(|id| sandbox.frameio_file_name(id).unwrap_or_else(|| id.clone()))
            .collect();
        println!(
            "  [{:>5.1}s] a version stack in \"{name}\", oldest first: {}",
            started.elapsed().as_secs_f64(),
            names.join(", ")
        );
    }
    Ok(())
}

async fn wait(what: &str, done: impl FnMut() -> anyhow::Result<bool>) -> anyhow::Result<()> {
    super::converge("one-way folder", what, WAIT, done).await
}
