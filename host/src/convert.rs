//! The component's errors as the core's, which print the service's code,
//! message and correlation id and name their kind:
//! `mde_connector::Error::from(e)`. The conversion is the core's one
//! definition for every binding of the WIT ([`mde_connector::error_from_wit`]).
//! (Machines need no conversion: the component gives their JSON; settings
//! go the other way, in `bindings`.)

mde_connector::error_from_wit!(crate::bindings::mde::connector::types);

// The prevalence answers as the core's, which write their JSON (`to_json`).
mde_connector::prevalence_conversions!(crate::bindings::mde::connector::types);
