//! What every fuzz target checks, shared by the cargo-fuzz targets
//! (fuzz/fuzz_targets/*.rs) and by tests/fuzz_regressions.rs, which runs
//! the kept corpora through the same functions in the normal test suite.
//!
//! Each check goes through the public entry points main.rs uses and asserts
//! properties of the result, not just the absence of a crash.
#![allow(dead_code)]

use proctor::args::rlimit;
use proctor::args::{self, Action, Config, EnvOp, Mount, UsageError};
use proctor::error::{Show, Text};
use proctor::report::{json_string, Failure, Limits, Outcome, RunUsage, Verdict};
use proctor::rt::num::parse_u64;
use proctor::sys::process::Exit;
use proctor::{env, err};
use std::ffi::{CStr, CString};

/// The names of the fuzz targets, which are also the corpus directories.
pub type Check = fn(&[u8]);
pub const TARGETS: [(&str, Check); 6] = [
    ("args", args),
    ("numbers", numbers),
    ("mount_spec", mount_spec),
    ("rlimit_spec", rlimit_spec),
    ("env", env),
    ("json", json),
];

/// Split fuzz input into C strings at NUL bytes (an argv can hold no NUL).
fn split(data: &[u8]) -> Vec<CString> {
    data.split(|&b| b == 0)
        .map(|a| CString::new(a).expect("split at NUL"))
        .collect()
}

fn refs(owned: &[CString]) -> Vec<&CStr> {
    owned.iter().map(|c| c.as_c_str()).collect()
}

fn message(e: &UsageError) -> String {
    let mut t = Text::default();
    ufmt::uwrite!(t, "{}", e).unwrap();
    let m = String::from_utf8(t.0).expect("Show keeps messages valid UTF-8");
    assert!(!m.contains(char::is_control), "one printable line: {m:?}");
    m
}

/// The whole command line: arbitrary argv arrays.
pub fn args(data: &[u8]) {
    let owned = split(data);
    let argv = refs(&owned);
    match args::parse_as(b"proctor", &[], &argv) {
        Ok(Action::Run(cfg)) => {
            assert!(
                cfg.command < argv.len(),
                "the command is one of the arguments"
            );
            check_config(&cfg);
            env::build(&mut Vec::new(), &argv, cfg.clear_env, &cfg.env).unwrap();
        }
        Ok(Action::Help | Action::Version | Action::License) => {}
        Err(e) => {
            assert!(!message(&e).is_empty());
        }
    }
}

fn absolute_without_dotdot(p: &[u8]) -> bool {
    p.first() == Some(&b'/') && !p.split(|&b| b == b'/').any(|c| c == b"..")
}

fn check_config(cfg: &Config) {
    for m in &cfg.mounts {
        match m {
            Mount::Bind { src, dst, .. } => {
                assert!(absolute_without_dotdot(src.to_bytes()));
                assert!(absolute_without_dotdot(dst.to_bytes()));
            }
            Mount::Tmpfs {
                dst, size, mode, ..
            } => {
                assert!(absolute_without_dotdot(dst.to_bytes()));
                assert!(*size > 0 && *mode <= 0o7777);
            }
            Mount::ReadOnly { path } => assert!(absolute_without_dotdot(path.to_bytes())),
            Mount::Device {
                dev, dst, fstype, ..
            } => {
                assert!(absolute_without_dotdot(dev.to_bytes()));
                assert!(absolute_without_dotdot(dst.to_bytes()));
                assert!(args::DEVICE_FSTYPES.contains(fstype));
            }
        }
    }
    for m in &cfg.modules {
        assert!(absolute_without_dotdot(m.file.to_bytes()));
    }
    assert!(!(cfg.poweroff && cfg.reboot));
    assert!(cfg.modules.is_empty() || cfg.vm());
    for l in &cfg.rlimits {
        assert!(l.soft <= l.hard);
        assert_ne!(rlimit::name(l.resource), "?");
    }
    assert!(cfg.groups.len() <= 65536);
    assert!(cfg.keep_fds.iter().all(|&fd| fd >= 0));
    assert!(cfg.groups.iter().all(|&g| g != u32::MAX));
    if let Some(u) = cfg.user {
        assert!(u.uid != u32::MAX && u.gid != u32::MAX);
    }
}

