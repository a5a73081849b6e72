//! The command's private mount namespace: `--bind`, `--tmpfs`, `--ro`.
//!
//! Every path is resolved without following a symbolic link in any of its
//! components, and every mount is made through the descriptor that
//! resolution gave, so nothing can be swapped between check and use:
//! `openat2(RESOLVE_NO_SYMLINKS)`, then `open_tree` → `mount_setattr` →
//! `move_mount`. Where the kernel or a container's seccomp profile refuses
//! those calls (`ENOSYS`, or `EPERM` from Docker 20.10's profile), an
//! `O_PATH|O_NOFOLLOW` walk and classic `mount(2)` on `/proc/self/fd/N`
//! give the same guarantees. A tmpfs is always mounted the classic way, on
//! `/proc/self/fd/N` (one call instead of five).

use crate::args::Mount;
use crate::error::{ErrnoName, Error, Show};
use crate::msg;
use crate::rt::pack::Msg;
use crate::rt::vec;
use crate::sys::fs::{self, StackCStr, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_WRONLY};
use crate::sys::mount::{self as sys, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY};
use crate::sys::process::{self, Namespace};
use crate::sys::{Errno, Fd};
use alloc::vec::Vec;
use core::ffi::CStr;

/// Unshare the mount namespace, make `/` private, create every missing
/// mountpoint, then apply `mounts` in order. With `private` (`--pid-ns`,
/// whose inner init mounts `/proc` afresh), the namespace is made even
/// without a mount to apply.
// Out of line: inlined into its one caller, it would cost more.
#[inline(never)]
pub fn apply(mounts: &[Mount], private: bool) -> Result<(), Error> {
    if mounts.is_empty() && !private {
        return Ok(());
    }
    for m in mounts.iter().filter(|m| creates(m)) {
        let dst = path(m);
        // `/` is below `dst` only when `dst` is `/` itself.
        if under(c"/", dst) {
            return Err(Fail::new(dst.to_bytes(), None, Note::Root).error(step(m)));
        }
    }
    // The namespace is the first mount option's step.
    private_namespace(mounts.first().map_or(msg!("--ro"), step))?;
    let mut mounter = Mounter { api: Api::Fd };
    // Mountpoints are created before anything is mounted where an earlier
    // `--ro` would forbid it later; elsewhere, when their mount comes, which
    // looks the same from outside and spares the common case a lookup. One
    // below an earlier bind or tmpfs is made inside that, when it is mounted.
    for (i, m) in mounts.iter().enumerate() {
        let dst = path(m);
        let (mut made_read_only, mut inside_a_new_mount) = (false, false);
        for e in mounts.get(..i).unwrap_or_default() {
            if under(dst, path(e)) {
                made_read_only |= is_read_only(e);
                inside_a_new_mount |= creates(e);
            }
        }
        if creates(m) && made_read_only && !inside_a_new_mount {
            mounter.run(m, true)?;
        }
    }
    mounts.iter().try_for_each(|m| mounter.run(m, false))
}

/// What `--pid-ns` mounts: `/proc` afresh, then the kernel's knobs in it,
/// bound read-only over themselves (as Docker does). NUL-terminated, one
/// after another: a table of `&CStr` would cost 16 bytes of data a row.
const PROC_MOUNTS: &[u8] = b"/proc\0/proc/sys\0/proc/sysrq-trigger\0/proc/irq\0/proc/bus\0";

/// The `i`th path of `PROC_MOUNTS`; `None` past the last.
pub fn proc_mount(i: usize) -> Option<&'static CStr> {
    c_strings(PROC_MOUNTS).nth(i)
}

/// The NUL-terminated strings packed in `packed`, in order.
pub fn c_strings(mut packed: &[u8]) -> impl Iterator<Item = &CStr> {
    core::iter::from_fn(move || {
        let s = fs::until_nul(packed)?;
        packed = packed.get(s.count_bytes() + 1..)?;
        Some(s)
    })
}

