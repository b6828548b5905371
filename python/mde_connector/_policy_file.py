"""The policy's facts, read from `policy.json`: the repository's
`policy/policy.json`, which the build copies into the package (setup.py) so
that an installed package carries it. The Rust code is held to the same file
by its tests, so the two languages cannot drift apart."""

import json
from pathlib import Path
from typing import Any, Dict, Tuple

_HERE = Path(__file__).resolve().parent

_REPOSITORY = _HERE.parent.parent


def load_shipped(name: str, in_repository: str) -> Any:
    """The JSON of a repository file the build copies into the package as
    `name`: the package's copy (installed), else the repository's (a
    checkout used without installing)."""
    for path in (_HERE / name, _REPOSITORY / in_repository):
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    raise ImportError(
        f"{name} is missing from {_HERE}: reinstall the package "
        f"(pip install ./python copies it in from {in_repository})"
    )


POLICY: Dict[str, Any] = load_shipped("policy.json", "policy/policy.json")

#: Each named cloud's API base, login host and scope, in the order `MDE_CLOUD` lists them.
CLOUD_ENDPOINTS: Dict[str, Tuple[str, str, str]] = {
    name: (facts["api_base"], facts["login_host"], facts["scope"])
    for name, facts in POLICY["clouds"].items()
}
#: The cloud whose hosts and scope the caller gives.
CUSTOM_CLOUD: str = POLICY["custom_cloud"]

#: Defender for Endpoint's limits per application and tenant: the budget's defaults.
PER_MINUTE: int = POLICY["budget"]["per_minute"]
PER_HOUR: int = POLICY["budget"]["per_hour"]

#: Shorter values are not scrubbed: the marker itself would reveal more.
MIN_SECRET_LEN: int = POLICY["secrets"]["min_secret_len"]
#: What a scrubbed secret reads as.
REDACTED: str = POLICY["secrets"]["redacted"]

_CAPS = POLICY["caps"]
#: The largest answer body the host takes, after decompression.
MAX_ANSWER_BYTES: int = _CAPS["answer_body_bytes"]
#: The most a replay file may hold.
MAX_REPLAY_BYTES: int = _CAPS["replay_file_bytes"]
#: The longest domain the host hands to the component.
MAX_DOMAIN_BYTES: int = _CAPS["domain_bytes"]
