//! The command's environment: proctor's own, minus the credential carriers
//! of the deny-list, then `--clear-env`, `--unset-env`, `--env`, `--keep-env`
//! by kind, each kind in command-line order. Pure; strings are borrowed from
//! proctor's environment and arguments, so nothing is copied.

use crate::args::EnvOp;
use crate::error::Error;
use crate::rt::pack::Names;
use crate::rt::vec::push;
use alloc::vec::Vec;
use core::ffi::CStr;

/// Variables that carry cloud credentials, removed unless `--keep-env` names them.
pub const DENY: [&str; 10] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "ECS_CONTAINER_METADATA_URI",
    "ECS_CONTAINER_METADATA_URI_V4",
    "GOOGLE_APPLICATION_CREDENTIALS",
];
/// Every name with this prefix is proctor's own and is removed too.
pub const DENY_PREFIX: &str = "PROCTOR_";
/// tini's variables configure the init, not the command: removed too.
pub const INIT_VARS: [&str; 3] = [
    "TINI_SUBREAPER",
    "TINI_KILL_PROCESS_GROUP",
    "TINI_VERBOSITY",
];

static PACKED_DENY: Names<10> = crate::names!(DENY);
static PACKED_INIT_VARS: Names<3> = crate::names!(INIT_VARS);

/// The name part of `NAME=VALUE` (the whole string if there is no `=`).
pub fn name(var: &CStr) -> &[u8] {
    let b = var.to_bytes();
    let end = b.iter().position(|&c| c == b'=').unwrap_or(b.len());
    b.get(..end).unwrap_or_default()
}

/// Whether the deny-list removes `name`.
pub fn denied(name: &[u8]) -> bool {
    name.starts_with(DENY_PREFIX.as_bytes())
        || PACKED_DENY.position(name).is_some()
        || PACKED_INIT_VARS.position(name).is_some()
}

/// Build the command's environment from proctor's own, into `out` (empty).
/// Running out of memory is an error, never a panic.
pub fn build<'a>(
    out: &mut Vec<&'a CStr>,
    inherited: &[&'a CStr],
    clear: bool,
    ops: &[EnvOp<'a>],
) -> Result<(), Error> {
    if !clear {
        for &v in inherited.iter().filter(|v| !denied(name(v))) {
            push(out, v)?;
        }
    }
    let set_by_env = |key: &[u8]| {
        ops.iter()
            .any(|o| matches!(o, EnvOp::Set(v) if name(v) == key))
    };
    // Each kind in turn: remove the name, then add what the option gives.
    for kind in 0..3 {
        for op in ops {
            let (key, from): (&[u8], &[&'a CStr]) = match (kind, op) {
                (0, EnvOp::Unset(n)) => (n, &[]),
                (1, EnvOp::Set(var)) => (name(var), core::slice::from_ref(var)),
                // `--env` wins over `--keep-env`.
                (2, EnvOp::Keep(n)) if !set_by_env(n) => (n, inherited),
                _ => continue,
            };
            remove(out, key);
            for &v in from.iter().filter(|v| name(v) == key) {
                push(out, v)?;
            }
        }
    }
    Ok(())
}

/// Remove every `key=...` from `env`.
#[inline(never)]
fn remove(env: &mut Vec<&CStr>, key: &[u8]) {
    // `retain`, without its machinery for elements that need dropping.
    let mut kept = 0;
    for i in 0..env.len() {
        let Some(&v) = env.get(i) else { break };
        if name(v) != key {
            if let Some(slot) = env.get_mut(kept) {
                *slot = v;
            }
            kept += 1;
        }
    }
    env.truncate(kept);
}

/// The indices, in proctor's own environment, of the deny-listed variables
/// the command did not get (by `--keep-env`): their values are wiped from
/// proctor's memory once the command's environment is built.
pub fn withheld<'e>(
    inherited: &'e [&CStr],
    command: &'e [&CStr],
) -> impl Iterator<Item = usize> + 'e {
    let passed = |v: &CStr| {
        command
            .iter()
            .any(|c| core::ptr::eq(c.as_ptr(), v.as_ptr()))
    };
    inherited
        .iter()
        .enumerate()
        .filter(move |(_, v)| denied(name(v)) && !passed(v))
        .map(|(i, _)| i)
}

/// The value of `key` in an environment.
pub fn get<'a>(env: &[&'a CStr], key: &[u8]) -> Option<&'a [u8]> {
    env.iter()
        .find(|v| name(v) == key)
        .and_then(|v| v.to_bytes().get(key.len() + 1..))
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::ffi::CString;

    fn cs(v: &[&str]) -> Vec<CString> {
        v.iter().map(|s| CString::new(*s).unwrap()).collect()
    }

    fn build_ok<'a>(own: &[&'a CStr], clear: bool, ops: &[EnvOp<'a>]) -> Vec<&'a CStr> {
        let mut out = Vec::new();
        build(&mut out, own, clear, ops).unwrap();
        out
    }

    fn names(env: &[&CStr]) -> Vec<String> {
        env.iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn deny_list_and_order_of_kinds() {
        let own = cs(&[
            "PATH=/bin",
            "AWS_SECRET_ACCESS_KEY=s",
            "PROCTOR_X=1",
            "TINI_VERBOSITY=2",
            "HOME=/root",
            "A=1",
        ]);
        let own: Vec<&CStr> = own.iter().map(|c| c.as_c_str()).collect();
        assert_eq!(
            names(&build_ok(&own, false, &[])),
            ["PATH=/bin", "HOME=/root", "A=1"]
        );
        let set = CString::new("A=2").unwrap();
        let ops = [
            EnvOp::Keep(b"A"),
            EnvOp::Set(&set),
            EnvOp::Unset(b"HOME"),
            EnvOp::Keep(b"AWS_SECRET_ACCESS_KEY"),
        ];
        assert_eq!(
            names(&build_ok(&own, false, &ops)),
            ["PATH=/bin", "A=2", "AWS_SECRET_ACCESS_KEY=s"]
        );
        assert_eq!(
            names(&build_ok(&own, true, &[EnvOp::Keep(b"PATH")])),
            ["PATH=/bin"]
        );
        assert_eq!(get(&own, b"PATH"), Some(&b"/bin"[..]));
        assert_eq!(get(&own, b"PAT"), None);
        let kept = build_ok(&own, false, &[EnvOp::Keep(b"PROCTOR_X")]);
        assert_eq!(withheld(&own, &kept).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(withheld(&own, &[]).collect::<Vec<_>>(), [1, 2, 3]);
        // An entry without `=` (possible through a raw execve) has no value.
        let bare = cs(&["PATH"]);
        assert_eq!(get(&[bare[0].as_c_str()], b"PATH"), None);
    }
}
