"""Lint configuration and suppressions: the config file, per-path ignores and ignore markers in Sids.

docs/lint-config.md documents every key with an example; keep the two in step (a test checks).

The configuration lives in ``pyproject.toml`` under ``[tool.policyengine.lint]``, or in a
``.policyengine.toml`` under ``[lint]`` (``[tool.policyengine.lint]`` is accepted there too, so a
block copied from ``pyproject.toml`` works). Without ``--config FILE`` the nearest one is used,
searching from the linted path up to the filesystem root; in one directory ``.policyengine.toml``
wins over ``pyproject.toml``, and a ``pyproject.toml`` without the table is skipped::

    [tool.policyengine.lint]
    select = ["ALL"]                      # rule ids (PE020), family names (kms) or ALL; default ALL
    ignore = ["PE104", "types"]           # rule ids or families
    fail-on = "warning"                   # security | error | warning | suggestion (default warning)
    include = ["policies/**"]             # only these paths (default: everything given)
    exclude = ["vendor", "**/*.draft.json"]

    [tool.policyengine.lint.per-path-ignores]
    "legacy/**" = ["PE020", "PE031"]

    [tool.policyengine.lint.policy-type]
    "keys/*.json" = "key"                 # key, identity, resource, scp, rcp, boundary, trust

Globs are relative to the directory of the configuration file: ``*`` and ``?`` stay within one
path segment, ``**`` crosses segments, a glob without ``/`` matches any single path segment (a
file or directory name), and a glob that matches a directory covers everything under it. Where a
rule is both selected and ignored, the more specific name wins (a rule id beats a family, which
beats ``ALL``; on a tie, ignore wins); per-path ignores always apply.

Per-statement suppression: a statement whose Sid contains ``policyengine:ignore=RULE[,RULE...]``
(or ``policyengine:ignore=ALL``) silences those rules for findings on that statement, for example
``"Sid": "Partner access policyengine:ignore=PE302,PE303"``. Key, resource and trust policies accept
any printable ASCII in a Sid, so the marker fits there; identity policies, SCPs and boundaries
allow only letters and digits, so use ``per-path-ignores`` for those.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyengine.errors import PolicyEngineError
from policyengine.lint.finding import POLICY_TYPES, SEVERITIES, Finding, PolicyType, Severity
from policyengine.lint.registry import Rule

__all__ = [
    "CONFIG_FILE",
    "ConfigError",
    "LintConfig",
    "find_config",
    "glob_matches",
    "load_config",
    "sid_ignores",
    "split_sid_suppressed",
    "suppressed_by_sid",
]

CONFIG_FILE = ".policyengine.toml"
PYPROJECT = "pyproject.toml"
ALL = "ALL"

_KEYS = ("select", "ignore", "per-path-ignores", "fail-on", "include", "exclude", "policy-type")


class ConfigError(PolicyEngineError):
    """The lint configuration (or a baseline file) is malformed; the one-line message names the file and key."""


PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class LintConfig:
    """What to lint and which rules to run where. ``path`` is the file it came from (None: defaults).

    ``root`` is the directory the globs are relative to (the config file's directory; None means the
    working directory).
    """

    path: Path | None = None
    root: Path | None = None
    select: tuple[str, ...] = (ALL,)
    ignore: tuple[str, ...] = ()
    per_path_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fail_on: Severity | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    policy_types: tuple[tuple[str, PolicyType], ...] = ()

    def enabled(self, rule_id: str, family: str, path: PathLike) -> bool:
        """Whether rule ``rule_id`` (of ``family``) runs on the file at ``path``."""
        select, ignore, per_path = self._folded
        selected = _specificity(select, rule_id, family)
        if selected < 0 or _specificity(ignore, rule_id, family) >= selected:
            return False
        if not per_path:
            return True
        relative = self.relative(path)
        return not any(_specificity(ids, rule_id, family) >= 0 and glob_matches(glob, relative) for glob, ids in per_path)

    @functools.cached_property
    def _folded(self) -> tuple[frozenset[str], frozenset[str], tuple[tuple[str, frozenset[str]], ...]]:
        """The names case-folded once: select, ignore, and each per-path glob's names."""
        return (
            _fold(self.select),
            _fold(self.ignore),
            tuple((glob, _fold(ids)) for glob, ids in self.per_path_ignores),
        )

    def included(self, path: PathLike) -> bool:
        """Whether ``path`` is linted: not excluded, and matched by ``include`` when that is given."""
        relative = self.relative(path)
        if any(glob_matches(glob, relative) for glob in self.exclude):
            return False
        return not self.include or any(glob_matches(glob, relative) for glob in self.include)

    def policy_type_for(self, path: PathLike) -> PolicyType | None:
        """The policy type the first matching ``policy-type`` glob gives ``path``, or None."""
        relative = self.relative(path)
        return next((kind for glob, kind in self.policy_types if glob_matches(glob, relative)), None)

    def relative(self, path: PathLike) -> str:
        """``path`` as the globs see it: forward slashes, relative to ``root`` when inside it."""
        return self._relative(str(path))

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - configs are few and long-lived; paths repeat per rule
    def _relative(self, path: str) -> str:
        """``path`` as the globs see it: forward slashes, relative to ``root`` when inside it."""
        given = Path(path)
        if str(path) == "-":
            return "-"
        base = Path(os.path.abspath(self.root if self.root is not None else Path.cwd()))
        try:
            return Path(os.path.abspath(given)).relative_to(base).as_posix()
        except ValueError:
            return given.as_posix()

    def with_overrides(
        self, *, select: Sequence[str] | None = None, ignore: Sequence[str] | None = None, fail_on: Severity | None = None
    ) -> LintConfig:
        """The command line on top of the file: ``--select`` replaces, ``--ignore`` adds, ``--fail-on`` replaces."""
        return dataclasses.replace(
            self,
            select=tuple(select) if select is not None else self.select,
            ignore=self.ignore + tuple(ignore or ()),
            fail_on=fail_on if fail_on is not None else self.fail_on,
        )

    def check_names(self, rules: Mapping[str, Rule]) -> None:
        """Raise ``ConfigError`` for a name in select, ignore or per-path-ignores that is no rule id or family."""
        valid = {*rules, *(r.family for r in rules.values()), ALL}
        known = {n.casefold() for n in valid}
        where = str(self.path) if self.path is not None else "configuration"
        groups: list[tuple[str, Iterable[str]]] = [("select", self.select), ("ignore", self.ignore)]
        groups += [(f"per-path-ignores.{glob}", ids) for glob, ids in self.per_path_ignores]
        for key, names in groups:
            for name in names:
                if name.casefold() not in known:
                    raise ConfigError(f"{where}: unknown rule or family `{name}` in `{key}`{_did_you_mean(name, valid)}")


