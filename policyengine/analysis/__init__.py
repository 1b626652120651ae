"""Offline policy checks with proofs: no new access, access not granted, no public access.

Policies are translated (from the evaluator's compiled form) into an SMT formula over a
symbolic request, combined by the evaluator's own combining rule over solver terms, inside the
rest of the policy set when one is given (``Surroundings``: identity policies, boundaries,
session policies, SCP and RCP levels, endpoint policies, grants), and handed to a solver (cvc5
by default, z3 optional; both are the optional extra ``policyengine-kms[analysis]`` and imported
only when a check runs). A ``pass`` is a proof
for every request in the check's scope; every counterexample is replayed through the real
evaluator before it is reported; a time-out is ``fail (unconfirmed)``, never a pass.

Names are imported on first use (``policyengine._lazy``): `policyengine check --help` reads the
backends and the default time limit without loading the encoder, the evaluator or a solver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from policyengine._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "BACKENDS": "policyengine.analysis.backend",
    "DEFAULT_BACKEND": "policyengine.analysis.backend",
    "DEFAULT_TIMEOUT_MS": "policyengine.analysis.backend",
    "SolverUnavailable": "policyengine.analysis.backend",
    "access_not_granted": "policyengine.analysis.checks",
    "no_new_access": "policyengine.analysis.checks",
    "no_public_access": "policyengine.analysis.checks",
    "CheckResult": "policyengine.analysis.result",
    "Counterexample": "policyengine.analysis.result",
    "Verdict": "policyengine.analysis.result",
    "Holder": "policyengine.analysis.surroundings",
    "Surroundings": "policyengine.analysis.surroundings",
}

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "DEFAULT_TIMEOUT_MS",
    "CheckResult",
    "Counterexample",
    "Holder",
    "SolverUnavailable",
    "Surroundings",
    "Verdict",
    "access_not_granted",
    "no_new_access",
    "no_public_access",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from policyengine.analysis.backend import BACKENDS, DEFAULT_BACKEND, DEFAULT_TIMEOUT_MS, SolverUnavailable
    from policyengine.analysis.checks import access_not_granted, no_new_access, no_public_access
    from policyengine.analysis.result import CheckResult, Counterexample, Verdict
    from policyengine.analysis.surroundings import Holder, Surroundings
