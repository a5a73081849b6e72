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
use crate::error::{ErrnoName, Error, Show, Text};
use crate::rt::cstr::{NotCStr, OwnedCStr};
use crate::rt::vec;
use crate::sys::fs::{self, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_WRONLY};
use crate::sys::mount::{self as sys, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY};
use crate::sys::process::{self, Namespace};
use crate::sys::{Errno, Fd};
use alloc::vec::Vec;
use core::ffi::CStr;

/// Unshare the mount namespace, make `/` private, create every missing
/// mountpoint, then apply `mounts` in order. With `private` (`--pid-ns`,
/// whose inner init mounts `/proc` afresh), the namespace is made even
/// without a mount to apply.
pub fn apply(mounts: &[Mount], private: bool) -> Result<(), Error> {
    if mounts.is_empty() && !private {
        return Ok(());
    }
    for m in mounts.iter().filter(|m| creates(m)) {
        let (step, dst) = target(m);
        if components(dst.to_bytes()).next().is_none() {
            return Err(crate::err!(
                step,
                None,
                "{}: refusing to mount over /",
                Show(dst.to_bytes())
            ));
        }
    }
    // The namespace is the first mount option's step.
    private_namespace(mounts.first().map_or("--ro", |m| target(m).0))?;
    let mut mounter = Mounter { api: Api::Fd };
    // Mountpoints are created before anything is mounted where an earlier
    // `--ro` would forbid it later; elsewhere, when their mount comes, which
    // looks the same from outside and spares the common case a lookup. One
    // below an earlier bind or tmpfs is made inside that, when it is mounted.
    for (i, m) in mounts.iter().enumerate().filter(|(_, m)| creates(m)) {
        let (step, dst) = target(m);
        let earlier = mounts.get(..i).unwrap_or_default();
        let below_earlier =
            |kind: fn(&Mount) -> bool| earlier.iter().any(|e| kind(e) && under(dst, target(e).1));
        let made_read_only = below_earlier(is_read_only);
        let inside_a_new_mount = below_earlier(creates);
        if made_read_only && !inside_a_new_mount {
            mounter.run(|api| {
                let src = match m {
                    Mount::Bind { src, .. } => Some(resolve(step, src, Create::No, api)?),
                    _ => None,
                };
                mountpoint(step, dst, src.as_ref(), api).map(drop)
            })?;
        }
    }
    mounter.apply_each(mounts)
}

/// What `--pid-ns` mounts: `/proc` afresh, then the kernel's knobs in it,
/// bound read-only over themselves (as Docker does).
pub const PROC_MOUNTS: [&CStr; 5] = [
    c"/proc",
    c"/proc/sys",
    c"/proc/sysrq-trigger",
    c"/proc/irq",
    c"/proc/bus",
];

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
    match proc(Some(c"hidepid=4")) {
        Err(Errno::EINVAL) => proc(None),
        other => other,
    }
    .map_err(|e| (0, e))?;
    for (i, &path) in PROC_MOUNTS.iter().enumerate().skip(1) {
        match sys::mount(path, path, c"", MS_BIND, None) {
            Err(Errno::ENOENT) => continue,
            other => other.map_err(|e| (i, e))?,
        }
        let read_only = sys::MS_REMOUNT | MS_BIND | MS_RDONLY | FLAGS;
        sys::mount(c"none", path, c"", read_only, None).map_err(|e| (i, e))?;
    }
    Ok(())
}

/// Unshare the mount namespace and make `/` recursively private in it,
/// for the option `step`.
pub fn private_namespace(step: &'static str) -> Result<(), Error> {
    process::unshare(Namespace::Mount)
        .map_err(|e| mount_error(step, b"unshare(CLONE_NEWNS)", e))?;
    // Nothing propagates to or from the container's (or the host's) namespace.
    sys::mount(c"none", c"/", c"", sys::MS_REC | sys::MS_PRIVATE, None)
        .map_err(|e| mount_error(step, b"making / private", e))
}

