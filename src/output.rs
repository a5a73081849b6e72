//! Input and output (SPEC "Input and output").
//!
//! `--stdin`, `--stdout` and `--stderr` are opened at start, before any
//! mount, so that the command may get a descriptor to a file its own
//! namespace hides; the child copies them onto its descriptors 0, 1 and 2.
//! Without `--output-limit` that is all: the command writes to the files
//! directly, at no cost.
//!
//! With `--output-limit`, the command writes into pipes, and the
//! [`Carrier`] moves the bytes on from inside the supervise loop — one
//! bounded step per stream and wake-up, so that a flood never delays a
//! signal or a deadline — with `splice` where both ends allow it, else
//! `read` and `write`. Both streams are counted together; at the limit the
//! excess is dropped and the loop ends the command's tree.

use crate::args::{Config, Nanos};
use crate::error::{ErrnoName, Error, Show};
use crate::sys::signal::{self, SigSet, SIGPIPE};
use crate::sys::time::monotonic;
use crate::sys::watch::{self, PollFd, POLLERR, POLLHUP, POLLIN, POLLOUT};
use crate::sys::{fs, Errno, Fd};
use crate::{err, log};
use alloc::vec::Vec;
use core::ffi::CStr;

/// The files of `--stdin`, `--stdout` and `--stderr`, open.
#[derive(Debug, Default)]
pub struct Files {
    stdin: Option<Fd>,
    stdout: Option<Fd>,
    stderr: Option<Fd>,
    /// stderr goes where stdout goes: `--stderr-to-stdout`, or `--stderr`
    /// naming the `--stdout` path (one file position, one stream, as `>F 2>&1`).
    stderr_to_stdout: bool,
}

/// Mode of the output files proctor creates (`umask` does not apply).
const OUTPUT_MODE: u32 = 0o644;

impl Files {
    /// Open what the options name: the input read-only, the outputs created
    /// (mode 0644) or truncated; never through a symlink at the path.
    pub fn open(cfg: &Config) -> Result<Files, Error> {
        let stdin = cfg.stdin.map(open_input).transpose()?;
        let stdout = cfg.stdout.map(|p| open_output("--stdout", p)).transpose()?;
        let same = cfg.stderr.is_some() && cfg.stderr == cfg.stdout;
        let stderr = match cfg.stderr {
            Some(path) if !same => Some(open_output("--stderr", path)?),
            _ => None,
        };
        Ok(Files {
            stdin,
            stdout,
            stderr,
            stderr_to_stdout: cfg.stderr_to_stdout || same,
        })
    }
}

/// Open `--stdin PATH`: it must exist and must not be a symlink or a directory.
fn open_input(path: &CStr) -> Result<Fd, Error> {
    let flags = fs::O_RDONLY | fs::O_NOFOLLOW | fs::O_NOCTTY;
    let fd = fs::openat(fs::AT_FDCWD, path, flags, 0).map_err(|e| refused("--stdin", path, e))?;
    match fs::stat_fd(fd.raw()) {
        Ok(st) if st.kind() == fs::S_IFDIR => Err(refused("--stdin", path, Errno::EISDIR)),
        Ok(_) => above_stdio("--stdin", fd),
        Err(e) => Err(refused("--stdin", path, e)),
    }
}

/// Open `--stdout`/`--stderr PATH` for writing: created 0644, or truncated.
fn open_output(option: &'static str, path: &CStr) -> Result<Fd, Error> {
    let base = fs::O_WRONLY | fs::O_NOFOLLOW | fs::O_NOCTTY;
    let fail = |e| refused(option, path, e);
    // A file proctor creates gets exactly 0644, whatever the umask; one that
    // exists keeps its mode. A symlink at the path is EEXIST, then ELOOP.
    let fd = loop {
        match fs::openat(
            fs::AT_FDCWD,
            path,
            base | fs::O_CREAT | fs::O_EXCL,
            OUTPUT_MODE,
        ) {
            Ok(fd) => {
                fs::fchmod(fd.raw(), OUTPUT_MODE).map_err(fail)?;
                break fd;
            }
            Err(Errno::EEXIST) => {}
            Err(e) => return Err(fail(e)),
        }
        match fs::openat(fs::AT_FDCWD, path, base | fs::O_TRUNC, 0) {
            Ok(fd) => break fd,
            Err(Errno::ENOENT) => continue, // removed in between: create it
            Err(e) => return Err(fail(e)),
        }
    };
    above_stdio(option, fd)
}

