//! Small programs the tests run *as the command* under proctor: the test
//! binary itself, re-executed with `@helper ROLE ARGS...`. An `.init_array`
//! entry looks at argv before libtest starts and, for a helper run, plays the
//! role and exits; a normal test run is not affected.
//!
//! Roles (each exits 0 when everything it checked held, 1 otherwise, and
//! says what it saw on stdout/stderr):
//! - `signals group|single SIG...`: sends each signal to its parent (proctor),
//!   one at a time, and waits until it receives the forwarded copy; a
//!   grandchild in the same process group reports what it receives.
//! - `burst SIG N`: sends SIG to its parent N times in a row, then waits
//!   for N forwarded copies (real-time signals queue; standard ones merge).
//! - `zombies N`: makes N orphaned zombies, then waits until none is left.
//! - `leftovers`: leaves a background child, a setsid daemon and a
//!   double-forked setsid daemon behind, and exits 0.
//! - `forker N`: leaves a process behind that keeps forking (up to N).
//! - `argsum`: prints the count and a hash of its arguments and of the
//!   `CORETEST_BIG_*` variables.
//! - `term-logger FILE`: appends `TERM` to FILE on each SIGTERM, never exits.
//! - `die SIG`: kills itself with SIG (default action restored first).
//! - `flood-ping N FILE`: a child in its process group floods stdout with
//!   64 KiB blocks while the helper sends SIGUSR1 to its parent N times,
//!   each time waiting for the forwarded copy; writes the N latencies in
//!   microseconds, one a line, to FILE.
//! - `burn MS KIB`: an orphaned grandchild touches KIB KiB of memory and
//!   spins until it has used MS ms of CPU; the helper waits for its end.
#![allow(dead_code)]

use std::ffi::CStr;
use std::io::Write;
use std::os::raw::c_char;
use std::time::{Duration, Instant};

const MARK: &[u8] = b"@helper";

/// A command that survives SIGTERM (`term-logger`) under `--timeout 0.3
/// --kill-after 0.5`, with `extra` options before those: exit 124, nothing on
/// stderr (`-q`), TERM seen first, and the report's SIGKILL comes no earlier
/// than the grace.
pub fn assert_timeout_kills_a_term_ignorer(mode: crate::common::Mode, extra: &[&str]) {
    use crate::common::{code, command, ignoring_term, report, run_cmd, stderr};
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("report.json");
    let log = dir.path().join("log");
    let argv = helper("term-logger", &[log.to_str().unwrap()]);
    let mut args = extra.to_vec();
    args.extend(["-q", "--timeout", "0.3", "--kill-after", "0.5"]);
    args.extend(["--report", rep.to_str().unwrap()]);
    args.extend(argv.iter().map(String::as_str));
    let mut cmd = command(mode, &args);
    ignoring_term(&mut cmd);
    let out = run_cmd(cmd, Duration::from_secs(60));
    assert_eq!(code(&out), 124, "{mode:?} {extra:?}: {}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "",
        "{mode:?} {extra:?}: -q silences the timeout lines"
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "TERM\n",
        "{mode:?} {extra:?}"
    );
    let r = report(&rep);
    assert_eq!(r["status"], "timeout", "{r}");
    assert_eq!(r["exit_code"], 124, "{r}");
    assert_eq!(r["signal"], 9, "{r}");
    assert!(r["wall_ms"].as_u64().unwrap() >= 800, "{r}");
}

/// The argv that runs helper `role` with `args`.
pub fn helper(role: &str, args: &[&str]) -> Vec<String> {
    let exe = std::env::current_exe().expect("current_exe");
    let mut v = vec![exe.to_str().expect("utf-8 path").to_owned()];
    v.push(String::from_utf8_lossy(MARK).into_owned());
    v.push(role.to_owned());
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

/// FNV-1a, 64 bits: a checksum the test and the helper both compute.
pub fn fnv(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, &b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}
pub const FNV_START: u64 = 0xcbf29ce484222325;

pub fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Spawn proctor's `cmd`, whose command creates `flag` once it runs; returns
/// the child and proctor's host pid.
pub fn start(mut cmd: std::process::Command, flag: &std::path::Path) -> (std::process::Child, u32) {
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !flag.exists() {
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = find_proctor(child.id()).expect("proctor's host pid");
    (child, pid)
}

/// Host pid of the proctor process under `root` (the `unshare` we started).
pub fn find_proctor(root: u32) -> Option<u32> {
    let me = std::fs::canonicalize(env!("CARGO_BIN_EXE_proctor")).ok()?;
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for e in std::fs::read_dir("/proc").ok()?.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let after = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
            if after.split(' ').nth(1).and_then(|p| p.parse().ok()) != Some(parent) {
                continue;
            }
            if std::fs::read_link(format!("/proc/{pid}/exe")).ok().as_ref() == Some(&me) {
                return Some(pid);
            }
            frontier.push(pid);
        }
    }
    None
}

