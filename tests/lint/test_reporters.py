"""The linter's reports: the text format, JSON stability, SARIF 2.1.0 validity and line-independent fingerprints."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from policyengine.lint.finding import Finding, LintTarget, Severity
from policyengine.lint.registry import Rule
from policyengine.lint.reporters import fingerprint, render_json, render_sarif, render_text, summarize
from policyengine.lint.reporters.sarif import rule_descriptor
from policyengine.model.span import Span

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reporting"
SCHEMA = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
KEY = "key-policy.json"
IDENTITY = "identity.json"
TEXTS = {name: (FIXTURES / name).read_text(encoding="utf-8") for name in (KEY, IDENTITY)}


def span_of(text: str, needle: str, occurrence: int = 0) -> Span:
    """The span of the ``occurrence``-th ``needle`` in ``text`` (1-based lines and columns, as the parser makes them)."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    end = start + len(needle)
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    end_line = text.count("\n", 0, end) + 1
    end_column = end - (text.rfind("\n", 0, end) + 1) + 1
    return Span(line=line, column=column, end_line=end_line, end_column=end_column, offset=start, end_offset=end)


def no_findings(target: LintTarget) -> list[Finding]:
    return []


def make_rule(rule_id: str, severity: Severity, family: str, security_severity: float | None = None) -> Rule:
    return Rule(
        rule_id,
        f"rule-{rule_id.lower()}",
        severity,
        f"What {rule_id} checks. More detail about it.",
        '{"Statement": {"Effect": "Allow", "Effect": "Deny"}}',
        '{"Statement": {"Effect": "Deny"}}',
        no_findings,
        help_uri=f"https://example.com/rules/{rule_id}",
        security_severity=security_severity,
        family=family,
    )


RULES = {
    "PE020": make_rule("PE020", "warning", "kms"),
    "PE104": make_rule("PE104", "suggestion", "structure"),
    "PE301": make_rule("PE301", "security", "security", 9.1),
    "PE503": make_rule("PE503", "error", "kms"),
}


def sample_findings(texts: dict[str, str] = TEXTS) -> list[Finding]:
    key, identity = texts[KEY], texts[IDENTITY]
    return [
        Finding(
            "PE503",
            "error",
            "`kms:CreateGrant` without a `kms:GrantIsForAWSResource` condition",
            KEY,
            span_of(key, '"kms:CreateGrant"'),
            "/Statement/1/Action/1",
            "aws_kms_key.main",
            "App policyengine:ignore=PE020",
            'add `"Bool": {"kms:GrantIsForAWSResource": "true"}`',
        ),
        Finding(
            "PE301",
            "security",
            "the key is open to anyone: Principal `*` with no condition",
            KEY,
            span_of(key, '"*"'),
            "/Statement/0/Principal",
            None,
            "Public",
            "name the account, or add a condition on `aws:PrincipalAccount`",
        ),
        Finding("PE104", "suggestion", "`Statement` should be a list", IDENTITY, span_of(identity, '"Statement"'), "/Statement"),
        Finding(
            "PE020",
            "warning",
            "`kms:*` granted to a principal other than the account",
            KEY,
            span_of(key, '"kms:*"'),
            "/Statement/0/Action",
            None,
            "Public",
        ),
    ]


GOLDEN_TEXT = """\
identity.json:1:27: suggestion PE104 `Statement` should be a list
    {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}}
                              ^^^^^^^^^^^

key-policy.json:7:20: security PE301 the key is open to anyone: Principal `*` with no condition
          "Principal": "*",
                       ^^^
  hint: name the account, or add a condition on `aws:PrincipalAccount`

key-policy.json:8:17: warning PE020 `kms:*` granted to a principal other than the account
          "Action": "kms:*",
                    ^^^^^^^

key-policy.json:15:28: error PE503 `kms:CreateGrant` without a `kms:GrantIsForAWSResource` condition
    \t"Action": ["kms:Encrypt", "kms:CreateGrant"],
    \t                          ^^^^^^^^^^^^^^^^^
  owner: aws_kms_key.main
  hint: add `"Bool": {"kms:GrantIsForAWSResource": "true"}`

4 findings: 1 security, 1 error, 1 warning, 1 suggestion in 2 files"""


