"""The scrubbing rule's shared test vectors (`policy/scrub-vectors.json`,
which the Rust core's `tests/scrub_vectors.rs` reads too): the package's
`Secrets` meets each case, and stays linear for a long secret."""

import json

import pytest

from mde_connector._runtime import MIN_SECRET_LEN, REDACTED, Secrets

from helpers import REPO

VECTORS = json.loads((REPO / "policy" / "scrub-vectors.json").read_text(encoding="utf-8"))


def test_the_vectors_state_the_packages_constants():
    assert VECTORS["redacted"] == REDACTED
    assert VECTORS["min_secret_len"] == MIN_SECRET_LEN
    assert len(VECTORS["cases"]) >= 24


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: case["name"])
def test_the_scrubber_meets_the_shared_vector(case):
    secrets = Secrets()
    secrets.add(case["secret"])
    assert secrets.scrub(case["text"]) == case["scrubbed"]


def test_scrubbing_is_linear_whatever_the_secrets_length():
    # An 80 KB secret in 1 MB of near misses, every position starting its
    # prefix: a worst case for comparing at each position.
    secret = "a" * (80 * 1024 - 1) + "b"
    secrets = Secrets()
    secrets.add(secret)
    encoded = "".join(f"%{b:02X}" for b in secret.encode())
    near_miss = "a" * (1024 * 1024)
    text = f"{near_miss}{secret}-{near_miss}{encoded}-{near_miss}."
    assert secrets.scrub(text) == f"{near_miss}[redacted]-{near_miss}[redacted]-{near_miss}."
    # Cut short at the end (as in an excerpt), it goes from where it starts,
    # looking back at most PARTIAL_WINDOW bytes.
    cut = secrets.scrub(f"{near_miss}-{secret[:1000]}")
    assert cut == f"{near_miss}-{'a' * (1000 - Secrets.PARTIAL_WINDOW)}[redacted]"
