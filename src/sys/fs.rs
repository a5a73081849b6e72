//! Files, directories, pipes and terminals.

use super::{retry, Fd, Result};
use core::ffi::CStr;
use syscalls::{syscall, Sysno};

pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
pub const AT_EMPTY_PATH: u32 = 0x1000;
pub const AT_REMOVEDIR: u32 = 0x200;
/// `renameat2` flag: swap the two names atomically (Linux 3.15+; not every
/// filesystem has it).
pub const RENAME_EXCHANGE: u32 = 2;

pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 1;
pub const O_CREAT: u32 = 0o100;
pub const O_EXCL: u32 = 0o200;
pub const O_NOCTTY: u32 = 0o400;
pub const O_TRUNC: u32 = 0o1000;
pub const O_NONBLOCK: u32 = 0o4000;
#[cfg(target_arch = "x86_64")]
pub const O_DIRECTORY: u32 = 0o200000;
#[cfg(target_arch = "x86_64")]
pub const O_NOFOLLOW: u32 = 0o400000;
#[cfg(target_arch = "aarch64")]
pub const O_DIRECTORY: u32 = 0o40000;
#[cfg(target_arch = "aarch64")]
pub const O_NOFOLLOW: u32 = 0o100000;
pub const O_CLOEXEC: u32 = 0o2000000;
pub const O_PATH: u32 = 0o10000000;

/// File type bits of `st_mode`.
pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFIFO: u32 = 0o010000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFBLK: u32 = 0o060000;

/// A C string built on the stack for a system call (a path, mount
/// options): building one never allocates. (Its methods are out of line:
/// many places build one.)
pub struct StackCStr {
    buf: [u8; 512],
    len: usize,
}

impl Default for StackCStr {
    /// An empty one.
    #[inline(never)]
    fn default() -> StackCStr {
        StackCStr {
            buf: [0; 512],
            len: 0,
        }
    }
}

impl StackCStr {
    /// Append `part`; `ENAMETOOLONG`, with nothing appended, when it and
    /// the NUL do not fit.
    #[inline(never)]
    pub fn push(&mut self, part: &[u8]) -> Result<()> {
        let end = self.len + part.len();
        let room = self.buf.get_mut(self.len..end).filter(|_| end < 512);
        for (slot, &b) in room.ok_or(super::Errno::ENAMETOOLONG)?.iter_mut().zip(part) {
            *slot = b;
        }
        self.len = end;
        Ok(())
    }

    /// Append `n` in decimal.
    pub fn push_decimal(&mut self, n: u64) -> Result<()> {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = n;
        while let Some(slot) = at.checked_sub(1).and_then(|i| digits.get_mut(i)) {
            *slot = b'0' + (n % 10) as u8;
            at -= 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(digits.get(at..).unwrap_or_default())
    }

    /// The bytes, without the NUL.
    #[inline(never)]
    pub fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// The string up to its first NUL (the buffer is zeroed past the end).
    pub fn c(&self) -> &CStr {
        until_nul(&self.buf).unwrap_or(c"")
    }
}

/// Where `b` first occurs in `bytes`. A plain loop: core's `[u8]::contains`
/// and `CStr::from_bytes_until_nul` bring a word-at-a-time `memchr`,
/// compiled for speed, of 0.5 KB into the binary.
#[inline(never)]
pub fn position(bytes: &[u8], b: u8) -> Option<usize> {
    bytes.iter().position(|&x| x == b)
}

/// The C string at the start of `bytes`, up to its first NUL.
pub fn until_nul(bytes: &[u8]) -> Option<&CStr> {
    let with_nul = bytes.get(..=position(bytes, 0)?)?;
    // SAFETY: `with_nul` ends at the first NUL of `bytes`, so it holds one
    // NUL, last.
    Some(unsafe { CStr::from_bytes_with_nul_unchecked(with_nul) })
}

/// Open `path` relative to `dir` (or `AT_FDCWD`). `O_CLOEXEC` is always added:
/// nothing proctor opens may leak into the command.
pub fn openat(dir: i32, path: &CStr, flags: u32, mode: u32) -> Result<Fd> {
    // SAFETY: path is NUL-terminated; the kernel only reads it.
    let fd =
        retry(|| unsafe { syscall!(Sysno::openat, dir, path.as_ptr(), flags | O_CLOEXEC, mode) })?;
    Ok(Fd::from_raw(fd as i32))
}

/// Open `path` relative to the working directory.
pub fn open(path: &CStr, flags: u32) -> Result<Fd> {
    openat(AT_FDCWD, path, flags, 0)
}

/// Read into `buf`; 0 means end of file.
pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: buf is valid and writable for its length.
    retry(|| unsafe { syscall!(Sysno::read, fd, buf.as_mut_ptr(), buf.len()) })
}