def shifted(text: str, lines: int) -> str:
    """``text`` with ``lines`` blank lines inserted at the top (above every finding)."""
    return "\n" * lines + text


# ---------------------------------------------------------------------------------------------
# Text


def test_text_report_matches_golden() -> None:
    """The text report of the fixture findings is exactly the golden string, sorted by file and position."""
    assert render_text(sample_findings(), texts=TEXTS, color=False) == GOLDEN_TEXT


def test_text_caret_keeps_the_lines_tabs() -> None:
    """On a tab-indented line the caret line keeps the tab, so the carets sit under the span at any tab width."""
    report = render_text([sample_findings()[0]], texts=TEXTS, color=False)
    source, caret = report.split("\n")[1:3]
    assert caret.startswith("    \t ") and caret.strip(" \t") == "^" * len('"kms:CreateGrant"')
    assert source.expandtabs(8).index('"kms:CreateGrant"') == caret.expandtabs(8).index("^")


def test_text_colours_only_when_asked() -> None:
    """ANSI colour codes appear with ``color=True`` and never without it, and colour adds nothing else."""
    plain = render_text(sample_findings(), texts=TEXTS, color=False)
    coloured = render_text(sample_findings(), texts=TEXTS, color=True)
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_text_without_span_or_source_text() -> None:
    """A finding with no span shows just the file and no snippet; a file whose text is unknown shows no snippet."""
    no_span = Finding("PE018", "error", "the policy is larger than 32 KB", "big.json")
    with_span = sample_findings()[1]
    report = render_text([no_span, with_span], texts={}, color=False)
    assert report.split("\n\n")[0] == "big.json: error PE018 the policy is larger than 32 KB"
    assert report.split("\n\n")[1].startswith("key-policy.json:7:20: security PE301")
    assert "^" not in report


def test_summary_counts_and_plurals() -> None:
    """The summary counts each severity and the distinct files, in singular or plural, and says so when empty."""
    assert summarize([]).line() == "no findings"
    assert render_text([], texts={}, color=False) == "no findings"
    two_errors = [Finding("PE503", "error", "m", "a.json"), Finding("PE503", "error", "m", "b.json")]
    assert summarize(two_errors).line() == "2 findings: 0 security, 2 errors, 0 warnings, 0 suggestions in 2 files"


# ---------------------------------------------------------------------------------------------
# JSON


def test_json_report_is_sorted_stable_and_complete() -> None:
    """JSON output is identical for any input order, sorted by file and position, with every field and a summary."""
    findings = sample_findings()
    first = render_json(findings, RULES)
    for seed in range(5):
        shuffled = findings[:]
        random.Random(seed).shuffle(shuffled)
        assert render_json(shuffled, RULES) == first
    data = json.loads(first)
    assert data["version"] == 1
    assert [(f["file"], f["line"], f["rule"]) for f in data["findings"]] == [
        ("identity.json", 1, "PE104"),
        ("key-policy.json", 7, "PE301"),
        ("key-policy.json", 8, "PE020"),
        ("key-policy.json", 15, "PE503"),
    ]
    expected_keys = [
        "rule",
        "name",
        "family",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "pointer",
        "owner",
        "statement",
        "suggestion",
    ]
    assert all(list(f) == expected_keys for f in data["findings"])
    assert data["findings"][3] == {
        "rule": "PE503",
        "name": "rule-pe503",
        "family": "kms",
        "severity": "error",
        "message": "`kms:CreateGrant` without a `kms:GrantIsForAWSResource` condition",
        "file": "key-policy.json",
        "line": 15,
        "column": 28,
        "end_line": 15,
        "end_column": 45,
        "pointer": "/Statement/1/Action/1",
        "owner": "aws_kms_key.main",
        "statement": "App policyengine:ignore=PE020",
        "suggestion": 'add `"Bool": {"kms:GrantIsForAWSResource": "true"}`',
    }
    assert data["summary"] == {
        "findings": 4,
        "files": 2,
        "by_severity": {"error": 1, "security": 1, "warning": 1, "suggestion": 1},
        "by_rule": {"PE020": 1, "PE104": 1, "PE301": 1, "PE503": 1},
    }