/// `--pid-ns`: mount `/proc` for the caller's PID namespace (the caller is
/// the inner init, PID 1 there), `nosuid,nodev,noexec`, and make the knobs
/// of [`PROC_MOUNTS`] read-only; one the kernel does not have is skipped.
/// `hidepid=4` ("ptraceable", Linux 5.8; older kernels mount without it):
/// a process sees only the processes it could trace, so the command (with
/// fewer capabilities than proctor, or another uid) sees nothing of the
/// inner init: not `/proc/1/fd`, nor its `cmdline`, which names proctor's
/// options. (`hidepid=2` would not do: it lets the group `gid=`, root's by
/// default, see everything.)
/// The paths are fixed and the filesystem fresh, so classic mounts by path
/// are safe here. Allocates nothing (it runs after the inner init's fork);
/// a failure gives the index in [`PROC_MOUNTS`] and the errno.
pub fn mount_proc() -> Result<(), (usize, Errno)> {
    const FLAGS: u64 = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    let proc = |data| sys::mount(c"proc", c"/proc", c"proc", FLAGS, data);
    // Bound read-only over itself; one the kernel does not have is skipped.
    let knob = |path| match sys::mount(path, path, c"", MS_BIND, None) {
        Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(e),
        Ok(()) => {
            let read_only = sys::MS_REMOUNT | MS_BIND | MS_RDONLY | FLAGS;
            sys::mount(c"none", path, c"", read_only, None)
        }
    };
    // A counter costs less than `enumerate`.
    let mut paths = c_strings(PROC_MOUNTS);
    for i in 0.. {
        let Some(path) = paths.next() else { break };
        let done = match i {
            0 => match proc(Some(c"hidepid=4")) {
                Err(Errno::EINVAL) => proc(None),
                other => other,
            },
            _ => knob(path),
        };
        done.map_err(|e| (i, e))?;
    }
    Ok(())
}

/// Unshare the mount namespace and make `/` recursively private in it,
/// for the option `step`.
pub fn private_namespace(step: Msg) -> Result<(), Error> {
    process::unshare(Namespace::Mount)
        .map_err(|e| mount_error(step, b"unshare(CLONE_NEWNS)", e))?;
    // Nothing propagates to or from the container's (or the host's) namespace.
    sys::mount(c"none", c"/", c"", sys::MS_REC | sys::MS_PRIVATE, None)
        .map_err(|e| mount_error(step, b"making / private", e))
}

/// `--ro PATH` on its own, in proctor's current mount namespace.
// Out of line: inlined into vm::protect, it would cost more.
#[inline(never)]
pub fn make_read_only(path: &CStr) -> Result<(), Error> {
    Mounter { api: Api::Fd }.run(&Mount::ReadOnly { path }, false)
}

/// Which kernel interface mounts go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    /// Through descriptors: `openat2(RESOLVE_NO_SYMLINKS)`, `open_tree`,
    /// `mount_setattr`, `move_mount` (Linux 5.12+).
    Fd,
    /// An `O_PATH|O_NOFOLLOW` walk and `mount(2)` on `/proc/self/fd/N`.
    Classic,
}

/// The mounts of one run, and the API they go through: the new one until
/// it is refused, then the classic one for good.
struct Mounter {
    api: Api,
}

impl Mounter {
    /// Apply `m` (with `prepare`, only create its mountpoint) with the API
    /// in use; when the new calls are refused (`ENOSYS`, or `EPERM` from a
    /// seccomp profile), fall back to the classic one. Nothing is mounted
    /// when it fails that way, so it can simply run again.
    fn run(&mut self, m: &Mount, prepare: bool) -> Result<(), Error> {
        let step = step(m);
        if !prepare {
            log!(Verbose, "{} {}", step, Show(path(m).to_bytes()));
        }
        let mut fail = Fail::new(b"", None, Note::None);
        loop {
            match apply_one(m, self.api, prepare, &mut fail) {
                Err(Failed)
                    if self.api == Api::Fd
                        && matches!(fail.errno, Errno::ENOSYS | Errno::EPERM) =>
                {
                    let (e, rest) = (
                        ErrnoName(fail.errno),
                        msg!(" from the new mount calls, falling back to classic mount(2)"),
                    );
                    log!(Verbose, "{}: {}{}", step, e, rest);
                    self.api = Api::Classic;
                }
                other => return other.map_err(|Failed| fail.error(step)),
            }
        }
    }
}

