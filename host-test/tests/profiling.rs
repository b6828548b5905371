//! `RuntimeOptions::perf_map`: the engine writes the perf map Linux `perf`
//! reads to name JIT-compiled code, and only when asked.

use mde_connector_host::Runtime;
use mde_connector_host::runtime::{COMPONENT, RuntimeOptions};
use std::path::PathBuf;

/// Where wasmtime writes this process's perf map.
fn perf_map() -> PathBuf {
    PathBuf::from(format!("/tmp/perf-{}.map", std::process::id()))
}

// One test, so that no other runtime of this process writes the map
// between the two halves.
#[test]
fn perf_map_is_written_only_when_asked_for() {
    let _ = std::fs::remove_file(perf_map());
    Runtime::with_options(COMPONENT, RuntimeOptions::default()).unwrap();
    assert!(
        !perf_map().exists(),
        "a runtime with the default options wrote {}",
        perf_map().display()
    );

    let options = RuntimeOptions {
        perf_map: true,
        ..RuntimeOptions::default()
    };
    Runtime::with_options(COMPONENT, options).unwrap();
    let map = std::fs::read_to_string(perf_map()).unwrap();
    std::fs::remove_file(perf_map()).unwrap();
    // One line per compiled function: start, size, name.
    let functions = map
        .lines()
        .filter(|line| line.split(' ').count() >= 3)
        .count();
    assert!(functions > 100, "{functions} functions in the map:\n{map}");
}
