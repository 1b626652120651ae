"""The store protocol tests of ``tests/unit/test_store.py``, run unchanged against the PostgreSQL store.

Every test there that takes the ``store`` fixture is collected here too, and this package's
conftest supplies ``store`` as a ``PostgresKeyStore`` on a fresh database: one definition of
the protocol's behaviour, checked on all three stores.
"""

from __future__ import annotations

import inspect

from tests.unit import test_store as _protocol

for _name, _test in inspect.getmembers(_protocol, inspect.isfunction):
    if _name.startswith("test_") and "store" in inspect.signature(_test).parameters:
        globals()[_name] = _test