/// An `O_PATH` descriptor of the existing `path`, refusing a symbolic link
/// in any of its components: `openat2`, or the walk where it is refused
/// (which also names the link).
pub fn open_no_symlinks(step: Msg, path: &CStr) -> Result<Fd, Error> {
    let mut out = Fail::new(b"", None, Note::None);
    let opened = match sys::open_path_no_symlinks(fs::AT_FDCWD, path) {
        Err(Errno::ELOOP | Errno::ENOSYS | Errno::EPERM) => {
            walk(path.to_bytes(), Create::No, &mut out).map(|r| r.fd)
        }
        opened => opened.map_err(|e| out.set(fail(path.to_bytes(), e))),
    };
    opened.map_err(|Failed| out.error(step))
}

/// The option a mount comes from.
fn step(m: &Mount) -> Msg {
    match m {
        Mount::Bind { .. } => msg!("--bind"),
        Mount::Tmpfs { .. } => msg!("--tmpfs"),
        Mount::ReadOnly { .. } => msg!("--ro"),
        Mount::Device { .. } => msg!("--mount"),
    }
}

/// The path a mount acts on.
pub fn path<'a>(m: &'a Mount) -> &'a CStr {
    match m {
        Mount::Bind { dst, .. } | Mount::Tmpfs { dst, .. } | Mount::Device { dst, .. } => dst,
        Mount::ReadOnly { path } => path,
    }
}

/// Whether a mount puts something new at its path (which may need creating).
fn creates(m: &Mount) -> bool {
    !is_read_only(m)
}

/// Whether a mount makes what is at its path read-only (`--ro`).
fn is_read_only(m: &Mount) -> bool {
    matches!(m, Mount::ReadOnly { .. })
}

/// What a message says after the path (its text by position in
/// [`Fail::error`]'s table).
#[derive(Clone, Copy)]
enum Note {
    None,
    /// A mount call failed: `EPERM` and `EACCES` name the missing privilege,
    /// errno 0 a mountpoint replaced meanwhile.
    Mount,
    Symlink,
    Resolving,
    Root,
}

/// A failure of this module's work before it is an [`Error`] (which only
/// the step adds): the path it names, the errno and what follows the path.
/// The outermost caller holds it and every function below fills it in and
/// returns [`Failed`]: passing a `Fail` up by value copies it at each `?`.
struct Fail<'p> {
    path: &'p [u8],
    /// 0 for none: an `Option` would make every `Fail` a word larger.
    errno: Errno,
    note: Note,
}

/// That a function of this module failed: what failed is in its [`Fail`].
struct Failed;

impl<'p> Fail<'p> {
    fn new(path: &'p [u8], errno: Option<Errno>, note: Note) -> Fail<'p> {
        let errno = errno.unwrap_or(Errno::new(0));
        Fail { path, errno, note }
    }

    /// Record `f` as what failed.
    fn set(&mut self, f: Fail<'p>) -> Failed {
        *self = f;
        Failed
    }

    /// `step: path[: note]: ERRNO`, the one place this module's messages are made.
    #[inline(never)]
    fn error(&self, step: Msg) -> Error {
        // By `Note`, then a mount call's two cases that say more: a table
        // costs less than a match.
        const NOTES: [Msg; 7] = [
            msg!(""),
            msg!(""),
            msg!(": is a symbolic link"),
            msg!(": replaced while being resolved"),
            msg!(": refusing to mount over /"),
            msg!(": needs CAP_SYS_ADMIN (and, on AppArmor hosts, apparmor=unconfined)"),
            msg!(": replaced while being mounted"),
        ];
        let i = match self.note {
            Note::Mount if matches!(self.errno, Errno::EPERM | Errno::EACCES) => 5,
            Note::Mount if self.errno.into_raw() == 0 => 6,
            note => note as usize,
        };
        let note = NOTES.get(i).copied().unwrap_or(msg!(""));
        let errno = Some(self.errno).filter(|e| e.into_raw() != 0);
        crate::err!(step, errno, "{}{}", Show(self.path), note)
    }
}

/// `path: ERRNO`.
fn fail(path: &[u8], e: Errno) -> Fail<'_> {
    Fail::new(path, Some(e), Note::None)
}

