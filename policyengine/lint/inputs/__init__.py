"""What ``policyengine lint`` reads: files, directories and stdin, turned into ``LintTarget``s.

``read_inputs`` expands directories, reads each file as JSON or YAML, recognises its format
by content and asks that format's module for its policies:

* ``policy``: a policy document, or ``aws kms get-key-policy`` output;
* ``terraform``: ``terraform show -json`` plans (and state);
* ``authdetails``: ``aws iam get-account-authorization-details`` exports;
* ``cloudformation``: CloudFormation templates, JSON or YAML;
* ``hcl``: Terraform sources (``.tf``), read with python-hcl2.

Nothing is dropped without a word. A file that cannot be read, is not JSON/YAML, or is a
recognised format with a required field wrong is an input error ``(path, message)``; a file
that is none of the formats is an input error too when it was named on the command line. Only
while walking a directory are unrelated files (``package.json``, CI configuration, Helm
charts) passed over quietly; a file there is still reported when it looks like one of ours
(a broken policy becomes a target whose ``read_issues`` say what is wrong).
"""

from __future__ import annotations

import glob
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from policyengine.errors import PolicyInputError, PolicyParseError
from policyengine.lint.finding import LintTarget, NotRead, PolicyType
from policyengine.lint.inputs import authdetails, cloudformation, policy, terraform
from policyengine.lint.inputs._targets import FileContext, Syntax, input_error_text
from policyengine.lint.inputs.bindings import Bindings
from policyengine.parsing.document import parse_json_with_positions, read_text
from policyengine.parsing.json_locate import SpanLocator
from policyengine.parsing.json_tree import JNode

__all__ = [
    "DEFAULT_INCLUDE",
    "NOT_RECOGNISED",
    "SKIPPED_DIRECTORIES",
    "Inputs",
    "TargetReader",
    "read_inputs",
]

DEFAULT_INCLUDE: tuple[str, ...] = ("*.json", "*.yaml", "*.yml", "*.template", "*.tf")
SKIPPED_DIRECTORIES = frozenset({".git", "node_modules", ".venv"})
NOT_RECOGNISED = "not a policy, Terraform plan, CloudFormation template or IAM authorization details export"
STDIN_NAME = "<stdin>"

# Order matters only for shapes two formats could share: a policy's `Statement` decides first.
_FORMATS = (policy, terraform, authdetails, cloudformation)

# Words that make a file found by walking worth reporting even when it does not parse.
_OURS_JSON = re.compile(r'"(?:Statement|Policy|PolicyDocument|KeyPolicy|AssumeRolePolicyDocument|AWSTemplateFormatVersion)"')
_OURS_YAML = re.compile(r"AWSTemplateFormatVersion|\bType:\s*['\"]?AWS::")


@dataclass
class Inputs:
    """What the paths held: policies to lint, input errors ``(path, message)``, and policies found but not read."""

    targets: list[LintTarget] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    not_read: list[NotRead] = field(default_factory=list)


def read_inputs(
    paths: Sequence[str],
    *,
    include: Sequence[str] = DEFAULT_INCLUDE,
    exclude: Sequence[str] = (),
    policy_type: PolicyType | None = None,
    stdin_text: str | None = None,
    bindings: Bindings | None = None,
    skip_non_policy: bool = False,
    accept: Callable[[str], bool] | None = None,
) -> Inputs:
    """The targets in ``paths``, the input errors of files that could not be used, and what was not read.

    Directories are walked recursively in sorted order; ``include``/``exclude`` are globs
    matched against the path relative to the directory and against the base name, and
    ``.git``, ``node_modules`` and ``.venv`` are never entered. Files named explicitly are
    always read, and are an error when they are not a policy, template, plan or export, unless
    ``skip_non_policy`` treats them as walking would (the pre-commit hook names every staged file).
    A path that does not exist but holds ``*``, ``?`` or ``[`` is a glob (``**`` crosses folders) whose
    matches are read as walking would. ``-`` is standard input: ``stdin_text`` when given, else
    ``sys.stdin``. ``accept``, when given,
    must also say yes to a file found by walking (or named, with ``skip_non_policy``): the lint
    configuration's include/exclude, relative to the configuration's directory.
    ``policy_type`` fixes the type of standalone policy documents; policies inside templates,
    plans and exports take theirs from where they sit. ``bindings`` fill in the deployment's
    account, region and parameters where templates leave them open.
    """
    reader = TargetReader(
        paths,
        include=include,
        exclude=exclude,
        policy_type=policy_type,
        stdin_text=stdin_text,
        bindings=bindings,
        skip_non_policy=skip_non_policy,
        accept=accept,
    )
    found = Inputs()
    for item in reader.inputs:
        found.targets += reader.read(item)
    found.errors, found.not_read = reader.errors, reader.not_read
    return found