/// Write all of `buf`, resuming after partial writes and `EINTR`.
pub fn write_all(fd: i32, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        // SAFETY: buf is valid for reads of its length.
        let n = retry(|| unsafe { syscall!(Sysno::write, fd, buf.as_ptr(), buf.len()) })?;
        if n == 0 {
            return Err(super::Errno::EIO);
        }
        buf = buf.get(n..).unwrap_or_default();
    }
    Ok(())
}

/// Write `words` (native byte order) with one `write`: to a pipe, up to
/// `PIPE_BUF` bytes arrive whole.
pub fn write_words(fd: i32, words: &[u64]) -> Result<()> {
    let len = core::mem::size_of_val(words);
    // SAFETY: words is valid for reads of `len` bytes.
    let n = retry(|| unsafe { syscall!(Sysno::write, fd, words.as_ptr(), len) })?;
    if n == len {
        Ok(())
    } else {
        Err(super::Errno::EIO)
    }
}

/// Read into `words`; how many whole words came (0 at end of file).
pub fn read_words(fd: i32, words: &mut [u64]) -> Result<usize> {
    let len = core::mem::size_of_val(words);
    // SAFETY: words is valid for writes of `len` bytes, any of which make a u64.
    retry(|| unsafe { syscall!(Sysno::read, fd, words.as_mut_ptr(), len) }).map(|n| n / 8)
}

/// A pipe whose both ends close on `execve`: (read end, write end).
pub fn pipe() -> Result<(Fd, Fd)> {
    let mut fds = [0i32; 2];
    // SAFETY: fds has room for the two descriptors the kernel writes.
    unsafe { syscall!(Sysno::pipe2, fds.as_mut_ptr(), O_CLOEXEC) }?;
    Ok((Fd::from_raw(fds[0]), Fd::from_raw(fds[1])))
}

/// Whether `fd` is a terminal.
pub fn is_terminal(fd: i32) -> bool {
    const TCGETS: usize = 0x5401;
    let mut termios = [0u8; 64];
    // SAFETY: TCGETS writes a struct termios (60 bytes) into the buffer.
    unsafe { syscall!(Sysno::ioctl, fd, TCGETS, termios.as_mut_ptr()) }.is_ok()
}

/// Give up the controlling terminal (`TIOCNOTTY`).
pub fn release_terminal(fd: i32) -> Result<()> {
    const TIOCNOTTY: usize = 0x5422;
    // SAFETY: TIOCNOTTY takes no argument.
    unsafe { syscall!(Sysno::ioctl, fd, TIOCNOTTY, 0) }.map(drop)
}

/// Make the terminal on `fd` the controlling terminal of this session (`TIOCSCTTY`).
pub fn take_terminal(fd: i32) -> Result<()> {
    const TIOCSCTTY: usize = 0x540E;
    // SAFETY: TIOCSCTTY takes an integer (0: do not steal from another session).
    unsafe { syscall!(Sysno::ioctl, fd, TIOCSCTTY, 0) }.map(drop)
}

/// Wait until everything written to the terminal `fd` has been transmitted
/// (`tcdrain`): a VM that powers off right after would lose the rest.
pub fn drain_terminal(fd: i32) -> Result<()> {
    const TCSBRK: usize = 0x5409;
    // SAFETY: TCSBRK with a non-zero integer argument only waits for the output to drain.
    retry(|| unsafe { syscall!(Sysno::ioctl, fd, TCSBRK, 1) }).map(drop)
}

/// The parts of `struct statx` proctor looks at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// The file's identity: the device holding it (major in the high half,
    /// minor in the low) and the inode.
    pub dev: u64,
    pub ino: u64,
    /// 0 where the kernel does not say (before 5.8).
    pub mnt_id: u64,
    /// The root of a mount (`STATX_ATTR_MOUNT_ROOT`, 5.8+; else `false`).
    pub mount_root: bool,
}

