"""Text to model: the Lark grammars, the JSON reader and the string languages of policies."""

from policyengine.parsing.document import load_policy, parse_policy, parse_policy_fast, read_text

__all__ = ["load_policy", "parse_policy", "parse_policy_fast", "read_text"]
