//! The Machine entity, with the service's own JSON names.
//!
//! Lenient where the live service is known to differ from its reference
//! (`rbacGroupId` as a number, enumerations with new values, unknown fields),
//! strict about types otherwise, so a broken answer is reported, not guessed at.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::parse(&text))
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

/// One entry of `ipAddresses`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpAddress {
    pub ip_address: Option<String>,
    pub mac_address: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub operational_status: Option<String>,
    /// Members this struct does not model, as a JSON object text.
    #[serde(skip)]
    pub unmodelled: Option<String>,
}

/// `vmMetadata`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmMetadata {
    pub vm_id: Option<String>,
    pub cloud_provider: Option<String>,
    pub resource_id: Option<String>,
    pub subscription_id: Option<String>,
    /// Members this struct does not model, as a JSON object text.
    #[serde(skip)]
    pub unmodelled: Option<String>,
}

/// A machine as the service describes it. Every field but `id` may be absent or null.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    pub id: String,
    pub computer_dns_name: Option<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub os_platform: Option<String>,
    pub os_version: Option<String>,
    pub version: Option<String>,
    pub os_processor: Option<String>,
    pub os_architecture: Option<String>,
    pub os_build: Option<i64>,
    pub last_ip_address: Option<String>,
    pub last_external_ip_address: Option<String>,
    pub ip_addresses: Option<Vec<IpAddress>>,
    pub health_status: Option<HealthStatus>,
    pub onboarding_status: Option<OnboardingStatus>,
    pub risk_score: Option<RiskScore>,
    pub exposure_level: Option<ExposureLevel>,
    pub device_value: Option<DeviceValue>,
    #[serde(default, deserialize_with = "number_or_string")]
    pub rbac_group_id: Option<String>,
    pub rbac_group_name: Option<String>,
    pub aad_device_id: Option<String>,
    pub is_aad_joined: Option<bool>,
    pub machine_tags: Option<Vec<String>>,
    pub agent_version: Option<String>,
    pub defender_av_status: Option<String>,
    pub managed_by: Option<String>,
    pub managed_by_status: Option<String>,
    pub is_excluded: Option<bool>,
    pub exclusion_reason: Option<String>,
    pub is_potential_duplication: Option<bool>,
    pub merged_into_machine_id: Option<String>,
    pub vm_metadata: Option<VmMetadata>,
    /// Members this struct does not model, as a JSON object text.
    #[serde(skip)]
    pub unmodelled: Option<String>,
}

/// `rbacGroupId`: documented as a string, sent as a number.
fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Id;
    impl<'de> serde::de::Visitor<'de> for Id {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an integer or a string")
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(Id)
}
