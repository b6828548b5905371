//! The README's `cargo run` lines, run through the built CLI as a reader runs
//! them: those without `--live` print their lookup; a `--live` line, given no
//! credentials here, stops at the credentials check (its flags parsed), so
//! nothing goes to the network; a `serve` line without `--live` is run with
//! `--help`.

mod common;

use common::{ENV, printed};
use std::process::{Command, Output};

/// The arguments after `cargo run [--release] --` of each such line of the
/// README's `sh` blocks, without the trailing comment.
fn readme_runs() -> Vec<Vec<String>> {
    let readme = include_str!("../../README.md");
    let mut in_sh = false;
    let mut runs = Vec::new();
    for line in readme.lines() {
        let line = line.trim();
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if in_sh && line.starts_with("cargo run") {
            let (_, args) = line.split_once(" -- ").expect("`cargo run ... -- ARGS`");
            let args = args.split(" #").next().unwrap_or_default();
            runs.push(args.split_whitespace().map(str::to_owned).collect());
        }
    }
    runs
}

/// The CLI with `args`, run in a scratch directory holding a `domains.txt`
/// and an `indicators.txt`.
fn run(args: &[String]) -> Output {
    let dir = format!(
        "{}/readme-{}",
        env!("CARGO_TARGET_TMPDIR"),
        std::process::id()
    );
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(format!("{dir}/domains.txt"), "contoso.com\nfabrikam.com\n").unwrap();
    std::fs::write(
        format!("{dir}/indicators.txt"),
        "contoso.com\n10.20.31.7\n0991a395da64e1c5fbe8732ed11e6be064081d9f\nuser:user1\n",
    )
    .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mde-connector"));
    command.args(args).current_dir(&dir);
    command
        .arg("--cache-dir")
        .arg(format!("{dir}/component-cache"));
    for name in ENV {
        command.env_remove(name);
    }
    command.output().expect("the CLI runs")
}

#[test]
fn every_cargo_run_line_of_the_readme_runs() {
    let runs = readme_runs();
    assert!(runs.len() >= 5, "the README's cargo run lines: {runs:?}");
    for mut args in runs {
        // A service runs until stopped: its line is checked as far as its flags
        // parse (a live one stops at the missing credentials, before it listens).
        let live = args.iter().any(|a| a == "--live");
        if args.first().is_some_and(|a| a == "serve") && !live {
            args.push("--help".into());
        }
        let out = run(&args);
        if live {
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", printed(&out));
            assert!(
                printed(&out).contains("--live needs MDE_TOKEN"),
                "{args:?}: {}",
                printed(&out)
            );
        } else {
            assert!(out.status.success(), "{args:?}: {}", printed(&out));
            assert!(!out.stdout.is_empty(), "{args:?} printed nothing");
        }
    }
}
