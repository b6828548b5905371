"""The command's credentials the host holds: MDE_CLIENT_CERTIFICATE, and
AZURE_FEDERATED_TOKEN_FILE with AZURE_TENANT_ID and AZURE_CLIENT_ID."""

from pathlib import Path

import pytest

from mde_connector.credentials import CertificateCredential

from fake_tenant import CLIENT_ID, TENANT_ID
from helpers import run_python_cli

FIXTURES = Path(__file__).with_name("fixtures")


def cloud_env(tenant, clean_env):
    settings = tenant.connector_settings()
    return {
        **clean_env,
        "MDE_CLOUD": "custom",
        "MDE_API_BASE": settings["api_base"],
        "MDE_LOGIN_HOST": settings["login_host"],
        "MDE_SCOPE": settings["scope"],
    }


def test_a_certificate_from_the_environment_signs_in(tenant, clean_env):
    tenant.trust_certificate((FIXTURES / "registered-cert.pem").read_bytes())
    env = {
        **cloud_env(tenant, clean_env),
        "MDE_TENANT_ID": TENANT_ID,
        "MDE_CLIENT_ID": CLIENT_ID,
        "MDE_CLIENT_CERTIFICATE": str(FIXTURES / "registered.pem"),
    }
    done = run_python_cli(
        ["--live", "--allow-loopback-http", "--format", "ndjson", "contoso.com"], env
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 3
    assert len(tenant.assertions) == 1
    pem = (FIXTURES / "registered.pem").read_bytes()
    key = pem[pem.index(b"-----BEGIN PRIVATE KEY-----") :].splitlines()[1:-1]
    assert not any(line in done.stdout + done.stderr for line in key)


def test_a_federated_token_file_from_the_environment_signs_in(tenant, clean_env, tmp_path):
    tenant.trust_certificate((FIXTURES / "registered-cert.pem").read_bytes())
    audience = f"{tenant.origin}/{TENANT_ID}/oauth2/v2.0/token"
    token = tmp_path / "azure-identity-token"
    token.write_text(
        CertificateCredential(FIXTURES / "registered.pem").assertion(audience, CLIENT_ID)
    )
    env = {
        **cloud_env(tenant, clean_env),
        "AZURE_TENANT_ID": TENANT_ID,
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_FEDERATED_TOKEN_FILE": str(token),
    }
    done = run_python_cli(["--live", "--allow-loopback-http", "contoso.com"], env)
    assert done.returncode == 0, done.stderr
    assert tenant.assertions == [token.read_text()]


@pytest.mark.parametrize(
    "env, says",
    [
        (
            {"MDE_CLIENT_CERTIFICATE": "a.pem", "MDE_TENANT_ID": "t"},
            "MDE_CLIENT_CERTIFICATE needs MDE_TENANT_ID and MDE_CLIENT_ID",
        ),
        (
            {
                "MDE_CLIENT_CERTIFICATE": "a.pem",
                "MDE_TENANT_ID": "t",
                "MDE_CLIENT_ID": "c",
                "MDE_CLIENT_SECRET": "s3cret-value",
            },
            "both MDE_CLIENT_SECRET and MDE_CLIENT_CERTIFICATE are set",
        ),
        (
            {"AZURE_FEDERATED_TOKEN_FILE": "t", "AZURE_TENANT_ID": "t"},
            "AZURE_FEDERATED_TOKEN_FILE needs AZURE_TENANT_ID and AZURE_CLIENT_ID",
        ),
        (
            {
                "MDE_CLIENT_CERTIFICATE": "/nonexistent/app.pem",
                "MDE_TENANT_ID": "t",
                "MDE_CLIENT_ID": "c",
            },
            "the client certificate /nonexistent/app.pem could not be read",
        ),
    ],
)
def test_credentials_that_cannot_work_exit_2_naming_what_to_set(env, says, clean_env):
    done = run_python_cli(["--live", "contoso.com"], {**clean_env, **env})
    assert done.returncode == 2, done.stderr
    assert says.encode() in done.stderr, done.stderr
    assert b"s3cret-value" not in done.stderr
