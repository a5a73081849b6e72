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

use crate::args::Config;
use crate::error::{ErrnoName, Error, Show};
use crate::report::{OutputCount, Verdict};
use crate::rt::pack::Msg;
use crate::supervise::{Ending, Watch};
use crate::sys::signal::{self, SigSet, SIGPIPE};
use crate::sys::time::{monotonic, Nanos};
use crate::sys::watch::{self, PollFd};
use crate::sys::{fs, Errno, Fd};
use crate::{err, msg};
use core::cell::Cell;
use core::ffi::CStr;
use core::mem::ManuallyDrop;

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

impl Files {
    /// Open what the options name: the input read-only, the outputs created
    /// (mode 0644, less the umask, as a shell's `>`) or truncated; never
    /// through a symlink at the path.
    pub fn open(cfg: &Config) -> Result<Files, Error> {
        let same = cfg.stderr.is_some() && cfg.stderr == cfg.stdout;
        let open = |option, path: Option<&CStr>, output| {
            path.map(|p| open_file(option, p, output)).transpose()
        };
        // Not closed when a later one fails: proctor exits then, which closes them.
        let stdin = ManuallyDrop::new(open(msg!("--stdin"), cfg.stdin, false)?);
        let stdout = ManuallyDrop::new(open(msg!("--stdout"), cfg.stdout, true)?);
        Ok(Files {
            stdin: ManuallyDrop::into_inner(stdin),
            stdout: ManuallyDrop::into_inner(stdout),
            stderr: open(msg!("--stderr"), cfg.stderr.filter(|_| !same), true)?,
            stderr_to_stdout: cfg.stderr_to_stdout || same,
        })
    }

    /// The output files proctor opened (for Landlock's rules).
    pub fn outputs(&self) -> [Option<&Fd>; 2] {
        [self.stdout.as_ref(), self.stderr.as_ref()]
    }

    /// Where the child's 0, 1 and 2 come from without `--output-limit`.
    // Not inlined: 0.1 KiB smaller so (measured).
    #[inline(never)]
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

/// Open `path` for `option`; an input must exist and not be a directory.
/// A symlink at the path is refused (`O_NOFOLLOW`: ELOOP) in its own words.
fn open_file(option: Msg, path: &CStr, output: bool) -> Result<Fd, Error> {
    let mode = if output {
        fs::O_WRONLY | fs::O_CREAT | fs::O_TRUNC
    } else {
        fs::O_RDONLY
    };
    let flags = mode | fs::O_NOFOLLOW | fs::O_NOCTTY;
    let opened = fs::openat(fs::AT_FDCWD, path, flags, 0o644).and_then(|fd| {
        // A directory opens for reading; for writing, open refuses it itself.
        if !output && fs::stat_fd(fd.raw())?.kind() == fs::S_IFDIR {
            return Err(Errno::EISDIR);
        }
        above_stdio(fd)
    });
    opened.map_err(|e| {
        let (errno, why) = if e == Errno::ELOOP {
            (None, msg!(" is a symlink (refused)"))
        } else {
            (Some(e), msg!(""))
        };
        err!(option, errno, "\"{}\"{}", Show(path.to_bytes()), why)
    })
}

/// Keep proctor's own descriptors above 0, 1 and 2, which the child
/// overwrites: when proctor was started with one of them closed, the
/// kernel hands out that number first.
fn above_stdio(fd: Fd) -> Result<Fd, Errno> {
    if fd.raw() > 2 {
        return Ok(fd);
    }
    fs::dup_at_least(fd.raw(), 3)
}

/// Where the child's descriptors 0, 1 and 2 come from: the descriptor to
/// copy onto each, in this order, or -1 to keep proctor's. Descriptor 2
/// may name 1 (stderr to stdout): it is copied after 1 was set.
pub type Stdio = [i32; 3];

/// The size of the command's pipes under `--output-limit`: large pipes mean
/// fewer wake-ups per byte. The kernel may refuse (a user's pipe quota).
const PIPE_SIZE: usize = 1 << 20;

/// The most one step moves from one stream: a wake-up stays short (a
/// signal waits for one step at most), and the command refills the pipe
/// while proctor carries the rest.
const STEP: usize = 256 << 10;

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

    /// After `n` bytes more were carried: a new value, whose `Cell::set` stores
    /// its fields rather than copying all 24 bytes, padding included.
    pub fn after(self, n: usize) -> Budget {
        Budget {
            carried: self.carried.saturating_add(n as u64),
            ..self
        }
    }
}

