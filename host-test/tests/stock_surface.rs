//! The authority of the artifacts for stock runtimes, read from the
//! artifacts themselves, and docs/deploy.md's copy of it.

use wit_parser::WorldItem;
use wit_parser::decoding::{DecodedWasm, decode};

/// The world's imports and exports, as `wasm-tools component wit` prints
/// their lines, sorted.
fn surface(artifact: &str) -> Vec<String> {
    let bytes = std::fs::read(artifact).unwrap();
    let decoded = decode(&bytes).unwrap();
    let DecodedWasm::Component(resolve, world) = &decoded else {
        panic!("{artifact} is a component");
    };
    let world = &resolve.worlds[*world];
    let mut lines = Vec::new();
    for (verb, items) in [("import", &world.imports), ("export", &world.exports)] {
        for (key, item) in items {
            // A type the world `use`s is no capability.
            if !matches!(item, WorldItem::Type { .. }) {
                lines.push(format!("  {verb} {};", resolve.name_world_key(key)));
            }
        }
    }
    lines.sort();
    lines
}

/// The lines of the ```text block after `command` in docs/deploy.md, sorted.
fn documented(command: &str) -> Vec<String> {
    let doc = include_str!("../../docs/deploy.md");
    let after = &doc[doc.find(command).expect("docs/deploy.md names the command")..];
    let start = after.find("```text\n").expect("a ```text block follows") + "```text\n".len();
    let end = start + after[start..].find("```").unwrap();
    let mut lines: Vec<String> = after[start..end].lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

fn sorted(lines: &[&str]) -> Vec<String> {
    let mut lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    lines.sort();
    lines
}

/// What both ask of a runtime: wasi:http to send, the environment for
/// settings, stderr for logs, the wall clock for events and the cache, and
/// the monotonic clock's `duration` type for the requests' timeouts. No
/// filesystem, sockets or randomness.
const SHARED: [&str; 10] = [
    "  import wasi:cli/environment@0.2.12;",
    "  import wasi:cli/stderr@0.2.12;",
    "  import wasi:clocks/monotonic-clock@0.2.12;",
    "  import wasi:clocks/wall-clock@0.2.12;",
    "  import wasi:http/outgoing-handler@0.2.12;",
    "  import wasi:http/types@0.2.12;",
    "  import wasi:io/error@0.2.12;",
    "  import wasi:io/poll@0.2.12;",
    "  import wasi:io/streams@0.2.12;",
    "  import mde:connector/types@0.4.0;",
];

#[test]
fn the_service_asks_only_for_the_proxy_world_and_the_environment() {
    let artifact = mde_connector_host::runtime::PROXY_COMPONENT_PATH;
    let mut expected = SHARED.to_vec();
    expected.push("  export wasi:http/incoming-handler@0.2.12;");
    assert_eq!(surface(artifact), sorted(&expected));
    let command = "wasm-tools component wit target/component/mde_connector_proxy.component.wasm";
    assert_eq!(
        documented(command),
        surface(artifact),
        "docs/deploy.md's list for the proxy is stale"
    );
}

#[test]
fn the_command_asks_only_for_the_command_world() {
    let artifact = mde_connector_host::runtime::COMMAND_COMPONENT_PATH;
    let mut expected = SHARED.to_vec();
    expected.extend([
        "  import wasi:cli/stdout@0.2.12;",
        "  import wasi:cli/exit@0.2.12;",
        "  export wasi:cli/run@0.2.12;",
    ]);
    assert_eq!(surface(artifact), sorted(&expected));
    let command = "wasm-tools component wit target/component/mde_connector_command.component.wasm";
    assert_eq!(
        documented(command),
        surface(artifact),
        "docs/deploy.md's list for the command is stale"
    );
}
