//! `--net none`: the command sees only loopback, loopback works, and every
//! other address is unreachable — without sending a packet anywhere.
mod common;
use common::*;

/// Python for the socket checks: Debian's, which every uid can run.
fn python() -> &'static str {
    if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// The interface names of `/proc/net/dev` in `text`.
fn interfaces(text: &str) -> Vec<String> {
    text.lines()
        .skip(2)
        .filter_map(|l| l.split_once(':').map(|(name, _)| name.trim().to_string()))
        .collect()
}

#[test]
fn the_command_sees_only_loopback_in_a_namespace_of_its_own() {
    skip_unless!(ready());
    let own_ns = std::fs::read_link("/proc/self/ns/net").unwrap();
    for mode in MODES {
        let out = run(
            mode,
            &[
                "--net",
                "none",
                "sh",
                "-c",
                "readlink /proc/self/ns/net; cat /proc/net/dev",
            ],
        );
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        let text = stdout(&out);
        let (ns, dev) = text.split_once('\n').unwrap();
        assert_ne!(ns, own_ns.to_str().unwrap(), "{mode:?}: same namespace");
        assert_eq!(interfaces(dev), ["lo"], "{mode:?}: {dev}");
    }
}

#[test]
fn loopback_is_up_and_a_server_on_127_0_0_1_answers() {
    skip_unless!(ready(), tool("python3", "a loopback server and client"));
    // A server thread on an ephemeral port, a client that sends and reads back.
    let script = r#"
import socket, threading
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
def echo():
    conn, _ = srv.accept(); conn.sendall(conn.recv(64).upper()); conn.close()
threading.Thread(target=echo).start()
cli = socket.create_connection(srv.getsockname(), timeout=10)
cli.sendall(b"ping"); print(cli.recv(64).decode())
"#;
    for mode in MODES {
        let out = run(mode, &["--net", "none", python(), "-c", script]);
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert_eq!(stdout(&out).trim(), "PING", "{mode:?}");
    }
}

#[test]
fn any_other_address_is_unreachable() {
    skip_unless!(ready(), tool("python3", "a connect to TEST-NET"));
    // 192.0.2.1 is TEST-NET-1. The script refuses to connect unless it is in
    // a namespace with only lo, so a broken --net none sends nothing out.
    let script = r#"
import errno, socket, sys
names = [l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]]
if names != ["lo"]:
    sys.exit("not isolated: %s" % names)
for family, addr in ((socket.AF_INET, ("192.0.2.1", 80)), (socket.AF_INET6, ("2001:db8::1", 80))):
    s = socket.socket(family)
    s.settimeout(10)
    try:
        s.connect(addr); print("connected")
    except OSError as e:
        print(errno.errorcode.get(e.errno, e.errno))
"#;
    for mode in MODES {
        let out = run(mode, &["--net", "none", python(), "-c", script]);
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
        assert_eq!(lines[0], "ENETUNREACH", "{mode:?}: IPv4");
        // IPv6 is optional in a kernel; where it exists, it is unreachable too.
        assert!(
            ["ENETUNREACH", "EAFNOSUPPORT", "EADDRNOTAVAIL"].contains(&lines[1].as_str()),
            "{mode:?}: IPv6: {lines:?}"
        );
    }
}

#[test]
fn descendants_and_a_dropped_user_stay_in_the_namespace() {
    skip_unless!(ready());
    // A grandchild running as uid 1000 without capabilities sees the same
    // lone loopback and cannot bring anything else up.
    let script = "sh -c 'cat /proc/net/dev' && \
                  { ! command -v ip >/dev/null || ! ip link set lo down 2>/dev/null; }";
    for mode in MODES {
        let out = run(
            mode,
            &["--net", "none", "--user", "1000", "sh", "-c", script],
        );
        assert_eq!(code(&out), 0, "{mode:?}: {}", stderr(&out));
        assert_eq!(interfaces(&stdout(&out)), ["lo"], "{mode:?}");
    }
}

#[test]
fn verbose_names_the_step() {
    skip_unless!(ready());
    let out = run(Mode::Subreaper, &["-v", "--net", "none", "true"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("proctor: network namespace of the command's own, with only lo"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_network_mode_is_refused_before_anything_runs() {
    skip_unless!(ready());
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    // A bare `--net` takes the command's name as its value, and refuses it.
    let cases: [&[&str]; 5] = [
        &["--net", "host"],
        &["--net=bridge"],
        &["--net", ""],
        &["--net", "None"],
        &["--net"],
    ];
    for bad in cases {
        let mut args = bad.to_vec();
        args.extend(["sh", "-c", &touch]);
        let out = run(Mode::Subreaper, &args);
        assert_eq!(code(&out), 125, "{bad:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{bad:?}: {err}");
        assert!(err.starts_with("proctor: --net"), "{bad:?}: {err}");
        assert!(!marker.exists(), "{bad:?}: the command ran");
    }
}
