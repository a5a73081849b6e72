//! What the options ask for that proctor's privileges cannot deliver, found
//! before anything starts (SPEC: Running without privileges). Steps nobody
//! asked for are skipped where they run, with a `-v` line.

use crate::args::rlimit;
use crate::args::Config;
use crate::error::{Error, Text};
use crate::msg;
use crate::rt::pack::Msg;
use crate::sys::creds::{self, CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN};

/// Refuse `--pid-ns` without CAP_SYS_ADMIN and `--user` to another uid
/// without the capabilities it takes, and warn about an `--rlimit nproc`
/// the kernel will not apply.
pub fn check(cfg: &Config) -> Result<(), Error> {
    if cfg.pid_ns && creds::effective() & (1 << CAP_SYS_ADMIN) == 0 {
        return Err(crate::err!(
            "--pid-ns",
            None,
            "a PID namespace needs CAP_SYS_ADMIN (docker run --cap-add SYS_ADMIN)"
        ));
    }
    let nproc = cfg.rlimits.iter().any(|l| l.resource == rlimit::NPROC);
    if cfg.user.is_none() && !nproc {
        return Ok(()); // nothing to check: spare the plain init two syscalls
    }
    let me = creds::getuid();
    let runs_as = cfg.user.map_or(me, |u| u.uid);
    if runs_as == 0 && nproc {
        log!(
            Warning,
            "warning: --rlimit nproc: the kernel does not apply RLIMIT_NPROC to uid 0 (add --user)"
        );
    }
    if runs_as == me {
        return Ok(());
    }
    // CAP_KILL too: without it neither forwarded signals nor the timeout's
    // SIGKILL would reach a command of another uid.
    const NEEDED: [(u32, Msg); 3] = [
        (CAP_SETGID, msg!(" CAP_SETGID")),
        (CAP_SETUID, msg!(" CAP_SETUID")),
        (CAP_KILL, msg!(" CAP_KILL")),
    ];
    let effective = creds::effective();
    let lacks = |&(cap, _): &(u32, Msg)| effective & (1 << cap) == 0;
    if !NEEDED.iter().any(lacks) {
        return Ok(());
    }
    let mut detail = Text::default();
    let _ = ufmt::uwrite!(
        detail,
        "{}",
        msg!("running the command as another uid needs")
    );
    for (_, name) in NEEDED.iter().filter(|c| lacks(c)) {
        let _ = ufmt::uwrite!(detail, "{}", name);
    }
    Err(Error::new(msg!("--user"), None, detail))
}
