//! The Machine entity, with the service's own JSON names.
//!
//! Each record is defined once, by `record!`: its fields, how each is read
//! (leniently: see [`crate::lenient`]) and how it is written back. What the
//! service sends that a record does not model, or that cannot be used as
//! typed, is kept as sent in its `unmodelled` member.

use crate::lenient::{
    Field, IdText, Kind, Read, Reading, Record, Scalar, Typed, index_of, serialize_record,
};
use serde::de::Deserializer;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// An enumeration that passes unknown values through as `Other`.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $($variant,)+
            /// A value this version does not know, as the service sent it.
            Other(String),
        }

        impl $name {
            /// The service's spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(text) => text,
                }
            }

            /// Known values compare without case: the reference and the live
            /// service disagree on it (`onboarded` and `Onboarded`).
            pub fn parse(text: &str) -> Self {
                $(if text.eq_ignore_ascii_case($text) {
                    return $name::$variant;
                })+
                $name::Other(text.to_owned())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl Field for $name {
            const KIND: Kind = Kind::Choice(&[$($text),+]);
            fn read<'de, D: Deserializer<'de>>(
                d: D,
                reading: &mut Reading,
            ) -> Result<Self, D::Error> {
                crate::lenient::read_scalar(d, reading)
            }
            fn from_scalar(scalar: Scalar, reading: &Reading) -> Option<Self> {
                scalar.text(reading).map(|t| Self::parse(&t))
            }
        }
    };
}

open_enum!(HealthStatus {
    Active = "Active",
    Inactive = "Inactive",
    ImpairedCommunication = "ImpairedCommunication",
    NoSensorData = "NoSensorData",
    NoSensorDataImpairedCommunication = "NoSensorDataImpairedCommunication",
    Unknown = "Unknown",
});

open_enum!(OnboardingStatus {
    Onboarded = "Onboarded",
    CanBeOnboarded = "CanBeOnboarded",
    Unsupported = "Unsupported",
    InsufficientInfo = "InsufficientInfo",
});

open_enum!(RiskScore {
    None = "None",
    Informational = "Informational",
    Low = "Low",
    Medium = "Medium",
    High = "High",
});

open_enum!(ExposureLevel {
    None = "None",
    Low = "Low",
    Medium = "Medium",
    High = "High",
});

open_enum!(DeviceValue {
    Normal = "Normal",
    Low = "Low",
    High = "High",
});

/// How a field is read: by its type, or by the reader named after `as`.
macro_rules! reader {
    () => {
        Typed
    };
    ($reader:ty) => {
        $reader
    };
}

