"""The Python a user would otherwise write: what the XSOAR integration does
with the answer of `GET /api/domains/{domain}/machines`.

`cargo bench -p host-test --bench plugin` runs this with the same body the
component parses (a file named by the first argument) and prints its median
beside the component's. It prints one line: the median in microseconds of
`json.loads` of the body and a rename of each machine's fields into the
integration's context keys, timed in-process after a warm-up.
"""

import json
import statistics
import sys
import time

#: The service's names and the context keys an XSOAR-style integration gives them.
XSOAR_KEYS = {
    "id": "ID",
    "computerDnsName": "ComputerDNSName",
    "firstSeen": "FirstSeen",
    "lastSeen": "LastSeen",
    "osPlatform": "OSPlatform",
    "osVersion": "OSVersion",
    "osProcessor": "OSProcessor",
    "version": "Version",
    "lastIpAddress": "LastIPAddress",
    "lastExternalIpAddress": "LastExternalIPAddress",
    "osBuild": "OSBuild",
    "healthStatus": "HealthStatus",
    "rbacGroupId": "RBACGroupID",
    "rbacGroupName": "RBACGroupName",
    "riskScore": "RiskScore",
    "exposureLevel": "ExposureLevel",
    "isAadJoined": "IsAADJoined",
    "aadDeviceId": "AADDeviceID",
    "machineTags": "MachineTags",
    "agentVersion": "AgentVersion",
    "ipAddresses": "IPAddresses",
}


def xsoar_mapping(body: bytes) -> list:
    machines = json.loads(body)["value"]
    return [{key: m.get(name) for name, key in XSOAR_KEYS.items()} for m in machines]


def main() -> None:
    with open(sys.argv[1], "rb") as f:
        body = f.read()
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    mapped = xsoar_mapping(body)
    if not mapped or any(m["ID"] is None for m in mapped):
        sys.exit("the body holds no machines with an id")
    for _ in range(10):
        xsoar_mapping(body)
    times = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        xsoar_mapping(body)
        times.append(time.perf_counter_ns() - start)
    print(f"{statistics.median(times) / 1000:.1f} {len(mapped)}")


if __name__ == "__main__":
    main()
