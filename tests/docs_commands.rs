//! Every command of README.md and docs/*.md that a reader would copy runs
//! exactly as printed, so the documentation cannot drift from the binary.
//!
//! How blocks are marked (`sh` runs, `console` runs and compares its output,
//! `sh no-run: REASON` is not run, any other language is only shown) and
//! what the session they run in provides: tests/README.md, "Documented
//! commands". Each document is one `bash -euo pipefail` session, PID 1 of a
//! throwaway PID namespace (a `proctor` it starts is a subreaper under it);
//! README.md runs first: it installs the binary at `/opt/proctor/proctor`,
//! where the later documents' Docker commands find it.
mod common;
use common::*;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A code block of a Markdown file.
struct Block {
    /// `file:line` of the block's first line.
    at: String,
    /// The fence's info string; `None` for an indented block.
    info: Option<String>,
    text: String,
}

/// What a block is, by its info string.
#[derive(Debug, PartialEq)]
enum Kind {
    /// Run as a shell script.
    Script,
    /// A transcript: its `$ ` commands run and their output is compared.
    Transcript,
    /// Not run, for this reason.
    NotRun(String),
    /// Output, a file, code: only shown.
    Shown,
}

/// The first words of a line a reader would copy into a shell.
const COMMANDS: &[&str] = &[
    "$ ",
    "proctor ",
    "./target/",
    "target/release/",
    "docker ",
    "cargo ",
    "./just",
    "just ",
    "unshare ",
    "sudo ",
    "kubectl ",
    "qemu-system",
    "firecracker ",
    "sh ",
    "bash ",
    "install ",
    "cp ",
    "mkdir ",
];

