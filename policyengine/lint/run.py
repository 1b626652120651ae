"""A whole lint run: configuration, inputs, rules, suppressions and the baseline, in that order.

The CLI is a thin shell over ``run_lint``; tests and other tools call it directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from policyengine.lint.baseline import Baseline, load_baseline, write_baseline
from policyengine.lint.config import LintConfig, split_sid_suppressed
from policyengine.lint.engine import lint_target
from policyengine.lint.finding import SEVERITY_ORDER, Finding, LintTarget, NotRead, PolicyType, Severity
from policyengine.lint.inputs import DEFAULT_INCLUDE, TargetReader
from policyengine.lint.inputs.bindings import Bindings
from policyengine.lint.registry import Rule, all_rules


@dataclass
class LintRun:
    """What a run found: findings to report, those suppressed or already in the baseline, input errors."""

    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    known: list[Finding] = field(default_factory=list)
    input_errors: list[tuple[str, str]] = field(default_factory=list)
    not_read: list[NotRead] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    targets: int = 0

    def fails(self, fail_on: Severity) -> bool:
        """Whether any reported finding is at or above ``fail_on``."""
        return any(SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER[fail_on] for f in self.findings)


def run_lint(
    paths: Sequence[str],
    config: LintConfig,
    *,
    policy_type: PolicyType | None = None,
    baseline: Path | None = None,
    write_baseline_to: Path | None = None,
    stdin_text: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    bindings: Bindings | None = None,
) -> LintRun:
    """Lint ``paths`` under ``config``; the CLI renders the result. ``progress`` gets (inputs read, inputs)."""
    rules = all_rules()
    config.check_names(rules)
    include = config.include or DEFAULT_INCLUDE
    reader = TargetReader(
        paths, include=include, exclude=config.exclude, policy_type=policy_type, stdin_text=stdin_text, bindings=bindings
    )
    run = LintRun()
    for number, item in enumerate(reader.inputs, 1):
        for target in reader.read(item):  # file by file: each file's documents are let go once linted
            run.targets += 1
            target = _retyped(target, config, policy_type)
            if target.text is not None:
                run.texts.setdefault(target.source, target.text)
            chosen = [r for r in rules.values() if config.enabled(r.id, r.family, target.source)]
            found = lint_target(target, chosen)
            kept, suppressed = split_sid_suppressed(found)
            run.findings.extend(kept)
            run.suppressed.extend(suppressed)
        if progress is not None:
            progress(number, len(reader.inputs))
    run.input_errors = list(reader.errors)
    run.not_read = list(reader.not_read)
    run.findings.sort(key=Finding.sort_key)
    if write_baseline_to is not None:
        write_baseline(run.findings, write_baseline_to, run.texts)
    if baseline is not None:
        known_baseline: Baseline = load_baseline(baseline)
        run.findings, run.known = known_baseline.filter(run.findings, run.texts)
    return run


def _retyped(target: LintTarget, config: LintConfig, explicit: PolicyType | None) -> LintTarget:
    """Apply a ``policy-type`` glob of the configuration to a standalone policy file."""
    if explicit is not None or target.owner is not None:
        return target
    configured = config.policy_type_for(target.source)
    if configured is None or configured == target.policy_type:
        return target
    return dataclasses.replace(target, policy_type=configured)


def rules() -> dict[str, Rule]:
    return all_rules()
