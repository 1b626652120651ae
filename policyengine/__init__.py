"""policyengine: AWS KMS key policies and IAM policies, decided exactly as AWS decides them.

The public API is what ``__all__`` lists (a test keeps it exact); the CLI uses nothing else.
"""

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
from policyengine.model import PolicyDocument, Span, Statement
from policyengine.parsing import load_policy, parse_policy, parse_policy_fast, read_text

__version__ = "0.1.0"

__all__ = [
    "Issue",
    "PolicyDocument",
    "PolicyEngineError",
    "PolicyInputError",
    "PolicyParseError",
    "PolicyValidationError",
    "RequestError",
    "ScenarioError",
    "Span",
    "Statement",
    "UnsupportedFeatureError",
    "__version__",
    "load_policy",
    "parse_policy",
    "parse_policy_fast",
    "read_text",
]
