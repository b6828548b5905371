//! A careless operator: credentials that are not text, a secret "file" that
//! is a FIFO, a list of domains that is `/dev/zero`. Each ends at once in an
//! error that says what is wrong.

mod common;

use common::{ENV, cli, printed};
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

#[test]
fn an_mde_token_that_is_not_utf8_is_never_ignored() {
    let run = |with_credentials: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mde-connector"));
        command
            .args(["contoso.com", "--cache-dir"])
            .arg(concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache"));
        for name in ENV {
            command.env_remove(name);
        }
        command.env("MDE_TOKEN", std::ffi::OsStr::from_bytes(b"tok\xffen-value"));
        if with_credentials {
            command.envs([
                ("MDE_TENANT_ID", "contoso.onmicrosoft.com"),
                ("MDE_CLIENT_ID", "client"),
                ("MDE_CLIENT_SECRET", "a-client-secret"),
            ]);
        }
        command.output().expect("the CLI runs")
    };
    let both = run(true);
    assert_eq!(both.status.code(), Some(2), "{}", printed(&both));
    assert!(
        printed(&both).starts_with("error: both MDE_TOKEN and MDE_TENANT_ID"),
        "{}",
        printed(&both)
    );
    let alone = run(false);
    assert_eq!(alone.status.code(), Some(2), "{}", printed(&alone));
    assert!(
        printed(&alone).contains("MDE_TOKEN is set but is not UTF-8"),
        "{}",
        printed(&alone)
    );
}

#[test]
fn a_client_secret_file_that_is_a_fifo_is_refused_without_blocking() {
    let fifo = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("secret-fifo-{}", std::process::id()));
    let made = Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let out = cli(
        &[
            "contoso.com",
            "--client-secret-file",
            fifo.to_str().unwrap(),
        ],
        &[
            ("MDE_TENANT_ID", "contoso.onmicrosoft.com"),
            ("MDE_CLIENT_ID", "client"),
        ],
    );
    std::fs::remove_file(&fifo).unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", printed(&out));
    assert!(
        printed(&out).contains("is not a regular file (it is a FIFO)"),
        "{}",
        printed(&out)
    );
}

#[test]
fn a_domains_list_of_dev_zero_ends_at_once() {
    let out = cli(&["--domains", "/dev/zero"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert!(out.stdout.is_empty(), "{}", printed(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: reading /dev/zero: line 1 has a NUL byte (at byte 1): \
         not a list of domains (one a line)\n"
    );
}
