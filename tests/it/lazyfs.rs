//! A file system that loses, at a power cut, everything not yet fsynced — the technique of LazyFS,
//! as a small in-memory FUSE file system served by this test process.
//!
//! It keeps two images of the tree: `live` (what programs see) and `durable` (what a disk would
//! hold after a cut). Writes, creates, renames and removals change `live` only. `fsync` of a file
//! copies its contents to `durable`; `fsync` of a directory copies its entries (POSIX: a new name is
//! durable only once its directory is). [`LazyFs::cut`] throws `live` away and fences every request
//! until [`LazyFs::resume`], so the killed process can do nothing more. Every open is `direct_io`
//! and no entry or attribute is cached by the kernel, so after a cut programs read `durable`.

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner, OpenFlags,
    RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs,
    ReplyWrite, Request, TimeOrNow, WriteFlags,
};
use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const NO_CACHE: Duration = Duration::ZERO;

#[derive(Clone)]
enum Body {
    File(Vec<u8>),
    Dir(BTreeMap<OsString, u64>),
    Socket,
}

#[derive(Clone)]
struct Node {
    body: Body,
    perm: u16,
}

#[derive(Clone)]
struct Image {
    nodes: HashMap<u64, Node>,
}

struct State {
    live: Image,
    durable: Image,
    /// Inode numbers are never reused, also across cuts, so the kernel never mistakes one for another.
    next_ino: u64,
    /// Open files: handle → (inode, the era it was opened in).
    handles: HashMap<u64, (u64, u64)>,
    next_fh: u64,
    /// Bumped by every cut: handles of an earlier era fail.
    era: u64,
    fenced: bool,
    /// A full disk: writes, creates and new directories fail with ENOSPC.
    full: bool,
    stats: Stats,
}

/// What the file system saw, for the test's report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub file_fsyncs: u64,
    pub dir_fsyncs: u64,
    pub cuts: u64,
}

#[derive(Clone)]
pub struct LazyFs {
    state: Arc<Mutex<State>>,
}

const ROOT: u64 = 1;

/// Moves the state dir of `config` (a sandbox config, `dir = "state"`) onto the file system
/// mounted at `mount`; returns the new state dir.
pub fn put_state_on(config: &Path, mount: &Path) -> std::path::PathBuf {
    let state_dir = mount.join("state");
    let text = std::fs::read_to_string(config)
        .unwrap()
        .replace("dir = \"state\"", &format!("dir = {:?}", state_dir.to_str().unwrap()));
    std::fs::write(config, text).unwrap();
    state_dir
}

impl LazyFs {
    pub fn new() -> Self {
        let root = Node {
            body: Body::Dir(BTreeMap::new()),
            perm: 0o755,
        };
        let image = Image {
            nodes: HashMap::from([(ROOT, root)]),
        };
        Self {
            state: Arc::new(Mutex::new(State {
                live: image.clone(),
                durable: image,
                next_ino: ROOT + 1,
                handles: HashMap::new(),
                next_fh: 1,
                era: 0,
                fenced: false,
                full: false,
                stats: Stats::default(),
            })),
        }
    }

    /// Mounts a new, empty file system at `at` (an existing empty directory), served by a thread
    /// of this process until the returned session is dropped.
    pub fn mount(at: &Path) -> std::io::Result<(Self, fuser::BackgroundSession)> {
        let fs = Self::new();
        let mut config = fuser::Config::default();
        config.mount_options = vec![fuser::MountOption::FSName("lazyfs".into()), fuser::MountOption::RW];
        let session = fuser::spawn_mount(fs.clone(), at, &config)?;
        Ok((fs, session))
    }

    /// The power cut: everything not fsynced is gone, and nothing more is done until
    /// [`LazyFs::resume`].
    pub fn cut(&self) {
        let mut st = self.lock();
        st.live = st.durable.clone();
        st.era += 1;
        st.handles.clear();
        st.fenced = true;
        st.stats.cuts += 1;
    }

    /// Power is back.
    pub fn resume(&self) {
        self.lock().fenced = false;
    }

    /// The disk fills up (`true`) or has room again.
    pub fn set_full(&self, full: bool) {
        self.lock().full = full;
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state, unless a cut fenced it (then EIO: the machine is off).
    fn live(&self) -> Result<MutexGuard<'_, State>, Errno> {
        let st = self.lock();
        if st.fenced {
            return Err(Errno::EIO);
        }
        Ok(st)
    }

    /// The state for a request that takes space: ENOSPC while the disk is full.
    fn room(&self) -> Result<MutexGuard<'_, State>, Errno> {
        let st = self.live()?;
        if st.full {
            return Err(Errno::ENOSPC);
        }
        Ok(st)
    }
}

impl State {
    fn node(&self, ino: u64) -> Result<&Node, Errno> {
        self.live.nodes.get(&ino).ok_or(Errno::ENOENT)
    }

    fn node_mut(&mut self, ino: u64) -> Result<&mut Node, Errno> {
        self.live.nodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }

