"""Share links: the whole workspace in the URL's fragment, compressed.

The fragment is ``#w=`` + base64url (no padding) of the workspace JSON compressed with raw
DEFLATE — what the browser's ``CompressionStream("deflate-raw")`` writes and reads, so the page
packs and unpacks links by itself, and this module does the same for the CLI and the tests.
Nothing leaves the machine: a fragment is never sent to the server.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

from policyengine.playground.workspace import Workspace, WorkspaceError

PREFIX = "#w="
#: A decompressed workspace larger than this is refused (a link is not a way to ship megabytes).
MAX_UNPACKED = 2 * 1024 * 1024


def pack(workspace: Workspace) -> str:
    """The ``#w=...`` fragment for a workspace."""
    raw = json.dumps(workspace.to_json(), separators=(",", ":")).encode()
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = compressor.compress(raw) + compressor.flush()
    return PREFIX + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def unpack(fragment: str) -> Workspace:
    """The workspace of a ``#w=...`` fragment (or a whole URL ending in one)."""
    _, found, data = fragment.rpartition(PREFIX)
    if not found:
        raise WorkspaceError("share link: no `#w=` workspace in it")
    try:
        packed = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        decompressor = zlib.decompressobj(-15)
        raw = decompressor.decompress(packed, MAX_UNPACKED + 1)
        if len(raw) > MAX_UNPACKED:
            raise WorkspaceError(f"share link: the workspace is larger than {MAX_UNPACKED} bytes")
        value: Any = json.loads(raw)
    except (binascii.Error, zlib.error, UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        if isinstance(error, WorkspaceError):
            raise
        raise WorkspaceError(f"share link: damaged ({error})") from None
    return Workspace.from_json(value)