/// Wait for a spawned proctor, failing the test if it outlives `limit`.
pub fn wait_limited(child: std::process::Child, limit: Duration) -> std::process::Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("proctor hung for more than {limit:?}");
        }
    }
}

#[used]
#[link_section = ".init_array"]
static ENTRY: extern "C" fn(i32, *const *const c_char, *const *const c_char) = entry;

extern "C" fn entry(argc: i32, argv: *const *const c_char, _envp: *const *const c_char) {
    let args: Vec<Vec<u8>> = (0..argc.max(0) as usize)
        // SAFETY: the loader passes argc valid argv strings.
        .map(|i| unsafe { CStr::from_ptr(*argv.add(i)) }.to_bytes().to_vec())
        .collect();
    if args.get(1).map(Vec::as_slice) != Some(MARK) {
        return;
    }
    let text: Vec<String> = args
        .iter()
        .skip(2)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let num = |i: usize| -> i32 { text.get(i).and_then(|s| s.parse().ok()).unwrap_or(0) };
    let code = match text.first().map(String::as_str) {
        Some("signals") => {
            let sigs: Vec<i32> = text[2..].iter().map(|s| s.parse().unwrap()).collect();
            signals(text[1] == "single", &sigs)
        }
        Some("burst") => burst(num(1), num(2)),
        Some("zombies") => zombies(num(1)),
        Some("leftovers") => leftovers(),
        Some("forker") => forker(num(1)),
        Some("argsum") => argsum(&args[3..]),
        Some("term-logger") => term_logger(&text[1]),
        Some("die") => die(num(1)),
        Some("burn") => burn(num(1), num(2)),
        Some("flood-ping") => flood_ping(num(1), &text[2]),
        other => {
            eprintln!("helper: unknown role {other:?}");
            2
        }
    };
    let _ = std::io::stdout().flush();
    // SAFETY: ends the process without running libtest.
    unsafe { libc::_exit(code) }
}

fn check(r: libc::c_int, what: &str) -> libc::c_int {
    if r < 0 {
        eprintln!("helper: {what}: {}", std::io::Error::last_os_error());
        // SAFETY: plain exit.
        unsafe { libc::_exit(3) };
    }
    r
}

fn sigset(sigs: &[i32]) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset.
    unsafe {
        let mut set = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in sigs {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

fn block_all() {
    // SAFETY: a valid set; the old mask is not wanted.
    unsafe {
        let mut all = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
    }
}

fn pipe() -> (i32, i32) {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    check(
        unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) },
        "pipe",
    );
    (fds[0], fds[1])
}

fn fork() -> i32 {
    // SAFETY: the helper is single-threaded (it runs before libtest starts).
    check(unsafe { libc::fork() }, "fork")
}

/// Read one byte within `limit`; `None` on timeout or end of file.
fn read_byte(fd: i32, limit: Duration) -> Option<u8> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    if unsafe { libc::poll(&mut p, 1, limit.as_millis() as i32) } != 1 {
        return None;
    }
    let mut b = 0u8;
    // SAFETY: reads one byte into b.
    (unsafe { libc::read(fd, (&mut b as *mut u8).cast(), 1) } == 1).then_some(b)
}

