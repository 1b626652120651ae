"""policyengine: AWS KMS key policies and IAM policies, decided exactly as AWS decides them.

The public API is what ``__all__`` lists (a test keeps it exact); the CLI uses nothing else.

Names are imported on first use (PEP 562), not when the package is imported: ``policyengine lint``
must not pay for the evaluator, the KMS or the server it does not use. Type checkers see the
ordinary imports below.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from policyengine._lazy import lazy_exports as _lazy_exports

__version__ = "0.2.0"

#: Each public name and the module that defines it.
_EXPORTS: dict[str, str] = {
    "data_dir": "policyengine._data",
    "Authorizer": "policyengine.engine",
    "Issue": "policyengine.errors",
    "PolicyEngineError": "policyengine.errors",
    "PolicyInputError": "policyengine.errors",
    "PolicyParseError": "policyengine.errors",
    "PolicyValidationError": "policyengine.errors",
    "RequestError": "policyengine.errors",
    "ScenarioError": "policyengine.errors",
    "PolicySet": "policyengine.evaluator.authorizer",
    "authorize": "policyengine.evaluator.authorizer",
    "CompiledPolicy": "policyengine.evaluator.compiled",
    "compile_policy": "policyengine.evaluator.compiled",
    "REASONS": "policyengine.explain.decision",
    "Decision": "policyengine.explain.decision",
    "StatementRef": "policyengine.explain.decision",
    "describe_statement": "policyengine.explain.describe",
    "decision_to_json": "policyengine.explain.render",
    "render_text": "policyengine.explain.render",
    "aws_managed_key_policy": "policyengine.key_policies",
    "default_key_policy": "policyengine.key_policies",
    "PolicyDocument": "policyengine.model",
    "Span": "policyengine.model",
    "Statement": "policyengine.model",
    "Grant": "policyengine.model.grant",
    "Request": "policyengine.model.request",
    "load_policy": "policyengine.parsing",
    "parse_policy": "policyengine.parsing",
    "parse_policy_fast": "policyengine.parsing",
    "read_text": "policyengine.parsing",
    "make_grant": "policyengine.parsing.request",
    "make_request": "policyengine.parsing.request",
    "Scenario": "policyengine.scenario",
    "load_scenario": "policyengine.scenario",
    "scenario_from_dict": "policyengine.scenario",
    "simulate": "policyengine.scenario",
}

__all__ = [
    "REASONS",
    "Authorizer",
    "CompiledPolicy",
    "Decision",
    "Grant",
    "Issue",
    "PolicyDocument",
    "PolicyEngineError",
    "PolicyInputError",
    "PolicyParseError",
    "PolicySet",
    "PolicyValidationError",
    "Request",
    "RequestError",
    "Scenario",
    "ScenarioError",
    "Span",
    "Statement",
    "StatementRef",
    "__version__",
    "authorize",
    "aws_managed_key_policy",
    "compile_policy",
    "data_dir",
    "decision_to_json",
    "default_key_policy",
    "describe_statement",
    "load_policy",
    "load_scenario",
    "make_grant",
    "make_request",
    "parse_policy",
    "parse_policy_fast",
    "read_text",
    "render_text",
    "scenario_from_dict",
    "simulate",
]


__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)

if _TYPE_CHECKING:
    from policyengine._data import data_dir
    from policyengine.engine import Authorizer
    from policyengine.errors import (
        Issue,
        PolicyEngineError,
        PolicyInputError,
        PolicyParseError,
        PolicyValidationError,
        RequestError,
        ScenarioError,
    )
    from policyengine.evaluator.authorizer import PolicySet, authorize
    from policyengine.evaluator.compiled import CompiledPolicy, compile_policy
    from policyengine.explain.decision import REASONS, Decision, StatementRef
    from policyengine.explain.describe import describe_statement
    from policyengine.explain.render import decision_to_json, render_text
    from policyengine.key_policies import aws_managed_key_policy, default_key_policy
    from policyengine.model import PolicyDocument, Span, Statement
    from policyengine.model.grant import Grant
    from policyengine.model.request import Request
    from policyengine.parsing import load_policy, parse_policy, parse_policy_fast, read_text
    from policyengine.parsing.request import make_grant, make_request
    from policyengine.scenario import Scenario, load_scenario, scenario_from_dict, simulate