/// A mount call's failure on `path`.
fn mount_fail(path: &[u8], e: Errno) -> Fail<'_> {
    Fail::new(path, Some(e), Note::Mount)
}

/// Apply `m` through `api`; with `prepare`, only resolve what it needs
/// and create its mountpoint.
// Out of line: inlined into its one caller, it would cost more.
#[inline(never)]
fn apply_one<'m>(m: &'m Mount, api: Api, prepare: bool, out: &mut Fail<'m>) -> Result<(), Failed> {
    // What is mounted comes before its mountpoint: a bind's source (whose
    // kind the mountpoint takes), a device (only when it is mounted).
    let (dst, writable, noexec, from) = match m {
        Mount::ReadOnly { path } => return read_only(path, api, out),
        Mount::Bind {
            src,
            dst,
            writable,
            noexec,
        } => (
            dst,
            *writable,
            *noexec,
            Some(resolve(src, Create::No, api, out)?),
        ),
        Mount::Device {
            dev,
            dst,
            writable,
            noexec,
            ..
        } => {
            let device = if prepare {
                None
            } else {
                Some(block_device(dev, api, out)?)
            };
            (dst, *writable, *noexec, device)
        }
        Mount::Tmpfs { dst, noexec, .. } => (dst, true, *noexec, None),
    };
    let like = from.as_ref().filter(|_| matches!(m, Mount::Bind { .. }));
    let to = mountpoint(dst, like, api, out)?;
    if prepare {
        return Ok(());
    }
    let ro = if writable { 0 } else { MS_RDONLY };
    let flags = MS_NOSUID | MS_NODEV | ro | if noexec { MS_NOEXEC } else { 0 };
    match (m, &from) {
        (Mount::Tmpfs { size, mode, .. }, _) => {
            let data = tmpfs_options(*size, *mode);
            mount_at(dst, c"tmpfs", &to, c"tmpfs", flags, Some(data.c()), out)
        }
        // The kernel looks the source up by name: /proc/self/fd/N names
        // exactly the device node resolved above.
        (Mount::Device { dev, fstype, .. }, Some(device)) => mount_at(
            dev,
            proc_path(&device.fd).c(),
            &to,
            fstype,
            flags,
            None,
            out,
        ),
        (_, Some(from)) => bind(dst, from, &to, flags, false, api, out),
        (_, None) => Ok(()), // not reached: a bind or device has its source
    }
}

/// Classic `mount(2)` of `src` (of type `fstype`) onto `to`; failures name `path`.
fn mount_at<'p>(
    path: &'p CStr,
    src: &CStr,
    to: &Resolved,
    fstype: &CStr,
    flags: u64,
    data: Option<&CStr>,
    out: &mut Fail<'p>,
) -> Result<(), Failed> {
    sys::mount(src, proc_path(&to.fd).c(), fstype, flags, data)
        .map_err(|e| out.set(mount_fail(path.to_bytes(), e)))
}

/// Bind the mount at `from` (with every mount below it when `recursive`)
/// onto `to`, with `flags`; failures name `path`.
fn bind<'p>(
    path: &'p CStr,
    from: &Resolved,
    to: &Resolved,
    flags: u64,
    recursive: bool,
    api: Api,
    out: &mut Fail<'p>,
) -> Result<(), Failed> {
    let path = path.to_bytes();
    let done = match api {
        Api::Fd => {
            // MS_* and MOUNT_ATTR_* agree on these four bits.
            sys::clone_tree(from.fd.raw(), recursive).and_then(|tree| {
                sys::set_attrs(tree.raw(), flags, recursive)?;
                sys::move_mount(tree.raw(), to.fd.raw())
            })
        }
        Api::Classic => {
            let rec = if recursive { sys::MS_REC } else { 0 };
            let (from, onto) = (proc_path(&from.fd), proc_path(&to.fd));
            sys::mount(from.c(), onto.c(), c"", MS_BIND | rec, None)
                .and_then(|()| remount(&reopen(path, to)?, flags))
        }
    };
    done.map_err(|e| out.set(mount_fail(path, e)))
}

