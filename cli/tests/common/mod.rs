//! Running the built CLI as a user would, with none of the caller's `MDE_*`
//! settings leaking in: what the CLI's test files share.
#![allow(dead_code)] // each test binary uses a different part

use std::io::Write;
use std::process::{Command, Output};

/// Every variable the CLI reads settings or credentials from.
pub const ENV: [&str; 13] = [
    "MDE_TOKEN",
    "MDE_TENANT_ID",
    "MDE_CLIENT_ID",
    "MDE_CLIENT_SECRET",
    "MDE_CLIENT_CERTIFICATE",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "MDE_CLOUD",
    "MDE_API_BASE",
    "MDE_LOGIN_HOST",
    "MDE_SCOPE",
    "MDE_LOG",
];

/// `mde-connector ARGS` with the tests' compiled-component cache, none of
/// [`ENV`] but `env`.
pub fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mde-connector"));
    command.args(args);
    command
        .arg("--cache-dir")
        .arg(concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache"));
    for name in ENV {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("the CLI runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Everything the CLI printed, stdout then stderr.
pub fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A replay file in cargo's scratch directory for integration tests.
pub struct ReplayFile(std::path::PathBuf);

impl ReplayFile {
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ReplayFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub fn replay_file(json: &str) -> ReplayFile {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "replay-{}-{}.json",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    ReplayFile(path)
}

/// The flags that make a loopback server the live CLI's custom cloud.
pub fn live_custom_cloud(origin: &str) -> Vec<String> {
    [
        "--live",
        "--cloud",
        "custom",
        "--api-base",
        origin,
        "--login-host",
        origin,
        "--scope",
        "https://api.securitycenter.microsoft.com/.default",
        "--allow-loopback-http",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The fake tenant's credentials, as the environment gives them.
pub fn demo_credentials() -> [(&'static str, &'static str); 3] {
    use host_test::fake_tenant;
    [
        ("MDE_TENANT_ID", fake_tenant::TENANT_ID),
        ("MDE_CLIENT_ID", fake_tenant::CLIENT_ID),
        ("MDE_CLIENT_SECRET", fake_tenant::CLIENT_SECRET),
    ]
}