/// One line naming the option, the path and why: a symlink gets its own words.
fn refused(option: &'static str, path: &CStr, e: Errno) -> Error {
    if e == Errno::ELOOP {
        err!(
            option,
            None,
            "\"{}\" is a symlink (refused)",
            Show(path.to_bytes())
        )
    } else {
        err!(option, Some(e), "\"{}\"", Show(path.to_bytes()))
    }
}

/// Keep proctor's own descriptors above 0, 1 and 2, which the child
/// overwrites: when proctor was started with one of them closed, the
/// kernel hands out that number first.
fn above_stdio(what: &'static str, fd: Fd) -> Result<Fd, Error> {
    if fd.raw() > 2 {
        return Ok(fd);
    }
    fs::dup_at_least(fd.raw(), 3).map_err(|e| Error::sys(what, e))
}

/// Where the child's descriptors 0, 1 and 2 come from: the descriptor to
/// copy onto each, in this order, or -1 to keep proctor's. Descriptor 2
/// may name 1 (`--stderr-to-stdout`): it is copied after 1 was set.
pub type Stdio = [i32; 3];

/// The size of the command's pipes under `--output-limit`: large pipes mean
/// fewer wake-ups per byte. The kernel may refuse (a user's pipe quota).
const PIPE_SIZE: usize = 1 << 20;

/// The most one step moves from one stream, so that a wake-up stays short.
const STEP: usize = 1 << 20;

/// The buffer of one stream when its destination refuses `splice`.
const COPY_BUFFER: usize = 64 << 10;

/// How many bytes may still go out, and whether any were dropped. Pure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub limit: u64,
    pub carried: u64,
    pub truncated: bool,
}

impl Budget {
    pub fn new(limit: u64) -> Budget {
        Budget {
            limit,
            carried: 0,
            truncated: false,
        }
    }

    /// How much of `want` bytes may go out now.
    pub fn room(&self, want: usize) -> usize {
        let left = self.limit.saturating_sub(self.carried);
        usize::try_from(left).map_or(want, |left| left.min(want))
    }

    pub fn add(&mut self, n: usize) {
        self.carried = self.carried.saturating_add(n as u64);
    }
}

/// One of the command's output streams on its way to a destination.
#[derive(Debug)]
struct Stream {
    /// The read end of the command's pipe (non-blocking).
    pipe: Fd,
    dst: i32,
    /// `false` once the destination refused `splice` (a terminal, a file
    /// opened for appending): bytes go through `buf` instead.
    splice: bool,
    /// The destination would block: wait for it, not for the pipe.
    blocked: bool,
    buf: Vec<u8>,
    /// Read from the pipe, not yet written: `buf[start..end]`.
    start: usize,
    end: usize,
    which: &'static str,
}

/// What one step of a stream did.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Moved,
    /// The destination cannot take more now (or the pipe was empty).
    Blocked,
    /// Every writer is gone and the pipe is empty.
    End,
    /// Bytes wait beyond the limit.
    Full,
    /// The destination failed: the stream closes, the command's next write fails.
    Broken(Errno),
}

/// `--output-limit`: the command's pipes and the bytes' way on.
#[derive(Debug)]
pub struct Carrier {
    streams: [Option<Stream>; 2],
    /// The command's ends, closed once it runs.
    writers: [Option<Fd>; 2],
    budget: Budget,
}

