//! What to fix, for the errors people hit most: computed once here so that
//! every host (CLI, `serve`, the proxy, Python, jco) shows the same words.
//! A hint never replaces what the service said: `code`, `message` and
//! `correlation-id` stay as sent.

use crate::claims;
use crate::error::{Error, Service, ServiceError};
use crate::permissions::Lookup;
use crate::settings::Endpoints;

/// Where an error answer came from: the lookup, the token that was sent
/// (decoded without trusting it), and the settings' endpoints.
pub struct Context<'a> {
    pub lookup: Lookup,
    pub token: Option<&'a str>,
    pub endpoints: Option<&'a Endpoints>,
}

/// `e` with the hint of its service error set, when there is one.
pub fn annotate(e: Error, context: &Context) -> Error {
    let with = |mut d: ServiceError| {
        d.hint = hint(&d, context).map(Into::into);
        d
    };
    match e {
        Error::Unauthorized(d) => Error::Unauthorized(with(d)),
        Error::Forbidden(d) => Error::Forbidden(with(d)),
        Error::ApiError(d) => Error::ApiError(with(d)),
        other => other,
    }
}

/// What to fix for one error answer, or `None` when the component knows
/// nothing more than the service said.
pub fn hint(e: &ServiceError, context: &Context) -> Option<String> {
    let message = e.message.as_deref().unwrap_or_default();
    match (e.service, e.status) {
        (Service::IdentityPlatform, _) => aadsts(message).and_then(identity_hint),
        (Service::Api, 403) => Some(forbidden(message, context.lookup)),
        (Service::Api, 401) => wrong_audience(context),
        (Service::Api, 400) if context.lookup == Lookup::IpMachines => Some(
            "the time must be within the last 30 days (the service keeps 30 days of \
             IP communication): give an ISO 8601 UTC time no older than that"
                .into(),
        ),
        _ => None,
    }
}

