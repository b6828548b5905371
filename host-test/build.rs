//! Builds the guests only the tests load (the misbehaving guest of the
//! sandbox tests) as components, the way `host/build.rs` builds the ones
//! that ship.

#[path = "../host/build/guests.rs"]
mod guests;

fn main() -> anyhow::Result<()> {
    let root = guests::workspace_root()?;
    for input in ["wit", "host-test/guests", "host/build"] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    let built = guests::build(
        &root,
        &guests::component_dir(&root),
        &[("misbehaving-guest", "misbehaving_guest")],
    )?;
    println!(
        "cargo:rustc-env=MISBEHAVING_GUEST_COMPONENT={}",
        built[0].display()
    );
    Ok(())
}