/// Parse `[option, value, "cmd"]` and `[option=value, "cmd"]`, which must agree.
fn parse_option(option: &str, value: &[u8], f: impl Fn(Result<&Config, &UsageError>)) {
    let value = &value[..value.iter().position(|&b| b == 0).unwrap_or(value.len())];
    let separate = [
        CString::new(option).unwrap(),
        CString::new(value).unwrap(),
        c"cmd".to_owned(),
    ];
    let mut joined = option.as_bytes().to_vec();
    joined.push(b'=');
    joined.extend_from_slice(value);
    let joined = [CString::new(joined).unwrap(), c"cmd".to_owned()];
    let (a, b) = (refs(&separate), refs(&joined));
    match (
        args::parse_as(b"proctor", &[], &a),
        args::parse_as(b"proctor", &[], &b),
    ) {
        (Ok(Action::Run(x)), Ok(Action::Run(y))) => {
            assert_eq!(x.mounts, y.mounts);
            assert_eq!(x.rlimits, y.rlimits);
            check_config(&x);
            f(Ok(&x));
        }
        (Err(x), Err(y)) => {
            assert_eq!(x, y, "both spellings give the same error");
            let m = message(&x);
            assert!(m.starts_with(option), "{m:?} names {option}");
            f(Err(&x));
        }
        _ => panic!("{option} {value:?}: the two spellings disagree"),
    }
}

/// `--bind`, `--tmpfs`, `--ro`, `--mount` specs; a parsed spec written back parses the same.
pub fn mount_spec(data: &[u8]) {
    let Some((&sel, value)) = data.split_first() else {
        return;
    };
    let option = ["--bind", "--tmpfs", "--ro", "--mount"][sel as usize % 4];
    parse_option(option, value, |r| {
        let Ok(cfg) = r else { return };
        let [m] = &cfg.mounts[..] else {
            panic!("one mount per option")
        };
        let spec = match m {
            Mount::Bind {
                src,
                dst,
                writable,
                noexec,
            } => {
                let mut s = [src.to_bytes(), b":", dst.to_bytes()].concat();
                s.extend_from_slice(if *writable { b":rw" } else { b":ro" });
                if *noexec {
                    s.extend_from_slice(b",noexec");
                }
                s
            }
            Mount::Tmpfs {
                dst,
                size,
                mode,
                noexec,
            } => {
                let mut s = dst.to_bytes().to_vec();
                s.extend_from_slice(format!(":size={size},mode={mode:o}").as_bytes());
                if *noexec {
                    s.extend_from_slice(b",noexec");
                }
                s
            }
            Mount::ReadOnly { path } => path.to_bytes().to_vec(),
            Mount::Device {
                dev,
                dst,
                fstype,
                writable,
                noexec,
            } => {
                let mut s = [
                    dev.to_bytes(),
                    b":",
                    dst.to_bytes(),
                    b":",
                    fstype.to_bytes(),
                ]
                .concat();
                s.extend_from_slice(if *writable { b":rw" } else { b":ro" });
                if *noexec {
                    s.extend_from_slice(b",noexec");
                }
                s
            }
        };
        parse_option(option, &spec, |again| match again {
            Ok(c) => assert_eq!(&c.mounts, &cfg.mounts, "round trip of {spec:?}"),
            Err(e) => panic!("{spec:?} written back is refused: {e:?}"),
        });
    });
}

/// `--rlimit NAME=SOFT[:HARD]`; a parsed limit written back parses the same.
pub fn rlimit_spec(data: &[u8]) {
    parse_option("--rlimit", data, |r| {
        let Ok(cfg) = r else { return };
        let [l] = &cfg.rlimits[..] else {
            panic!("one limit per option")
        };
        let show = |v: u64| {
            if v == u64::MAX {
                "unlimited".to_string()
            } else {
                v.to_string()
            }
        };
        let spec = format!(
            "{}={}:{}",
            rlimit::name(l.resource),
            show(l.soft),
            show(l.hard)
        );
        parse_option("--rlimit", spec.as_bytes(), |again| match again {
            Ok(c) => assert_eq!(c.rlimits, cfg.rlimits, "round trip of {spec}"),
            Err(e) => panic!("{spec} written back is refused: {e:?}"),
        });
    });
}

