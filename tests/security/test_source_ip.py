"""``aws:SourceIp`` is the TCP peer: a header the client writes cannot change it.

uvicorn believes ``X-Forwarded-For`` from loopback by default; the server turns that off and
reads the header only from networks given with ``serve --trust-proxy`` (then the client is the
right-most address that is not a trusted proxy). AWS evaluates ``aws:SourceIp`` against the
address the request came from (IAM User Guide, "AWS global condition context keys",
aws:SourceIp: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceip).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from policyengine.server import BackgroundServer
from tests.security.conftest import IDENTITIES, OFFICE, Server, audit_events, secure_config


def _describe_keys(server: Server, forwarded: str | None) -> tuple[int, str]:
    """ListKeys as the office-only user, with an X-Forwarded-For header added after signing; status and error code."""
    request = server.signed("ListKeys", {}, access_key=OFFICE)
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    status, body = server.send_request(request, headers=headers)
    return status, str(body.get("__type", ""))


def _source_of_last_call(server: Server) -> str:
    request_id = server.last_headers["x-amzn-requestid"]
    return str(next(e["sourceIPAddress"] for e in audit_events(server) if e["requestID"] == request_id))


def test_forwarded_for_is_ignored_by_default(secure: Server) -> None:
    """The issue's attack: an unsigned header turned a denied identity into an allowed one."""
    assert _describe_keys(secure, None) == (400, "AccessDeniedException")
    assert _describe_keys(secure, "10.1.2.3") == (400, "AccessDeniedException")
    assert _source_of_last_call(secure) == "127.0.0.1"
    assert _describe_keys(secure, "10.1.2.3, 10.4.5.6") == (400, "AccessDeniedException")


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server told that 127.0.0.1 is its reverse proxy (the connections of this test come from it)."""
    config = secure_config(tmp_path_factory.mktemp("proxied"), trust_proxy=("127.0.0.1/32",))
    with BackgroundServer(config) as background:
        yield Server(background, IDENTITIES)


def test_trusted_proxy_names_the_client(behind_proxy: Server) -> None:
    assert _describe_keys(behind_proxy, "10.1.2.3") == (200, "")
    assert _source_of_last_call(behind_proxy) == "10.1.2.3"


def test_trusted_proxy_does_not_vouch_for_what_the_client_wrote(behind_proxy: Server) -> None:
    """The proxy appends the address it saw (192.0.2.1); the 10.x address left of it is the client's own claim."""
    assert _describe_keys(behind_proxy, "10.9.9.9, 192.0.2.1") == (400, "AccessDeniedException")
    assert _source_of_last_call(behind_proxy) == "192.0.2.1"
    assert _describe_keys(behind_proxy, "10.9.9.9, not-an-address") == (400, "AccessDeniedException")


def test_trust_proxy_refuses_a_bad_network(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--trust-proxy takes a network"):
        secure_config(tmp_path, trust_proxy=("10.0.0.0/33",))
