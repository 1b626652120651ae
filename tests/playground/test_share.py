"""Share links: the workspace round-trips through the URL fragment; damaged links are refused clearly."""

from __future__ import annotations

import base64
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyengine.playground.examples import example_names, load_example
from policyengine.playground.share import MAX_UNPACKED, pack, unpack
from policyengine.playground.workspace import Workspace, WorkspaceError

TEXT = st.text(max_size=200)


@pytest.mark.parametrize("name", example_names())
def test_examples_round_trip(name: str) -> None:
    workspace = load_example(name)
    link = pack(workspace)
    assert link.startswith("#w=") and "=" not in link[3:]
    assert unpack("http://127.0.0.1:4600/" + link).to_json() == workspace.to_json()


@settings(max_examples=60, deadline=None)
@given(key=TEXT, principal=TEXT, context=TEXT, scp=TEXT)
def test_any_workspace_round_trips(key: str, principal: str, context: str, scp: str) -> None:
    workspace = Workspace.from_json(
        {
            "policies": {"key_policy": key, "scps": [{"level": 1, "policy": scp}]},
            "request": {"principal": principal, "context": context},
        }
    )
    assert unpack(pack(workspace)).to_json() == workspace.to_json()


def test_damaged_and_oversized_links() -> None:
    with pytest.raises(WorkspaceError, match="no `#w=`"):
        unpack("http://127.0.0.1:4600/")
    with pytest.raises(WorkspaceError, match="share link: damaged"):
        unpack("#w=!!!not-base64")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(b" " * (MAX_UNPACKED + 10)) + compressor.flush()
    with pytest.raises(WorkspaceError, match="larger than"):
        unpack("#w=" + base64.urlsafe_b64encode(bomb).decode().rstrip("="))