/// The block device at `dev`, resolved without following a symbolic link.
fn block_device<'p>(dev: &'p CStr, api: Api, out: &mut Fail<'p>) -> Result<Resolved, Failed> {
    let device = resolve(dev, Create::No, api, out)?;
    let stat = fs::stat_fd(device.fd.raw()).map_err(|e| out.set(fail(dev.to_bytes(), e)))?;
    if stat.kind() != fs::S_IFBLK {
        return Err(out.set(fail(dev.to_bytes(), Errno::ENOTBLK)));
    }
    Ok(device)
}

/// Make the mount at `path` and every mount below it read-only, in place;
/// when `path` is no mount root, bind it onto itself first. Classic
/// remounts act on one mount: those below come from `/proc/self/mountinfo`.
fn read_only<'p>(path: &'p CStr, api: Api, out: &mut Fail<'p>) -> Result<(), Failed> {
    let at = resolve(path, Create::No, api, out)?;
    let in_place = match api {
        Api::Fd => sys::set_attrs(at.fd.raw(), sys::MOUNT_ATTR_RDONLY, true),
        Api::Classic => remount(&at.fd, MS_RDONLY),
    };
    match in_place {
        Err(Errno::EINVAL) => bind(path, &at, &at, MS_RDONLY, true, api, out)?,
        other => other.map_err(|e| out.set(mount_fail(path.to_bytes(), e)))?,
    }
    match api {
        Api::Fd => Ok(()),
        Api::Classic => read_only_below(path.to_bytes(), out),
    }
}

/// Classic remounts of every mount strictly below `path` that
/// `/proc/self/mountinfo` lists.
// Out of line: inlined into its one caller, it would cost more.
#[inline(never)]
fn read_only_below<'p>(path: &'p [u8], out: &mut Fail<'p>) -> Result<(), Failed> {
    const INFO: &CStr = c"/proc/self/mountinfo";
    // Leaked: messages name the points in it (the arena would not reuse it).
    let info = read_file(INFO)
        .map_err(|e| out.set(mount_fail(INFO.to_bytes(), e)))?
        .leak();
    let mut lines = info;
    while !lines.is_empty() {
        let point = mount_point(cut(&mut lines, b'\n'));
        // Only mounts strictly below `path`: its own was remounted above
        // (and no path holds a NUL; a line without one gives `""`, which
        // every path is below).
        if fs::position(point, 0).is_some() || !under_bytes(point, path) || under_bytes(path, point)
        {
            continue;
        }
        let sub = match walk(point, Create::No, out) {
            Ok(sub) => sub,
            // Hidden under a later mount: out of the command's reach too.
            Err(Failed) if out.errno == Errno::ENOENT => continue,
            Err(f) => return Err(f),
        };
        match remount(&sub.fd, MS_RDONLY) {
            // Not a mount root any more: the mount covering it was remounted.
            Ok(()) | Err(Errno::EINVAL) => {}
            Err(e) => return Err(out.set(mount_fail(point, e))),
        }
    }
    Ok(())
}

/// Classic remount of the mount whose root `fd` is, adding `flags` to the
/// ones it has (a bind remount replaces them all).
fn remount(fd: &Fd, flags: u64) -> Result<(), Errno> {
    const KEEP: u64 = MS_RDONLY
        | MS_NOSUID
        | MS_NODEV
        | MS_NOEXEC
        | sys::MS_NOATIME
        | sys::MS_NODIRATIME
        | sys::MS_RELATIME;
    let keep = sys::mount_flags(fd.raw())? & KEEP;
    let flags = sys::MS_REMOUNT | MS_BIND | keep | flags;
    sys::mount(c"none", proc_path(fd).c(), c"", flags, None)
}

/// After a classic mount onto `at`, a descriptor of the new mount (looked
/// up again by name in the parent, since `at` still refers to what is below);
/// errno 0 when what is there now is not it.
fn reopen(path: &[u8], at: &Resolved) -> Result<Fd, Errno> {
    let parent = at.parent.as_ref().ok_or(Errno::EINVAL)?;
    // The walk opened the last name of `path` in `parent`: it is no longer
    // than NAME_MAX, so it fits.
    let mut name = StackCStr::default();
    let _ = name.push(components(path).last().unwrap_or_default());
    let top = fs::openat(parent.raw(), name.c(), O_PATH | O_NOFOLLOW, 0)?;
    let was = fs::stat_fd(at.fd.raw())?;
    let now = fs::stat_fd(top.raw())?;
    // Kernels before 5.8 report no mount id: the remount then fails unless
    // this is a mount root.
    if now.kind() == fs::S_IFLNK || (now.mnt_id != 0 && now.mnt_id == was.mnt_id) {
        return Err(Errno::new(0));
    }
    Ok(top)
}