fn signals(single: bool, sigs: &[i32]) -> i32 {
    block_all();
    let set = sigset(sigs);
    let (ack_r, ack_w) = pipe();
    let (ctl_r, ctl_w) = pipe();
    if fork() == 0 {
        // The grandchild: same process group, same (blocked) mask; reports
        // every signal of `set` it receives until the command hangs up.
        // SAFETY: plain descriptor and signalfd calls on valid arguments.
        unsafe {
            libc::close(ack_r);
            libc::close(ctl_w);
            let sfd = check(
                libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC),
                "signalfd",
            );
            let drain = || {
                let mut info: libc::signalfd_siginfo = std::mem::zeroed();
                let size = std::mem::size_of_val(&info);
                while libc::read(sfd, (&mut info as *mut libc::signalfd_siginfo).cast(), size)
                    == size as isize
                {
                    let b = info.ssi_signo as u8;
                    libc::write(ack_w, (&b as *const u8).cast(), 1);
                }
            };
            loop {
                let mut fds = [
                    libc::pollfd {
                        fd: sfd,
                        events: libc::POLLIN,
                        revents: 0,
                    },
                    libc::pollfd {
                        fd: ctl_r,
                        events: libc::POLLIN,
                        revents: 0,
                    },
                ];
                libc::poll(fds.as_mut_ptr(), 2, -1);
                drain();
                if fds[1].revents != 0 {
                    drain();
                    libc::_exit(0);
                }
            }
        }
    }
    // SAFETY: closing our copies of the grandchild's ends.
    unsafe {
        libc::close(ack_w);
        libc::close(ctl_r);
    }
    // SAFETY: getppid cannot fail.
    let parent = unsafe { libc::getppid() };
    let mut failures = Vec::new();
    for &s in sigs {
        // SAFETY: kill and sigtimedwait with valid arguments.
        let got = unsafe {
            check(libc::kill(parent, s), "kill");
            let ts = libc::timespec {
                tv_sec: 20,
                tv_nsec: 0,
            };
            libc::sigtimedwait(&set, std::ptr::null_mut(), &ts)
        };
        if got != s {
            failures.push(format!("sent {s} to proctor, the command got {got}"));
            break;
        }
        if !single {
            match read_byte(ack_r, Duration::from_secs(20)) {
                Some(b) if b as i32 == s => {}
                other => {
                    failures.push(format!("sent {s}, the grandchild got {other:?}"));
                    break;
                }
            }
        }
        println!("{s}");
    }
    // SAFETY: hang up; the grandchild drains what is pending and exits.
    unsafe { libc::close(ctl_w) };
    let mut extra = Vec::new();
    while let Some(b) = read_byte(ack_r, Duration::from_secs(20)) {
        extra.push(b);
    }
    if !extra.is_empty() {
        failures.push(format!("the grandchild also got {extra:?}"));
    }
    // SAFETY: reap the grandchild.
    unsafe { libc::wait(std::ptr::null_mut()) };
    for f in &failures {
        eprintln!("helper: {f}");
    }
    i32::from(!failures.is_empty())
}

fn burst(sig: i32, n: i32) -> i32 {
    block_all();
    let set = sigset(&[sig]);
    // SAFETY: getppid, kill and sigtimedwait with valid arguments.
    unsafe {
        let parent = libc::getppid();
        for _ in 0..n {
            check(libc::kill(parent, sig), "kill");
        }
        let ts = libc::timespec {
            tv_sec: 20,
            tv_nsec: 0,
        };
        for i in 0..n {
            if libc::sigtimedwait(&set, std::ptr::null_mut(), &ts) != sig {
                eprintln!("helper: got {i} of {n} copies of signal {sig}");
                return 1;
            }
        }
        let none = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        if libc::sigtimedwait(&set, std::ptr::null_mut(), &none) == sig {
            eprintln!("helper: more than {n} copies of signal {sig}");
            return 1;
        }
    }
    println!("got {n}");
    0
}

/// States of all processes visible in /proc: (pid, state).
fn states() -> Vec<(i32, u8)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(stat) = std::fs::read(format!("/proc/{pid}/stat")) {
            if let Some(close) = stat.iter().rposition(|&b| b == b')') {
                if let Some(&state) = stat.get(close + 2) {
                    out.push((pid, state));
                }
            }
        }
    }
    out
}

