//! Which application roles each lookup needs: one table for the hints a `403`
//! gets and for `check`. `policy/policy.json` (`lookups`) holds the same
//! table for the Python package; host/tests/policy_file.rs holds the two equal.

/// One lookup the connector offers, by its export's name in the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    DomainMachines,
    FileMachines,
    UserMachines,
    IpMachines,
    Machine,
    DomainStats,
    IpStats,
}

const MACHINE_ROLES: &[&str] = &["Machine.Read.All", "Machine.ReadWrite.All"];

impl Lookup {
    /// Every lookup, in the order `check` reports them.
    pub const ALL: [Lookup; 7] = [
        Lookup::DomainMachines,
        Lookup::FileMachines,
        Lookup::UserMachines,
        Lookup::IpMachines,
        Lookup::Machine,
        Lookup::DomainStats,
        Lookup::IpStats,
    ];

    /// The export's name in the contract (`domain-machines`).
    pub fn name(self) -> &'static str {
        match self {
            Lookup::DomainMachines => "domain-machines",
            Lookup::FileMachines => "file-machines",
            Lookup::UserMachines => "user-machines",
            Lookup::IpMachines => "ip-machines",
            Lookup::Machine => "machine",
            Lookup::DomainStats => "domain-stats",
            Lookup::IpStats => "ip-stats",
        }
    }

    /// The application roles of which any one permits the lookup; the first
    /// is the least privilege, the one to grant.
    pub fn roles(self) -> &'static [&'static str] {
        match self {
            Lookup::DomainStats => &["URL.Read.All"],
            Lookup::IpStats => &["Ip.Read.All"],
            _ => MACHINE_ROLES,
        }
    }

    /// Whether a token carrying `roles` may make this lookup (role names are
    /// compared without case, as Entra ID treats them).
    pub fn permitted_by<S: AsRef<str>>(self, roles: &[S]) -> bool {
        self.roles().iter().any(|needed| {
            roles
                .iter()
                .any(|r| r.as_ref().eq_ignore_ascii_case(needed))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_machine_role_permits_the_machine_lookups_only() {
        let roles = ["machine.readwrite.all"];
        let permitted: Vec<&str> = Lookup::ALL
            .iter()
            .filter(|l| l.permitted_by(&roles))
            .map(|l| l.name())
            .collect();
        assert_eq!(
            permitted,
            [
                "domain-machines",
                "file-machines",
                "user-machines",
                "ip-machines",
                "machine"
            ]
        );
        assert!(!Lookup::DomainStats.permitted_by(&roles));
        assert!(Lookup::IpStats.permitted_by(&["Ip.Read.All"]));
        assert!(!Lookup::DomainMachines.permitted_by::<&str>(&[]));
    }
}
