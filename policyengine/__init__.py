"""policyengine: AWS KMS key policies and IAM policies, decided exactly as AWS decides them.

The public API is what ``__all__`` lists (a test keeps it exact); the CLI uses nothing else.
"""

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
    UnsupportedFeatureError,
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

__version__ = "0.1.0"

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
    "UnsupportedFeatureError",
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