impl Stat {
    pub fn kind(&self) -> u32 {
        self.mode & S_IFMT
    }

    /// Whether both describe the same file.
    pub fn same_file(&self, other: &Stat) -> bool {
        (self.dev, self.ino) == (other.dev, other.ino)
    }
}

/// `statx` of `path` relative to `dir`; `flags` are `AT_*` flags.
pub fn stat_at(dir: i32, path: &CStr, flags: u32) -> Result<Stat> {
    // TYPE MODE UID GID INO SIZE MNT_ID
    const WANTED: u32 = 0x1 | 0x2 | 0x8 | 0x10 | 0x100 | 0x200 | 0x1000;
    const STATX_ATTR_MOUNT_ROOT: u64 = 0x2000;
    let mut buf = [0u64; 32]; // struct statx is 256 bytes
                              // SAFETY: buf is a writable, 8-aligned 256-byte struct statx.
    retry(|| unsafe {
        syscall!(
            Sysno::statx,
            dir,
            path.as_ptr(),
            flags,
            WANTED,
            buf.as_mut_ptr()
        )
    })?;
    // Layout: u32 mask, u32 blksize, u64 attributes (8), u32 nlink, u32 uid (20),
    // u32 gid (24), u16 mode (28), u64 ino (32), u64 size (40), …,
    // u64 attributes_mask (56), …, u32 dev_major (136), u32 dev_minor (140),
    // u64 mnt_id (144).
    let high = |w: u64| (w >> 32) as u32;
    let attrs = buf[1] & buf[7];
    Ok(Stat {
        mode: high(buf[3]) & 0xffff,
        uid: high(buf[2]),
        gid: buf[3] as u32,
        size: buf[5],
        dev: buf[17].rotate_right(32),
        ino: buf[4],
        mnt_id: buf[18],
        mount_root: attrs & STATX_ATTR_MOUNT_ROOT != 0,
    })
}

/// `statx` of an open descriptor.
pub fn stat_fd(fd: i32) -> Result<Stat> {
    stat_at(fd, c"", AT_EMPTY_PATH)
}

/// Rename `from` to `to`, both relative to `dir`; `flags` are `RENAME_*`.
pub fn rename_at(dir: i32, from: &CStr, to: &CStr, flags: u32) -> Result<()> {
    // SAFETY: both paths are NUL-terminated; the flags are plain integers.
    unsafe {
        syscall!(
            Sysno::renameat2,
            dir,
            from.as_ptr(),
            dir,
            to.as_ptr(),
            flags
        )
    }
    .map(drop)
}

/// Remove the file (or, with `AT_REMOVEDIR`, the empty directory) `path` relative to `dir`.
pub fn unlink_at(dir: i32, path: &CStr, flags: u32) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    unsafe { syscall!(Sysno::unlinkat, dir, path.as_ptr(), flags) }.map(drop)
}

/// Whether `path` is on a read-only mount.
pub fn on_read_only_mount(path: &CStr) -> Result<bool> {
    const ST_RDONLY: u64 = 1;
    // struct statfs: fifteen 8-byte words on 64-bit; f_flags is at offset 80.
    let mut buf = [0u64; 15];
    // SAFETY: path is NUL-terminated; buf is a writable 120-byte struct statfs.
    retry(|| unsafe { syscall!(Sysno::statfs, path.as_ptr(), buf.as_mut_ptr()) })?;
    Ok(buf[10] & ST_RDONLY != 0)
}

/// Cut the file open on `fd` to `len` bytes.
pub fn truncate(fd: i32, len: u64) -> Result<()> {
    // SAFETY: ftruncate takes a descriptor and a length.
    retry(|| unsafe { syscall!(Sysno::ftruncate, fd, len) }).map(drop)
}

/// Flush a file's data to its device.
pub fn fsync(fd: i32) -> Result<()> {
    // SAFETY: fsync takes only a descriptor.
    retry(|| unsafe { syscall!(Sysno::fsync, fd) }).map(drop)
}

/// Read directory entries into `buf` (raw `linux_dirent64` records); 0 at the end.
pub fn getdents(fd: i32, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: buf is writable for its length.
    retry(|| unsafe { syscall!(Sysno::getdents64, fd, buf.as_mut_ptr(), buf.len()) })
}