/// `--ro PATH` on its own, in proctor's current mount namespace.
pub fn make_read_only(path: &CStr) -> Result<(), Error> {
    Mounter { api: Api::Fd }.apply_each(&[Mount::ReadOnly { path }])
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
    fn apply_each(&mut self, mounts: &[Mount]) -> Result<(), Error> {
        for m in mounts {
            let (step, path) = target(m);
            log!(Verbose, "{} {}", step, Show(path.to_bytes()));
            self.run(|api| apply_one(m, api))?;
        }
        Ok(())
    }

    /// Run `f` with the API in use; when the new calls are refused
    /// (`ENOSYS`, or `EPERM` from a seccomp profile), fall back to the
    /// classic one. `f` has mounted nothing when it fails that way, so it
    /// can simply run again.
    fn run(&mut self, mut f: impl FnMut(Api) -> Result<(), Error>) -> Result<(), Error> {
        if self.api == Api::Fd {
            let error = match f(Api::Fd) {
                Err(e) => e,
                ok => return ok,
            };
            let Some(e @ (Errno::ENOSYS | Errno::EPERM)) = error.errno() else {
                return Err(error);
            };
            log!(
                Verbose,
                "{}: {} from the new mount calls, falling back to classic mount(2)",
                error.step(),
                ErrnoName(e)
            );
            self.api = Api::Classic;
        }
        f(Api::Classic)
    }
}

/// An `O_PATH` descriptor of the existing `path`, refusing a symbolic link
/// in any of its components: `openat2`, or the walk where it is refused
/// (which also names the link).
pub fn open_no_symlinks(step: &'static str, path: &CStr) -> Result<Fd, Error> {
    match sys::open_path_no_symlinks(fs::AT_FDCWD, path) {
        Err(Errno::ELOOP | Errno::ENOSYS | Errno::EPERM) => {
            walk(step, path, Create::No).map(|r| r.fd)
        }
        other => other.map_err(|e| error(step, path.to_bytes(), e)),
    }
}

