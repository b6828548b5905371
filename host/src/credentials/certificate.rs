//! Client assertions signed with an application's certificate: RS256 with
//! `x5t`, as Entra ID accepts (a field report says `x5t#S256` fails with
//! AADSTS700027). The key stays here; the component gets the signed JWT.

use super::AssertionSource;
use mde_connector::claims::base64url_encode;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// How long an assertion is valid: Entra ID takes at most 10 minutes.
pub const ASSERTION_LIFETIME_SECONDS: u64 = 600;

/// A certificate and its RSA private key, read from one PEM file.
pub struct ClientCertificate {
    key: RsaKeyPair,
    /// Base64url SHA-1 of the DER certificate: the JWT header's `x5t`.
    x5t: String,
    random: SystemRandom,
}

// Never prints the key.
impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t", &self.x5t)
            .finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// The certificate and key in the PEM file at `path`.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the client certificate {}: {e}", path.display()))?;
        Self::from_pem(&bytes)
            .map_err(|why| format!("client certificate {}: {why}", path.display()))
    }

    /// A PEM text holding a `CERTIFICATE` and an RSA `PRIVATE KEY` (PKCS#8)
    /// or `RSA PRIVATE KEY` (PKCS#1). Errors say what is missing or wrong,
    /// never a byte of the key.
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        const FIX: &str = "give one PEM file with the certificate and its RSA private key \
                           (from a PFX: openssl pkcs12 -in app.pfx -out app.pem -nodes)";
        let certificate = CertificateDer::pem_slice_iter(pem)
            .next()
            .ok_or_else(|| format!("no CERTIFICATE block: {FIX}"))?
            .map_err(|_| format!("the CERTIFICATE block is not valid PEM: {FIX}"))?;
        let key = PrivateKeyDer::from_pem_slice(pem)
            .map_err(|_| format!("no private key (PRIVATE KEY or RSA PRIVATE KEY block): {FIX}"))?;
        let key = match &key {
            PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            _ => return Err(format!("the private key is not an RSA key: {FIX}")),
        }
        .map_err(|_| {
            format!("the private key is not a usable RSA key (2048 bits or more): {FIX}")
        })?;
        let random = SystemRandom::new();
        // The key must be the certificate's, or every assertion is refused
        // (AADSTS700027) with nothing to say which half is wrong.
        let probe = b"mde-connector: does this key belong to this certificate?";
        let mut signature = vec![0; key.public().modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &random, probe, &mut signature)
            .map_err(|_| "the private key cannot sign".to_owned())?;
        let parsed = webpki::EndEntityCert::try_from(&certificate)
            .map_err(|_| format!("the certificate cannot be parsed: {FIX}"))?;
        parsed
            .verify_signature(webpki::ring::RSA_PKCS1_2048_8192_SHA256, probe, &signature)
            .map_err(|_| {
                "the private key does not belong to the certificate: put the key that was \
                 made with this certificate beside it"
                    .to_owned()
            })?;
        let thumbprint = ring::digest::digest(
            &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            certificate.as_ref(),
        );
        Ok(ClientCertificate {
            key,
            x5t: base64url_encode(thumbprint.as_ref()),
            random,
        })
    }

    /// The certificate's thumbprint as `x5t` (base64url SHA-1 of the DER).
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// A signed assertion for `client_id` and `audience`, valid from `now`
    /// (seconds since the Unix epoch) for [`ASSERTION_LIFETIME_SECONDS`].
    pub fn assertion_at(
        &self,
        client_id: &str,
        audience: &str,
        now: u64,
    ) -> Result<String, String> {
        let header = json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t});
        let claims = json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": self.guid()?,
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECONDS,
        });
        let signed = format!(
            "{}.{}",
            base64url_encode(header.to_string().as_bytes()),
            base64url_encode(claims.to_string().as_bytes())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &self.random,
                signed.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "the client certificate's key could not sign".to_owned())?;
        Ok(format!("{signed}.{}", base64url_encode(&signature)))
    }

    /// A random (version 4) GUID, for `jti`.
    fn guid(&self) -> Result<String, String> {
        let mut b = [0u8; 16];
        self.random
            .fill(&mut b)
            .map_err(|_| "no randomness for the assertion's jti".to_owned())?;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        Ok(format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        ))
    }
}

impl AssertionSource for ClientCertificate {
    fn assertion(&self, client_id: &str, audience: &str) -> Result<String, String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| "the host's clock is before 1970".to_owned())?
            .as_secs();
        self.assertion_at(client_id, audience, now)
    }
}