impl Carrier {
    /// Pipes for the command's stdout and stderr (one for both with
    /// `--stderr-to-stdout`), carried to `files` or to proctor's own 1 and 2.
    /// Returns the carrier and where the child's descriptors come from.
    pub fn new(files: &Files, limit: u64) -> Result<(Carrier, Stdio), Error> {
        let mut carrier = Carrier {
            streams: [None, None],
            writers: [None, None],
            budget: Budget::new(limit),
        };
        let mut stdio = files.stdio();
        let dsts = [
            files.stdout.as_ref().map_or(1, Fd::raw),
            files.stderr.as_ref().map_or(2, Fd::raw),
        ];
        let count = if files.stderr_to_stdout { 1 } else { 2 };
        for (i, (&dst, which)) in dsts
            .iter()
            .zip(["stdout", "stderr"])
            .take(count)
            .enumerate()
        {
            let (rd, wr) = fs::pipe().map_err(|e| Error::sys("--output-limit: pipe", e))?;
            let rd = above_stdio("--output-limit: pipe", rd)?;
            let wr = above_stdio("--output-limit: pipe", wr)?;
            fs::set_nonblocking(rd.raw()).map_err(|e| Error::sys("--output-limit: pipe", e))?;
            let _ = fs::set_pipe_size(rd.raw(), PIPE_SIZE);
            if let Some(slot) = stdio.get_mut(i + 1) {
                *slot = wr.raw();
            }
            if let (Some(s), Some(w)) = (carrier.streams.get_mut(i), carrier.writers.get_mut(i)) {
                *s = Some(Stream {
                    pipe: rd,
                    dst,
                    splice: true,
                    blocked: false,
                    buf: Vec::new(),
                    start: 0,
                    end: 0,
                    which,
                });
                *w = Some(wr);
            }
        }
        Ok((carrier, stdio))
    }

    /// The command runs: close proctor's copies of its ends, so that the
    /// pipes end when the command's tree has closed them.
    pub fn started(&mut self) {
        self.writers = [None, None];
    }

    /// What to wait for: each stream's pipe, or its destination while that
    /// would block; fd -1 (ignored by `ppoll`) for a closed stream and
    /// after the limit.
    pub fn polls(&self) -> [PollFd; 2] {
        let full = self.budget.truncated;
        self.streams.each_ref().map(|s| match s {
            Some(s) if !full && s.blocked => PollFd {
                fd: s.dst,
                events: POLLOUT,
                revents: 0,
            },
            Some(s) if !full => PollFd {
                fd: s.pipe.raw(),
                events: POLLIN,
                revents: 0,
            },
            _ => PollFd::UNUSED,
        })
    }

    /// After a wake-up: one step for every stream that `ready` (what
    /// [`Carrier::polls`] gave, after `ppoll`) says is ready. `true` when
    /// the limit was passed just now: the caller ends the command's tree.
    pub fn service(&mut self, ready: &[PollFd; 2]) -> bool {
        if self.budget.truncated {
            return false;
        }
        for (slot, p) in self.streams.iter_mut().zip(ready) {
            let Some(s) = slot else { continue };
            if p.revents & (POLLIN | POLLOUT | POLLHUP | POLLERR) == 0 {
                continue;
            }
            s.blocked = false;
            match s.step(&mut self.budget, p.revents & POLLIN != 0) {
                Step::Moved => {}
                Step::Blocked => s.blocked = true,
                Step::End => *slot = None,
                Step::Full => {
                    self.budget.truncated = true;
                    return true;
                }
                Step::Broken(e) => {
                    s.broken(e);
                    *slot = None;
                }
            }
        }
        false
    }

    /// The command and its leftovers are gone: carry what is left in the
    /// pipes, up to the limit, until `deadline` (monotonic) for a destination
    /// that blocks; a pipe still held open by some process outside the tree
    /// ends the drain when it is empty. Then close the pipes.
    pub fn finish(&mut self, deadline: Nanos) {
        for slot in self.streams.iter_mut() {
            let Some(s) = slot else { continue };
            while !self.budget.truncated {
                match s.step(&mut self.budget, true) {
                    Step::Moved => continue,
                    Step::Blocked if s.pending() || s.readable() => {
                        let left = deadline.saturating_sub(monotonic());
                        let mut dst = [PollFd {
                            fd: s.dst,
                            events: POLLOUT,
                            revents: 0,
                        }];
                        if left == 0 || watch::ppoll(&mut dst, Some(left)).is_err() {
                            log!(
                                log::NORMAL,
                                "warning: --output-limit: the command's {} could not be written out in time",
                                s.which
                            );
                            break;
                        }
                    }
                    Step::Full => self.budget.truncated = true,
                    Step::Broken(e) => {
                        s.broken(e);
                        break;
                    }
                    Step::Blocked | Step::End => break,
                }
            }
            *slot = None;
        }
    }

    /// Bytes carried (at most the limit) and whether any were dropped.
    pub fn result(&self) -> (u64, bool) {
        (self.budget.carried, self.budget.truncated)
    }
}

