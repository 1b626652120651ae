"""Errors of the access layer, hung off ``PolicyEngineError`` as ``errors.py`` asks later layers to.

::

    PolicyEngineError
    └── SnapshotError          a snapshot or an export could not be read: names the file and the field
        └── LookupFailure      a principal or key named on the command line is not in the snapshot

Problems an importer can live with (a policy it could not read, a grant list that is missing)
are not errors: they are ``Unused`` records kept in the snapshot and shown with every answer,
so nothing is dropped without a word.
"""

from __future__ import annotations

from policyengine.errors import PolicyEngineError


class SnapshotError(PolicyEngineError):
    """A snapshot file or a saved export is malformed; the message names the file and the field."""

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.detail = message
        where = f"{source}: `{field}`" if field else source
        super().__init__(f"{where}: {message}")


class LookupFailure(SnapshotError):
    """A principal, key or action given by the user does not name exactly one thing in the snapshot."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__("snapshot", what, message)
