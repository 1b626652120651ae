"""The lint rules, one module per family; importing this package registers them all."""

from policyengine.lint.rules import catalog_rules, kms, logic, security, structure, types  # noqa: F401
