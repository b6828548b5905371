//! The component's errors as the core's, which print the service's code,
//! message and correlation id and name their kind:
//! `mde_connector::Error::from(e)`. The conversion is the core's one
//! definition for every binding of the WIT ([`mde_connector::error_from_wit`]).
//! (Machines need no conversion: the component gives their JSON; settings
//! go the other way, in `bindings`.)

mde_connector::error_from_wit!(crate::bindings::mde::connector::types);

/// The prevalence answers as the core's, which write their JSON
/// (`to_json`), field for field.
macro_rules! prevalence_from_wit {
    ($wit:ident, $core:ident { $($field:ident),+ }) => {
        impl From<crate::bindings::mde::connector::types::$wit> for mde_connector::prevalence::$core {
            fn from(p: crate::bindings::mde::connector::types::$wit) -> Self {
                let crate::bindings::mde::connector::types::$wit { $($field),+ } = p;
                mde_connector::prevalence::$core { $($field),+ }
            }
        }
    };
}

prevalence_from_wit!(
    DomainPrevalence,
    DomainPrevalence {
        domain,
        look_back_hours,
        host,
        organization_prevalence,
        org_first_seen,
        org_last_seen,
        unmodelled
    }
);
prevalence_from_wit!(
    IpPrevalence,
    IpPrevalence {
        ip,
        look_back_hours,
        ip_address,
        organization_prevalence,
        org_first_seen,
        org_last_seen,
        unmodelled
    }
);
