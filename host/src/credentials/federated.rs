//! Workload identity federation (AKS): the assertion is the token a
//! platform writes to `AZURE_FEDERATED_TOKEN_FILE` and rotates, so it is
//! read afresh for every token request.

use super::AssertionSource;
use std::path::PathBuf;

/// `AZURE_FEDERATED_TOKEN_FILE`, with `AZURE_CLIENT_ID` and `AZURE_TENANT_ID`.
pub const FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";

/// A federated token file.
#[derive(Debug, Clone)]
pub struct FederatedTokenFile {
    pub path: PathBuf,
}

impl AssertionSource for FederatedTokenFile {
    fn assertion(&self, _client_id: &str, _audience: &str) -> Result<String, String> {
        let path = self.path.display();
        let text = std::fs::read_to_string(&self.path).map_err(|e| {
            format!("cannot read the federated token file {path} ({FEDERATED_TOKEN_FILE}): {e}")
        })?;
        let token = text.trim();
        if token.is_empty() {
            return Err(format!(
                "the federated token file {path} ({FEDERATED_TOKEN_FILE}) is empty: the \
                 platform has not written the service account token yet"
            ));
        }
        Ok(token.to_owned())
    }
}