/// A record of the service's, defined once: the struct (with `unmodelled`),
/// its [`Record`] impl (lenient reading, writing) and `Serialize`.
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* $field:ident: $ty:ty = $json:literal $(as $reader:ty)?,)+
        }
        required: [$($required:literal),*]
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            $($(#[$field_meta])* pub $field: $ty,)+
            /// What the service sent that the fields above do not hold, as a
            /// compact JSON object text under the service's names: members this
            /// version does not model, and a modelled member whose value could
            /// not be used (that field is then absent).
            pub unmodelled: Option<String>,
        }

        impl Record for $name {
            const FIELDS: &'static [(&'static str, Kind)] =
                &[$(($json, <reader!($($reader)?) as Read<$ty>>::KIND)),+];
            const REQUIRED: u64 = {
                // A bit per member in `u64` sets (and `MemberOrder`'s table).
                assert!(Self::FIELDS.len() <= 64, "at most 64 members");
                0 $(| 1 << index_of(Self::FIELDS, $required))*
            };

            fn read_member<'de, D: Deserializer<'de>>(
                &mut self,
                index: usize,
                d: D,
                reading: &mut Reading,
            ) -> Result<(), D::Error> {
                $(if index == const { index_of(<$name as Record>::FIELDS, $json) } {
                    self.$field = <reader!($($reader)?) as Read<$ty>>::read(d, reading)?;
                    return Ok(());
                })+
                Err(serde::de::Error::custom("no such member"))
            }

            fn check_member<'de, D: Deserializer<'de>>(
                index: usize,
                d: D,
                reading: &mut Reading,
            ) -> Result<(), D::Error> {
                $(if index == const { index_of(<$name as Record>::FIELDS, $json) } {
                    return <reader!($($reader)?) as Read<$ty>>::check(d, reading);
                })+
                Err(serde::de::Error::custom("no such member"))
            }

            fn read_member_text(&mut self, index: usize, raw: &str) -> bool {
                $(if index == const { index_of(<$name as Record>::FIELDS, $json) } {
                    return match <reader!($($reader)?) as Read<$ty>>::read_text(raw) {
                        Some(value) => {
                            self.$field = value;
                            true
                        }
                        None => false,
                    };
                })+
                false
            }

            fn write_members<M: SerializeMap>(&self, map: &mut M, skip: u64) -> Result<(), M::Error> {
                $(if skip & (1 << const { index_of(<$name as Record>::FIELDS, $json) }) == 0 {
                    map.serialize_entry($json, &self.$field)?;
                })+
                Ok(())
            }

            fn unmodelled(&self) -> Option<&str> {
                self.unmodelled.as_deref()
            }

            fn set_unmodelled(&mut self, members: String) {
                self.unmodelled = Some(members);
            }
        }

        impl Field for $name {
            const KIND: Kind = Kind::Record { fields: <$name as Record>::FIELDS };
            fn read<'de, D: Deserializer<'de>>(
                d: D,
                reading: &mut Reading,
            ) -> Result<Self, D::Error> {
                crate::lenient::read_record(d, reading)
            }
            fn check<'de, D: Deserializer<'de>>(
                d: D,
                reading: &mut Reading,
            ) -> Result<(), D::Error> {
                crate::lenient::check_record::<Self, D>(d, reading)
            }
        }

        /// With the service's names; `unmodelled` merged back under its own.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                serialize_record(self, s)
            }
        }
    };
}

// The prevalence answers are records of the service's too.
pub(crate) use {reader, record};

record! {
    /// One entry of `ipAddresses`.
    pub struct IpAddress {
        ip_address: Option<String> = "ipAddress",
        mac_address: Option<String> = "macAddress",
        kind: Option<String> = "type",
        operational_status: Option<String> = "operationalStatus",
    }
    required: []
}

record! {
    /// `vmMetadata`.
    pub struct VmMetadata {
        vm_id: Option<String> = "vmId",
        cloud_provider: Option<String> = "cloudProvider",
        resource_id: Option<String> = "resourceId",
        subscription_id: Option<String> = "subscriptionId",
    }
    required: []
}

record! {
    /// A machine as the service describes it. Every field but `id` may be absent or null.
    pub struct Machine {
        id: String = "id",
        computer_dns_name: Option<String> = "computerDnsName",
        first_seen: Option<String> = "firstSeen",
        last_seen: Option<String> = "lastSeen",
        os_platform: Option<String> = "osPlatform",
        os_version: Option<String> = "osVersion",
        version: Option<String> = "version",
        os_processor: Option<String> = "osProcessor",
        os_architecture: Option<String> = "osArchitecture",
        os_build: Option<i64> = "osBuild",
        last_ip_address: Option<String> = "lastIpAddress",
        last_external_ip_address: Option<String> = "lastExternalIpAddress",
        ip_addresses: Option<Vec<IpAddress>> = "ipAddresses",
        health_status: Option<HealthStatus> = "healthStatus",
        onboarding_status: Option<OnboardingStatus> = "onboardingStatus",
        risk_score: Option<RiskScore> = "riskScore",
        exposure_level: Option<ExposureLevel> = "exposureLevel",
        device_value: Option<DeviceValue> = "deviceValue",
        /// Documented as a string, sent as a number.
        rbac_group_id: Option<String> = "rbacGroupId" as IdText,
        rbac_group_name: Option<String> = "rbacGroupName",
        aad_device_id: Option<String> = "aadDeviceId",
        is_aad_joined: Option<bool> = "isAadJoined",
        machine_tags: Option<Vec<String>> = "machineTags",
        agent_version: Option<String> = "agentVersion",
        defender_av_status: Option<String> = "defenderAvStatus",
        managed_by: Option<String> = "managedBy",
        managed_by_status: Option<String> = "managedByStatus",
        is_excluded: Option<bool> = "isExcluded",
        exclusion_reason: Option<String> = "exclusionReason",
        is_potential_duplication: Option<bool> = "isPotentialDuplication",
        merged_into_machine_id: Option<String> = "mergedIntoMachineId",
        vm_metadata: Option<VmMetadata> = "vmMetadata",
    }
    required: ["id"]
}

