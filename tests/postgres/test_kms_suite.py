"""The local KMS test suite (``tests/kms``), run unchanged on the PostgreSQL store.

The suite's tests take a ``kms`` fixture; this package's conftest supplies one on a fresh
PostgreSQL database (with the suite's other fixtures: callers, the manual clock, a key), so
every operation, error and audit behaviour is checked on the shared store as on the others.
"""

from __future__ import annotations

import inspect

from tests.kms import test_crypto_ops, test_gate_and_audit, test_keys, test_lifecycle

for _module in (test_crypto_ops, test_gate_and_audit, test_keys, test_lifecycle):
    for _name, _test in inspect.getmembers(_module, inspect.isfunction):
        if _name.startswith("test_") and _test.__module__ == _module.__name__:
            assert _name not in globals(), f"two KMS suite tests are named {_name}"
            globals()[_name] = _test
