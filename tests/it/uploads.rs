//! The one-way folder's Frame.io side on the sandbox: a folder made in a project's root and found
//! again, a file streamed from a download into the presigned parts of a `local_upload` (each part
//! spooled to disk and PUT on its own), the upload-status route saying it is whole, and the file
//! found in its folder by name and size; the bytes arrive the same.

use frameio_sync::frameio::FrameioClient;
use frameio_sync::ids::FrameioAccountId;
use frameio_sync::secret::Secret;
use frameio_sync::store::SendPermit;
use frameio_sync::transfer::{TransferError, Transfers};
use frameio_sync_sandbox::files::FileContent;
use frameio_sync_sandbox::{Limits, Sandbox, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_streams_into_the_parts_of_a_local_upload_and_arrives_whole() {
    let sandbox = Sandbox::start(World::generated(1), Limits::unlimited()).await.unwrap();
    let world = sandbox.world();
    let account = FrameioAccountId::new(world.default_target().0).unwrap();
    let client = FrameioClient::new(
        &sandbox.frameio_url.parse().unwrap(),
        Secret::new(world.frameio.token.as_str()),
    );
    let project = sandbox.insert_frameio_project("Briefs", frameio_sync_sandbox::dates::now());
    let content = FileContent::Pattern {
        size: 3_500_000,
        seed: 7,
    };
    sandbox.add_frameio_file_with(&project.id, "source", "Brief.pdf", content.clone());
    sandbox.set_upload_part_size(1 << 20);
    let spool = tempfile::tempdir().unwrap();
    let transfers = Transfers::default();
    let permit = SendPermit::outside_the_outbox();
    let project_id = frameio_sync::ids::FrameioProjectId::new(&project.id).unwrap();
    let root = client.root_folder(&account, &project_id).await.unwrap();
    assert_eq!(root, sandbox.frameio_root_folder(&project.id));
    // The folder the files go in, made in the root and found again by name.
    assert!(client.child_folders(&account, &root).await.unwrap().is_empty());
    let made = client
        .create_folder(&permit, &account, &root, "From Workfront")
        .await
        .unwrap();
    let found = client.child_folders(&account, &root).await.unwrap();
    assert_eq!(
        (found.len(), found[0].id.as_str(), found[0].name.as_str()),
        (1, made.id.as_str(), "From Workfront")
    );
    let folder = made.id.clone();

    let source = client.file_to_download(&account, "source").await.unwrap();
    let download = transfers
        .open(source.original.as_ref().unwrap(), 1 << 30)
        .await
        .unwrap();
    let upload = client
        .start_local_upload(&permit, &account, &folder, "Brief copy.pdf", content.len())
        .await
        .unwrap();
    let sizes: Vec<u64> = upload.parts.iter().map(|p| p.size).collect();
    assert_eq!(sizes, [1 << 20, 1 << 20, 1 << 20, 3_500_000 - 3 * (1 << 20)]);
    assert_eq!(upload.media_type, "application/octet-stream");
    let before = client.upload_status(&account, &upload.file).await.unwrap();
    assert!(!before.complete);
    transfers
        .upload_parts(download, &upload.parts, &upload.media_type, spool.path())
        .await
        .unwrap();
    let after = client.upload_status(&account, &upload.file).await.unwrap();
    assert!(after.complete && !after.failed);
    assert_eq!(
        sandbox.frameio_file_bytes(upload.file.as_str()).unwrap(),
        content.to_vec()
    );
    assert_eq!(sandbox.counts().frameio_parts, 4);
    assert_eq!(
        std::fs::read_dir(spool.path()).unwrap().count(),
        0,
        "no spool file is left behind"
    );

    // A download that does not match the parts is refused before anything is sent.
    let other = client
        .start_local_upload(&permit, &account, &folder, "Short.pdf", 10)
        .await
        .unwrap();
    let download = transfers
        .open(source.original.as_ref().unwrap(), 1 << 30)
        .await
        .unwrap();
    let err = transfers
        .upload_parts(download, &other.parts, &other.media_type, spool.path())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TransferError::Broken(m) if m.contains("parts hold 10 bytes")),
        "{err}"
    );
    assert_eq!(sandbox.counts().frameio_parts, 4);
    assert!(!client.upload_status(&account, &other.file).await.unwrap().complete);
    // An unknown folder is refused by Frame.io.
    let missing = client
        .start_local_upload(&permit, &account, "f-nowhere", "X.pdf", 10)
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(404));
}

/// A Workfront document's file (its `downloadURL`, with the API key) streamed into a Frame.io
/// folder: the path the one-way folder takes. A document that came from Frame.io is marked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workfront_document_streams_into_a_frameio_folder() {
    use frameio_sync::workfront::project_documents::DocumentDownloadError;
    let sandbox = Sandbox::start(World::generated(1), Limits::unlimited()).await.unwrap();
    let world = sandbox.world();
    let wf_project = world.workfront.projects[0].id.clone();
    let content = FileContent::Pattern {
        size: 2_500_000,
        seed: 3,
    };
    let brief = sandbox.add_workfront_document(&wf_project, "Brief.pdf", content.clone(), false);
    sandbox.add_workfront_document(
        &wf_project,
        "Cut.mov",
        FileContent::Bytes(b"from frame.io".to_vec()),
        true,
    );
    let dir = tempfile::tempdir().unwrap();
    let config = frameio_sync::demo::write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let settings = frameio_sync::config::load(&config).unwrap();
    let workfront = frameio_sync::workfront::WorkfrontClient::new(&settings.workfront);

    let documents = workfront
        .project_documents(
            &[frameio_sync::ids::WorkfrontProjectId::new(&wf_project).unwrap()],
            false,
        )
        .await
        .unwrap();
    assert_eq!(documents.len(), 2);
    let first = documents.iter().find(|d| d.id.as_str() == brief).unwrap();
    assert_eq!(
        (first.file_name.as_deref(), first.size, first.from_frameio, &first.on),
        (Some("Brief.pdf"), Some(content.len()), false, &Ok(None))
    );
    assert!(documents.iter().any(|d| d.from_frameio));
    let version = first.version.clone().unwrap();

    let timeout = std::time::Duration::from_secs(60);
    let too_small = workfront
        .open_document(&first.id, &version, 1_000, timeout)
        .await
        .unwrap_err();
    assert!(
        matches!(
            too_small,
            DocumentDownloadError::Transfer(TransferError::TooLarge { .. })
        ),
        "{too_small}"
    );
    let download = workfront
        .open_document(&first.id, &version, 1 << 30, timeout)
        .await
        .unwrap();
    let account = FrameioAccountId::new(world.default_target().0).unwrap();
    let client = FrameioClient::new(
        &sandbox.frameio_url.parse().unwrap(),
        Secret::new(world.frameio.token.as_str()),
    );
    let project = sandbox.insert_frameio_project("Mirror", frameio_sync_sandbox::dates::now());
    let permit = SendPermit::outside_the_outbox();
    let folder = sandbox.frameio_root_folder(&project.id);
    let upload = client
        .start_local_upload(&permit, &account, &folder, "Brief.pdf", content.len())
        .await
        .unwrap();
    let spool = tempfile::tempdir().unwrap();
    Transfers::default()
        .upload_parts(download, &upload.parts, &upload.media_type, spool.path())
        .await
        .unwrap();
    assert!(client.upload_status(&account, &upload.file).await.unwrap().complete);
    assert_eq!(
        sandbox.frameio_file_bytes(upload.file.as_str()).unwrap(),
        content.to_vec()
    );
}