/// The step name and the path a mount acts on.
pub fn target<'a>(m: &'a Mount) -> (&'static str, &'a CStr) {
    match m {
        Mount::Bind { dst, .. } => ("--bind", dst),
        Mount::Tmpfs { dst, .. } => ("--tmpfs", dst),
        Mount::ReadOnly { path } => ("--ro", path),
        Mount::Device { dst, .. } => ("--mount", dst),
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

fn apply_one(m: &Mount, api: Api) -> Result<(), Error> {
    match m {
        Mount::Bind {
            src,
            dst,
            writable,
            noexec,
        } => {
            let from = resolve("--bind", src, Create::No, api)?;
            let to = mountpoint("--bind", dst, Some(&from), api)?;
            let ro = if *writable { 0 } else { MS_RDONLY };
            let flags = MS_NOSUID | MS_NODEV | ro | if *noexec { MS_NOEXEC } else { 0 };
            match api {
                Api::Fd => {
                    // MS_* and MOUNT_ATTR_* agree on these four bits.
                    let tree = sys::clone_tree(from.fd.raw(), false);
                    tree.and_then(|t| sys::set_attrs(t.raw(), flags, false).map(|()| t))
                        .and_then(|t| sys::move_mount(t.raw(), to.fd.raw()))
                        .map_err(|e| mount_error("--bind", dst.to_bytes(), e))
                }
                Api::Classic => {
                    sys::mount(&proc_path(&from.fd), &proc_path(&to.fd), c"", MS_BIND, None)
                        .map_err(|e| mount_error("--bind", dst.to_bytes(), e))?;
                    remount(&reopen("--bind", dst, &to)?, flags)
                        .map_err(|e| mount_error("--bind", dst.to_bytes(), e))
                }
            }
        }
        Mount::Tmpfs {
            dst,
            size,
            mode,
            noexec,
        } => {
            let to = mountpoint("--tmpfs", dst, None, api)?;
            let mut data = Text::default();
            let _ = ufmt::uwrite!(
                data,
                "size={},mode={}{}{}{}",
                size,
                (mode >> 9) & 7,
                (mode >> 6) & 7,
                (mode >> 3) & 7,
                mode & 7
            );
            let data = OwnedCStr::new(&data.0)
                .map_err(|e| mount_error("--tmpfs", dst.to_bytes(), e.into()))?;
            let flags = MS_NOSUID | MS_NODEV | if *noexec { MS_NOEXEC } else { 0 };
            sys::mount(c"tmpfs", &proc_path(&to.fd), c"tmpfs", flags, Some(&data))
                .map_err(|e| mount_error("--tmpfs", dst.to_bytes(), e))
        }
        Mount::Device {
            dev,
            dst,
            fstype,
            writable,
            noexec,
        } => {
            let device = block_device(dev, api)?;
            let to = mountpoint("--mount", dst, None, api)?;
            let ro = if *writable { 0 } else { MS_RDONLY };
            let flags = MS_NOSUID | MS_NODEV | ro | if *noexec { MS_NOEXEC } else { 0 };
            // The kernel looks the source up by name: /proc/self/fd/N names
            // exactly the device node resolved above.
            sys::mount(
                &proc_path(&device.fd),
                &proc_path(&to.fd),
                fstype,
                flags,
                None,
            )
            .map_err(|e| mount_error("--mount", dev.to_bytes(), e))
        }
        Mount::ReadOnly { path } => {
            let at = resolve("--ro", path, Create::No, api)?;
            match api {
                Api::Fd => read_only(&at).map_err(|e| mount_error("--ro", path.to_bytes(), e)),
                Api::Classic => read_only_classic(path, &at),
            }
        }
    }
}

/// The block device at `dev`, resolved without following a symbolic link.
fn block_device(dev: &CStr, api: Api) -> Result<Resolved, Error> {
    let device = resolve("--mount", dev, Create::No, api)?;
    match fs::stat_fd(device.fd.raw()).map(|s| s.kind()) {
        Ok(fs::S_IFBLK) => Ok(device),
        Ok(_) => Err(error("--mount", dev.to_bytes(), Errno::ENOTBLK)),
        Err(e) => Err(error("--mount", dev.to_bytes(), e)),
    }
}

/// Make the mount at `at` and every mount below it read-only, in place;
/// when `at` is no mount root, bind it onto itself first.
fn read_only(at: &Resolved) -> Result<(), Errno> {
    match sys::set_attrs(at.fd.raw(), sys::MOUNT_ATTR_RDONLY, true) {
        Err(Errno::EINVAL) => {
            let tree = sys::clone_tree(at.fd.raw(), true)?;
            sys::set_attrs(tree.raw(), sys::MOUNT_ATTR_RDONLY, true)?;
            sys::move_mount(tree.raw(), at.fd.raw())
        }
        other => other,
    }
}

/// [`read_only`] with classic remounts: the mount at `path`, then every
/// mount below it that `/proc/self/mountinfo` lists.
fn read_only_classic(path: &CStr, at: &Resolved) -> Result<(), Error> {
    let fail = |e| mount_error("--ro", path.to_bytes(), e);
    match remount(&at.fd, MS_RDONLY) {
        Err(Errno::EINVAL) => {
            let here = proc_path(&at.fd);
            sys::mount(&here, &here, c"", MS_BIND | sys::MS_REC, None).map_err(fail)?;
            remount(&reopen("--ro", path, at)?, MS_RDONLY).map_err(fail)?;
        }
        other => other.map_err(fail)?,
    }
    let info = read_file(c"/proc/self/mountinfo")
        .map_err(|e| mount_error("--ro", b"/proc/self/mountinfo", e))?;
    for point in mount_points(&info) {
        let point = point.map_err(|e| mount_error("--ro", b"/proc/self/mountinfo", e))?;
        // Only mounts strictly below `path`: its own was remounted above.
        if !under_bytes(&point, path.to_bytes()) || under_bytes(path.to_bytes(), &point) {
            continue;
        }
        let point = match OwnedCStr::new(&point) {
            Ok(point) => point,
            Err(NotCStr::OutOfMemory) => {
                return Err(mount_error("--ro", path.to_bytes(), Errno::ENOMEM))
            }
            Err(NotCStr::Nul) => continue,
        };
        let sub = match walk("--ro", &point, Create::No) {
            Ok(sub) => sub,
            // Hidden under a later mount: out of the command's reach too.
            Err(e) if e.errno() == Some(Errno::ENOENT) => continue,
            Err(e) => return Err(e),
        };
        match remount(&sub.fd, MS_RDONLY) {
            // Not a mount root any more: the mount covering it was remounted.
            Ok(()) | Err(Errno::EINVAL) => {}
            Err(e) => return Err(mount_error("--ro", point.to_bytes(), e)),
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
    sys::mount(c"none", &proc_path(fd), c"", flags, None)
}

/// After a classic mount onto `at`, a descriptor of the new mount (looked
/// up again by name in the parent, since `at` still refers to what is below).
fn reopen(step: &'static str, path: &CStr, at: &Resolved) -> Result<Fd, Error> {
    let fail = |e| mount_error(step, path.to_bytes(), e);
    let (parent, name) = at.parent.as_ref().ok_or(Errno::EINVAL).map_err(fail)?;
    let top = fs::openat(parent.raw(), name, O_PATH | O_NOFOLLOW, 0).map_err(fail)?;
    let (was, now) = (fs::stat_fd(at.fd.raw()), fs::stat_fd(top.raw()));
    let (was, now) = was.and_then(|w| now.map(|n| (w, n))).map_err(fail)?;
    // Kernels before 5.8 report no mount id: the remount then fails unless
    // this is a mount root.
    if now.kind() == fs::S_IFLNK || (now.mnt_id != 0 && now.mnt_id == was.mnt_id) {
        return Err(crate::err!(
            step,
            None,
            "{}: replaced while being mounted",
            Show(path.to_bytes())
        ));
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
/// after a walk the parent directory and last name.
struct Resolved {
    fd: Fd,
    parent: Option<(Fd, OwnedCStr)>,
}

/// The mountpoint `dst`, created when missing: a directory, or an empty file
/// when the bind source `src` is not a directory.
fn mountpoint(
    step: &'static str,
    dst: &CStr,
    src: Option<&Resolved>,
    api: Api,
) -> Result<Resolved, Error> {
    match resolve(step, dst, Create::No, api) {
        Err(e) if e.errno() == Some(Errno::ENOENT) => {
            let dir = src.map_or(Ok::<bool, Error>(true), |s| {
                let st = fs::stat_fd(s.fd.raw()).map_err(|e| error(step, dst.to_bytes(), e))?;
                Ok(st.kind() == fs::S_IFDIR)
            })?;
            let kind = if dir { Create::Dir } else { Create::File };
            resolve(step, dst, kind, api)
        }
        other => other,
    }
}

/// Resolve `path` with `openat2(RESOLVE_NO_SYMLINKS)`, or by a walk where
/// that is refused, a symbolic link must be named, or something is created.
fn resolve(step: &'static str, path: &CStr, create: Create, api: Api) -> Result<Resolved, Error> {
    if api == Api::Fd && create == Create::No {
        match sys::open_path_no_symlinks(fs::AT_FDCWD, path) {
            Ok(fd) => return Ok(Resolved { fd, parent: None }),
            Err(Errno::ELOOP) => {}
            Err(e) => return Err(error(step, path.to_bytes(), e)),
        }
    }
    walk(step, path, create)
}

/// Open `path` one component at a time with `O_PATH|O_NOFOLLOW`, refusing
/// symbolic links and creating what is missing as `create` says (parents as
/// 0755 directories).
fn walk(step: &'static str, path: &CStr, create: Create) -> Result<Resolved, Error> {
    let bytes = path.to_bytes();
    let root = fs::openat(fs::AT_FDCWD, c"/", O_PATH | O_DIRECTORY, 0)
        .map_err(|e| error(step, b"/", e))?;
    let mut at = Resolved {
        fd: root,
        parent: None,
    };
    let mut names = components(bytes).peekable();
    while let Some(name) = names.next() {
        let last = names.peek().is_none();
        // Where this component ends in `path`, for messages.
        let shown = bytes
            .get(..name.as_ptr() as usize - bytes.as_ptr() as usize + name.len())
            .unwrap_or(bytes);
        let name = OwnedCStr::new(name).map_err(|e| error(step, shown, e.into()))?;
        let dir = at.fd.raw();
        let flags = O_PATH | O_NOFOLLOW | if last { 0 } else { O_DIRECTORY };
        let open = || fs::openat(dir, &name, flags, 0);
        let fd = match open() {
            Err(Errno::ENOENT) if create != Create::No => {
                make(dir, &name, if last { create } else { Create::Dir })
                    .and_then(|()| open())
                    .map_err(|e| error(step, shown, e))?
            }
            // O_DIRECTORY met a symbolic link, a file, or something since replaced.
            Err(e @ (Errno::ENOTDIR | Errno::ELOOP)) => {
                let now = fs::stat_at(dir, &name, fs::AT_SYMLINK_NOFOLLOW).map(|s| s.kind());
                return Err(match now {
                    Ok(fs::S_IFLNK) => symlink(step, shown),
                    Ok(fs::S_IFDIR) => crate::err!(
                        step,
                        Some(e),
                        "{}: replaced while being resolved",
                        Show(shown)
                    ),
                    _ => error(step, shown, e),
                });
            }
            other => other.map_err(|e| error(step, shown, e))?,
        };
        if last && fs::stat_fd(fd.raw()).is_ok_and(|s| s.kind() == fs::S_IFLNK) {
            return Err(symlink(step, shown));
        }
        let parent = core::mem::replace(&mut at.fd, fd);
        at.parent = Some((parent, name));
    }
    Ok(at)
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

fn symlink(step: &'static str, path: &[u8]) -> Error {
    crate::err!(
        step,
        Some(Errno::ELOOP),
        "{}: is a symbolic link",
        Show(path)
    )
}

/// `step: path: ERRNO`.
pub fn error(step: &'static str, path: &[u8], e: Errno) -> Error {
    crate::err!(step, Some(e), "{}", Show(path))
}

/// An error of a mount call, saying what privilege is missing where that is the cause.
pub fn mount_error(step: &'static str, path: &[u8], e: Errno) -> Error {
    if matches!(e, Errno::EPERM | Errno::EACCES) {
        crate::err!(
            step,
            Some(e),
            "{}: needs CAP_SYS_ADMIN (and, on AppArmor hosts, apparmor=unconfined)",
            Show(path)
        )
    } else {
        error(step, path, e)
    }
}

/// `/proc/self/fd/N` of a descriptor: mounting there acts on exactly the
/// object the descriptor refers to.
fn proc_path(fd: &Fd) -> OwnedCStr {
    let mut t = Text::default();
    let _ = ufmt::uwrite!(t, "/proc/self/fd/{}", fd.raw());
    OwnedCStr::new(&t.0).unwrap_or_default()
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
fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
}

/// Whether `path` is `dir` or below it.
pub fn under(path: &CStr, dir: &CStr) -> bool {
    under_bytes(path.to_bytes(), dir.to_bytes())
}

fn under_bytes(path: &[u8], dir: &[u8]) -> bool {
    let mut names = components(path);
    components(dir).all(|d| names.next() == Some(d))
}

/// The mount points (fifth field, octal escapes decoded) of a mountinfo text;
/// `ENOMEM` when one does not fit in memory.
fn mount_points(info: &[u8]) -> impl Iterator<Item = Result<Vec<u8>, Errno>> + '_ {
    info.split(|&b| b == b'\n').filter_map(|line| {
        let field = line.split(|&b| b == b' ').nth(4)?;
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(&b) = field.get(i) {
            let octal = field
                .get(i + 1..i + 4)
                .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
            match (b, octal) {
                (b'\\', Some(d)) => {
                    let byte = d
                        .iter()
                        .fold(0u8, |v, c| v.wrapping_mul(8).wrapping_add(c - b'0'));
                    if let Err(e) = vec::push(&mut out, byte) {
                        return Some(Err(e.into()));
                    }
                    i += 4;
                }
                _ => {
                    if let Err(e) = vec::push(&mut out, b) {
                        return Some(Err(e.into()));
                    }
                    i += 1;
                }
            }
        }
        Some(Ok(out))
    })
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
        let points: Vec<Vec<u8>> = mount_points(info).collect::<Result<_, _>>().unwrap();
        assert_eq!(points, [&b"/"[..], b"/with space", b"/back\\slash\\"]);
    }

    #[test]
    fn components_skip_empty_and_dot() {
        let c: Vec<&[u8]> = components(b"//a/./b/").collect();
        assert_eq!(c, [&b"a"[..], b"b"]);
        assert_eq!(components(b"/").count(), 0);
    }
}
