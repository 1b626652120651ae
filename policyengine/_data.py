"""Where the files shipped beside the code live: ``grammars/`` and ``examples/``.

In a built wheel both folders are mapped into the package (``policyengine/grammars``,
``policyengine/examples``); in a source checkout used in place they sit at the top level.
Everything that opens them goes through ``data_dir`` so both layouts work.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The installed or checked-out folder ``name`` (``grammars`` or ``examples``)."""
    installed = _PACKAGE_DIR / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / name