class TargetReader:
    """``read_inputs`` one input at a time, so a caller can lint each file's targets and let them go.

    ``inputs`` lists what will be read, as (path, named explicitly), walked and filtered up front
    (``-`` is standard input); ``read`` gives one input's targets; ``errors`` collects the input
    errors and ``not_read`` the policies found but not read, in the order met. Holding every
    parsed document of a large tree at once is what made a long run slow (the garbage collector
    walks everything still alive), so ``run_lint`` reads and lints file by file.
    """

    def __init__(
        self,
        paths: Sequence[str],
        *,
        include: Sequence[str] = DEFAULT_INCLUDE,
        exclude: Sequence[str] = (),
        policy_type: PolicyType | None = None,
        stdin_text: str | None = None,
        bindings: Bindings | None = None,
        skip_non_policy: bool = False,
        accept: Callable[[str], bool] | None = None,
    ) -> None:
        self._collector = _Collector(policy_type, bindings or Bindings())
        self._stdin_text = stdin_text
        self.inputs: list[tuple[str, bool]] = []
        for path in paths:
            if path == "-":
                self.inputs.append((path, True))
            elif os.path.isdir(path):
                walked = walk_directory(path, include, exclude)
                self.inputs += [(file, False) for file in walked if accept is None or accept(file)]
            elif not os.path.exists(path) and _GLOB.search(path):
                self._expand(path, include, exclude, accept)
            elif not skip_non_policy:
                self.inputs.append((path, True))
            elif accept is None or accept(path):
                self.inputs.append((path, False))

    def _expand(self, pattern: str, include: Sequence[str], exclude: Sequence[str], accept: Callable[[str], bool] | None) -> None:
        """A glob the shell did not expand (quoted, or a shell without globbing): its files are found, not named.

        Like a walked directory, what it finds is read quietly when it is not a policy (``**`` crosses
        folders; hidden ones are not matched, as in a shell); a pattern that matches nothing is an input error.
        """
        matched = sorted(glob.glob(pattern, recursive=True))
        if not matched:
            self._collector.errors.append((pattern, "no file matches this pattern"))
        for path in matched:
            found = walk_directory(path, include, exclude) if os.path.isdir(path) else [path]
            self.inputs += [(file, False) for file in found if accept is None or accept(file)]

    @property
    def errors(self) -> list[tuple[str, str]]:
        return self._collector.errors

    @property
    def not_read(self) -> list[NotRead]:
        return self._collector.not_read

    def read(self, item: tuple[str, bool]) -> list[LintTarget]:
        """The targets of one of ``inputs`` (path, named explicitly); its input errors go to ``errors``."""
        collector = self._collector
        name, explicit = item
        if name == "-":
            text = self._stdin_text if self._stdin_text is not None else sys.stdin.read()
            collector.text(STDIN_NAME, text, explicit=True)
        else:
            collector.file(name, explicit=explicit)
        found, collector.targets = collector.targets, []
        return found


_GLOB = re.compile(r"[*?\[]")


