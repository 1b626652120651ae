"""Which address a request comes from: the TCP peer, unless that peer is a proxy the operator trusts.

``aws:SourceIp`` conditions and the audit record's ``sourceIPAddress`` rest on this address, so
a header a client writes must not change it. ``X-Forwarded-For`` is read only when the
connection comes from a network given with ``serve --trust-proxy``; then the client is the
right-most address in the header that is not itself a trusted proxy (each proxy appends the
address it saw, so everything left of that was written by the client and proves nothing).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["TrustedProxies"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> _Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


class TrustedProxies:
    """The networks whose ``X-Forwarded-For`` is believed (none by default)."""

    def __init__(self, networks: Iterable[str]) -> None:
        self._networks: tuple[_Network, ...] = tuple(ipaddress.ip_network(n, strict=False) for n in networks)

    def __bool__(self) -> bool:
        return bool(self._networks)

    def _trusted(self, address: _Address | None) -> bool:
        return address is not None and any(address in network for network in self._networks)

    def source_address(self, peer: str | None, headers: Iterable[tuple[bytes, bytes]]) -> str | None:
        """The client's address for a connection from ``peer`` carrying ``headers``."""
        if not self._networks or not self._trusted(_address(peer or "")):
            return peer
        hops = [
            hop.strip()
            for name, value in headers
            if name.lower() == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
        ]
        client = peer
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                break  # not an address: nothing further left can be trusted
            client = str(address)
            if not self._trusted(address):
                break
        return client
