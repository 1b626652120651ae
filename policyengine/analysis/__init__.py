"""Offline policy checks with proofs: no new access, access not granted, no public access.

Policies are translated (from the evaluator's compiled form) into an SMT formula over a
symbolic request and handed to a solver (cvc5 by default, z3 optional; both are the optional
extra ``policyengine-kms[analysis]`` and imported only when a check runs). A ``pass`` is a proof
for every request in the check's scope; every counterexample is replayed through the real
evaluator before it is reported; a time-out is ``fail (unconfirmed)``, never a pass.
"""

from policyengine.analysis.backend import BACKENDS, DEFAULT_BACKEND, SolverUnavailable
from policyengine.analysis.checks import DEFAULT_TIMEOUT_MS, access_not_granted, no_new_access, no_public_access
from policyengine.analysis.result import CheckResult, Counterexample, Verdict
from policyengine.analysis.surroundings import Holder, Surroundings

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
