"""The in-process server's connections: responses must not wait on TCP's delayed acknowledgement."""

from __future__ import annotations

import socket

from policyengine.server import BackgroundServer, ServerConfig
from tests.reliability.conftest import kms_client


def test_background_server_connections_have_nodelay() -> None:
    """Every connection BackgroundServer accepts has TCP_NODELAY, so a response is not held back ~40 ms by Nagle."""
    # runner.bind creates its socket with protocol 0, and asyncio sets TCP_NODELAY only on sockets whose
    # proto is IPPROTO_TCP: every boto3 call to a BackgroundServer (the pytest plugin's server) then took
    # ~44 ms instead of ~1 ms. `policyengine serve` runs on uvloop, which sets the option itself.
    with BackgroundServer(ServerConfig(host="127.0.0.1", port=0, test_mode=True, log_requests=False)) as server:
        kms = kms_client(server.endpoint_url)
        kms.list_keys()  # leaves a keep-alive connection open
        connections = list(server._server.server_state.connections)
        assert connections
        for connection in connections:
            sock = connection.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