/// One of the command's output streams on its way to a destination.
#[derive(Debug)]
struct Stream {
    /// The read end of the command's pipe (non-blocking).
    pipe: Fd,
    dst: i32,
    /// `false` once the destination refused `splice` (a file opened for
    /// appending): the bytes are copied through a buffer instead.
    splice: bool,
    /// The destination would block: wait for it, not for the pipe.
    blocked: bool,
    which: Msg,
}

/// `--output-limit`: the command's pipes and the bytes' way on.
#[derive(Debug)]
pub struct Carrier {
    streams: [Option<Stream>; 2],
    /// The command's ends, closed once it runs.
    writers: [Option<Fd>; 2],
    budget: Cell<Budget>,
}

impl Carrier {
    /// Pipes for the command's stdout and stderr (one for both when stderr
    /// goes to stdout), carried to `files` or to proctor's own 1 and 2.
    /// The carrier is built in `slot` (a `Carrier` is large, and a `Result`
    /// of one is copied twice); returns where the child's descriptors come
    /// from. On a failure, what was opened stays in `slot`.
    // Not inlined into main: smaller so (measured; this flips with others' changes).
    #[inline(never)]
    pub fn open(files: &Files, limit: u64, slot: &mut Option<Carrier>) -> Result<Stdio, Error> {
        let carrier = slot.get_or_insert_with(|| Carrier {
            streams: [None, None],
            writers: [None, None],
            budget: Cell::new(Budget::new(limit)),
        });
        let mut stdio = files.stdio();
        let count = if files.stderr_to_stdout { 1 } else { 2 };
        for (i, stream) in carrier.streams.iter_mut().take(count).enumerate() {
            let (rd, wr) = pipe().map_err(|e| Error::sys(msg!("--output-limit: pipe"), e))?;
            let _ = fs::set_pipe_size(rd.raw(), PIPE_SIZE);
            // The command's descriptor the pipe becomes, and where it goes on.
            let (target, file, which) = match i {
                0 => (1, &files.stdout, msg!("stdout")),
                _ => (2, &files.stderr, msg!("stderr")),
            };
            if let Some(target) = stdio.get_mut(target) {
                *target = wr.raw();
            }
            if let Some(writer) = carrier.writers.get_mut(i) {
                *writer = Some(wr);
            }
            *stream = Some(Stream {
                pipe: rd,
                dst: file.as_ref().map_or(target as i32, Fd::raw),
                splice: true,
                blocked: false,
                which,
            });
        }
        Ok(stdio)
    }

    /// The command runs: close proctor's copies of its ends, so that the
    /// pipes end when the command's tree has closed them.
    pub fn started(&mut self) {
        self.writers = [None, None];
    }

    /// The two streams as supervision watches them.
    pub fn pumps(&mut self) -> [Pump<'_>; 2] {
        let budget = &self.budget;
        let [out, err] = &mut self.streams;
        [
            Pump {
                stream: out,
                budget,
            },
            Pump {
                stream: err,
                budget,
            },
        ]
    }

    /// The command and its leftovers are gone: carry what is left in the
    /// pipes, up to the limit, until they end or `deadline` (monotonic)
    /// passes (a destination that blocks, a pipe held open by a process
    /// outside the tree); then close them.
    pub fn finish(&mut self, deadline: Nanos) -> OutputCount {
        let [mut out, mut err] = self.pumps();
        loop {
            let mut polls = [out.poll(), err.poll()];
            let left = deadline.saturating_sub(monotonic());
            if polls.iter().all(|p| p.is_unused())
                || left == 0
                || watch::poll(&mut polls, Some(left)).is_err()
            {
                break;
            }
            let [o, e] = polls;
            if o.ready() {
                out.ready();
            }
            if e.ready() {
                err.ready();
            }
        }
        self.streams = [None, None];
        let budget = self.budget.get();
        OutputCount {
            bytes: budget.carried,
            truncated: budget.truncated,
        }
    }
}

/// One stream of the [`Carrier`], watched by supervision: one bounded step
/// per wake-up, so that a flood never delays a signal or a deadline.
pub struct Pump<'a> {
    stream: &'a mut Option<Stream>,
    /// Shared by both streams: they count together.
    budget: &'a Cell<Budget>,
}

