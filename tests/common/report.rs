//! The one reader of proctor's JSON report: it parses with serde_json and
//! checks the SPEC's schema strictly — every field present, none unknown,
//! each of the right type, the status one the SPEC names — so that every
//! test that reads a report also checks its layout.
use serde_json::Value;
use std::path::Path;

/// What a field may hold.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Int,
    IntOrNull,
    Str,
    StrOrNull,
    Num,
    BoolOrNull,
    Limits,
}

/// Schema 1's fields; schema 2 keeps them all and adds [`SCHEMA_2`].
const SCHEMA_1: &[(&str, Kind)] = &[
    ("schema", Kind::Int),
    ("proctor", Kind::Str),
    ("status", Kind::Str),
    ("exit_code", Kind::Int),
    ("signal", Kind::IntOrNull),
    ("wall_ms", Kind::IntOrNull),
    ("cpu_user_ms", Kind::IntOrNull),
    ("cpu_sys_ms", Kind::IntOrNull),
    ("max_rss_kib", Kind::IntOrNull),
    ("leftovers_killed", Kind::Int),
    ("message", Kind::StrOrNull),
];

const SCHEMA_2: &[(&str, Kind)] = &[
    ("cpu_ms", Kind::IntOrNull),
    ("memory_peak_kib", Kind::IntOrNull),
    ("oom_kills", Kind::IntOrNull),
    ("pids_peak", Kind::IntOrNull),
    ("output_bytes", Kind::IntOrNull),
    ("output_truncated", Kind::BoolOrNull),
    ("command_exit_code", Kind::IntOrNull),
    ("limits", Kind::Limits),
];

const STATUSES_1: &[&str] = &[
    "exited",
    "signaled",
    "timeout",
    "exec_error",
    "setup_error",
    "wait_timeout",
    "cancelled",
];
const STATUSES_2: &[&str] = &["memory_limit", "cpu_timeout", "output_limit"];

/// The keys of `limits` and what they hold (`cpus` is a decimal).
const LIMITS: &[(&str, Kind)] = &[
    ("memory", Kind::Int),
    ("pids", Kind::Int),
    ("cpus", Kind::Num),
    ("cpu_time_ms", Kind::Int),
    ("output", Kind::Int),
    ("timeout_ms", Kind::Int),
];

/// The report at `path`: one line ending in a newline, checked by [`parse_report`].
#[track_caller]
pub fn report(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no report at {}: {e}", path.display()));
    assert!(
        text.ends_with('\n') && text.lines().count() == 1,
        "the report is one line: {text:?}"
    );
    parse_report(&text)
}

/// A report's text (as found on a console or a FIFO), parsed and checked
/// against its schema: every field present and of its type, nothing else.
#[track_caller]
pub fn parse_report(text: &str) -> Value {
    let v: Value = serde_json::from_str(text.trim_end())
        .unwrap_or_else(|e| panic!("the report is not JSON ({e}): {text}"));
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("the report is not an object: {text}"));
    let (fields, statuses): (Vec<_>, Vec<_>) = match v["schema"].as_u64() {
        Some(1) => (SCHEMA_1.to_vec(), STATUSES_1.to_vec()),
        Some(2) => (
            [SCHEMA_1, SCHEMA_2].concat(),
            [STATUSES_1, STATUSES_2].concat(),
        ),
        _ => panic!("unknown schema: {text}"),
    };
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    let mut want: Vec<&str> = fields.iter().map(|f| f.0).collect();
    keys.sort_unstable();
    want.sort_unstable();
    assert_eq!(keys, want, "the report's fields: {text}");
    for (key, kind) in &fields {
        check(key, *kind, &v[key], text);
    }
    assert_eq!(v["proctor"], env!("CARGO_PKG_VERSION"), "{text}");
    let status = v["status"].as_str().unwrap_or_default();
    assert!(statuses.contains(&status), "unknown status: {text}");
    // A message for every status but exited and signaled, none for those.
    assert_eq!(
        v["message"].is_null(),
        matches!(status, "exited" | "signaled"),
        "message and status: {text}"
    );
    // The usage figures are there together or not at all (the command never ran).
    let usage = ["wall_ms", "cpu_user_ms", "cpu_sys_ms", "max_rss_kib"];
    let ran = usage.iter().filter(|k| !v[*k].is_null()).count();
    assert!(ran == 0 || ran == usage.len(), "usage figures: {text}");
    v
}

#[track_caller]
fn check(key: &str, kind: Kind, value: &Value, text: &str) {
    let ok = match kind {
        Kind::Int => value.is_u64() || value.is_i64(),
        Kind::IntOrNull => value.is_null() || value.is_u64() || value.is_i64(),
        Kind::Str => value.is_string(),
        Kind::StrOrNull => value.is_null() || value.is_string(),
        Kind::Num => value.is_number(),
        Kind::BoolOrNull => value.is_null() || value.is_boolean(),
        Kind::Limits => {
            let limits = value
                .as_object()
                .unwrap_or_else(|| panic!("{key} is not an object: {text}"));
            for (name, limit) in limits {
                let kind = LIMITS
                    .iter()
                    .find(|l| l.0 == name)
                    .unwrap_or_else(|| panic!("unknown limit {name}: {text}"))
                    .1;
                check(name, kind, limit, text);
            }
            true
        }
    };
    assert!(ok, "{key} is not {kind:?}: {text}");
}
