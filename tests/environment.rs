//! The command's environment: the credential deny-list and the exact result
//! of --clear-env, --unset-env, --env and --keep-env (`env` output).
mod common;
use common::*;

/// proctor's own environment in these tests.
/// PWD is there because the shell of `Mode::Subreaper` would add it.
const OWN: &[(&str, &str)] = &[
    ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ("PWD", "/"),
    ("HOME", "/home/grader"),
    ("A", "1"),
    ("B", "2"),
    ("AWS_REGION", "eu-west-1"),
    ("PROCTORX", "not ours"),
    ("AWS_ACCESS_KEY_ID", "AKIA"),
    ("AWS_SECRET_ACCESS_KEY", "secret"),
    ("AWS_SESSION_TOKEN", "token"),
    (
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "/v2/credentials/x",
    ),
    (
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "http://169.254.170.2/x",
    ),
    ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "auth"),
    ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
    ("ECS_CONTAINER_METADATA_URI", "http://169.254.170.2/v3"),
    ("ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4"),
    ("GOOGLE_APPLICATION_CREDENTIALS", "/key.json"),
    ("PROCTOR_TOKEN", "x"),
    ("PROCTOR_", "empty suffix"),
];

/// The names the deny-list removes from `OWN`.
const DENIED: [&str; 12] = [
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
    "PROCTOR_TOKEN",
    "PROCTOR_",
];

/// Run `cmd` under proctor with `opts` and exactly `OWN` as environment.
fn run_with(mode: Mode, opts: &[&str], cmd: &[&str]) -> std::process::Output {
    let mut args = opts.to_vec();
    args.extend(cmd);
    let mut c = command(mode, &args);
    c.env_clear().envs(OWN.iter().copied()).current_dir("/");
    run_cmd(c, std::time::Duration::from_secs(60))
}

/// The command's `env` output, sorted.
fn env_of(mode: Mode, opts: &[&str]) -> Vec<String> {
    let out = run_with(mode, opts, &["env"]);
    assert_eq!(code(&out), 0, "{opts:?}: {}", stderr(&out));
    let mut lines: Vec<String> = stdout(&out).lines().map(String::from).collect();
    lines.sort();
    lines
}

fn own(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            let v = OWN.iter().find(|(k, _)| k == n).unwrap().1;
            format!("{n}={v}")
        })
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

const INTACT: [&str; 7] = ["PATH", "PWD", "HOME", "A", "B", "AWS_REGION", "PROCTORX"];

#[test]
fn the_deny_list_removes_credentials_and_nothing_else() {
    skip_unless!(ready());
    for mode in MODES {
        assert_eq!(env_of(mode, &[]), sorted(own(&INTACT)), "{mode:?}");
    }
}

#[test]
fn keep_env_readmits_denied_names() {
    skip_unless!(ready());
    let mut opts = Vec::new();
    for name in DENIED {
        opts.extend(["--keep-env", name]);
    }
    let mut want = own(&INTACT);
    want.extend(own(&DENIED));
    assert_eq!(env_of(Mode::Pid1, &opts), sorted(want));
}

#[test]
fn options_apply_by_kind_in_the_specs_order() {
    skip_unless!(ready());
    let e = |s: &str| s.to_string();
    let with = |extra: &[&str]| {
        let mut v = own(&INTACT);
        v.extend(extra.iter().map(|s| e(s)));
        sorted(v)
    };
    let without = |gone: &[&str], extra: &[&str]| {
        let mut v: Vec<String> = own(&INTACT)
            .into_iter()
            .filter(|l| !gone.contains(&l.split('=').next().unwrap()))
            .collect();
        v.extend(extra.iter().map(|s| e(s)));
        sorted(v)
    };
    let cases: Vec<(Vec<&str>, Vec<String>)> = vec![
        (vec!["--clear-env"], vec![]),
        (
            vec!["--clear-env", "--keep-env", "PATH", "--env", "X=1"],
            sorted(vec![e("PATH=/usr/local/bin:/usr/bin:/bin"), e("X=1")]),
        ),
        // --keep-env comes last whatever the command-line order.
        (
            vec!["--keep-env", "HOME", "--clear-env"],
            vec![e("HOME=/home/grader")],
        ),
        // Nothing to keep: no error, nothing added.
        (vec!["--clear-env", "--keep-env", "NOPE"], vec![]),
        (
            vec!["--unset-env", "A", "--env", "B=3", "--env", "C=4"],
            without(&["A", "B"], &["B=3", "C=4"]),
        ),
        (vec!["--unset-env", "NOPE"], with(&[])),
        // --keep-env never overrides --env of the same name.
        (
            vec!["--keep-env", "A", "--env", "A=9"],
            without(&["A"], &["A=9"]),
        ),
        // --env after --unset-env of the same name sets it.
        (
            vec!["--env", "A=5", "--unset-env", "A"],
            without(&["A"], &["A=5"]),
        ),
        // --keep-env re-admits what --unset-env removed (it applies last).
        (vec!["--unset-env", "A", "--keep-env", "A"], with(&[])),
        // Repeated --env: the last one wins; values keep their `=`; empty values stay.
        (
            vec![
                "--env", "X=1", "--env", "X=2", "--env", "Y=a=b", "--env", "Z=",
            ],
            with(&["X=2", "Y=a=b", "Z="]),
        ),
        // An explicit --env of a denied name is the operator's choice.
        (
            vec!["--env", "AWS_SESSION_TOKEN=mine"],
            with(&["AWS_SESSION_TOKEN=mine"]),
        ),
    ];
    for mode in MODES {
        for (opts, want) in &cases {
            assert_eq!(&env_of(mode, opts), want, "{mode:?} {opts:?}");
        }
    }
}

#[test]
fn the_command_is_searched_in_the_processed_path() {
    skip_unless!(ready());
    // An empty environment falls back to the default PATH.
    let out = run_with(Mode::Pid1, &["--clear-env"], &["env"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // The command's PATH, not proctor's, is searched.
    let out = run_with(Mode::Pid1, &["--env", "PATH=/nonexistent"], &["env"]);
    assert_eq!(code(&out), 127, "{}", stderr(&out));
    let out = run_with(Mode::Pid1, &["--unset-env", "PATH"], &["env"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn a_large_environment_passes_whole() {
    skip_unless!(ready());
    // About 1 MiB: one variable near the kernel's 128 KiB per string, and
    // 10,000 of 90 bytes (ARG_MAX is a quarter of the 8 MiB stack limit).
    let big = "x".repeat(120_000);
    let mut c = command(
        Mode::Pid1,
        &[
            "--env",
            "SMALL=1",
            "sh",
            "-c",
            "echo ${#BIG} ${#V9999} $SMALL",
        ],
    );
    c.env_clear().env("PATH", "/usr/bin:/bin").env("BIG", &big);
    for i in 0..10_000 {
        c.env(format!("V{i}"), "y".repeat(80));
    }
    let out = run_cmd(c, std::time::Duration::from_secs(60));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "120000 80 1\n");
}