/// What to create when a path is missing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Create {
    No,
    Dir,
    File,
}

/// A path resolved without symbolic links: an `O_PATH` descriptor, and
/// after a walk the directory holding it.
struct Resolved {
    fd: Fd,
    parent: Option<Fd>,
}

/// The mountpoint `dst`, created when missing: a directory, or an empty file
/// when the bind source `src` is not a directory.
// Out of line: inlined into apply_one, it would cost more.
#[inline(never)]
fn mountpoint<'p>(
    dst: &'p CStr,
    src: Option<&Resolved>,
    api: Api,
    out: &mut Fail<'p>,
) -> Result<Resolved, Failed> {
    match resolve(dst, Create::No, api, out) {
        Err(Failed) if out.errno == Errno::ENOENT => {}
        other => return other,
    }
    let dir = match src {
        None => true,
        Some(s) => {
            let st = fs::stat_fd(s.fd.raw()).map_err(|e| out.set(fail(dst.to_bytes(), e)))?;
            st.kind() == fs::S_IFDIR
        }
    };
    resolve(dst, if dir { Create::Dir } else { Create::File }, api, out)
}

/// Resolve `path` with `openat2(RESOLVE_NO_SYMLINKS)`, or by a walk where
/// that is refused, a symbolic link must be named, or something is created.
fn resolve<'p>(
    path: &'p CStr,
    create: Create,
    api: Api,
    out: &mut Fail<'p>,
) -> Result<Resolved, Failed> {
    if api == Api::Fd && create == Create::No {
        match sys::open_path_no_symlinks(fs::AT_FDCWD, path) {
            Ok(fd) => return Ok(Resolved { fd, parent: None }),
            Err(Errno::ELOOP) => {}
            Err(e) => return Err(out.set(fail(path.to_bytes(), e))),
        }
    }
    walk(path.to_bytes(), create, out)
}

/// Open `path` one component at a time with `O_PATH|O_NOFOLLOW`, refusing
/// symbolic links and creating what is missing as `create` says (parents as
/// 0755 directories).
fn walk<'p>(path: &'p [u8], create: Create, out: &mut Fail<'p>) -> Result<Resolved, Failed> {
    let root = fs::openat(fs::AT_FDCWD, c"/", O_PATH | O_DIRECTORY, 0)
        .map_err(|e| out.set(fail(b"/", e)))?;
    let mut at = Resolved {
        fd: root,
        parent: None,
    };
    let mut names = components(path);
    let mut next = names.next();
    while let Some(name) = next {
        next = names.next();
        let last = next.is_none();
        // Parents of what is created are directories.
        let create = if last || create == Create::No {
            create
        } else {
            Create::Dir
        };
        if let Err((e, note)) = step_into(&mut at, name, last, create) {
            // Where this component ends in `path`, for messages.
            let end = name.as_ptr() as usize - path.as_ptr() as usize + name.len();
            return Err(out.set(Fail::new(path.get(..end).unwrap_or(path), Some(e), note)));
        }
    }
    Ok(at)
}

