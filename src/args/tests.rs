use super::*;
extern crate std;
use std::ffi::CString;
use std::vec::Vec;

fn with<R>(args: &[&str], f: impl FnOnce(Result<Action<'_>, UsageError<'_>>) -> R) -> R {
    let owned: Vec<CString> = args.iter().map(|a| CString::new(*a).unwrap()).collect();
    let refs: Vec<&CStr> = owned.iter().map(|c| c.as_c_str()).collect();
    f(parse(&refs))
}

fn config<R>(args: &[&str], f: impl FnOnce(&Config) -> R) -> R {
    with(args, |r| match r {
        Ok(Action::Run(c)) => f(&c),
        _ => panic!("{args:?} did not parse"),
    })
}

fn message(args: &[&str]) -> std::string::String {
    with(args, |r| match r {
        Err(e) => {
            let mut t = crate::error::Text::default();
            ufmt::uwrite!(t, "{}", e).unwrap();
            std::string::String::from_utf8(t.0).unwrap()
        }
        Ok(_) => panic!("{args:?} parsed"),
    })
}

#[test]
fn command_starts_at_first_non_option_or_after_dashes() {
    config(&["-v", "true", "-x"], |c| {
        assert_eq!((c.command, c.verbosity), (1, log::VERBOSE))
    });
    config(&["--", "-x"], |c| assert_eq!(c.command, 1));
    config(&["--timeout=1.5", "--timeout", "2", "x"], |c| {
        assert_eq!((c.timeout, c.command), (Some(2_000_000_000), 3))
    });
    config(&["-vv", "x"], |c| assert_eq!(c.verbosity, log::DEBUG));
}

#[test]
fn numbers() {
    assert_eq!(parse_seconds(b"0.25"), Some(250_000_000));
    assert_eq!(parse_seconds(b"1.0000000019"), Some(1_000_000_001));
    for bad in [
        &b""[..],
        b"-1",
        b"1.",
        b".5",
        b"abc",
        b"1e3",
        b"18446744074",
    ] {
        assert_eq!(parse_seconds(bad), None, "{bad:?}");
    }
    assert_eq!(parse_size(b"64m"), Some(64 << 20));
    assert_eq!(parse_size(b"2K"), Some(2048));
    assert_eq!(parse_size(b"16777216t"), None);
    assert_eq!(parse_id(b"4294967295"), None);
    assert_eq!(parse_id(b"4294967294"), Some(u32::MAX - 1));
}

#[test]
fn bad_input_names_option_and_value() {
    assert_eq!(
        message(&["--timeout", "abc", "x"]),
        "--timeout: \"abc\" is not a number of seconds"
    );
    assert_eq!(
        message(&["--bogus", "x"]),
        "unknown option \"--bogus\" (see --help)"
    );
    assert_eq!(message(&["--timeout"]), "--timeout: missing value");
    assert_eq!(
        message(&["--quiet=1", "x"]),
        "--quiet: takes no value, got \"1\""
    );
    assert_eq!(message(&["-v"]), "no command given (see --help)");
    assert!(message(&["--user", "nobody", "x"]).contains("never reads /etc/passwd"));
    assert!(message(&["--bind", "/a", "x"]).starts_with("--bind: \"/a\""));
    assert!(message(&["--bind", "a:/b", "x"]).contains("SRC"));
    assert!(message(&["--rlimit", "bogus=1", "x"]).contains("names no resource"));
    assert!(message(&["--rlimit", "nofile=10:5", "x"]).contains("soft limit above"));
    assert!(message(&["--tmpfs", "/t:mode=9", "x"]).contains("mode"));
    assert!(message(&["--net", "host", "x"]).contains("only \"none\""));
}

#[test]
fn mounts_keep_order_and_defaults() {
    config(
        &[
            "--ro",
            "/",
            "--bind",
            "/s:/d:rw,noexec",
            "--tmpfs",
            "/t",
            "x",
        ],
        |c| {
            assert!(matches!(c.mounts[0], Mount::ReadOnly { .. }));
            assert!(matches!(
                c.mounts[1],
                Mount::Bind {
                    writable: true,
                    noexec: true,
                    ..
                }
            ));
            assert!(matches!(
                c.mounts[2],
                Mount::Tmpfs {
                    size: TMPFS_SIZE,
                    mode: TMPFS_MODE,
                    noexec: false,
                    ..
                }
            ));
        },
    );
    config(&["--user", "1000", "x"], |c| {
        assert_eq!(
            c.user,
            Some(User {
                uid: 1000,
                gid: 1000
            })
        )
    });
    config(&["--rlimit", "nofile=1k:unlimited", "x"], |c| {
        assert_eq!(
            c.rlimits[0].value,
            Rlimit {
                soft: 1024,
                hard: u64::MAX
            }
        )
    });
}
