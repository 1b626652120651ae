"""External access findings: every key reachable from outside a zone of trust, by whom, and under which conditions.

This is what IAM Access Analyzer's external access analyzer reports for KMS keys (IAM UG, "IAM
Access Analyzer findings"): the zone of trust is an account or an organization; any principal
outside it that a key's policy or grants let in is a finding — another account, a principal of
another account, an AWS service, or anyone (public). Unlike Access Analyzer the answer counts
everything the snapshot holds (SCPs, RCPs, grants, roles an outsider can assume), and a finding
lists the actions allowed outright and, for the others, the residual condition on the request.

Within an organization zone, access that the key allows only when ``aws:PrincipalOrgID`` is the
key's organization stays inside the zone and is no finding.

Archive rules (a YAML or JSON file) keep known, intended access quiet::

    rules:
      - name: partner reads shared keys      # shown with the archived finding
        principal: "arn:aws:iam::444455556666:*"   # glob on the principal's ARN or label
        key: "alias/shared-*"                 # glob on the key's ARN, id or any alias
        kind: account                         # account | principal | service | public
        actions: ["kms:Decrypt", "kms:DescribeKey"]   # archived only if these cover every action found

A finding is archived when every criterion a rule gives matches.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from policyengine.access.answers import Answer
from policyengine.access.errors import SnapshotError
from policyengine.access.formula import to_json, to_text
from policyengine.access.matrix import access_matrix
from policyengine.access.queries import Access
from policyengine.access.subjects import Subject
from policyengine.access.world import KeyInfo

Zone = Literal["account", "organization"]
FindingKind = Literal["account", "principal", "service", "public"]
_KINDS: dict[str, FindingKind] = {
    "root": "account",
    "external_account": "account",
    "user": "principal",
    "role": "principal",
    "session": "principal",
    "external_principal": "principal",
    "service": "service",
    "anyone": "public",
}
_RULE_FIELDS = {"name", "principal", "key", "kind", "actions"}


@dataclass(frozen=True)
class Condition:
    """Actions allowed only when the request meets one residual condition."""

    actions: tuple[str, ...]
    text: str
    tree: Any

    def to_json(self) -> dict[str, Any]:
        return {"actions": list(self.actions), "condition": self.text, "condition_tree": self.tree}


@dataclass(frozen=True)
class Finding:
    """One outsider's access to one key."""

    key: KeyInfo
    subject: Subject
    kind: FindingKind
    allowed: tuple[str, ...]
    conditional: tuple[Condition, ...]
    via: str | None = None
    archived_by: str | None = None

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(sorted({*self.allowed, *(a for c in self.conditional for a in c.actions)}))

    @property
    def severity(self) -> Literal["public", "unconditional", "conditional"]:
        if self.kind == "public" and self.allowed:
            return "public"
        return "unconditional" if self.allowed else "conditional"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key.arn,
            "key_aliases": list(self.key.aliases),
            "principal": self.subject.label,
            "principal_arn": self.subject.arn,
            "principal_account": self.subject.account,
            "kind": self.kind,
            "is_public": self.kind == "public",
            "allowed": list(self.allowed),
            "conditional": [c.to_json() for c in self.conditional],
            "via": self.via,
            "archived_by": self.archived_by,
        }


@dataclass(frozen=True)
class ArchiveRule:
    """Criteria a finding must all meet to be archived."""

    name: str
    principal: str | None = None
    key: str | None = None
    kind: str | None = None
    actions: tuple[str, ...] = ()

    def matches(self, finding: Finding) -> bool:
        if self.principal is not None and not any(
            fnmatch.fnmatchcase(v, self.principal) for v in (finding.subject.arn, finding.subject.label, finding.subject.caller)
        ):
            return False
        key = finding.key
        if self.key is not None and not any(fnmatch.fnmatchcase(v, self.key) for v in (key.arn, key.id, *key.aliases)):
            return False
        if self.kind is not None and self.kind != finding.kind:
            return False
        if self.actions:
            patterns = [a.lower() for a in self.actions]
            return all(any(fnmatch.fnmatchcase(a.lower(), p) for p in patterns) for a in finding.actions)
        return True


