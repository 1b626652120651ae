"""The rule reference (docs/rules.md), written from the registry so it cannot drift from the code."""

from __future__ import annotations

import json

from policyengine.lint.registry import all_rules


def _pretty(example: str) -> str:
    try:
        return json.dumps(json.loads(example), indent=2)
    except ValueError:
        return example


def rules_markdown() -> str:
    """Markdown with one section per rule: id, name, severity, family, summary, bad and fixed examples."""
    rules = sorted(all_rules().values(), key=lambda r: r.id)
    lines = [
        "# Lint rules",
        "",
        "Generated from the rule registry (`python -m policyengine.lint.docs > docs/rules.md`).",
        "",
        "| id | name | severity | family | what it finds |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| [{r.id}](#{r.id.lower()}) | {r.name} | {r.severity} | {r.family} | {r.summary} |" for r in rules]
    for rule in rules:
        lines += ["", f"## {rule.id}", "", f"**{rule.name}** — {rule.severity}, {rule.family}. {rule.summary}", ""]
        if rule.help_uri:
            lines += [f"AWS documentation: <{rule.help_uri}>", ""]
        lines += ["Bad:", "", "```json", _pretty(rule.bad), "```", "", "Fixed:", "", "```json", _pretty(rule.good), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(rules_markdown(), end="")