def _fold(names: Iterable[str]) -> frozenset[str]:
    return frozenset(n.casefold() for n in names)


def _specificity(folded: frozenset[str], rule_id: str, family: str) -> int:
    """How specifically the case-folded ``folded`` names the rule: 2 by id, 1 by family, 0 by ALL, -1 not at all."""
    if rule_id.casefold() in folded:
        return 2
    if family.casefold() in folded:
        return 1
    return 0 if ALL.casefold() in folded else -1


# ---------------------------------------------------------------------------------------------
# Finding and reading the file


def find_config(start: PathLike) -> Path | None:
    """The nearest ``.policyengine.toml``, or ``pyproject.toml`` with ``[tool.policyengine.lint]``, from ``start`` up."""
    here = Path(os.path.abspath(start))
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and _lint_table(pyproject, _read_toml(pyproject), required=False) is not None:
            return pyproject
    return None


def load_config(start_dir: PathLike, explicit: Path | None = None) -> LintConfig:
    """The configuration from ``explicit`` (``--config FILE``) or else the nearest file above ``start_dir``.

    No file found means the defaults (every rule, no ignores). Raises ``ConfigError`` for a file that
    cannot be read, is not TOML, or has an unknown key or a value of the wrong type.
    """
    if explicit is not None:
        if not Path(explicit).is_file():
            raise ConfigError(f"{explicit}: configuration file not found")
        path = Path(explicit)
    else:
        found = find_config(start_dir)
        if found is None:
            return LintConfig()
        path = found
    found_table = _lint_table(path, _read_toml(path), required=True)
    assert found_table is not None  # required=True raises instead
    return _parse(path, *found_table)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a configuration file to read

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None