fn zombies(n: i32) -> i32 {
    for _ in 0..n {
        let mid = fork();
        if mid == 0 {
            let gc = fork();
            if gc == 0 {
                // SAFETY: plain exit.
                unsafe { libc::_exit(0) };
            }
            // Wait until the grandchild is a zombie without reaping it
            // (WNOWAIT), then orphan it: it goes to proctor as a zombie.
            // SAFETY: info is a writable siginfo_t.
            unsafe {
                let mut info: libc::siginfo_t = std::mem::zeroed();
                libc::waitid(
                    libc::P_PID,
                    gc as libc::id_t,
                    &mut info,
                    libc::WEXITED | libc::WNOWAIT,
                );
                libc::_exit(0);
            }
        }
        // SAFETY: reap our own child, so the only zombies left are orphans.
        unsafe { libc::waitpid(mid, std::ptr::null_mut(), 0) };
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let z: Vec<i32> = states()
            .into_iter()
            .filter(|p| p.1 == b'Z')
            .map(|p| p.0)
            .collect();
        if z.is_empty() {
            println!("made {n} orphaned zombies; none left");
            return 0;
        }
        if Instant::now() > deadline {
            eprintln!("helper: zombies left unreaped: {z:?}");
            return 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn pause_forever() -> ! {
    loop {
        // SAFETY: pause has no preconditions.
        unsafe { libc::pause() };
    }
}

fn leftovers() -> i32 {
    let (r, w) = pipe();
    let ready = |w: i32| {
        // SAFETY: one byte to a pipe.
        unsafe { libc::write(w, b"x".as_ptr().cast(), 1) };
    };
    // A plain background child, in the command's process group.
    if fork() == 0 {
        ready(w);
        pause_forever();
    }
    // A daemon in a session of its own.
    if fork() == 0 {
        // SAFETY: setsid has no preconditions.
        check(unsafe { libc::setsid() }, "setsid");
        ready(w);
        pause_forever();
    }
    // A double-forked daemon: its parent exits at once.
    let mid = fork();
    if mid == 0 {
        // SAFETY: setsid has no preconditions.
        check(unsafe { libc::setsid() }, "setsid");
        if fork() == 0 {
            ready(w);
            pause_forever();
        }
        // SAFETY: plain exit.
        unsafe { libc::_exit(0) };
    }
    // SAFETY: reap the intermediate process.
    unsafe { libc::waitpid(mid, std::ptr::null_mut(), 0) };
    for _ in 0..3 {
        if read_byte(r, Duration::from_secs(20)).is_none() {
            eprintln!("helper: a leftover did not start");
            return 1;
        }
    }
    println!("left 3 processes behind");
    0
}

fn forker(n: i32) -> i32 {
    let (r, w) = pipe();
    if fork() == 0 {
        // SAFETY: setsid has no preconditions.
        unsafe { libc::setsid() };
        for i in 0..n {
            // SAFETY: plain fork; the children only sleep.
            match unsafe { libc::fork() } {
                0 => pause_forever(),
                _ if i == 0 => {
                    // SAFETY: one byte to a pipe.
                    unsafe { libc::write(w, b"x".as_ptr().cast(), 1) };
                }
                _ => {}
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        pause_forever();
    }
    if read_byte(r, Duration::from_secs(20)).is_none() {
        eprintln!("helper: the forker did not start");
        return 1;
    }
    0
}

fn argsum(args: &[Vec<u8>]) -> i32 {
    let hash = args.iter().fold(FNV_START, |h, a| fnv(fnv(h, a), b"\0"));
    let mut big: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("CORETEST_BIG_"))
        .collect();
    big.sort();
    let ehash = big.iter().fold(FNV_START, |h, (k, v)| {
        fnv(fnv(fnv(h, k.as_bytes()), b"="), v.as_bytes())
    });
    let bytes: usize = big.iter().map(|(k, v)| k.len() + v.len() + 1).sum();
    println!(
        "args {} {hash:016x} env {} {bytes} {ehash:016x}",
        args.len(),
        big.len()
    );
    0
}

static LOG_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

extern "C" fn on_term(_: libc::c_int) {
    let fd = LOG_FD.load(std::sync::atomic::Ordering::Relaxed);
    // SAFETY: write is async-signal-safe.
    unsafe { libc::write(fd, b"TERM\n".as_ptr().cast(), 5) };
}

fn term_logger(file: &str) -> i32 {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .expect("log file");
    LOG_FD.store(
        std::os::fd::IntoRawFd::into_raw_fd(f),
        std::sync::atomic::Ordering::Relaxed,
    );
    // SAFETY: installs an async-signal-safe handler, then unblocks TERM.
    unsafe {
        libc::signal(libc::SIGTERM, on_term as *const () as libc::sighandler_t);
        let set = sigset(&[libc::SIGTERM]);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
    pause_forever()
}

fn die(sig: i32) -> i32 {
    // SAFETY: default action, unblocked, then the signal.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        let set = sigset(&[sig]);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::kill(libc::getpid(), sig);
    }
    pause_forever()
}

fn burn(ms: i32, kib: i32) -> i32 {
    let (r, w) = pipe();
    let mid = fork();
    if mid == 0 {
        let burner = fork();
        if burner == 0 {
            let mem = vec![1u8; kib as usize * 1024];
            let start = Instant::now();
            loop {
                // SAFETY: ru is a writable struct rusage.
                let used = unsafe {
                    let mut ru: libc::rusage = std::mem::zeroed();
                    libc::getrusage(libc::RUSAGE_SELF, &mut ru);
                    ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000
                };
                if used >= ms as i64 || start.elapsed() > Duration::from_secs(30) {
                    break;
                }
            }
            std::hint::black_box(&mem);
            // SAFETY: plain exit; the write end of the pipe closes with it.
            unsafe { libc::_exit(0) };
        }
        // SAFETY: tell the burner's pid, then exit: it is orphaned to proctor.
        unsafe {
            libc::write(w, (&burner as *const i32).cast(), 4);
            libc::_exit(0)
        };
    }
    // SAFETY: reap the intermediate process; close our write end.
    unsafe {
        libc::waitpid(mid, std::ptr::null_mut(), 0);
        libc::close(w);
    }
    let mut pid = [0u8; 4];
    for b in &mut pid {
        *b = read_byte(r, Duration::from_secs(20)).unwrap_or(0);
    }
    let pid = i32::from_ne_bytes(pid);
    // End of file once the burner is exiting; then wait until it is a
    // zombie (or already reaped), so that it is no leftover.
    let _ = read_byte(r, Duration::from_secs(60));
    let deadline = Instant::now() + Duration::from_secs(30);
    while states().iter().any(|&(p, s)| p == pid && s != b'Z') && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    0
}

fn flood_ping(n: i32, file: &str) -> i32 {
    block_all();
    let flooder = fork();
    if flooder == 0 {
        let block = vec![b'x'; 64 << 10];
        // SAFETY: writes from a valid buffer until the pipe breaks or a kill.
        while unsafe { libc::write(1, block.as_ptr().cast(), block.len()) } > 0 {}
        // SAFETY: plain exit.
        unsafe { libc::_exit(0) };
    }
    let set = sigset(&[libc::SIGUSR1]);
    let ts = libc::timespec {
        tv_sec: 20,
        tv_nsec: 0,
    };
    let mut lines = String::new();
    // SAFETY: getppid, kill and sigtimedwait with valid arguments.
    let parent = unsafe { libc::getppid() };
    // Let the flood fill the pipes first.
    std::thread::sleep(Duration::from_millis(200));
    for i in 0..n {
        let t = Instant::now();
        // SAFETY: as above.
        let got = unsafe {
            check(libc::kill(parent, libc::SIGUSR1), "kill");
            libc::sigtimedwait(&set, std::ptr::null_mut(), &ts)
        };
        if got != libc::SIGUSR1 {
            eprintln!("helper: ping {i}: got {got}");
            return 1;
        }
        lines.push_str(&format!("{}\n", t.elapsed().as_micros()));
        std::thread::sleep(Duration::from_millis(2));
    }
    // SAFETY: end and reap the flooder.
    unsafe {
        libc::kill(flooder, libc::SIGKILL);
        libc::waitpid(flooder, std::ptr::null_mut(), 0);
    }
    std::fs::write(file, lines).map_or(1, |()| 0)
}
