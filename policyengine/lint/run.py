"""A whole lint run: configuration, inputs, rules, suppressions and the baseline, in that order.

The CLI is a thin shell over ``run_lint``; tests and other tools call it directly. ``LintRun``
also says what a CI log needs at the end: one summary line (counts per severity, files, input
errors, suppressions) and why the run exits as it does (``LintRun.outcome``).
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from policyengine.lint.config import LintConfig, split_sid_suppressed
from policyengine.lint.engine import lint_target
from policyengine.lint.finding import DEFAULT_FAIL_ON, SEVERITY_ORDER, Finding, LintTarget, NotRead, PolicyType, Severity
from policyengine.lint.inputs import DEFAULT_INCLUDE, TargetReader
from policyengine.lint.inputs.bindings import Bindings
from policyengine.lint.registry import Rule, all_rules
from policyengine.lint.reporters._common import plural, summarize

#: Exit codes of the CLI contract: nothing at or above --fail-on, input or usage error, findings at or above it.
EXIT_PASSED, EXIT_INPUT_ERROR, EXIT_FINDINGS = 0, 1, 3


@dataclass(frozen=True)
class Outcome:
    """How a run ends: the exit code and the reason, one line for the CI log (``exit 3: ...``)."""

    exit_code: int
    reason: str

    def line(self) -> str:
        return f"exit {self.exit_code}: {self.reason}"


@dataclass
class LintRun:
    """What a run found: findings to report, those suppressed or already in the baseline, input errors.

    ``files`` counts the files read (or standard input); ``baseline_path``/``baseline_written`` say
    which baseline was applied or written.
    """

    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    known: list[Finding] = field(default_factory=list)
    input_errors: list[tuple[str, str]] = field(default_factory=list)
    not_read: list[NotRead] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    targets: int = 0
    files: int = 0
    baseline_path: Path | None = None
    baseline_written: Path | None = None

    def fails(self, fail_on: Severity) -> bool:
        """Whether any reported finding is at or above ``fail_on``."""
        return self.failing(fail_on) > 0

    def failing(self, fail_on: Severity) -> int:
        """How many reported findings are at or above ``fail_on``."""
        return sum(SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER[fail_on] for f in self.findings)

    def summary_line(self) -> str:
        """Counts per severity, files, unreadable files and suppressions, on one line (never "no findings" beside an error)."""
        by_severity = summarize(self.findings).counts()
        where = f"{plural(self.files, 'file')} ({plural(self.targets, 'policy', 'policies')})"
        parts = [f"{plural(len(self.findings), 'finding')} ({by_severity}) in {where}"]
        if self.input_errors:
            parts.append(f"{plural(len(self.input_errors), 'file')} could not be read")
        if self.baseline_path is not None:
            parts.append(f"{len(self.known)} suppressed by the baseline {self.baseline_path}")
        if self.suppressed:
            parts.append(f"{len(self.suppressed)} suppressed by Sid markers")
        return "; ".join(parts)

    def outcome(self, fail_on: Severity) -> Outcome:
        """The exit code and its reason: input errors first (1), then findings at or above ``fail_on`` (3), else 0."""
        failing = self.failing(fail_on)
        also = f" (and {plural(failing, 'finding')} at or above `{fail_on}`)" if failing else ""
        if self.input_errors:
            return Outcome(EXIT_INPUT_ERROR, f"{plural(len(self.input_errors), 'file')} could not be read{also}")
        if self.baseline_written is not None:
            from policyengine.lint.baseline import baseline_root

            return Outcome(
                EXIT_PASSED,
                f"wrote {plural(len(self.findings), 'finding')} to the baseline {self.baseline_written}"
                f" (paths relative to {baseline_root(self.baseline_written)})",
            )
        if failing:
            return Outcome(EXIT_FINDINGS, f"{plural(failing, 'finding')} at or above `{fail_on}` (--fail-on)")
        return Outcome(EXIT_PASSED, f"no findings at or above `{fail_on}` (--fail-on)")


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
    skip_non_policy: bool = False,
) -> LintRun:
    """Lint ``paths`` under ``config``; the CLI renders the result. ``progress`` gets (inputs read, inputs).

    ``skip_non_policy`` reads files named in ``paths`` as if a directory walk had found them: the
    configuration's ``include``/``exclude`` apply, and a file that is not a policy, template, plan
    or export is skipped quietly instead of being an input error. The pre-commit hook passes it,
    because pre-commit names every staged file its ``files`` pattern matches (package.json,
    workflow YAML, ...).
    """
    rules = all_rules()
    config.check_names(rules)
    # The walker's own include/exclude only prune (file kinds, directories not to enter);
    # `config.included` decides with the documented globs, relative to the configuration's directory.
    reader = TargetReader(
        paths,
        include=("*",) if config.include else DEFAULT_INCLUDE,
        exclude=config.exclude,
        policy_type=policy_type,
        stdin_text=stdin_text,
        bindings=bindings,
        skip_non_policy=skip_non_policy,
        accept=config.included,
    )
    run = LintRun()
    sources: set[str] = set()
    # Without per-path ignores the rules that run are the same for every file: chosen once, not per rule and file.
    everywhere = None if config.per_path_ignores else [r for r in rules.values() if config.enabled(r.id, r.family, "")]
    with fewer_collections():
        for number, item in enumerate(reader.inputs, 1):
            for target in reader.read(item):  # file by file: each file's documents are let go once linted
                run.targets += 1
                sources.add(target.source)
                target = _retyped(target, config, policy_type)
                if target.text is not None:
                    run.texts.setdefault(target.source, target.text)
                chosen = everywhere
                if chosen is None:
                    chosen = [r for r in rules.values() if config.enabled(r.id, r.family, target.source)]
                found = lint_target(target, chosen)
                kept, suppressed = split_sid_suppressed(found)
                run.findings.extend(kept)
                run.suppressed.extend(suppressed)
            if progress is not None:
                progress(number, len(reader.inputs))
    run.input_errors = list(reader.errors)
    run.not_read = list(reader.not_read)
    run.files = len(sources)
    run.findings.sort(key=Finding.sort_key)
    # Baselines (and the fingerprints they key findings by) are imported only by a run that uses one.
    if write_baseline_to is not None:
        from policyengine.lint.baseline import baseline_root, write_baseline

        write_baseline(run.findings, write_baseline_to, run.texts, root=baseline_root(write_baseline_to))
        run.baseline_written = write_baseline_to
    if baseline is not None:
        from policyengine.lint.baseline import baseline_root, load_baseline

        accepted = load_baseline(baseline, root=baseline_root(baseline))
        run.findings, run.known = accepted.filter(run.findings, run.texts)
        run.baseline_path = baseline
    return run


#: The collector's first threshold while files are linted (CPython's default is 700 allocations).
LINT_GC_THRESHOLD = 10_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the garbage collector less often while linting, and as before afterwards.

    Reading and linting a file makes thousands of short-lived objects (JSON nodes, models, findings)
    that reference counting frees, none in cycles; at CPython's default threshold the collector
    still ran about 1,700 times over 1,000 policies, walking the young objects and, now and then,
    every object the catalog holds: about 14% of the run's CPU (bench/bench_lint.py corpus). With the
    first threshold at ``LINT_GC_THRESHOLD`` it runs about 160 times and costs about 1%.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], LINT_GC_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def fail_on_or_default(configured: Severity | None) -> Severity:
    """The ``--fail-on`` threshold: the command line's or the configuration's, else ``DEFAULT_FAIL_ON``."""
    return configured if configured is not None else DEFAULT_FAIL_ON


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