def _lint_table(path: Path, data: dict[str, Any], *, required: bool) -> tuple[str, dict[str, Any]] | None:
    """The lint table of a pyproject-style or ``.policyengine.toml``-style file and its dotted name.

    None when a ``pyproject.toml`` has no such table and ``required`` is false.
    """
    nested = _dig(data, "tool", "policyengine", "lint")
    if path.name == PYPROJECT:
        if nested is None:
            if required:
                raise ConfigError(f"{path}: no [tool.policyengine.lint] table")
            return None
        return _table(path, "tool.policyengine.lint", nested)
    for key in data:
        if key == "tool" and nested is not None and data["tool"] == {"policyengine": {"lint": nested}}:
            continue
        if key != "lint":
            raise ConfigError(
                f"{path}: unknown key `{key}`{_did_you_mean(key, {'lint'})}; valid tables: [lint] or [tool.policyengine.lint]"
            )
    if "lint" in data and nested is not None:
        raise ConfigError(f"{path}: both [lint] and [tool.policyengine.lint]; keep one")
    if nested is not None:
        return _table(path, "tool.policyengine.lint", nested)
    return _table(path, "lint", data.get("lint", {}))


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _table(path: Path, name: str, value: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: `{name}` must be a table")
    return name, value


def _parse(path: Path, name: str, table: dict[str, Any]) -> LintConfig:
    for key in table:
        if key not in _KEYS:
            raise ConfigError(
                f"{path}: unknown key `{key}` in [{name}]{_did_you_mean(key, set(_KEYS))}; valid keys: {', '.join(_KEYS)}"
            )

    def strings(key: str) -> tuple[str, ...] | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: `{name}.{key}` must be a list of strings")
        return tuple(value)

    def mapping(key: str) -> dict[str, Any]:
        value = table.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: `{name}.{key}` must be a table of glob = value")
        return value

    per_path: list[tuple[str, tuple[str, ...]]] = []
    for glob, ids in mapping("per-path-ignores").items():
        if not isinstance(ids, list) or not all(isinstance(v, str) for v in ids):
            raise ConfigError(f'{path}: `{name}.per-path-ignores."{glob}"` must be a list of rule ids or families')
        per_path.append((glob, tuple(ids)))
    kinds: list[tuple[str, PolicyType]] = []
    for glob, kind in mapping("policy-type").items():
        if kind not in POLICY_TYPES:
            raise ConfigError(f'{path}: `{name}.policy-type."{glob}"` must be one of {", ".join(POLICY_TYPES)}')
        kinds.append((glob, kind))
    fail_on = table.get("fail-on")
    if fail_on is not None and fail_on not in SEVERITIES:
        raise ConfigError(f"{path}: `{name}.fail-on` must be one of {', '.join(SEVERITIES)}")
    select = strings("select")
    return LintConfig(
        path=path,
        root=Path(os.path.abspath(path)).parent,
        select=select if select is not None else (ALL,),
        ignore=strings("ignore") or (),
        per_path_ignores=tuple(per_path),
        fail_on=fail_on,
        include=strings("include") or (),
        exclude=strings("exclude") or (),
        policy_types=tuple(kinds),
    )


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    by_folded = {choice.casefold(): choice for choice in sorted(choices)}
    import difflib  # only when a name is unknown and a suggestion is looked for

    close = difflib.get_close_matches(word.casefold(), list(by_folded), n=1)
    return f" (did you mean `{by_folded[close[0]]}`?)" if close else ""


# ---------------------------------------------------------------------------------------------
# Globs


def glob_matches(pattern: str, path: str) -> bool:
    """Whether the config glob ``pattern`` matches the relative, forward-slash ``path`` (see the module doc)."""
    anchored = pattern.startswith("/")
    directory_only = pattern.endswith("/")
    pattern = pattern.strip("/").removeprefix("./")
    if not pattern:
        return False
    parts = path.split("/")
    regex = _glob_regex(pattern)
    if not anchored and "/" not in pattern:
        names = parts[:-1] if directory_only else parts
        return any(regex.fullmatch(name) for name in names)
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + (0 if directory_only else 1))]
    return any(regex.fullmatch(prefix) for prefix in prefixes)


@functools.lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (close := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : close]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            i = close + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


# ---------------------------------------------------------------------------------------------
# Suppression by Sid

SID_MARKER = "policyengine:ignore="
_SID_MARKER = re.compile(r"policyengine:ignore=([A-Za-z0-9_-]+(?:\s*,\s*[A-Za-z0-9_-]+)*)", re.IGNORECASE)


def sid_ignores(sid: str | None) -> frozenset[str]:
    """The rule ids (upper-cased; ``ALL`` for every rule) that ``policyengine:ignore=`` markers in ``sid`` name."""
    if not sid:
        return frozenset()
    return frozenset(
        name.strip().upper() for match in _SID_MARKER.finditer(sid) for name in match.group(1).split(",") if name.strip()
    )


def suppressed_by_sid(finding: Finding, sids_by_statement: Mapping[str, str] | None = None) -> bool:
    """Whether the Sid of the statement ``finding`` is about names its rule (or ALL) in an ignore marker.

    ``sids_by_statement`` maps a statement label (``Finding.statement``) to that statement's Sid;
    leave it out when the labels are the Sids, as the rules make them (a statement without a Sid
    is labelled ``#index`` and cannot carry a marker). A finding on no statement is never suppressed.
    """
    label = finding.statement
    if label is None:
        return False
    sid = sids_by_statement.get(label) if sids_by_statement is not None else label
    ignored = sid_ignores(sid)
    return bool(ignored) and (ALL in ignored or finding.rule_id.upper() in ignored)


def split_sid_suppressed(
    findings: Iterable[Finding], sids_by_statement: Mapping[str, str] | None = None
) -> tuple[list[Finding], list[Finding]]:
    """``findings`` split into (kept, suppressed by a Sid marker), each in the given order."""
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for finding in findings:
        (suppressed if suppressed_by_sid(finding, sids_by_statement) else kept).append(finding)
    return kept, suppressed