def walk_directory(directory: str, include: Sequence[str], exclude: Sequence[str]) -> list[str]:
    """The files under ``directory`` that ``include`` selects and ``exclude`` does not, sorted."""
    found: list[str] = []
    for current, subdirectories, files in os.walk(directory):
        relative = Path(current).relative_to(directory)
        subdirectories[:] = sorted(
            d for d in subdirectories if d not in SKIPPED_DIRECTORIES and not _matches((relative / d).as_posix(), d, exclude)
        )
        for name in sorted(files):
            relative_path = (relative / name).as_posix()
            if _matches(relative_path, name, include) and not _matches(relative_path, name, exclude):
                found.append(os.path.join(current, name))
    return found


def _matches(relative_path: str, name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(relative_path, p) or fnmatchcase(name, p) for p in patterns)


def syntax_of(name: str, text: str) -> Syntax:
    """JSON for ``.json`` files, YAML for ``.yaml``/``.yml``; otherwise by the first character."""
    lowered = name.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    return "json" if text.lstrip()[:1] in ("{", "[") else "yaml"


class _Collector:
    """Accumulates the targets (until ``TargetReader.read`` takes them), input errors and not-read policies of one run."""

    def __init__(self, policy_type: PolicyType | None, bindings: Bindings) -> None:
        self.policy_type = policy_type
        self.bindings = bindings
        self.targets: list[LintTarget] = []
        self.errors: list[tuple[str, str]] = []
        self.not_read: list[NotRead] = []
        self.seen: set[str] = set()

    def file(self, path: str, *, explicit: bool) -> None:
        if path in self.seen:
            return
        self.seen.add(path)
        try:
            source, text = read_text(path)
        except PolicyInputError as exc:
            self.errors.append((path, input_error_text(exc)))
            return
        self.text(source, text, explicit=explicit)

    def text(self, source: str, text: str, *, explicit: bool) -> None:
        try:
            self._read(source, text, explicit=explicit)
        except RecursionError:
            self.errors.append((source, "the document is nested too deeply to read"))

    def _read(self, source: str, text: str, *, explicit: bool) -> None:
        if source.lower().endswith(".tf"):
            from policyengine.lint.inputs import hcl  # python-hcl2 and Lark: loaded only for Terraform sources

            context = FileContext(source, text, "hcl", self.policy_type, self.bindings)
            self.targets += hcl.extract(context, text)
            self._take(context)
            return
        syntax = syntax_of(source, text)
        root: JNode | None
        if syntax == "json":
            plain = policy.plain_document(text)
            if plain is not None:  # positions found on demand, for what findings point at
                context = FileContext(source, text, syntax, self.policy_type, self.bindings, locator=SpanLocator(text, plain))
                self.targets += policy.extract_plain(context, plain)
                self._take(context)
                return
            try:
                root = parse_json_with_positions(text, source)
            except PolicyParseError as exc:
                if explicit or _OURS_JSON.search(text):
                    # Broken JSON is a finding (rule "JSON syntax"), not an unusable input.
                    self.targets.append(
                        LintTarget(
                            source,
                            self.policy_type or policy.guess_type_from_text(text),
                            None,
                            text,
                            None,
                            exc.issues,
                        )
                    )
                return
        else:
            from policyengine.lint.inputs._yaml import YamlInputError, parse_yaml_with_positions  # PyYAML, for YAML only

            try:
                root = parse_yaml_with_positions(text)
            except YamlInputError as exc:
                if explicit or _OURS_YAML.search(text):
                    self.errors.append((source, str(exc)))
                return
        if root is not None:
            for module in _FORMATS:
                if module.detect(root):
                    self._extract(module.extract, FileContext(source, text, syntax, self.policy_type, self.bindings), root)
                    return
        if explicit:
            self.errors.append((source, NOT_RECOGNISED))

    def _extract(self, extract: Callable[[FileContext, JNode], list[LintTarget]], context: FileContext, root: JNode) -> None:
        self.targets += extract(context, root)
        self._take(context)

    def _take(self, context: FileContext) -> None:
        """The input errors and not-read policies a file's reading recorded."""
        self.errors += [(context.source, message) for message in context.errors]
        self.not_read += context.not_read