    fn entries(&self, dir: u64) -> Result<&BTreeMap<OsString, u64>, Errno> {
        match &self.node(dir)?.body {
            Body::Dir(entries) => Ok(entries),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn entries_mut(&mut self, dir: u64) -> Result<&mut BTreeMap<OsString, u64>, Errno> {
        match &mut self.node_mut(dir)?.body {
            Body::Dir(entries) => Ok(entries),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn attr(&self, ino: u64) -> Result<FileAttr, Errno> {
        let node = self.node(ino)?;
        let (kind, size, nlink) = match &node.body {
            Body::File(data) => (FileType::RegularFile, data.len() as u64, 1),
            Body::Dir(_) => (FileType::Directory, 0, 2),
            Body::Socket => (FileType::Socket, 0, 1),
        };
        Ok(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: UNIX_EPOCH,
            mtime: UNIX_EPOCH,
            ctime: UNIX_EPOCH,
            crtime: UNIX_EPOCH,
            kind,
            perm: node.perm,
            nlink,
            // SAFETY: getuid/getgid cannot fail.
            uid: unsafe { libc::getuid() },
            gid: unsafe { libc::getgid() },
            rdev: 0,
            flags: 0,
            blksize: 4096,
        })
    }

    fn add(&mut self, parent: u64, name: &OsStr, node: Node) -> Result<FileAttr, Errno> {
        if self.entries(parent)?.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.live.nodes.insert(ino, node);
        self.entries_mut(parent)?.insert(name.to_owned(), ino);
        self.attr(ino)
    }

    fn open_handle(&mut self, ino: u64) -> FileHandle {
        let fh = self.next_fh;
        self.next_fh += 1;
        self.handles.insert(fh, (ino, self.era));
        FileHandle(fh)
    }

    /// The file behind a handle of this era.
    fn file(&mut self, fh: FileHandle) -> Result<&mut Vec<u8>, Errno> {
        let (ino, era) = *self.handles.get(&fh.0).ok_or(Errno::EBADF)?;
        if era != self.era {
            return Err(Errno::EIO);
        }
        match &mut self.node_mut(ino)?.body {
            Body::File(data) => Ok(data),
            _ => Err(Errno::EISDIR),
        }
    }

    /// A node as a cut would find it once its name became durable: its contents only as far as
    /// they were fsynced (nothing, if never).
    fn durable_shell(&self, ino: u64) -> Option<Node> {
        if let Some(node) = self.durable.nodes.get(&ino) {
            return Some(node.clone());
        }
        let live = self.live.nodes.get(&ino)?;
        let body = match &live.body {
            Body::File(_) => Body::File(Vec::new()),
            Body::Dir(_) => Body::Dir(BTreeMap::new()),
            Body::Socket => Body::Socket,
        };
        Some(Node { body, perm: live.perm })
    }
}

fn reply_entry(reply: ReplyEntry, attr: Result<FileAttr, Errno>) {
    match attr {
        Ok(attr) => reply.entry(&NO_CACHE, &attr, Generation(0)),
        Err(e) => reply.error(e),
    }
}

fn reply_empty(reply: ReplyEmpty, result: Result<(), Errno>) {
    match result {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e),
    }
}

impl Filesystem for LazyFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let attr = self.live().and_then(|st| {
            let ino = *st.entries(parent.0)?.get(name).ok_or(Errno::ENOENT)?;
            st.attr(ino)
        });
        reply_entry(reply, attr);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.live().and_then(|st| st.attr(ino.0)) {
            Ok(attr) => reply.attr(&NO_CACHE, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let result = self.live().and_then(|mut st| {
            let node = st.node_mut(ino.0)?;
            if let Some(mode) = mode {
                node.perm = (mode & 0o7777) as u16;
            }
            if let Some(size) = size {
                match &mut node.body {
                    Body::File(data) => data.resize(size as usize, 0),
                    _ => return Err(Errno::EISDIR),
                }
            }
            st.attr(ino.0)
        });
        match result {
            Ok(attr) => reply.attr(&NO_CACHE, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn mknod(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        let body = match mode & libc::S_IFMT {
            libc::S_IFSOCK => Body::Socket,
            libc::S_IFREG => Body::File(Vec::new()),
            _ => return reply.error(Errno::EPERM),
        };
        let perm = (mode & !umask & 0o7777) as u16;
        reply_entry(
            reply,
            self.live()
                .and_then(|mut st| st.add(parent.0, name, Node { body, perm })),
        );
    }

    fn mkdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, mode: u32, umask: u32, reply: ReplyEntry) {
        let node = Node {
            body: Body::Dir(BTreeMap::new()),
            perm: (mode & !umask & 0o7777) as u16,
        };
        reply_entry(reply, self.room().and_then(|mut st| st.add(parent.0, name, node)));
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let result = self.live().and_then(|mut st| {
            let ino = *st.entries(parent.0)?.get(name).ok_or(Errno::ENOENT)?;
            if matches!(st.node(ino)?.body, Body::Dir(_)) {
                return Err(Errno::EISDIR);
            }
            st.entries_mut(parent.0)?.remove(name);
            Ok(())
        });
        reply_empty(reply, result);
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let result = self.live().and_then(|mut st| {
            let ino = *st.entries(parent.0)?.get(name).ok_or(Errno::ENOENT)?;
            if !st.entries(ino)?.is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
            st.entries_mut(parent.0)?.remove(name);
            Ok(())
        });
        reply_empty(reply, result);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let result = self.live().and_then(|mut st| {
            let ino = *st.entries(parent.0)?.get(name).ok_or(Errno::ENOENT)?;
            if let Some(&replaced) = st.entries(newparent.0)?.get(newname) {
                if flags.contains(RenameFlags::RENAME_NOREPLACE) {
                    return Err(Errno::EEXIST);
                }
                if let Body::Dir(entries) = &st.node(replaced)?.body {
                    if !entries.is_empty() {
                        return Err(Errno::ENOTEMPTY);
                    }
                }
            }
            st.entries_mut(parent.0)?.remove(name);
            st.entries_mut(newparent.0)?.insert(newname.to_owned(), ino);
            Ok(())
        });
        reply_empty(reply, result);
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let result = self.live().and_then(|mut st| {
            st.node(ino.0)?;
            Ok(st.open_handle(ino.0))
        });
        match result {
            Ok(fh) => reply.opened(fh, FopenFlags::FOPEN_DIRECT_IO),
            Err(e) => reply.error(e),
        }
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let node = Node {
            body: Body::File(Vec::new()),
            perm: (mode & !umask & 0o7777) as u16,
        };
        let result = self.room().and_then(|mut st| {
            let attr = st.add(parent.0, name, node)?;
            Ok((attr, st.open_handle(attr.ino.0)))
        });
        match result {
            Ok((attr, fh)) => reply.created(&NO_CACHE, &attr, Generation(0), fh, FopenFlags::FOPEN_DIRECT_IO),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let result = self.live().and_then(|mut st| {
            let data = st.file(fh)?;
            let start = (offset as usize).min(data.len());
            let end = start.saturating_add(size as usize).min(data.len());
            Ok(data[start..end].to_vec())
        });
        match result {
            Ok(bytes) => reply.data(&bytes),
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        bytes: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let result = self.room().and_then(|mut st| {
            let data = st.file(fh)?;
            let end = offset as usize + bytes.len();
            if data.len() < end {
                data.resize(end, 0);
            }
            data[offset as usize..end].copy_from_slice(bytes);
            Ok(bytes.len() as u32)
        });
        match result {
            Ok(n) => reply.written(n),
            Err(e) => reply.error(e),
        }
    }

    fn flush(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _lock_owner: LockOwner, reply: ReplyEmpty) {
        // close(2) is no barrier.
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.lock().handles.remove(&fh.0);
        reply.ok();
    }

    fn fsync(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        let result = self.live().and_then(|mut st| {
            let node = st.node(ino.0)?.clone();
            if let Body::Dir(_) = node.body {
                return sync_dir(&mut st, ino.0);
            }
            st.durable.nodes.insert(ino.0, node);
            st.stats.file_fsyncs += 1;
            Ok(())
        });
        reply_empty(reply, result);
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.live().and_then(|st| st.entries(ino.0).map(|_| ())) {
            Ok(()) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn readdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, mut reply: ReplyDirectory) {
        let listing = self.live().and_then(|st| {
            let mut all = vec![
                (ino.0, FileType::Directory, OsString::from(".")),
                (ROOT, FileType::Directory, OsString::from("..")),
            ];
            for (name, &child) in st.entries(ino.0)? {
                let kind = st.attr(child)?.kind;
                all.push((child, kind, name.clone()));
            }
            Ok(all)
        });
        match listing {
            Ok(all) => {
                for (i, (child, kind, name)) in all.into_iter().enumerate().skip(offset as usize) {
                    if reply.add(INodeNo(child), (i + 1) as u64, kind, name) {
                        break;
                    }
                }
                reply.ok();
            }
            Err(e) => reply.error(e),
        }
    }

    fn fsyncdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        let result = self.live().and_then(|mut st| sync_dir(&mut st, ino.0));
        reply_empty(reply, result);
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        reply.statfs(1 << 24, 1 << 23, 1 << 23, 1 << 20, 1 << 19, 4096, 255, 4096);
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        reply.ok();
    }
}

/// A directory's entries become durable as they are now; names new to it point at their node as
/// far as it was fsynced.
fn sync_dir(st: &mut State, ino: u64) -> Result<(), Errno> {
    let live = st.node(ino)?.clone();
    let Body::Dir(entries) = &live.body else {
        return Err(Errno::ENOTDIR);
    };
    for &child in entries.values() {
        if !st.durable.nodes.contains_key(&child) {
            if let Some(shell) = st.durable_shell(child) {
                st.durable.nodes.insert(child, shell);
            }
        }
    }
    let perm = live.perm;
    let body = Body::Dir(entries.clone());
    st.durable.nodes.insert(ino, Node { body, perm });
    st.stats.dir_fsyncs += 1;
    Ok(())
}