/// The number parsers against plain reference implementations on u128.
pub fn numbers(s: &[u8]) {
    let digits = |d: &[u8]| -> Option<u128> {
        if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let significant = &d[d.iter().take_while(|&&b| b == b'0').count()..];
        if significant.len() > 30 {
            return Some(u128::MAX);
        }
        std::str::from_utf8(d).ok()?.parse().ok()
    };
    let fits = |n: u128| u64::try_from(n).ok();
    assert_eq!(parse_u64(s), digits(s).and_then(fits), "parse_u64");
    let id = digits(s)
        .filter(|&n| n < u32::MAX as u128)
        .map(|n| n as u32);
    assert_eq!(args::parse_id(s), id, "parse_id");
    let shift = match s.last().map(u8::to_ascii_lowercase) {
        Some(b'k') => 10,
        Some(b'm') => 20,
        Some(b'g') => 30,
        Some(b't') => 40,
        _ => 0,
    };
    let number = if shift == 0 { s } else { &s[..s.len() - 1] };
    let size = digits(number).and_then(|n| n.checked_mul(1 << shift));
    assert_eq!(args::parse_size(s), size.and_then(fits), "parse_size");
    let (int, frac) = match s.iter().position(|&b| b == b'.') {
        Some(dot) => (&s[..dot], Some(&s[dot + 1..])),
        None => (s, None),
    };
    let frac_ns = match frac {
        None => Some(0),
        Some(f) if f.is_empty() || !f.iter().all(u8::is_ascii_digit) => None,
        Some(f) => {
            let mut nine = f[..f.len().min(9)].to_vec();
            nine.resize(9, b'0');
            digits(&nine)
        }
    };
    // Integer parts too long for u128 overflow u64 anyway.
    let secs = match (digits(int), frac_ns) {
        (Some(i), Some(f)) => i.checked_mul(1_000_000_000).and_then(|n| fits(n + f)),
        _ => None,
    };
    assert_eq!(args::parse_seconds(s), secs, "parse_seconds {s:?}");
}

/// Environment building through `--env`, `--unset-env`, `--keep-env`,
/// `--clear-env`, against the SPEC's rules. Each NUL-separated item starts
/// with a byte that says what it is.
pub fn env(data: &[u8]) {
    let mut inherited = Vec::new();
    let mut argv = Vec::new();
    let mut keys = Vec::new();
    for item in data.split(|&b| b == 0) {
        let Some((&tag, rest)) = item.split_first() else {
            continue;
        };
        let rest = CString::new(rest).unwrap();
        match tag % 6 {
            0 => inherited.push(rest),
            1 => argv.extend([c"--env".to_owned(), rest]),
            2 => argv.extend([c"--unset-env".to_owned(), rest]),
            3 => argv.extend([c"--keep-env".to_owned(), rest]),
            4 => argv.push(c"--clear-env".to_owned()),
            _ => keys.push(rest),
        }
    }
    argv.push(c"cmd".to_owned());
    let inherited = refs(&inherited);
    for k in &keys {
        let first = inherited.iter().find(|v| env::name(v) == k.to_bytes());
        let value = first.and_then(|v| v.to_bytes().get(k.to_bytes().len() + 1..));
        assert_eq!(env::get(&inherited, k.to_bytes()), value);
    }
    let argv = refs(&argv);
    let cfg = match args::parse_as(b"proctor", &[], &argv) {
        Ok(Action::Run(cfg)) => cfg,
        Ok(_) => panic!("no --help here"),
        Err(e) => return assert!(!message(&e).is_empty()),
    };
    let mut out = Vec::new();
    env::build(&mut out, &inherited, cfg.clear_env, &cfg.env).unwrap();
    let n = |v: &&CStr| env::name(v).to_vec();
    let last_set = |name: &[u8]| {
        cfg.env.iter().rev().find_map(|o| match o {
            EnvOp::Set(v) if env::name(v) == name => Some(*v),
            _ => None,
        })
    };
    let unset = |name: &[u8]| cfg.env.contains(&EnvOp::Unset(name));
    let keep = |name: &[u8]| cfg.env.contains(&EnvOp::Keep(name));
    for v in &out {
        let name = n(v);
        match last_set(&name) {
            Some(set) => {
                assert_eq!(v.as_ptr(), set.as_ptr(), "--env wins for {name:?}");
                assert_eq!(out.iter().filter(|o| n(o) == name).count(), 1);
                assert_eq!(
                    env::get(&out, &name),
                    Some(&set.to_bytes()[name.len() + 1..])
                );
            }
            None => {
                assert!(inherited.iter().any(|i| i.as_ptr() == v.as_ptr()));
                let passes = !cfg.clear_env && !env::denied(&name) && !unset(&name);
                assert!(passes || keep(&name), "{v:?} should be gone");
            }
        }
    }
    for i in &inherited {
        let name = n(i);
        let passes = !cfg.clear_env && !env::denied(&name) && !unset(&name);
        if last_set(&name).is_none() && (passes || keep(&name)) {
            assert!(out.iter().any(|o| o.as_ptr() == i.as_ptr()), "{i:?} lost");
        }
    }
}

