"""Which cluster addresses the driver accepts: ``ray://HOST:PORT`` (Ray Client) or a local head
``127.0.0.1:PORT`` / ``localhost:PORT``. HOST is a DNS name, IPv4 or [IPv6]; nothing else (no
user, password, path, query, scheme variants).

The engine holds the same rule (src/shared/patterns.ts CLUSTER_ADDRESS); both are checked against
the golden examples in src/shared/cluster-addresses.json (python/tests/test_cluster.py), and this
pattern is built from the same pieces so the test can compare the sources too. ``re.ASCII``:
Python's ``\\d`` would otherwise accept any Unicode digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ClusterAddressError

MAX_LENGTH = 300
PORT = r"(?:6553[0-5]|655[0-2]\d|65[0-4]\d{2}|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3})"
OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = rf"(?:{OCTET}\.){{3}}{OCTET}"
LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DNS_NAME = rf"(?=[A-Za-z0-9.-]{{1,253}}:)(?:{LABEL}\.)*(?=[A-Za-z0-9-]*[A-Za-z]){LABEL}"
H16 = r"[0-9A-Fa-f]{1,4}"
IPV6 = "|".join([
    rf"(?:{H16}:){{7}}{H16}",
    rf"(?:{H16}:){{1,7}}:",
    rf"(?:{H16}:){{1,6}}:{H16}",
    rf"(?:{H16}:){{1,5}}(?::{H16}){{1,2}}",
    rf"(?:{H16}:){{1,4}}(?::{H16}){{1,3}}",
    rf"(?:{H16}:){{1,3}}(?::{H16}){{1,4}}",
    rf"(?:{H16}:){{1,2}}(?::{H16}){{1,5}}",
    rf"{H16}:(?::{H16}){{1,6}}",
    rf":(?:(?::{H16}){{1,7}}|:)",
    rf"::(?:[Ff]{{4}}(?::0{{1,4}})?:)?{IPV4}",
    rf"(?:{H16}:){{1,4}}:{IPV4}",
])
SOURCE = rf"(?:ray://(?:{IPV4}|{DNS_NAME}|\[(?:{IPV6})\])|127\.0\.0\.1|localhost):{PORT}"
PATTERN = re.compile(SOURCE, re.ASCII)


@dataclass(frozen=True)
class ClusterAddress:
    text: str
    client: bool  # ray:// (Ray Client) rather than a local head joined as a local driver
    host: str  # without brackets
    port: int


def is_cluster_address(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_LENGTH and PATTERN.fullmatch(value) is not None


def parse(value: object) -> ClusterAddress:
    if not is_cluster_address(value):
        shown = repr(value)[:80]
        raise ClusterAddressError(
            f"the cluster address {shown} is not accepted: give ray://HOST:PORT (a Ray Client server, "
            "e.g. ray://head.internal:10001) or a Ray head on this machine as 127.0.0.1:PORT or localhost:PORT")
    assert isinstance(value, str)
    client = value.startswith("ray://")
    hostport = value[len("ray://"):] if client else value
    host, _, port = hostport.rpartition(":")
    return ClusterAddress(value, client, host.strip("[]"), int(port))
