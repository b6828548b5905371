//! The built component's authority and footprint, read from the artifact itself.

mod common;

use mde_connector_host::runtime::COMPONENT;
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

fn names(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = items.collect();
    names.sort();
    names
}

#[test]
fn imports_exactly_the_worlds_interfaces() {
    let engine = Engine::new(&Config::new()).unwrap();
    let component = Component::new(&engine, COMPONENT).unwrap();
    let ty = component.component_type();
    let imports = names(ty.imports(&engine).map(|(name, _)| name.to_owned()));
    assert_eq!(
        imports,
        [
            "mde:connector/http@0.4.0",
            "mde:connector/log@0.4.0",
            "mde:connector/settings@0.4.0",
            "mde:connector/types@0.4.0",
        ]
    );
    let exports = names(ty.exports(&engine).map(|(name, _)| name.to_owned()));
    assert_eq!(
        exports,
        [
            "check",
            "domain-machines",
            "domain-stats",
            "file-machines",
            "ip-machines",
            "ip-stats",
            "lookup",
            "lookup-query",
            "lookup-query-texts",
            "lookup-texts",
            "machine",
            "mde:connector/events@0.4.0",
            "user-machines",
        ]
    );
}

/// A guard against growth, at the measured size plus 1%. The issue's target
/// was 200 KB; the Unicode tables that real IDNA needs (ICU4X data through
/// the `idna` crate) are about 160 KB of it alone. See BENCHMARKS.md.
/// The `events` export (OCSF and ECS mapping, its serialisers, IP address
/// parsing) took it from about 349 KB to 401,864 bytes. Reading every member
/// leniently and keeping the rest as sent (raw JSON values, the `record!`
/// readers and writers), scrubbing secrets and the checks on custom clouds
/// took it from 413,151 to 432,579 bytes. Issue 16 allows about 450 KB for
/// speed: `opt-level = "s"` instead of `"z"` (with the IDNA crates kept at
/// `"z"`) made it 450,260 bytes and the 500-machine lookup twice as fast.
/// Reading answers directly (one pass) and talc as the allocator, with one
/// reader for both modes, and substring search without core's Two-Way
/// searcher, made it 449,536 bytes; strings, numbers and booleans read with
/// one look at the value (talc without grow-in-place) 449,852; 449,698 after
/// a clean-up of those readers. Contract 0.3.0 (`lookup-texts`, events of
/// texts rather than of typed records, whose lifting each events function
/// carried) made it 441,955. Contract 0.4.0's credentials (issue 24: the
/// `check` export with its claims reader and report, client assertions,
/// and the hints that say what to fix, with their texts) took it to 480,882,
/// and its other lookups (issue 25) by about 116 KB more (557,864 without
/// issue 24): most of that (62 KB) is wit-bindgen's glue, which lowers the
/// 33-field machine record once per export that returns it (about 8 KB for
/// each of `file-machines`, `user-machines`, `ip-machines`, `machine` and
/// `lookup-query`, 3 KB more for a post-return); the input checks, routes
/// and readers are about 15 KB. Both together: 598,113. Issue 27's speed:
/// `lookup-texts` checking each machine without making its record
/// (`Field::check`) made it 608,029; `opt-level = 2` rather than `"s"`,
/// for a 500-machine lookup about a quarter faster (side by side in
/// BENCHMARKS.md), 681,149; one visitor for `Option`'s read and check,
/// 681,533.
#[test]
fn the_release_component_stays_small() {
    const LIMIT: usize = 681_149 * 101 / 100;
    assert!(
        COMPONENT.len() <= LIMIT,
        "the component is {} bytes; the limit is {LIMIT}",
        COMPONENT.len()
    );
}

/// The world as `wasm-tools component wit` prints it from a built artifact.
fn printed_world_of(component: &[u8]) -> String {
    let decoded = wit_parser::decoding::decode(component).unwrap();
    let resolve = decoded.resolve();
    let main = decoded.package();
    let nested: Vec<_> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|id| *id != main)
        .collect();
    let mut printer = wit_component::WitPrinter::default();
    printer.print(resolve, main, &nested).unwrap();
    printer.output.to_string()
}

fn printed_world() -> String {
    printed_world_of(COMPONENT)
}

#[test]
fn the_contract_page_shows_the_world_of_the_built_component() {
    let contract = include_str!("../../docs/contract.md");
    let start = contract
        .find("```wit\n")
        .expect("docs/contract.md has a ```wit block")
        + "```wit\n".len();
    let end = start + contract[start..].find("```").unwrap();
    assert_eq!(
        contract[start..end].trim_end(),
        printed_world().trim_end(),
        "docs/contract.md's world is stale: paste `wasm-tools component wit target/component/mde_connector.component.wasm`"
    );
}

#[test]
fn the_hosts_page_lists_the_imports_of_the_composed_component() {
    let composed = std::fs::read(mde_connector_host::runtime::WASI_HTTP_COMPONENT_PATH).unwrap();
    let printed = printed_world_of(&composed);
    let imports: Vec<&str> = printed
        .lines()
        .filter(|line| line.starts_with("  import "))
        .collect();
    let hosts = include_str!("../../docs/hosts.md");
    let command =
        "wasm-tools component wit target/component/mde_connector_wasi_http.component.wasm";
    let after = &hosts[hosts
        .find(command)
        .expect("docs/hosts.md names the command")..];
    let start = after.find("```text\n").expect("a ```text block follows") + "```text\n".len();
    let end = start + after[start..].find("```").unwrap();
    assert_eq!(
        after[start..end].lines().collect::<Vec<_>>(),
        imports,
        "docs/hosts.md's list of the composed component's imports is stale: paste the import lines of `{command}`"
    );
    assert!(
        !imports
            .iter()
            .any(|line| line.contains("mde:connector/http"))
    );
}
