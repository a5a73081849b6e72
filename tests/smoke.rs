//! A first end-to-end check of the real binary in both modes.
mod common;
use common::*;

#[test]
fn exit_code_passes_through_in_both_modes() {
    skip_unless!(ready());
    for mode in MODES {
        let out = run(mode, &["sh", "-c", "echo $$; exit 7"]);
        assert_eq!(code(&out), 7, "{mode:?}: {}", stderr(&out));
        let pid: u32 = stdout(&out).trim().parse().unwrap();
        let expected = if mode == Mode::Pid1 { 2 } else { 3 };
        assert_eq!(pid, expected, "{mode:?}: the command's pid");
    }
}