def test_json_finding_without_span_has_nulls() -> None:
    """A finding with no span, pointer or known rule still has every key, with nulls."""
    data = json.loads(render_json([Finding("PE999", "warning", "m", "x.json")], {}))
    assert data["findings"][0]["line"] is None and data["findings"][0]["pointer"] is None
    assert data["findings"][0]["name"] is None


# ---------------------------------------------------------------------------------------------
# SARIF


def sarif(findings: list[Finding] | None = None, texts: dict[str, str] = TEXTS, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"root": FIXTURES, "information_uri": "https://example.com/policyengine"} | kwargs
    chosen = sample_findings(texts) if findings is None else findings
    return render_sarif(chosen, RULES, texts=texts, tool_version="0.1.0", **options)


def test_sarif_validates_against_the_2_1_0_schema() -> None:
    """The SARIF log (findings with and without spans, owners, unknown rules) is valid against the official schema."""
    extra = [Finding("PE018", "error", "too big", "big.json"), Finding("PE999", "warning", "unknown rule", KEY)]
    log = sarif(sample_findings() + extra)
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    # A broken log is caught, so the check has teeth.
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(log)


def test_sarif_rules_carry_help_levels_and_security_severity() -> None:
    """Every rule is described with help (bad and fixed example), level, tags, precision and, for security, a score."""
    driver = sarif()["runs"][0]["tool"]["driver"]
    assert driver["name"] == "policyengine" and driver["semanticVersion"] == "0.1.0"
    assert driver["informationUri"] == "https://example.com/policyengine"
    by_id = {r["id"]: r for r in driver["rules"]}
    assert list(by_id) == ["PE020", "PE104", "PE301", "PE503"]
    public = by_id["PE301"]
    assert public["name"] == "rule-pe301"
    assert public["shortDescription"]["text"] == "What PE301 checks."
    assert public["fullDescription"]["text"] == "What PE301 checks. More detail about it."
    assert public["helpUri"] == "https://example.com/rules/PE301"
    assert public["defaultConfiguration"]["level"] == "error"
    assert public["properties"] == {"tags": ["security"], "precision": "high", "security-severity": "9.1"}
    assert "security-severity" not in by_id["PE020"]["properties"]
    assert by_id["PE104"]["properties"]["precision"] == "very-high"
    assert by_id["PE104"]["defaultConfiguration"]["level"] == "note"
    help_ = public["help"]
    assert '"Effect": "Allow",\n    "Effect": "Deny"' in help_["markdown"]  # duplicate keys of the bad example survive
    assert "**Bad**" in help_["markdown"] and "**Fixed**" in help_["markdown"] and "```json" in help_["markdown"]
    assert "Bad:\n{" in help_["text"] and "Fixed:\n{" in help_["text"]


def test_sarif_results_levels_locations_and_regions() -> None:
    """Results map severities to levels, index their rule, and point at relative URIs with exact regions."""
    run = sarif()["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": FIXTURES.as_uri() + "/"}}
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"PE104": "note", "PE301": "error", "PE020": "warning", "PE503": "error"}
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    grant = next(r for r in run["results"] if r["ruleId"] == "PE503")
    physical = grant["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "key-policy.json", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {
        "startLine": 15,
        "startColumn": 28,
        "endLine": 15,
        "endColumn": 45,
        "snippet": {"text": '"kms:CreateGrant"'},
    }
    assert physical["contextRegion"]["snippet"]["text"] == '\t"Action": ["kms:Encrypt", "kms:CreateGrant"],'
    assert grant["locations"][0]["logicalLocations"] == [{"fullyQualifiedName": "aws_kms_key.main", "kind": "resource"}]
    assert grant["message"]["text"].startswith("`kms:CreateGrant` without")


