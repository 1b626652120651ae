"""Structure rules: is the document a well-formed policy of its type (IAM UG, policy grammar)?

The first rules turn the reader's problems (a policy that could not be read) into findings;
the rest look at a policy that was read but is shaped wrongly for its type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from policyengine.lint.finding import Finding, LintTarget, PolicyType, Severity
from policyengine.lint.registry import rule
from policyengine.lint.rules._util import finding, statement_pointer, statements
from policyengine.model import unknown
from policyengine.model.policy import LEGACY_VERSION

_GRAMMAR = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html"
_ELEMENTS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html"


def _read_issue_rule(
    rule_id: str, name: str, codes: tuple[str, ...], summary: str, bad: str, good: str, severity: Severity = "error"
) -> None:
    def check(target: LintTarget) -> Iterator[Finding]:
        for issue in target.read_issues:
            if issue.code in codes:
                yield Finding(
                    rule_id, severity, issue.message, target.source, issue.span, issue.pointer, target.owner, None, issue.hint
                )

    rule(rule_id, name, severity, summary, bad=bad, good=good, family="structure", help_uri=_GRAMMAR)(check)


_GOOD = (
    '{"Version": "2012-10-17", "Statement": [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": '
    '"arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}'
)

_read_issue_rule(
    "PE001",
    "json-syntax",
    ("json-syntax", "io"),
    "The file is not valid JSON (or cannot be read).",
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",}]}',
    _GOOD,
)
_read_issue_rule(
    "PE002",
    "unknown-element",
    ("unknown-element",),
    "An element name AWS does not know; usually a misspelling of one it does.",
    _GOOD.replace('"Principal"', '"Principals"'),
    _GOOD,
)
_read_issue_rule(
    "PE003",
    "missing-element",
    ("missing-element",),
    "A required element is missing (Statement, Effect, or Action/NotAction).",
    _GOOD.replace('"Action": "kms:*", ', ""),
    _GOOD,
)
_read_issue_rule(
    "PE004",
    "exclusive-elements",
    ("exclusive-elements",),
    "A statement has both of Action/NotAction, Resource/NotResource or Principal/NotPrincipal.",
    _GOOD.replace('"Action": "kms:*"', '"Action": "kms:*", "NotAction": "kms:Decrypt"'),
    _GOOD,
)
_read_issue_rule(
    "PE005",
    "invalid-effect",
    ("invalid-effect",),
    "Effect must be exactly `Allow` or `Deny`.",
    _GOOD.replace('"Allow"', '"allow"'),
    _GOOD,
)
_read_issue_rule(
    "PE006",
    "invalid-version",
    ("invalid-version",),
    "Version must be `2012-10-17` or `2008-10-17`.",
    _GOOD.replace("2012-10-17", "2012-10-18"),
    _GOOD,
)
_read_issue_rule(
    "PE007",
    "invalid-principal-format",
    ("invalid-principal",),
    "A Principal element that is not `*` or an object of AWS/Service/Federated/CanonicalUser.",
    _GOOD.replace('{"AWS": "arn:aws:iam::111122223333:root"}', '"arn:aws:iam::111122223333:root"'),
    _GOOD,
)
_read_issue_rule(
    "PE008",
    "invalid-value-type",
    ("invalid", "empty-list", "invalid-operator"),
    "An element holds a value of the wrong JSON type (a number where a string list belongs, ...).",
    _GOOD.replace('"Action": "kms:*"', '"Action": 42'),
    _GOOD,
)


@rule(
    "PE010",
    "duplicate-key",
    "security",
    "A key appears twice in one object; AWS keeps only the last, which can silently turn a Deny into an Allow.",
    bad='{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Effect": "Allow", "Principal": "*", '
    '"Action": "kms:Decrypt", "Resource": "*"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", '
    '"Resource": "*"}]}',
    family="structure",
    help_uri=_GRAMMAR,
    security_severity=7.0,
)
def duplicate_key(target: LintTarget) -> Iterator[Finding]:
    if target.document is None:
        return
    for duplicate in target.document.duplicate_keys:
        spans = [s for s in duplicate.spans if s is not None]
        where = spans[-1] if spans else None
        first = f" (first at {spans[0].line}:{spans[0].column})" if len(spans) > 1 else ""
        yield Finding(
            "PE010",
            "security",
            f"duplicate key `{duplicate.key}` in `{duplicate.pointer or '/'}`{first}; AWS uses only the last one",
            target.source,
            where,
            f"{duplicate.pointer}/{duplicate.key}",
            target.owner,
            None,
            "keep one occurrence; the standard json module silently drops the earlier ones",
        )


@rule(
    "PE011",
    "missing-version",
    "warning",
    "Without Version the oldest policy language applies: policy variables like ${aws:username} are not substituted.",
    bad='{"Statement": [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", '
    '"Resource": "*"}]}',
    good=_GOOD,
    family="structure",
    help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html",
)
def missing_version(target: LintTarget) -> Iterator[Finding]:
    if target.document is not None and target.document.version is None:
        yield finding(
            target,
            "PE011",
            "warning",
            "the policy has no `Version`; policy variables will not be substituted",
            target.document.span,
            suggestion='add "Version": "2012-10-17"',
        )


@rule(
    "PE012",
    "legacy-version",
    "warning",
    "Version 2008-10-17 does not substitute policy variables.",
    bad=_GOOD.replace("2012-10-17", "2008-10-17"),
    good=_GOOD,
    family="structure",
    help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html",
)
def legacy_version(target: LintTarget) -> Iterator[Finding]:
    document = target.document
    if document is not None and document.version == LEGACY_VERSION:
        yield finding(
            target,
            "PE012",
            "warning",
            "`Version` 2008-10-17 is the legacy language; use 2012-10-17",
            document.version_span,
            pointer="/Version",
            suggestion='use "Version": "2012-10-17"',
        )


@rule(
    "PE013",
    "duplicate-sid",
    "error",
    "Statement ids must be unique within a policy.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Principal": {"AWS": "111122223333"}, '
    '"Action": "kms:*", "Resource": "*"}, {"Sid": "A", "Effect": "Allow", "Principal": {"AWS": "111122223333"}, '
    '"Action": "kms:Decrypt", "Resource": "*"}]}',
    good=_GOOD,
    family="structure",
    help_uri=_ELEMENTS,
)
def duplicate_sid(target: LintTarget) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for statement in statements(target):
        if statement.sid is None:
            continue
        if statement.sid in seen:
            assert target.document is not None
            yield finding(
                target,
                "PE013",
                "error",
                f"Sid `{statement.sid}` is already used by statement #{seen[statement.sid]}",
                statement.sid_span,
                statement,
                f"{statement_pointer(target.document, statement)}/Sid",
            )
        else:
            seen[statement.sid] = statement.index


_IAM_SID = re.compile(r"^[A-Za-z0-9]*$")
_RESOURCE_SID = re.compile(r"^[\x20-\x7e]*$")


@rule(
    "PE014",
    "invalid-sid-characters",
    "error",
    "Identity policies, SCPs and boundaries allow only letters and digits in a Sid; key and resource policies also allow "
    "spaces and punctuation.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "Allow reads", "Effect": "Allow", "Action": "s3:GetObject", '
    '"Resource": "*"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "AllowReads", "Effect": "Allow", "Action": "s3:GetObject", '
    '"Resource": "*"}]}',
    family="structure",
    help_uri=_ELEMENTS,
)
def invalid_sid(target: LintTarget) -> Iterator[Finding]:
    pattern = _RESOURCE_SID if target.policy_type in ("key", "resource", "trust", "endpoint") else _IAM_SID
    for statement in statements(target):
        if statement.sid is not None and not pattern.match(unknown.strip(statement.sid)):
            allowed = "printable ASCII" if pattern is _RESOURCE_SID else "letters and digits"
            assert target.document is not None
            yield finding(
                target,
                "PE014",
                "error",
                f"Sid `{statement.sid}` has characters a {target.policy_type} policy does not allow (only {allowed})",
                statement.sid_span,
                statement,
                f"{statement_pointer(target.document, statement)}/Sid",
            )


@rule(
    "PE015",
    "missing-principal",
    "error",
    "Key, resource and trust policy statements must name a Principal.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "Root", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}',
    good=_GOOD,
    family="structure",
    policy_types=("key", "resource", "trust"),
    help_uri=_ELEMENTS,
)
def missing_principal(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        if statement.principal is None and statement.not_principal is None:
            yield finding(
                target,
                "PE015",
                "error",
                f"statement {statement.label} has no `Principal`; in a {target.policy_type} policy it applies to no one",
                statement.span,
                statement,
                suggestion='add "Principal": {"AWS": "arn:aws:iam::ACCOUNT:root"} or the principals meant',
            )


@rule(
    "PE016",
    "principal-not-allowed",
    "error",
    "Identity policies, SCPs and permissions boundaries cannot have Principal or NotPrincipal.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Principal": "*", '
    '"Action": "s3:GetObject", "Resource": "*"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}',
    family="structure",
    policy_types=("identity", "scp", "boundary"),
    help_uri=_ELEMENTS,
)
def principal_not_allowed(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        block = statement.principal or statement.not_principal
        if block is not None:
            yield finding(
                target,
                "PE016",
                "error",
                f"a {target.policy_type} policy cannot name a Principal; it applies to whoever holds it",
                block.span,
                statement,
            )


@rule(
    "PE021",
    "invalid-principal",
    "error",
    "A principal AWS cannot read: not `*`, an account id or the ARN of an account root, user, role or session "
    "(a bare role name, a wildcard inside an ARN, a malformed service name). AWS refuses the policy.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Principal": {"AWS": "KeyAdmin"}, '
    '"Action": "kms:*", "Resource": "*"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Principal": {"AWS": '
    '"arn:aws:iam::111122223333:role/KeyAdmin"}, "Action": "kms:*", "Resource": "*"}]}',
    family="structure",
    policy_types=("key", "resource", "trust", "endpoint", "rcp"),
    help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html",
)
def invalid_principal(target: LintTarget) -> Iterator[Finding]:
    """KMS answers MalformedPolicyDocumentException ("one or more invalid principals"), IAM and S3 "Invalid principal"."""
    for statement in statements(target):
        for block in (statement.principal, statement.not_principal):
            for entry in block.entries if block is not None else ():
                if entry.ref.kind == "invalid" and "${" not in entry.value:  # PE208 reports variables
                    yield finding(
                        target,
                        "PE021",
                        "error",
                        entry.ref.problem or f"principal `{entry.value}` is not valid",
                        entry.span,
                        statement,
                        suggestion='name a role or user by its ARN ("arn:aws:iam::ACCOUNT:role/NAME")'
                        if entry.kind == "AWS"
                        else None,
                    )


@rule(
    "PE017",
    "missing-resource",
    "error",
    "Identity-style policies need Resource or NotResource in every statement.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}',
    family="structure",
    policy_types=("identity", "boundary", "key", "resource", "endpoint"),
    help_uri=_ELEMENTS,
)
def missing_resource(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        if statement.resource is None and statement.not_resource is None:
            yield finding(
                target,
                "PE017",
                "error",
                f"statement {statement.label} has no `Resource`",
                statement.span,
                statement,
                suggestion='add "Resource": "*" (in a key policy, "*" means this key)',
            )


_LIMITS: dict[PolicyType, tuple[int, bool, str]] = {
    "key": (32768, False, "key policies are limited to 32 KB"),
    "identity": (6144, True, "managed policies are limited to 6,144 characters, whitespace excluded"),
    "boundary": (6144, True, "managed policies are limited to 6,144 characters, whitespace excluded"),
    "scp": (5120, False, "service control policies are limited to 5,120 characters"),
    "rcp": (5120, False, "resource control policies are limited to 5,120 characters"),
    "trust": (2048, True, "role trust policies are limited to 2,048 characters by default"),
    "endpoint": (20480, False, "VPC endpoint policies are limited to 20,480 characters"),
}


@rule(
    "PE018",
    "policy-too-large",
    "error",
    "The policy is longer than AWS accepts for its type (key policies: 32 KB).",
    bad="(a key policy of more than 32,768 bytes)",
    good=_GOOD,
    family="structure",
    help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html",
)
def policy_too_large(target: LintTarget) -> Iterator[Finding]:
    document = target.document
    if document is None or target.policy_type not in _LIMITS:
        return
    limit, strip_space, why = _LIMITS[target.policy_type]
    size = document.size
    compact = size
    if target.compact_size is not None:
        compact = target.compact_size  # measured by the reader on the policy itself, not on YAML or HCL around it
    elif (strip_space or size > limit) and target.text is not None and document.span is not None:
        body = target.text[document.span.offset : document.span.end_offset]
        compact = len("".join(body.split()))  # split() cuts at exactly what str.isspace() calls whitespace
    if strip_space:
        size = compact
    if size > limit and target.policy_type in ("scp", "rcp") and compact <= limit:
        # Organizations counts whitespace only when the policy is sent by the CLI or an SDK; the console
        # removes it (Organizations UG, quotas: "Maximum size of a policy document").
        yield finding(
            target,
            "PE018",
            "warning",
            f"the policy is {size:,} characters as written ({compact:,} without whitespace); {why} when sent by the "
            "CLI or an SDK, which keep whitespace",
            document.span,
            suggestion="minify it before create-policy / update-policy (the console removes whitespace itself)",
        )
    elif size > limit:
        yield finding(target, "PE018", "error", f"the policy is {size:,} long; {why}", document.span)


@rule(
    "PE019",
    "no-statements",
    "warning",
    "A policy with no statements grants and denies nothing.",
    bad='{"Version": "2012-10-17", "Statement": []}',
    good=_GOOD,
    family="structure",
    help_uri=_GRAMMAR,
)
def no_statements(target: LintTarget) -> Iterator[Finding]:
    if target.document is not None and not target.document.statements:
        yield finding(target, "PE019", "warning", "the policy has no statements", target.document.span)


@rule(
    "PE020",
    "malformed-policy-variable",
    "error",
    "A `${` that does not form a policy variable is taken literally, which is rarely what was meant.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", '
    '"Resource": "arn:aws:s3:::bucket/${aws:username"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", '
    '"Resource": "arn:aws:s3:::bucket/${aws:username}"}]}',
    family="structure",
    help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html",
)
def malformed_variable(target: LintTarget) -> Iterable[Finding]:
    for statement in statements(target):
        items = [
            *(statement.action or ()),
            *(statement.not_action or ()),
            *(statement.resource or ()),
            *(statement.not_resource or ()),
        ]
        for item in items:
            if item.template_error:
                yield finding(target, "PE020", "error", item.template_error, item.span, statement)
        for condition in statement.conditions:
            for value in condition.values:
                if value.template_error:
                    yield finding(target, "PE020", "error", value.template_error, value.span, statement)
