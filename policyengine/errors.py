"""The one exception hierarchy of policyengine.

Every error the package raises on purpose is a ``PolicyEngineError``; callers can catch that
one class at an edge (the CLI does) and be sure nothing of ours escapes as a bare ``ValueError``.
Messages follow one style: a single line, lowercase start, no final period, user input in
backticks, no Python class names.

::

    PolicyEngineError
    ├── PolicyInputError                   a policy (or scenario) could not be read
    │   ├── PolicyParseError               not JSON: line, column, snippet, label
    │   └── PolicyValidationError          JSON, but not a policy: issues (never empty)
    ├── ScenarioError                      a scenario file is malformed (what, where)
    ├── RequestError                       a malformed request (bad ARN, bad action name)
    ├── ConfigError                        lint/config.py: a linter configuration file is wrong
    ├── SnapshotError                      access/errors.py: an account snapshot is malformed
    │   └── LookupFailure                  a principal, key or action a question names is not in it
    ├── SolverUnavailable                  analysis/backend.py: the SMT solver asked for is missing
    ├── StoreError                         store/__init__.py: the key store cannot do what was asked
    │   └── StoreConflict                  a concurrent writer changed what this one read
    ├── KMSError                           kms/errors.py: an AWS KMS error, by AWS's error code
    │   ├── AccessDeniedException
    │   ├── AlreadyExistsException
    │   ├── CloudHsmClusterNotFoundException
    │   ├── CustomKeyStoreNotFoundException
    │   ├── DisabledException
    │   ├── ExpiredImportTokenException
    │   ├── IncorrectKeyException
    │   ├── IncorrectKeyMaterialException
    │   ├── InvalidAliasNameException
    │   ├── InvalidArnException
    │   ├── InvalidCiphertextException
    │   ├── InvalidGrantIdException
    │   ├── InvalidGrantTokenException
    │   ├── InvalidImportTokenException
    │   ├── InvalidKeyUsageException
    │   ├── KMSInvalidMacException
    │   ├── KMSInvalidSignatureException
    │   ├── KMSInvalidStateException
    │   ├── LimitExceededException
    │   ├── MalformedPolicyDocumentException
    │   ├── NotFoundException
    │   ├── TagException
    │   ├── UnsupportedOperationException
    │   ├── ValidationException
    │   └── XksProxyUriUnreachableException
    ├── StartupError                       server/errors.py: the server cannot start (address, store, key)
    ├── IdentitiesError                    server/identities.py: an identities file is wrong
    ├── LessonError                        playground/lessons.py: a lesson file is wrong
    └── WorkspaceError                     playground/workspace.py: a playground workspace is wrong

Later layers hang their own subtrees off ``PolicyEngineError`` in their own modules and list
them in this docstring (``tests/unit/test_errors_tree.py`` holds the list complete).
"""

from __future__ import annotations

from dataclasses import dataclass

from policyengine.model.span import Span

__all__ = [
    "Issue",
    "PolicyEngineError",
    "PolicyInputError",
    "PolicyParseError",
    "PolicyValidationError",
    "RequestError",
    "ScenarioError",
]


class PolicyEngineError(Exception):
    """Root of every error policyengine raises on purpose."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a policy: where it is, what is wrong, and what would fix it."""

    message: str
    span: Span | None = None
    pointer: str = ""
    hint: str | None = None
    code: str = "invalid"

    def location(self, source: str) -> str:
        """``file:line:col`` for the issue (just the file when the position is unknown)."""
        if self.span is None:
            return source
        return f"{source}:{self.span.line}:{self.span.column}"


class PolicyInputError(PolicyEngineError):
    """A policy (or a file holding one) could not be turned into a model."""

    def __init__(self, source: str, issues: tuple[Issue, ...], text: str | None = None) -> None:
        if not issues:
            raise ValueError("a policy input error needs at least one issue")
        self.source = source
        self.issues = issues
        self.text = text
        first = issues[0]
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(f"{first.location(source)}: {first.message}{more}")

    def snippet(self, issue: Issue) -> str | None:
        """The source line of ``issue`` with a caret under its column, or None if unknown."""
        if self.text is None or issue.span is None:
            return None
        lines = self.text.splitlines()
        if not 1 <= issue.span.line <= len(lines):
            return None
        line = lines[issue.span.line - 1]
        width = 1
        if issue.span.end_line == issue.span.line:
            width = max(1, issue.span.end_column - issue.span.column)
        # Keep the line's own tabs so the caret lands under the column in any tab width.
        lead = "".join(c if c == "\t" else " " for c in line[: issue.span.column - 1])
        caret = lead + "^" * min(width, max(1, len(line) - issue.span.column + 1))
        return f"{line}\n{caret}"


class PolicyParseError(PolicyInputError):
    """The text is not valid JSON; the single issue says where and, when known, why."""

    @property
    def line(self) -> int:
        span = self.issues[0].span
        return span.line if span else 0

    @property
    def column(self) -> int:
        span = self.issues[0].span
        return span.column if span else 0


class PolicyValidationError(PolicyInputError):
    """The text is JSON but not a valid policy; ``issues`` lists every problem found."""


class ScenarioError(PolicyEngineError):
    """A scenario (the input of ``simulate``) is malformed; the message names the field."""


class RequestError(PolicyEngineError):
    """A request to the evaluator is malformed (for example a principal that is not an ARN)."""