/// The documented files: README.md first (it installs what the others use),
/// then docs/*.md.
fn documents() -> Vec<PathBuf> {
    let mut files = vec![repo().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

fn name(path: &Path) -> String {
    path.strip_prefix(repo())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The code blocks of `path`, as CommonMark (GitHub) sees them.
fn blocks(path: &Path) -> Vec<Block> {
    let md = std::fs::read_to_string(path).expect("read the document");
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (event, range) in Parser::new(&md).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let line = md[..range.start].lines().count() + 1;
                let info = match kind {
                    CodeBlockKind::Indented => None,
                    CodeBlockKind::Fenced(info) => Some(info.trim().to_string()),
                };
                open = Some(Block {
                    at: format!("{}:{line}", name(path)),
                    info,
                    text: String::new(),
                });
            }
            Event::Text(t) => {
                if let Some(b) = open.as_mut() {
                    b.text.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(open.take()),
            _ => {}
        }
    }
    out
}

/// A block's kind, or why its marking is refused.
fn kind(b: &Block) -> Result<Kind, String> {
    let Some(info) = b.info.as_deref() else {
        return Err("an indented code block: fence it and name its language".into());
    };
    let (lang, rest) = info.split_once(char::is_whitespace).unwrap_or((info, ""));
    let rest = rest.trim();
    let kind = match lang {
        "" => return Err("a fence without a language".into()),
        "sh" | "console" if !rest.is_empty() => match rest.strip_prefix("no-run:") {
            Some(reason) if !reason.trim().is_empty() => Kind::NotRun(reason.trim().to_string()),
            _ => return Err(format!("`{info}`: write `{lang} no-run: REASON`")),
        },
        "sh" => Kind::Script,
        "console" => Kind::Transcript,
        _ => Kind::Shown,
    };
    match kind {
        Kind::Shown => {
            if let Some(l) = b
                .text
                .lines()
                .find(|l| COMMANDS.iter().any(|c| l.trim_start().starts_with(c)))
            {
                return Err(format!(
                    "a `{lang}` block with a command ({l:?}): mark it `sh`, `console`, or `sh no-run: REASON`"
                ));
            }
        }
        Kind::Transcript if !b.text.starts_with("$ ") => {
            return Err("a `console` block starts with a `$ ` command".into());
        }
        _ => {}
    }
    Ok(kind)
}

/// One command of a transcript and the output shown under it.
#[derive(Debug, PartialEq)]
struct Step {
    command: String,
    shown: Vec<String>,
}

/// The steps of a transcript: `$ ` lines with their `\` continuations, each
/// followed by its output.
fn steps(text: &str) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    let mut continued = false;
    for line in text.lines() {
        match out.last_mut() {
            Some(s) if continued => {
                s.command.push('\n');
                s.command.push_str(line);
                continued = line.ends_with('\\');
            }
            _ => match line.strip_prefix("$ ") {
                Some(c) => {
                    out.push(Step {
                        command: c.to_string(),
                        shown: Vec::new(),
                    });
                    continued = c.ends_with('\\');
                }
                None => out
                    .last_mut()
                    .expect("starts with $")
                    .shown
                    .push(line.into()),
            },
        }
    }
    out
}

/// Whitespace runs as one space, no leading or trailing blanks: what a
/// reader compares on a terminal (tabs included).
fn normal(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `line` matches `pattern`, in which `…` stands for any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let (pattern, line) = (normal(pattern), normal(line));
    let mut parts = pattern.split('…');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, p) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(p);
        }
        match rest.find(p) {
            Some(at) => rest = &rest[at + p.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// The shown lines are stdout and stderr interleaved in some order (two
/// pipes have no order between them), `…` alone standing for any lines.
fn output_matches(shown: &[String], stdout: &str, stderr: &str) -> bool {
    fn lines(s: &str) -> Vec<&str> {
        let mut v: Vec<&str> = s.lines().collect();
        while v.last().is_some_and(|l| l.trim().is_empty()) {
            v.pop();
        }
        v
    }
    let mut shown: Vec<&str> = shown.iter().map(String::as_str).collect();
    while shown.last().is_some_and(|l| l.trim().is_empty()) {
        shown.pop();
    }
    let (o, e) = (lines(stdout), lines(stderr));
    // Depth-first over (shown, stdout, stderr) positions, each visited once.
    let mut seen = std::collections::HashSet::new();
    let mut todo = vec![(0, 0, 0)];
    while let Some(state @ (s, i, j)) = todo.pop() {
        if !seen.insert(state) {
            continue;
        }
        if s == shown.len() {
            if i == o.len() && j == e.len() {
                return true;
            }
            continue;
        }
        if shown[s].trim() == "…" {
            todo.push((s + 1, i, j));
            if i < o.len() {
                todo.push((s, i + 1, j));
            }
            if j < e.len() {
                todo.push((s, i, j + 1));
            }
            continue;
        }
        if i < o.len() && line_matches(shown[s], o[i]) {
            todo.push((s + 1, i + 1, j));
        }
        if j < e.len() && line_matches(shown[s], e[j]) {
            todo.push((s + 1, i, j + 1));
        }
    }
    false
}

#[test]
fn every_code_block_is_marked() {
    let mut bad = Vec::new();
    let mut runnable = 0;
    for doc in documents() {
        for b in blocks(&doc) {
            match kind(&b) {
                Ok(Kind::Script | Kind::Transcript) => runnable += 1,
                Ok(Kind::Shown) if b.info.as_deref() == Some("json") => {
                    if b.text.starts_with("{\"schema\"") {
                        let text = b.text.clone();
                        if std::panic::catch_unwind(|| parse_report(&text)).is_err() {
                            bad.push(format!("{}: not a report of the current schema", b.at));
                        }
                    }
                }
                Ok(_) => {}
                Err(why) => bad.push(format!("{}: {why}", b.at)),
            }
        }
    }
    assert!(
        bad.is_empty(),
        "code blocks not marked as tests/README.md says:\n{}",
        bad.join("\n")
    );
    assert!(runnable >= 10, "only {runnable} runnable blocks found");
}

#[test]
fn the_marking_rules() {
    let block = |info: Option<&str>, text: &str| Block {
        at: "x.md:1".into(),
        info: info.map(String::from),
        text: text.into(),
    };
    assert_eq!(kind(&block(Some("sh"), "ls")), Ok(Kind::Script));
    assert_eq!(kind(&block(Some("console"), "$ ls")), Ok(Kind::Transcript));
    assert_eq!(
        kind(&block(Some("sh no-run: needs a cluster"), "kubectl apply")),
        Ok(Kind::NotRun("needs a cluster".into()))
    );
    assert_eq!(kind(&block(Some("json"), "{}")), Ok(Kind::Shown));
    for refused in [
        block(None, "ls\n"),
        block(Some(""), "ls\n"),
        block(Some("sh no-run:"), "ls\n"),
        block(Some("sh later"), "ls\n"),
        block(Some("text"), "  proctor --timeout 3 true\n"),
        block(Some("text"), "$ ls\n"),
        block(Some("console"), "output first\n$ ls\n"),
    ] {
        assert!(
            kind(&refused).is_err(),
            "{:?} {:?}",
            refused.info,
            refused.text
        );
    }
    assert_eq!(
        steps("$ a \\\n  b\nout\n$ c\n"),
        [
            Step {
                command: "a \\\n  b".into(),
                shown: vec!["out".into()]
            },
            Step {
                command: "c".into(),
                shown: vec![]
            }
        ]
    );
    let shown = |s: &str| s.lines().map(String::from).collect::<Vec<_>>();
    assert!(output_matches(&shown("a\tb\nc\n"), "a  b\n", "c\n"));
    assert!(output_matches(&shown("c\na b"), "a b\n", "c\n"));
    assert!(output_matches(&shown("x\n…\nz"), "x\ny1\ny2\nz\n", ""));
    assert!(output_matches(&shown("pid …, done"), "pid 7, done\n", ""));
    assert!(output_matches(&shown("…"), "", ""));
    assert!(!output_matches(&shown(""), "unexpected\n", ""));
    assert!(!output_matches(&shown("a\nb"), "b\na\n", ""));
    assert!(!output_matches(&shown("pid …"), "uid 7\n", ""));
    assert!(!output_matches(&shown("a"), "ab\n", ""));
}

/// The script of one document's runnable blocks, how many there are, and
/// its transcripts' steps in order.
struct Session {
    script: String,
    blocks: usize,
    steps: Vec<(String, Step)>,
}

/// Each block starts at the repository's top behind a `### file:line`
/// marker on stderr; each transcript step writes its stdout, stderr and
/// status to `$PROCTOR_DOCS/N.{out,err,status}`, with `$?` set to the
/// previous step's status (for `echo $?`).
fn session(doc: &Path) -> Session {
    let mut s = Session {
        script: "set -euo pipefail\n__status=0\n".into(),
        blocks: 0,
        steps: Vec::new(),
    };
    for b in blocks(doc) {
        let k = kind(&b);
        if let Ok(Kind::NotRun(reason)) = &k {
            eprintln!("NOT RUN {}: {reason}", b.at);
        }
        if !matches!(k, Ok(Kind::Script | Kind::Transcript)) {
            continue; // every_code_block_is_marked reports the bad ones
        }
        s.blocks += 1;
        s.script.push_str(&format!(
            "cd \"$PROCTOR_REPO\"\nprintf '### %s\\n' '{}' >&2\n",
            b.at
        ));
        if k == Ok(Kind::Script) {
            s.script.push_str(&b.text);
            s.script.push('\n');
            continue;
        }
        for step in steps(&b.text) {
            let n = s.steps.len();
            s.script.push_str(&format!(
                "{{ (exit $__status)\n{}\n}} >\"$PROCTOR_DOCS/{n}.out\" 2>\"$PROCTOR_DOCS/{n}.err\" \
                 && __status=0 || __status=$?\necho $__status >\"$PROCTOR_DOCS/{n}.status\"\n",
                step.command
            ));
            s.steps.push((b.at.clone(), step));
        }
    }
    s
}

/// Run the runnable blocks of every document; all failures are listed.
#[test]
fn documented_commands_run() {
    skip_unless!(ready(), docker::image());
    let mut failures = Vec::new();
    for doc in documents() {
        let s = session(&doc);
        if s.blocks == 0 {
            continue;
        }
        let results = tempfile::tempdir().expect("tempdir");
        let tmp = docker::staging(); // mode 0755: containers' uid 1000 reaches $TMPDIR's dirs
        let out = run_document(&s.script, results.path(), tmp.path());
        let err = stderr(&out);
        if !out.status.success() {
            let at = err
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("### "))
                .unwrap_or("?");
            failures.push(format!(
                "{}: the block at {at} failed ({}):\n--- stdout\n{}--- stderr\n{err}",
                name(&doc),
                out.status,
                stdout(&out)
            ));
        }
        for (n, (at, step)) in s.steps.iter().enumerate() {
            let read = |ext: &str| {
                std::fs::read_to_string(results.path().join(format!("{n}.{ext}")))
                    .unwrap_or_default()
            };
            let status = read("status");
            if status.is_empty() {
                break; // the session stopped earlier: reported above
            }
            let (o, e) = (read("out"), read("err"));
            let shows_status = s
                .steps
                .get(n + 1)
                .is_some_and(|next| next.1.command.trim() == "echo $?");
            let why = if status.trim() != "0" && !shows_status {
                Some(format!(
                    "exit status {} (a failing command is followed by `$ echo $?`)",
                    status.trim()
                ))
            } else if !output_matches(&step.shown, &o, &e) {
                Some("output differs from what the document shows".to_string())
            } else {
                None
            };
            if let Some(why) = why {
                failures.push(format!(
                    "{at}: `$ {}`: {why}\n--- shown\n{}\n--- stdout\n{o}--- stderr\n{e}",
                    step.command,
                    step.shown.join("\n")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `script` under bash, PID 1 of a throwaway PID namespace, with the binary
/// under test first on PATH and `tmp` as TMPDIR.
fn run_document(script: &str, results: &Path, tmp: &Path) -> std::process::Output {
    let bin = proctor();
    let path = format!(
        "{}:{}",
        bin.parent().expect("target/release").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = throwaway_pid_namespace();
    cmd.args(["bash", "-c", script])
        .current_dir(repo())
        .env("PATH", path)
        .env("TMPDIR", tmp)
        .env("PROCTOR_REPO", repo())
        .env("PROCTOR_DOCS", results);
    run_cmd(cmd, Duration::from_secs(900))
}
