//! What a schema has no place for, under the service's own names.

use crate::machine::{IpAddress, Machine, VmMetadata};
use serde::Serialize;

/// The machine fields a schema has no place for, under the service's own
/// names, with the domain that was queried: OCSF's `unmapped`, ECS's `mde`.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Remainder<'a> {
    /// The domain the machine communicated with, as queried.
    pub(super) queried_domain: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) first_seen: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) last_seen: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) os_processor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) os_architecture: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) os_build: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) last_external_ip_address: Option<&'a str>,
    /// As sent: operational status, interface type and addresses no schema
    /// type accepts (the empty string) are only here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ip_addresses: Option<&'a [IpAddress]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) health_status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) onboarding_status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) exposure_level: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) device_value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) aad_device_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) is_aad_joined: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) machine_tags: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) agent_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) defender_av_status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) managed_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) managed_by_status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) is_excluded: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) exclusion_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) is_potential_duplication: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) merged_into_machine_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) vm_metadata: Option<&'a VmMetadata>,
}

impl<'a> Remainder<'a> {
    /// What neither schema maps. `first_seen`/`last_seen`: whether to keep
    /// those times here too.
    pub(super) fn of(domain: &'a str, m: &'a Machine, first_seen: bool, last_seen: bool) -> Self {
        Remainder {
            queried_domain: domain,
            first_seen: m.first_seen.as_deref().filter(|_| first_seen),
            last_seen: m.last_seen.as_deref().filter(|_| last_seen),
            os_processor: m.os_processor.as_deref(),
            os_architecture: m.os_architecture.as_deref(),
            last_external_ip_address: m.last_external_ip_address.as_deref(),
            ip_addresses: m.ip_addresses.as_deref(),
            health_status: m.health_status.as_ref().map(|v| v.as_str()),
            onboarding_status: m.onboarding_status.as_ref().map(|v| v.as_str()),
            exposure_level: m.exposure_level.as_ref().map(|v| v.as_str()),
            device_value: m.device_value.as_ref().map(|v| v.as_str()),
            is_aad_joined: m.is_aad_joined,
            defender_av_status: m.defender_av_status.as_deref(),
            managed_by: m.managed_by.as_deref(),
            managed_by_status: m.managed_by_status.as_deref(),
            is_excluded: m.is_excluded,
            exclusion_reason: m.exclusion_reason.as_deref(),
            is_potential_duplication: m.is_potential_duplication,
            merged_into_machine_id: m.merged_into_machine_id.as_deref(),
            vm_metadata: m.vm_metadata.as_ref(),
            ..Remainder::default()
        }
    }
}