/// JSON escaping: the output is one valid JSON string that decodes to the
/// input (invalid UTF-8 replaced by U+FFFD), and a report with such a
/// message is one valid JSON object.
pub fn json(data: &[u8]) {
    let mut out = Vec::new();
    json_string(&mut out, data).unwrap();
    let back: String = serde_json::from_slice(&out).expect("json_string output is JSON");
    assert_eq!(back, String::from_utf8_lossy(data));
    assert!(!out.contains(&b'\n'), "stays on one line");

    // A step of the message catalogue: the one of the report.
    let e = err!("--report", None, "{}", Show(data));
    let failed = Outcome::failed(Failure::Setup, &e);
    let v: serde_json::Value =
        serde_json::from_slice(&failed.to_json().unwrap()).expect("report is JSON");
    assert_eq!(v["message"].as_str().unwrap().as_bytes(), e.text());
    assert_eq!(v["exit_code"], 125);

    let num = |i: usize| data.get(i).copied().unwrap_or(0);
    let exit = if num(0) & 1 == 0 {
        Exit::Code(num(1))
    } else {
        Exit::Signal(num(1))
    };
    let usage = RunUsage {
        wall_ms: u64::MAX >> num(2).min(63),
        ..RunUsage::default()
    };
    let verdict = [
        None,
        Some(Verdict::Timeout),
        Some(Verdict::CpuTimeout),
        Some(Verdict::MemoryLimit),
        Some(Verdict::OutputLimit),
    ]
    .get(usize::from(num(3)) % 5)
    .copied()
    .flatten();
    let mut ran = Outcome::ran(exit, verdict, usage, u32::from(num(4)));
    let big = |i: usize| u64::MAX >> num(i).min(63);
    ran.limits = Limits {
        cpus_micro: (num(5) & 1 == 1).then(|| big(6)),
        memory: (num(5) & 2 == 2).then(|| big(7)),
        ..Limits::default()
    };
    let text = ran.to_json().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&text).expect("report is JSON");
    assert_eq!(v["exit_code"], ran.exit_code);
    assert_eq!(v["wall_ms"], usage.wall_ms);
    if let Some(c) = ran.limits.cpus_micro {
        // Read from the text: a JSON number this long does not survive f64.
        let text = String::from_utf8(text).unwrap();
        let at = text.find("\"cpus\":").unwrap() + 7;
        let printed: String = text[at..]
            .chars()
            .take_while(|&ch| ch == '.' || ch.is_ascii_digit())
            .collect();
        let (whole, frac) = printed.split_once('.').unwrap_or((&printed, ""));
        assert!(!frac.ends_with('0') && frac.len() <= 6, "{printed}");
        let micro = format!("{frac:0<6}");
        assert_eq!(whole.parse::<u64>().unwrap(), c / 1_000_000, "{printed}");
        assert_eq!(micro.parse::<u64>().unwrap(), c % 1_000_000, "{printed}");
    }
}
