"""What the linter reports: findings with a stable rule id, a severity and a precise location.

Severities are IAM Access Analyzer's four (security warning, error, warning, suggestion), ranked for
CI by what reaches production: a security finding (a public key, ``kms:*`` to an application role)
describes a policy AWS accepts and then enforces, so it ranks above an error (a policy AWS rejects
or misreads). ``--fail-on S`` fails on S and everything ranked above it, in the CLI, the pre-commit
hook and the GitHub Action alike, and all three default to ``DEFAULT_FAIL_ON`` (docs/lint-config.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from policyengine.errors import Issue
from policyengine.model.policy import PolicyDocument
from policyengine.model.span import Span

Severity = Literal["error", "security", "warning", "suggestion"]
SEVERITY_ORDER: dict[Severity, int] = {"security": 3, "error": 2, "warning": 1, "suggestion": 0}
#: Severities from the most to the least serious: the order of ``--fail-on`` choices and of summary counts.
SEVERITIES: tuple[Severity, ...] = ("security", "error", "warning", "suggestion")
#: What fails a run when neither ``--fail-on`` nor the configuration says: every warning or worse.
DEFAULT_FAIL_ON: Severity = "warning"
PolicyType = Literal["key", "identity", "resource", "scp", "rcp", "boundary", "trust", "endpoint"]
POLICY_TYPES: tuple[PolicyType, ...] = ("key", "identity", "resource", "scp", "rcp", "boundary", "trust", "endpoint")


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: which rule, how bad, where (file, span, JSON pointer), about whose policy."""

    rule_id: str
    severity: Severity
    message: str
    source: str
    span: Span | None = None
    pointer: str = ""
    owner: str | None = None  # e.g. "role/AppRole inline policy `s3`" or "aws_kms_key.main"
    statement: str | None = None  # the statement's Sid or #index, for per-statement suppression
    suggestion: str | None = None

    @property
    def line(self) -> int:
        return self.span.line if self.span else 1

    @property
    def column(self) -> int:
        return self.span.column if self.span else 1

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.source, self.line, self.column, self.rule_id)


@dataclass(frozen=True, slots=True)
class NotRead:
    """A policy the linter found but did not lint, and why: shown with the findings so nobody takes silence for a pass.

    ``where`` names it as a finding's owner does (``Vault AccessPolicy (AWS::Backup::BackupVault)``).
    """

    source: str
    where: str
    reason: str
    span: Span | None = None

    @property
    def line(self) -> int:
        return self.span.line if self.span else 1


@dataclass(frozen=True)
class LintTarget:
    """One policy to lint: the parsed document (or the errors that stopped parsing), its type, where it came from.

    ``text`` is the whole text of ``source`` (for snippets and fingerprints). ``read_issues`` holds
    the reader's problems, which become findings; ``document`` is then what could be read despite
    them (None when nothing could), and every rule but those judging the whole policy checks it.

    ``authored_by_aws`` marks text AWS wrote and the customer cannot edit (an AWS managed policy
    in an authorization-details export, the key policy of an AWS managed key): only what it
    grants is linted, never how it is written (see ``engine.AUTHORING_FAMILIES``).

    ``fragment`` marks statements kept in a file of their own to be merged into a policy elsewhere
    (a template macro's or an installer's statements file): rules about the document as a whole
    (its Version, an account statement, who can change the key) do not judge it
    (``engine.WHOLE_DOCUMENT_RULES``); every statement is still checked.

    ``callers_checked_by`` names a control outside the policy that authenticates every caller (an
    OpenSearch domain's fine-grained access control): AWS recommends a policy open to everyone then,
    so a wildcard principal is not public access (PE401).

    ``compact_size`` is the policy's length as compact JSON, whitespace between tokens removed, when the
    reader measured it (the limits that exclude whitespace compare it); None: measure ``text``.
    """

    source: str
    policy_type: PolicyType
    document: PolicyDocument | None
    text: str | None = None
    owner: str | None = None
    read_issues: tuple[Issue, ...] = field(default=())
    authored_by_aws: bool = False
    fragment: bool = False
    compact_size: int | None = None
    callers_checked_by: str | None = None

    @property
    def label(self) -> str:
        return f"{self.source} ({self.owner})" if self.owner else self.source