@dataclass
class Findings:
    """The findings of one snapshot for one zone of trust."""

    zone: Zone
    active: list[Finding] = field(default_factory=list)
    archived: list[Finding] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "zone_of_trust": self.zone,
            "counts": {"active": len(self.active), "archived": len(self.archived)},
            "findings": [f.to_json() for f in self.active],
            "archived": [f.to_json() for f in self.archived],
        }


def load_archive_rules(path: str | Path) -> list[ArchiveRule]:
    """Archive rules from a YAML or JSON file (see the module docstring); errors name the file and the rule."""
    source = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SnapshotError(source, "", f"cannot read the archive rules ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise SnapshotError(source, "", f"not YAML or JSON ({getattr(exc, 'problem', None) or exc})") from None
    entries = data.get("rules") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise SnapshotError(source, "rules", "expected a list of archive rules")
    rules = []
    for i, entry in enumerate(entries):
        where = f"rules[{i}]"
        if not isinstance(entry, dict):
            raise SnapshotError(source, where, "each rule is a mapping of criteria")
        unknown = sorted(set(entry) - _RULE_FIELDS)
        if unknown:
            raise SnapshotError(source, f"{where}.{unknown[0]}", f"unknown criterion (use {', '.join(sorted(_RULE_FIELDS))})")
        kind = entry.get("kind")
        if kind is not None and kind not in ("account", "principal", "service", "public"):
            raise SnapshotError(source, f"{where}.kind", f"`{kind}` is not account, principal, service or public")
        actions = entry.get("actions") or ()
        actions = (actions,) if isinstance(actions, str) else tuple(str(a) for a in actions)
        criteria = {k: str(entry[k]) for k in ("principal", "key") if entry.get(k) is not None}
        if not criteria and kind is None and not actions:
            raise SnapshotError(source, where, "a rule needs at least one of principal, key, kind, actions")
        rules.append(ArchiveRule(str(entry.get("name") or where), kind=kind, actions=actions, **criteria))
    return rules


def external_access(
    access: Access,
    zone: Zone,
    rules: Iterable[ArchiveRule] = (),
    *,
    progress: Callable[[int], None] | None = None,
) -> Findings:
    """Every key reachable from outside ``zone``, by whom; findings a rule matches are archived."""
    world = access.world
    keys = sorted(world.keys.values(), key=lambda k: k.label)
    outsiders = [s for s in access.subjects.all() if any(_outside(access, s, k, zone) for k in keys)]
    matrix = access_matrix(access, subjects=outsiders, keys=keys, progress=progress)
    chosen = list(rules)
    result = Findings(zone)
    for subject in outsiders:
        for key in keys:
            if not _outside(access, subject, key, zone):
                continue
            finding = _finding(access, matrix, subject, key, zone)
            if finding is None:
                continue
            rule = next((r for r in chosen if r.matches(finding)), None)
            if rule is not None:
                result.archived.append(replace(finding, archived_by=rule.name))
            else:
                result.active.append(finding)
    return result


def _org_of(access: Access, account: str | None) -> str | None:
    info = access.world.account(account) if account is not None else None
    return info.org_id if info is not None else None


def _outside(access: Access, subject: Subject, key: KeyInfo, zone: Zone) -> bool:
    if subject.kind in ("service", "anyone"):
        return True
    if subject.account == key.account:
        return False
    if zone == "account":
        return True
    org = _org_of(access, key.account)
    return org is None or _org_of(access, subject.account) != org


def _finding(access: Access, matrix: Any, subject: Subject, key: KeyInfo, zone: Zone) -> Finding | None:
    allowed: set[str] = set()
    by_condition: dict[str, tuple[list[str], Any]] = {}
    via = None
    org = _org_of(access, key.account) if zone == "organization" else None
    for group in matrix.groups:
        cell = matrix.cell(subject, key, group)
        if cell.status == "deny":
            continue
        if cell.route is not None:
            via = cell.route.text()
        allowed.update(cell.allowed)
        for answer in cell.conditional:
            if org is not None and _pinned_to_org(answer, org):
                continue
            text = to_text(answer.result.residual)
            entry = by_condition.setdefault(text, ([], to_json(answer.result.residual)))
            entry[0].append(answer.action)
    if not allowed and not by_condition:
        return None
    conditions = tuple(Condition(tuple(sorted(actions)), text, tree) for text, (actions, tree) in sorted(by_condition.items()))
    return Finding(key, subject, _KINDS[subject.kind], tuple(sorted(allowed)), conditions, via)


def _pinned_to_org(answer: Answer, org: str) -> bool:
    """The residual requires ``aws:PrincipalOrgID`` to be the key's organization: the caller is inside the zone."""
    tree = to_json(answer.result.residual)
    parts = tree["and"] if isinstance(tree, dict) and "and" in tree else [tree]
    return any(_org_test(part, org) for part in parts)


def _org_test(node: Any, org: str) -> bool:
    return (
        isinstance(node, Mapping)
        and str(node.get("key", "")).lower() == "aws:principalorgid"
        and str(node.get("operator", "")).startswith("StringEquals")
        and bool(node.get("values"))
        and all(str(v) == org for v in node.get("values", ()))
    )


def findings_sarif(findings: Findings, snapshot_path: str, tool_version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one result per active finding, at the snapshot file, the key as a logical location.

    The linter's SARIF writer is built around statements at text positions; a finding is about a
    key and an outsider across all the policies that decide, so it is written here, in the same
    SARIF shape GitHub code scanning reads (rules with help, levels, partial fingerprints).
    """
    rules = [
        {
            "id": "PEA001",
            "name": "ExternalAccess",
            "shortDescription": {"text": "A KMS key is reachable from outside the zone of trust"},
            "fullDescription": {
                "text": "A principal outside the zone of trust (another account, a principal of another account, an AWS "
                "service or anyone) can use or manage the key, outright or under the stated condition."
            },
            "help": {"text": "Remove the access, narrow it with conditions, or archive it with an archive rule if intended."},
            "defaultConfiguration": {"level": "warning"},
            "properties": {"tags": ["security", "external-access"], "security-severity": "7.0"},
        },
        {
            "id": "PEA002",
            "name": "PublicAccess",
            "shortDescription": {"text": "A KMS key is usable by anyone"},
            "fullDescription": {"text": "The key lets any principal of any account in, without a condition that holds it back."},
            "help": {"text": "Add conditions (aws:PrincipalOrgID, aws:SourceAccount, kms:CallerAccount) or name principals."},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["security", "external-access"], "security-severity": "9.0"},
        },
    ]
    results = []
    for finding in findings.active:
        public = finding.severity == "public"
        parts = []
        if finding.allowed:
            parts.append(f"allowed {', '.join(finding.allowed)}")
        parts.extend(f"{', '.join(c.actions)} only if {c.text}" for c in finding.conditional)
        via = f" via {finding.via}" if finding.via else ""
        message = (
            f"{finding.key.label} ({', '.join(finding.key.aliases) or finding.key.arn}) is reachable by {finding.kind} "
            f"{finding.subject.label}{via} from outside the {findings.zone}: {'; '.join(parts)}"
        )
        results.append(
            {
                "ruleId": "PEA002" if public else "PEA001",
                "ruleIndex": 1 if public else 0,
                "level": "error" if public else "warning",
                "message": {"text": message},
                "locations": [
                    {
                        "physicalLocation": {"artifactLocation": {"uri": Path(snapshot_path).as_posix()}},
                        "logicalLocations": [{"fullyQualifiedName": finding.key.arn, "kind": "resource"}],
                    }
                ],
                "partialFingerprints": {
                    "externalAccess/v1": json.dumps([finding.key.arn, finding.subject.arn, list(finding.actions)])
                },
                "properties": finding.to_json(),
            }
        )
    return {
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "policyengine", "version": tool_version, "rules": rules}},
                "results": results,
            }
        ],
    }