/// One step of [`walk`]: open `name` in `at` (the `last` component, or a
/// directory), creating it as `create` says, and make it `at`.
// Out of line: inlined into its one caller, it would cost more.
#[inline(never)]
fn step_into(
    at: &mut Resolved,
    name: &[u8],
    last: bool,
    create: Create,
) -> Result<(), (Errno, Note)> {
    let plain = |e| (e, Note::None);
    // ENAMETOOLONG when it does not fit, as the kernel answers for a name
    // longer than NAME_MAX. (No path walked holds a NUL: they come from C
    // strings, and read_only_below skips a mount point that would.)
    let mut c = StackCStr::default();
    c.push(name).map_err(plain)?;
    let name = c.c();
    let dir = at.fd.raw();
    let flags = O_PATH | O_NOFOLLOW | if last { 0 } else { O_DIRECTORY };
    let open = || fs::openat(dir, name, flags, 0);
    let fd = match open() {
        Err(Errno::ENOENT) if create != Create::No => make(dir, name, create).and_then(|()| open()),
        // O_DIRECTORY met a symbolic link, a file, or something since replaced.
        Err(e @ (Errno::ENOTDIR | Errno::ELOOP)) => {
            return Err(
                match fs::stat_at(dir, name, fs::AT_SYMLINK_NOFOLLOW).map(|s| s.kind()) {
                    Ok(fs::S_IFLNK) => (Errno::ELOOP, Note::Symlink),
                    Ok(fs::S_IFDIR) => (e, Note::Resolving),
                    _ => plain(e),
                },
            );
        }
        other => other,
    }
    .map_err(plain)?;
    if last && fs::stat_fd(fd.raw()).is_ok_and(|s| s.kind() == fs::S_IFLNK) {
        return Err((Errno::ELOOP, Note::Symlink));
    }
    let parent = core::mem::replace(&mut at.fd, fd);
    at.parent = Some(parent);
    Ok(())
}

/// Create `name` in `dir` with an exact mode (the umask left aside), never
/// through a symbolic link; one that appeared meanwhile is fine.
fn make(dir: i32, name: &CStr, kind: Create) -> Result<(), Errno> {
    let mask = sys::umask(0);
    let made = match kind {
        Create::File => {
            fs::openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o644).map(drop)
        }
        _ => sys::mkdir_at(dir, name, 0o755),
    };
    sys::umask(mask);
    match made {
        Err(Errno::EEXIST) => Ok(()),
        other => other,
    }
}

/// `step: path: ERRNO`.
pub fn error(step: Msg, path: &[u8], e: Errno) -> Error {
    fail(path, e).error(step)
}

/// An error of a mount call, saying what privilege is missing where that is the cause.
pub fn mount_error(step: Msg, path: &[u8], e: Errno) -> Error {
    mount_fail(path, e).error(step)
}

/// `/proc/self/fd/N` of a descriptor: mounting there acts on exactly the
/// object the descriptor refers to.
fn proc_path(fd: &Fd) -> StackCStr {
    let mut path = StackCStr::default();
    // At most 24 bytes: it fits.
    let _ = path.push(b"/proc/self/fd/");
    let _ = path.push_decimal(fd.raw() as u64);
    path
}

/// A tmpfs's options: `size=BYTES,mode=OOOO`.
fn tmpfs_options(size: u64, mode: u32) -> StackCStr {
    let (mut octal, mut shift) = ([0; 4], 12);
    for digit in &mut octal {
        shift -= 3;
        *digit = b'0' + (mode >> shift & 7) as u8;
    }
    let mut data = StackCStr::default();
    // At most 35 bytes: it fits.
    let _ = data.push(b"size=");
    let _ = data.push_decimal(size);
    let _ = data.push(b",mode=");
    let _ = data.push(&octal);
    data
}

fn read_file(path: &CStr) -> Result<Vec<u8>, Errno> {
    let fd = fs::open(path, fs::O_RDONLY)?;
    let mut data = Vec::new();
    loop {
        let len = data.len();
        vec::extend_zeroed(&mut data, 4096)?;
        let n = fs::read(fd.raw(), data.get_mut(len..).unwrap_or_default())?;
        data.truncate(len + n);
        if n == 0 {
            return Ok(data);
        }
    }
}

/// The names between slashes, without empty ones and `.`.
fn components(path: &[u8]) -> Components<'_> {
    Components(path)
}

/// The iterator of [`components`]: a plain loop costs less than core's
/// `Split` and `Filter`.
struct Components<'a>(&'a [u8]);

impl<'a> Iterator for Components<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while !self.0.is_empty() {
            let end = fs::position(self.0, b'/').unwrap_or(self.0.len());
            let (name, rest) = self.0.split_at_checked(end)?;
            self.0 = rest.get(1..).unwrap_or_default();
            if !name.is_empty() && name != b"." {
                return Some(name);
            }
        }
        None
    }
}

/// Whether `path` is `dir` or below it.
pub fn under(path: &CStr, dir: &CStr) -> bool {
    under_bytes(path.to_bytes(), dir.to_bytes())
}