impl Machine {
    /// The bit of the member `name` (a service name) among [`Record::FIELDS`],
    /// for the events' sets of mapped members. Use it in a `const` block: an
    /// unknown name then fails to compile.
    pub const fn bit(name: &str) -> u64 {
        1 << index_of(<Machine as Record>::FIELDS, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lenient::MAX_LIST_ENTRIES;
    use crate::secrets::Secrets;
    use serde_json::{Value, json};

    /// A machine read leniently from `text`, and the members that could not be used.
    fn read(text: &str) -> (Machine, Vec<String>) {
        let secrets = Secrets::default();
        let mut reading = Reading::new(&secrets, true);
        let machine =
            Machine::read(&mut serde_json::Deserializer::from_str(text), &mut reading).unwrap();
        (machine, reading.unusable)
    }

    fn written(m: &Machine) -> Value {
        serde_json::from_str(&serde_json::to_string(m).unwrap()).unwrap()
    }

    #[test]
    fn members_this_version_does_not_model_are_kept_at_every_level() {
        let (m, unusable) = read(
            r#"{"id":"a", "newField": {"deep": [1, 2.50, "x"]},
                "ipAddresses": [{"ipAddress": "10.0.0.1", "prefixLength": 24}],
                "vmMetadata": {"vmId": "v", "zone": "2"},
                "big": 123456789012345678901234567890}"#,
        );
        assert!(unusable.is_empty());
        assert_eq!(
            m.unmodelled.as_deref(),
            Some(r#"{"newField":{"deep":[1,2.50,"x"]},"big":123456789012345678901234567890}"#)
        );
        let ip = &m.ip_addresses.as_ref().unwrap()[0];
        assert_eq!(ip.ip_address.as_deref(), Some("10.0.0.1"));
        assert_eq!(ip.unmodelled.as_deref(), Some(r#"{"prefixLength":24}"#));
        let vm = m.vm_metadata.as_ref().unwrap();
        assert_eq!(vm.unmodelled.as_deref(), Some(r#"{"zone":"2"}"#));
        // Written back under their own names, numbers exactly as sent.
        let text = serde_json::to_string(&m).unwrap();
        assert!(
            text.contains(r#""big":123456789012345678901234567890"#),
            "{text}"
        );
        assert!(text.contains(r#""deep":[1,2.50,"x"]"#), "{text}");
        let back = written(&m);
        assert_eq!(back["ipAddresses"][0]["prefixLength"], 24);
        assert_eq!(back["vmMetadata"]["zone"], "2");
    }

    #[test]
    fn numbers_and_booleans_sent_as_strings_are_used() {
        let (m, unusable) = read(
            r#"{"id":"a","osBuild":"19045","isAadJoined":"TRUE","isExcluded":"false",
                "rbacGroupId":123456789012345678901234567890,"onboardingStatus":"onboarded"}"#,
        );
        assert!(unusable.is_empty(), "{unusable:?}");
        assert_eq!(m.os_build, Some(19045));
        assert_eq!(m.is_aad_joined, Some(true));
        assert_eq!(m.is_excluded, Some(false));
        assert_eq!(
            m.rbac_group_id.as_deref(),
            Some("123456789012345678901234567890")
        );
        assert_eq!(m.onboarding_status, Some(OnboardingStatus::Onboarded));
        assert_eq!(m.unmodelled, None);
    }

    #[test]
    fn a_value_of_an_unusable_type_is_kept_as_sent_and_named() {
        let (m, unusable) = read(
            r#"{"id":"a","osBuild":"n/a","isAadJoined":"maybe","computerDnsName":42,
                "lastSeen":{"when":"now"},"osVersion":"10.0",
                "ipAddresses":[{"ipAddress":"10.0.0.1","macAddress":12}],
                "vmMetadata":[], "machineTags":["a",1], "rbacGroupId":1.5}"#,
        );
        assert_eq!(
            unusable,
            [
                "osBuild",
                "isAadJoined",
                "computerDnsName",
                "lastSeen",
                "ipAddresses[0].macAddress",
                "vmMetadata",
                "machineTags",
                "rbacGroupId"
            ]
        );
        assert_eq!(
            (m.os_build, m.is_aad_joined, m.computer_dns_name.as_deref()),
            (None, None, None)
        );
        assert_eq!(m.os_version.as_deref(), Some("10.0"));
        assert_eq!(
            m.unmodelled.as_deref(),
            Some(
                r#"{"osBuild":"n/a","isAadJoined":"maybe","computerDnsName":42,"lastSeen":{"when":"now"},"vmMetadata":[],"machineTags":["a",1],"rbacGroupId":1.5}"#
            )
        );
        let ip = &m.ip_addresses.as_ref().unwrap()[0];
        assert_eq!(ip.unmodelled.as_deref(), Some(r#"{"macAddress":12}"#));
        // Written back as sent, with no typed `null` beside it.
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(text.matches("\"osBuild\"").count(), 1, "{text}");
        let back = written(&m);
        assert_eq!(back["osBuild"], "n/a");
        assert_eq!(back["machineTags"], json!(["a", 1]));
        assert_eq!(back["ipAddresses"][0]["macAddress"], 12);
        assert_eq!(back["vmMetadata"], json!([]));
        assert_eq!(back["firstSeen"], Value::Null);
    }

    #[test]
    fn a_list_longer_than_the_limit_is_kept_as_sent() {
        let tags: Vec<String> = (0..=MAX_LIST_ENTRIES).map(|i| format!("t{i}")).collect();
        let text = json!({"id": "a", "machineTags": tags}).to_string();
        let (m, unusable) = read(&text);
        assert_eq!(m.machine_tags, None);
        assert_eq!(unusable, ["machineTags (more than 1000 entries)"]);
        assert_eq!(written(&m)["machineTags"], json!(tags));
    }

    #[test]
    fn anything_set_as_unmodelled_is_kept() {
        let m = Machine {
            id: "a".into(),
            os_build: Some(5),
            unmodelled: Some("not json".into()),
            ..Machine::default()
        };
        let back = written(&m);
        assert_eq!(back["unmodelled"], "not json");
        assert_eq!(back["osBuild"], 5);
        // The service's own member wins over a typed one of the same name.
        let m = Machine {
            unmodelled: Some(r#"{"osBuild":"x"}"#.into()),
            ..m
        };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(text.matches("osBuild").count(), 1, "{text}");
        assert_eq!(written(&m)["osBuild"], "x");
    }

    #[test]
    fn every_field_has_a_kind_for_generators() {
        let names: Vec<&str> = Machine::FIELDS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), 32);
        assert_eq!(names[0], "id");
        let kind = |name: &str| Machine::FIELDS.iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!(kind("osBuild"), Kind::Integer);
        assert_eq!(kind("rbacGroupId"), Kind::IdText);
        assert_eq!(kind("machineTags"), Kind::List { of: &Kind::Text });
        assert!(matches!(kind("healthStatus"), Kind::Choice(values) if values.contains(&"Active")));
        assert_eq!(
            kind("vmMetadata"),
            Kind::Record {
                fields: VmMetadata::FIELDS
            }
        );
    }
}