impl Watch for Pump<'_> {
    /// The pipe, or the destination while it would block; nothing once the
    /// stream ended or the limit was passed.
    fn poll(&self) -> PollFd {
        match &*self.stream {
            Some(s) if !self.budget.get().truncated && s.blocked => PollFd::writable(s.dst),
            Some(s) if !self.budget.get().truncated => PollFd::readable(s.pipe.raw()),
            _ => PollFd::readable(-1),
        }
    }

    fn ready(&mut self) -> Option<(Verdict, Ending)> {
        let s = self.stream.as_mut()?;
        let budget = self.budget.get();
        if budget.truncated {
            return None;
        }
        if s.blocked {
            // The destination takes bytes again: wait for the pipe next.
            s.blocked = false;
            return None;
        }
        let room = budget.room(STEP);
        let moved = if room == 0 {
            // At the limit, one byte more is the verdict; a hang-up is not.
            if has_input(s.pipe.raw()) {
                self.budget.set(Budget {
                    truncated: true,
                    ..budget
                });
                return Some((Verdict::OutputLimit, Ending::Kill));
            }
            Ok(0)
        } else {
            s.step(room)
        };
        let ended = match moved {
            Ok(n) => {
                self.budget.set(budget.after(n));
                n == 0
            }
            Err(Errno::EAGAIN) => {
                s.blocked = true;
                false
            }
            Err(e) => {
                // proctor's own SIGPIPE, from a destination nobody reads: not one to forward.
                if e == Errno::EPIPE {
                    let _ = signal::wait(const { SigSet::of(&[SIGPIPE]) }, Some(0));
                }
                log!(
                    Verbose,
                    "--output-limit: the command's {} cannot be written on ({}): its writes fail from now on",
                    s.which,
                    ErrnoName(e)
                );
                true
            }
        };
        if ended {
            *self.stream = None;
        }
        None
    }
}

/// Whether the pipe `fd` holds at least one byte.
fn has_input(fd: i32) -> bool {
    let mut p = [PollFd::readable(fd)];
    watch::poll(&mut p, Some(0)).is_ok() && p.iter().any(PollFd::has_input)
}

/// A pipe for the command's output: both ends above 2, the read end
/// non-blocking (only proctor holds it).
fn pipe() -> Result<(Fd, Fd), Errno> {
    let (rd, wr) = fs::pipe()?;
    let (rd, wr) = (above_stdio(rd)?, above_stdio(wr)?);
    fs::set_nonblocking(rd.raw())?;
    Ok((rd, wr))
}

impl Stream {
    /// Move up to `room` bytes from the pipe: 0 when every writer is gone
    /// and the pipe is empty, `EAGAIN` when the pipe is empty or the
    /// destination would block.
    fn step(&mut self, room: usize) -> Result<usize, Errno> {
        if self.splice {
            let flags = fs::SPLICE_F_MOVE | fs::SPLICE_F_NONBLOCK;
            match fs::splice(self.pipe.raw(), self.dst, room, flags) {
                // This destination cannot splice: copy from now on.
                Err(Errno::EINVAL) => self.splice = false,
                moved => return moved,
            }
        }
        copy(self.pipe.raw(), self.dst, room)
    }
}

/// Copy up to `room` bytes from `from` to `to` through a buffer. Once read,
/// bytes must be written: a destination that would block is an error here.
fn copy(from: i32, to: i32, room: usize) -> Result<usize, Errno> {
    let mut buf = [0u8; 16 << 10];
    let want = room.min(buf.len());
    let n = fs::read(from, buf.get_mut(..want).unwrap_or_default())?;
    match fs::write_all(to, buf.get(..n).unwrap_or_default()) {
        Err(Errno::EAGAIN) => Err(Errno::EIO),
        done => done.map(|()| n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_counts_up_to_the_limit() {
        let mut b = Budget::new(10);
        assert_eq!(b.room(4), 4);
        b = b.after(4);
        assert_eq!(b.room(100), 6);
        b = b.after(6);
        assert_eq!(b.room(100), 0);
        assert_eq!((b.carried, b.truncated), (10, false));
        let huge = Budget::new(u64::MAX);
        assert_eq!(huge.room(STEP), STEP);
    }

    #[test]
    fn stdio_keeps_proctors_descriptors_unless_told() {
        let none = Files::default();
        assert_eq!(none.stdio(), [-1, -1, -1]);
        let to_stdout = Files {
            stderr_to_stdout: true,
            ..Files::default()
        };
        // Copied after 1 was set: stderr follows stdout wherever it went.
        assert_eq!(to_stdout.stdio(), [-1, -1, 1]);
    }
}
