//! `host/fixtures/fabrikam-machines.json` is the demo tenant's fabrikam.com
//! as the Rust fake tenant makes it: the Python package's demo tenant reads
//! the file rather than a port of the generator, so both languages answer
//! with one definition of those machines.

#[test]
fn the_fabrikam_fixture_is_the_fake_tenants_full_machines() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../host/fixtures/fabrikam-machines.json")).unwrap();
    let generated: Vec<_> = (0..500).map(host_test::fake_tenant::full_machine).collect();
    assert_eq!(fixture, serde_json::Value::Array(generated));
}