impl Stream {
    /// Move one bounded piece: the bytes still waiting in `buf` first, else
    /// from the pipe. `readable`: the pipe said it has bytes (as opposed to
    /// only a hang-up), which at the limit means the command wrote too much.
    fn step(&mut self, budget: &mut Budget, readable: bool) -> Step {
        if self.pending() {
            return self.flush();
        }
        let room = budget.room(STEP);
        if room == 0 {
            // At the limit, one byte more is the verdict; an empty pipe is not.
            return match (readable, self.readable()) {
                (true, true) => Step::Full,
                _ => Step::End,
            };
        }
        if self.splice {
            match fs::splice(
                self.pipe.raw(),
                self.dst,
                room,
                fs::SPLICE_F_MOVE | fs::SPLICE_F_NONBLOCK,
            ) {
                Ok(0) => return Step::End,
                Ok(n) => {
                    budget.add(n);
                    return Step::Moved;
                }
                Err(Errno::EAGAIN) => return Step::Blocked,
                // This destination cannot splice: copy from now on.
                Err(Errno::EINVAL) => self.splice = false,
                Err(e) => return Step::Broken(e),
            }
        }
        if self.buf.is_empty() {
            if let Err(e) = crate::sys::vec::extend_zeroed(&mut self.buf, COPY_BUFFER) {
                return Step::Broken(e);
            }
        }
        let want = room.min(self.buf.len());
        match fs::read(
            self.pipe.raw(),
            self.buf.get_mut(..want).unwrap_or_default(),
        ) {
            Ok(0) => Step::End,
            Ok(n) => {
                budget.add(n);
                (self.start, self.end) = (0, n);
                self.flush()
            }
            Err(Errno::EAGAIN) => Step::Blocked,
            Err(e) => Step::Broken(e),
        }
    }

    /// Whether bytes read from the pipe still wait to be written.
    fn pending(&self) -> bool {
        self.start < self.end
    }

    /// Whether the pipe holds at least one byte.
    fn readable(&self) -> bool {
        let mut p = [PollFd {
            fd: self.pipe.raw(),
            events: POLLIN,
            revents: 0,
        }];
        watch::ppoll(&mut p, Some(0)).is_ok() && p[0].revents & POLLIN != 0
    }

    /// One `write` of what waits in `buf`.
    fn flush(&mut self) -> Step {
        let rest = self.buf.get(self.start..self.end).unwrap_or_default();
        match fs::write(self.dst, rest) {
            Ok(n) => {
                self.start = self.start.saturating_add(n).min(self.end);
                Step::Moved
            }
            Err(Errno::EAGAIN) => Step::Blocked,
            Err(e) => Step::Broken(e),
        }
    }

    /// Say why the stream closes. A write to a pipe nobody reads raised a
    /// SIGPIPE at proctor: it is proctor's own, not one to forward.
    fn broken(&self, e: Errno) {
        if e == Errno::EPIPE {
            let _ = signal::wait(SigSet::of(&[SIGPIPE]), Some(0));
        }
        let level = if e == Errno::EPIPE {
            log::VERBOSE
        } else {
            log::NORMAL
        };
        log!(
            level,
            "warning: --output-limit: cannot write the command's {} on ({}): its further writes fail",
            self.which,
            ErrnoName(e)
        );
    }
}

impl Files {
    /// The output files proctor opened (for Landlock's rules).
    pub fn outputs(&self) -> [Option<&Fd>; 2] {
        [self.stdout.as_ref(), self.stderr.as_ref()]
    }

    /// Where the child's 0, 1 and 2 come from without `--output-limit`.
    pub fn stdio(&self) -> Stdio {
        let raw = |f: &Option<Fd>| f.as_ref().map_or(-1, Fd::raw);
        let stderr = if self.stderr_to_stdout {
            1
        } else {
            raw(&self.stderr)
        };
        [raw(&self.stdin), raw(&self.stdout), stderr]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_counts_up_to_the_limit() {
        let mut b = Budget::new(10);
        assert_eq!(b.room(4), 4);
        b.add(4);
        assert_eq!(b.room(100), 6);
        b.add(6);
        assert_eq!(b.room(100), 0);
        assert_eq!((b.carried, b.truncated), (10, false));
        let huge = Budget::new(u64::MAX);
        assert_eq!(huge.room(STEP), STEP);
    }
}