/// The number of the first `AADSTS<digits>` in an identity platform message.
fn aadsts(message: &str) -> Option<u32> {
    let at = crate::text::find(message, "AADSTS")?;
    let digits: String = message[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn identity_hint(code: u32) -> Option<String> {
    let text = match code {
        7_000_215 => {
            "the client secret is wrong: give the secret's Value (not its Secret ID) from the \
             app registration's Certificates & secrets, or create a new secret there"
        }
        7_000_222 => {
            "the client secret has expired: create a new one in the app registration's \
             Certificates & secrets and configure it (or sign in with a certificate)"
        }
        700_016 => {
            "no application with this client id in this tenant: check the client id (the app \
             registration's Application (client) ID) and the tenant id, and that an \
             administrator has consented to the application in that tenant"
        }
        90_002 => {
            "the tenant was not found: check the tenant id (a Directory (tenant) ID GUID or a \
             verified domain) and --cloud (government tenants sign in at login.microsoftonline.us: \
             --cloud gcc-high or dod)"
        }
        700_027 => {
            "the client assertion was refused: upload the certificate (its public part, .cer or \
             .pem) to the app registration's Certificates & secrets and check that its \
             thumbprint is the one of the certificate beside the key and that it has not \
             expired; for a federated token, check the federated credential's issuer, subject \
             and audience (api://AzureADTokenExchange)"
        }
        70_021 => {
            "no federated credential matches the federated token: on the app registration's \
             Certificates & secrets > Federated credentials, check the issuer (the cluster's \
             OIDC issuer URL), the subject (system:serviceaccount:<namespace>:<name>) and the \
             audience (api://AzureADTokenExchange)"
        }
        50_034 => {
            "the user account does not exist in this tenant: the connector signs in as an \
             application, so check the tenant id"
        }
        500_011 => {
            "the Defender for Endpoint API was not found in this tenant: check --cloud (a \
             government tenant needs gcc, gcc-high or dod) or a custom scope, and that \
             Microsoft Defender for Endpoint is provisioned in the tenant"
        }
        _ => return None,
    };
    Some(text.into())
}

/// A `403`: the roles the service said it requires, and the least to grant.
fn forbidden(message: &str, lookup: Lookup) -> String {
    let least = lookup.roles()[0];
    let mut hint = String::new();
    if let Some(required) = required_roles(message) {
        hint.push_str(&format!("the service requires one of {required}"));
        if let Some(held) = held_roles(message) {
            hint.push_str(&format!(" and the token carries {held}"));
        }
        hint.push_str("; ");
    }
    hint.push_str(&format!(
        "grant the application {least} (API permissions > Add a permission > APIs my \
         organization uses > WindowsDefenderATP > Application permissions), then have an \
         administrator grant admin consent; roles reach new tokens only"
    ));
    hint
}

/// The roles of either form of the `403` message: "does not have any of the
/// required application permissions (A, B)" (2021) or "API required roles:
/// A,B, application roles: C." (now).
fn required_roles(message: &str) -> Option<String> {
    if let Some(at) = crate::text::find(message, "required application permissions (") {
        let rest = &message[at + "required application permissions (".len()..];
        let end = rest.find(')')?;
        return roles_list(&rest[..end]);
    }
    let at = crate::text::find(message, "API required roles:")?;
    let rest = &message[at + "API required roles:".len()..];
    let end = crate::text::find(rest, "application roles:").unwrap_or(rest.len());
    roles_list(&rest[..end])
}

/// The roles the token carries, from the current form.
fn held_roles(message: &str) -> Option<String> {
    let at = crate::text::find(message, ", application roles:")?;
    roles_list(&message[at + ", application roles:".len()..])
}

/// `A,B, C.` as `A, B, C`; `None` when it names none.
fn roles_list(text: &str) -> Option<String> {
    let roles: Vec<&str> = text
        .split(',')
        .map(|r| r.trim().trim_end_matches('.').trim())
        .filter(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'))
        .collect();
    (!roles.is_empty()).then(|| roles.join(", "))
}

/// A `401` whose token was issued for another cloud's API, or another API.
fn wrong_audience(context: &Context) -> Option<String> {
    let audience = claims::decode(context.token?).ok()?.audience?;
    let endpoints = context.endpoints?;
    let own = claims::audience_cloud(&endpoints.scope);
    match claims::audience_cloud(&audience) {
        Some(cloud) if Some(cloud) != own => Some(format!(
            "the token was issued for {audience}, the API of another cloud: try --cloud {cloud} \
             (gcc-high and dod share that audience)"
        )),
        Some(_) => None,
        None => Some(format!(
            "the token was issued for {audience}, not for the Defender for Endpoint API: \
             request it with the scope {}",
            endpoints.scope
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::tests::jwt;
    use crate::settings::Cloud;

    fn service_error(service: Service, status: u16, message: &str) -> ServiceError {
        ServiceError {
            service,
            status,
            code: None,
            message: Some(message.into()),
            correlation_id: None,
            hint: None,
        }
    }

    fn context(lookup: Lookup) -> Context<'static> {
        Context {
            lookup,
            token: None,
            endpoints: None,
        }
    }

    #[test]
    fn both_forms_of_the_403_name_the_required_roles_and_the_role_to_grant() {
        let old = "The application does not have any of the required application permissions \
                   (Machine.Read.All, Machine.ReadWrite.All) to access the resource.";
        let now = "Missing application roles. API required roles: \
                   Machine.Read.All,Machine.ReadWrite.All, application roles: Machine.Isolate.";
        for message in [old, now] {
            let e = service_error(Service::Api, 403, message);
            let hint = hint(&e, &context(Lookup::DomainMachines)).unwrap();
            assert!(
                hint.starts_with(
                    "the service requires one of Machine.Read.All, Machine.ReadWrite.All"
                ),
                "{hint}"
            );
            assert!(
                hint.contains("grant the application Machine.Read.All"),
                "{hint}"
            );
            assert!(hint.contains("admin consent"), "{hint}");
        }
        let e = service_error(Service::Api, 403, now);
        let hint = hint(&e, &context(Lookup::DomainMachines)).unwrap();
        assert!(hint.contains("the token carries Machine.Isolate"), "{hint}");
        // The least role of the lookup, even when the service says nothing parseable.
        let e = service_error(Service::Api, 403, "Forbidden");
        let stats = super::hint(&e, &context(Lookup::DomainStats)).unwrap();
        assert!(
            stats.starts_with("grant the application URL.Read.All"),
            "{stats}"
        );
        let ip = super::hint(&e, &context(Lookup::IpStats)).unwrap();
        assert!(ip.starts_with("grant the application Ip.Read.All"), "{ip}");
    }

    #[test]
    fn each_common_aadsts_code_names_its_fix() {
        for (code, fix) in [
            ("7000215", "Value (not its Secret ID)"),
            ("7000222", "has expired"),
            ("700016", "check the client id"),
            ("90002", "tenant was not found"),
            ("700027", "upload the certificate"),
            ("70021", "no federated credential matches"),
            ("50034", "signs in as an application"),
            ("500011", "check --cloud"),
        ] {
            let e = service_error(
                Service::IdentityPlatform,
                401,
                &format!("AADSTS{code}: something. Trace ID: x"),
            );
            let hint = hint(&e, &context(Lookup::DomainMachines)).unwrap();
            assert!(hint.contains(fix), "{code}: {hint}");
        }
        let unknown = service_error(Service::IdentityPlatform, 400, "AADSTS1: new");
        assert_eq!(hint(&unknown, &context(Lookup::DomainMachines)), None);
    }

    #[test]
    fn a_401_with_another_clouds_token_names_the_cloud_to_try() {
        let endpoints = Cloud::Commercial.endpoints().unwrap();
        let gov = jwt(r#"{"aud":"https://api-gov.securitycenter.microsoft.us"}"#);
        let e = service_error(Service::Api, 401, "Unauthorized");
        let hint = |token: &str| {
            super::hint(
                &e,
                &Context {
                    lookup: Lookup::DomainMachines,
                    token: Some(token),
                    endpoints: Some(&endpoints),
                },
            )
        };
        let text = hint(&gov).unwrap();
        assert!(text.contains("try --cloud gcc-high"), "{text}");
        let graph = hint(&jwt(r#"{"aud":"https://graph.microsoft.com"}"#)).unwrap();
        assert!(
            graph.contains("scope https://api.securitycenter.microsoft.com/.default"),
            "{graph}"
        );
        // The right audience, or a token that is no JWT: nothing to add.
        assert_eq!(
            hint(&jwt(
                r#"{"aud":"https://api.securitycenter.microsoft.com"}"#
            )),
            None
        );
        assert_eq!(hint("opaque"), None);
    }

    #[test]
    fn a_400_on_ip_machines_says_the_time_must_be_recent() {
        let e = service_error(Service::Api, 400, "Invalid time");
        let hint = hint(&e, &context(Lookup::IpMachines)).unwrap();
        assert!(hint.contains("within the last 30 days"), "{hint}");
        assert_eq!(super::hint(&e, &context(Lookup::DomainMachines)), None);
    }
}