/// Iterate over the names in a buffer filled by [`getdents`].
pub fn dirents(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut off = 0;
    core::iter::from_fn(move || {
        // linux_dirent64: u64 ino, i64 off, u16 reclen, u8 type, name NUL-terminated.
        let rec = buf.get(off..)?;
        let reclen = u16::from_ne_bytes([*rec.get(16)?, *rec.get(17)?]) as usize;
        let name = rec.get(19..reclen)?;
        off += reclen.max(1);
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        name.get(..end)
    })
}

/// Close every descriptor from `first` on, or mark them close-on-exec when
/// `cloexec` is set (`close_range`, Linux 5.9/5.11).
pub fn close_range(first: u32, last: u32, cloexec: bool) -> Result<()> {
    const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
    let flags = if cloexec { CLOSE_RANGE_CLOEXEC } else { 0 };
    // SAFETY: close_range only acts on this process's descriptor table.
    unsafe { syscall!(Sysno::close_range, first, last, flags) }.map(drop)
}

/// Set (`true`) or clear `FD_CLOEXEC` on one descriptor.
pub fn set_cloexec(fd: i32, on: bool) -> Result<()> {
    const F_SETFD: usize = 2;
    // SAFETY: F_SETFD takes an integer flag set (FD_CLOEXEC is 1).
    unsafe { syscall!(Sysno::fcntl, fd, F_SETFD, on as usize) }.map(drop)
}

/// Change the working directory.
pub fn chdir(path: &CStr) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    unsafe { syscall!(Sysno::chdir, path.as_ptr()) }.map(drop)
}

/// The working directory, into `buf`, without its NUL; `ERANGE` if too long.
pub fn getcwd(buf: &mut [u8]) -> Result<&[u8]> {
    // SAFETY: buf is writable for its length.
    let n = unsafe { syscall!(Sysno::getcwd, buf.as_mut_ptr(), buf.len()) }?;
    Ok(buf.get(..n.saturating_sub(1)).unwrap_or_default())
}

/// Flush every filesystem.
pub fn sync() {
    // SAFETY: sync takes no arguments and cannot fail.
    let _ = unsafe { syscall!(Sysno::sync) };
}

const F_DUPFD_CLOEXEC: usize = 1030;
const F_SETFL: usize = 4;
const F_SETPIPE_SZ: usize = 1031;

/// A close-on-exec copy of `fd` numbered `min` or above.
pub fn dup_at_least(fd: i32, min: i32) -> Result<Fd> {
    // SAFETY: F_DUPFD_CLOEXEC only creates a descriptor.
    let new = unsafe { syscall!(Sysno::fcntl, fd, F_DUPFD_CLOEXEC, min) }?;
    Ok(Fd::from_raw(new as i32))
}

/// Make `new` a copy of `old` that stays open across `execve` (`dup3`).
pub fn dup_onto(old: i32, new: i32) -> Result<()> {
    // SAFETY: dup3 only changes this process's descriptor table.
    retry(|| unsafe { syscall!(Sysno::dup3, old, new, 0) }).map(drop)
}

/// Make reads of `fd` answer `EAGAIN` instead of blocking. Only for
/// descriptions proctor alone holds: the flag belongs to the description.
pub fn set_nonblocking(fd: i32) -> Result<()> {
    // SAFETY: F_SETFL takes an integer flag set.
    unsafe { syscall!(Sysno::fcntl, fd, F_SETFL, O_NONBLOCK) }.map(drop)
}

/// Ask for a pipe buffer of `bytes`; the kernel may refuse (a user's limit).
pub fn set_pipe_size(fd: i32, bytes: usize) -> Result<()> {
    // SAFETY: F_SETPIPE_SZ takes an integer.
    unsafe { syscall!(Sysno::fcntl, fd, F_SETPIPE_SZ, bytes) }.map(drop)
}

pub const SPLICE_F_MOVE: u32 = 1;
pub const SPLICE_F_NONBLOCK: u32 = 2;

/// Move up to `len` bytes from `from` to `to` at their file positions,
/// one of them a pipe, without copying through user space; 0 at end of file.
pub fn splice(from: i32, to: i32, len: usize, flags: u32) -> Result<usize> {
    let none = core::ptr::null_mut::<i64>();
    // SAFETY: null offsets use and advance the descriptors' own positions.
    retry(|| unsafe { syscall!(Sysno::splice, from, none, to, none, len, flags) })
}