fn under_bytes(path: &[u8], dir: &[u8]) -> bool {
    let mut names = components(path);
    components(dir).all(|d| names.next() == Some(d))
}

/// The mount point of a mountinfo line (its fifth field), decoded in place.
fn mount_point(mut line: &mut [u8]) -> &[u8] {
    for _ in 0..4 {
        cut(&mut line, b' ');
    }
    unescape(cut(&mut line, b' '))
}

/// The part of `rest` before the first `sep` (all of it without one);
/// `rest` keeps what follows the `sep`.
fn cut<'a>(rest: &mut &'a mut [u8], sep: u8) -> &'a mut [u8] {
    let all = core::mem::take(rest);
    let end = fs::position(all, sep).unwrap_or(all.len());
    let (head, tail) = all.split_at_mut_checked(end).unwrap_or_default();
    *rest = tail.get_mut(1..).unwrap_or_default();
    head
}

/// A mountinfo field with its octal escapes (`\040`) decoded, in place.
fn unescape(field: &mut [u8]) -> &[u8] {
    let (mut from, mut to) = (0, 0);
    while let Some(&b) = field.get(from) {
        let octal = field
            .get(from + 1..from + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        let (byte, len) = match (b, octal) {
            (b'\\', Some(d)) => (
                d.iter()
                    .fold(0u8, |v, c| v.wrapping_mul(8).wrapping_add(c - b'0')),
                4,
            ),
            _ => (b, 1),
        };
        if let Some(slot) = field.get_mut(to) {
            *slot = byte;
        }
        from += len;
        to += 1;
    }
    field.get(..to).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_below_others() {
        assert!(under(c"/a/b", c"/a"));
        assert!(under(c"/a//b/", c"/a/"));
        assert!(under(c"/a", c"/a"));
        assert!(under(c"/a/./b", c"/"));
        assert!(!under(c"/ab", c"/a"));
        assert!(!under(c"/a", c"/a/b"));
    }

    #[test]
    fn mountinfo_points_are_decoded() {
        let info = b"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
                     30 22 0:5 / /with\\040space rw - tmpfs tmpfs rw\n\
                     31 22 0:6 / /back\\134slash\\ rw - tmpfs tmpfs rw\n";
        let mut info = info.to_vec();
        let points: Vec<&[u8]> = info.split_mut(|&b| b == b'\n').map(mount_point).collect();
        assert_eq!(points, [&b"/"[..], b"/with space", b"/back\\slash\\", b""]);
    }

    #[test]
    fn each_note_reads_as_before() {
        let text = |note, e| Fail::new(b"/x", e, note).error(msg!("--bind")).text();
        let cases = [
            (Note::None, Some(Errno::ENOENT), &b"--bind: /x: ENOENT"[..]),
            (Note::Mount, Some(Errno::EBUSY), b"--bind: /x: EBUSY"),
            (
                Note::Mount,
                Some(Errno::EACCES),
                b"--bind: /x: needs CAP_SYS_ADMIN (and, on AppArmor hosts, apparmor=unconfined): EACCES",
            ),
            (Note::Mount, None, b"--bind: /x: replaced while being mounted"),
            (Note::Symlink, Some(Errno::ELOOP), b"--bind: /x: is a symbolic link: ELOOP"),
            (
                Note::Resolving,
                Some(Errno::ENOTDIR),
                b"--bind: /x: replaced while being resolved: ENOTDIR",
            ),
            (Note::Root, None, b"--bind: /x: refusing to mount over /"),
        ];
        for (note, e, want) in cases {
            assert_eq!(text(note, e), want);
        }
    }

    #[test]
    fn tmpfs_options_give_the_mode_in_four_octal_digits() {
        assert_eq!(
            tmpfs_options(1 << 20, 0o1777).c(),
            c"size=1048576,mode=1777"
        );
        assert_eq!(tmpfs_options(0, 0o55).c(), c"size=0,mode=0055");
    }

    #[test]
    fn components_skip_empty_and_dot() {
        let c: Vec<&[u8]> = components(b"//a/./b/").collect();
        assert_eq!(c, [&b"a"[..], b"b"]);
        assert_eq!(components(b"/").count(), 0);
    }
}