def test_sarif_uri_is_relative_with_forward_slashes(tmp_path: Path) -> None:
    """An absolute source under the root becomes a relative, forward-slash, percent-encoded URI."""
    source = tmp_path / "policies" / "my key.json"
    log = render_sarif(
        [Finding("PE020", "warning", "m", str(source))],
        RULES,
        texts={},
        tool_version="0.1.0",
        root=tmp_path,
        information_uri="https://example.com",
    )
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "policies/my%20key.json", "uriBaseId": "%SRCROOT%"}


def partial_fingerprints(log: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {f"{r['ruleId']}": r["partialFingerprints"] for r in log["runs"][0]["results"]}


def test_fingerprints_survive_lines_inserted_above() -> None:
    """Inserting lines above every finding moves their regions but keeps every partial fingerprint."""
    moved_texts = {name: shifted(text, 3) for name, text in TEXTS.items()}
    before, after = sarif(), sarif(texts=moved_texts)
    assert partial_fingerprints(before) == partial_fingerprints(after)
    lines_before = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in before["runs"][0]["results"]]
    lines_after = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after["runs"][0]["results"]]
    assert [b + 3 for b in lines_before] == lines_after


def test_fingerprint_survives_reindenting_and_statement_reordering() -> None:
    """Re-indenting keeps a fingerprint, and so does moving a Sid-named statement to another index."""
    finding = sample_findings()[0]
    reindented = TEXTS[KEY].replace("\t", "        ")
    moved = Finding(
        finding.rule_id,
        finding.severity,
        finding.message,
        KEY,
        span_of(reindented, '"kms:CreateGrant"'),
        "/Statement/0/Action/1",
        finding.owner,
        finding.statement,
    )
    assert fingerprint(finding, TEXTS[KEY], FIXTURES) == fingerprint(moved, reindented, FIXTURES)


def test_fingerprints_differ_between_findings() -> None:
    """Different findings (rule, file, pointer or offending text) get different fingerprints, and duplicates are numbered."""
    prints = {fingerprint(f, TEXTS[f.source], FIXTURES) for f in sample_findings()}
    assert len(prints) == 4
    base = sample_findings()[3]
    variants = [
        Finding("PE021", base.severity, base.message, base.source, base.span, base.pointer, statement=base.statement),
        Finding(base.rule_id, base.severity, base.message, IDENTITY, base.span, base.pointer, statement=base.statement),
        Finding(
            base.rule_id, base.severity, base.message, base.source, base.span, "/Statement/0/Resource", statement=base.statement
        ),
        Finding(
            base.rule_id,
            base.severity,
            base.message,
            base.source,
            span_of(TEXTS[KEY], '"kms:Encrypt"'),
            base.pointer,
            statement=base.statement,
        ),
    ]
    assert len({fingerprint(v, TEXTS[KEY], FIXTURES) for v in [base, *variants]}) == 5
    twice = partial_fingerprints(sarif([base, base]))
    results = sarif([base, base])["runs"][0]["results"]
    assert [r["partialFingerprints"]["primaryLocationLineHash"][-2:] for r in results] == [":1", ":2"]
    assert twice["PE020"]["policyengineFingerprint/v1"] == fingerprint(base, TEXTS[KEY], FIXTURES)


@pytest.mark.parametrize("bad", ["not json {", '{"a": [1, 2, {"b": []}], "c": {}}'])
def test_rule_help_shows_examples_as_written_or_indented(bad: str) -> None:
    """An example that is not JSON is shown as written; a JSON one is indented with empty containers kept."""
    rule = Rule("PE001", "json-syntax", "error", "Not JSON.", bad, "{}", no_findings, family="structure")
    text = rule_descriptor(rule)["help"]["text"]
    if bad.startswith("not"):
        assert "Bad:\nnot json {" in text
    else:
        assert 'Bad:\n{\n  "a": [\n    1,\n    2,\n    {\n      "b": []\n    }\n  ],\n  "c": {}\n}' in text
