"""Reading and writing snapshot files, with errors that name the file and the field.

Pydantic reports a bad field by its position (``accounts.0.users.3.tags``); we walk the raw
data along that position and name list items by their ``name``/``id`` where they have one
(``accounts[111122223333].users[alice].tags``), because that is how a person finds the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from policyengine.access.errors import SnapshotError
from policyengine.access.snapshot import Snapshot
from policyengine.model import exact_instance

_ITEM_NAMES = ("id", "name", "grant_id", "arn", "target")


def field_path(data: Any, loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as ``a[name].b``, items named by their id or name where possible."""
    text = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            label = str(part)
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            if isinstance(item, dict):
                for name in _ITEM_NAMES:
                    if isinstance(item.get(name), str | int):
                        label = str(item[name])
                        break
            text += f"[{label}]"
            node = item
        else:
            text += f".{part}" if text else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return text


#: pydantic's messages for a dataclass where they differ from those it gives a model (which the snapshot's classes
#: were until they became dataclasses): the messages a user sees stayed the same.
_MODEL_MESSAGES = {
    "unexpected_keyword_argument": "Extra inputs are not permitted",
    "dataclass_type": "Input should be a valid dictionary or instance of {class_name}",
}


def snapshot_from_data(data: Any, source: str) -> Snapshot:
    """Validate plain data as a snapshot; the first problem becomes a ``SnapshotError``.

    Data already exactly of the snapshot's shape is built without pydantic (``exact_instance``: the same result,
    without importing pydantic and building its validator, about half of a query's start-up); anything else is
    validated by pydantic, which converts what it may and names what is wrong.
    """
    if not isinstance(data, dict):
        raise SnapshotError(source, "", "a snapshot must be a mapping with `accounts`")
    exact = exact_instance(Snapshot, data)
    if exact is not None:
        return exact
    from pydantic import ValidationError

    try:
        return Snapshot.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p in ("str", "dict[str,any]")))
        template = _MODEL_MESSAGES.get(first["type"])
        text = template.format(**first.get("ctx", {})) if template else first["msg"]
        message = text[0].lower() + text[1:]
        raise SnapshotError(source, field_path(data, loc), f"{message}{more}") from None


def load_snapshot(path: str | Path) -> Snapshot:
    """Read a snapshot from a ``.yaml``/``.yml`` or JSON file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SnapshotError(source, "", f"cannot read the file ({exc.strerror})") from None
    if source.endswith((".yaml", ".yml")):
        try:
            data = _load_yaml(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            raise SnapshotError(source, "", f"{where}{getattr(exc, 'problem', None) or 'invalid YAML'}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SnapshotError(source, "", f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    return snapshot_from_data(data, source)


def _load_yaml(text: str) -> Any:
    """The YAML document in ``text``, through libyaml when PyYAML was built with it, else PyYAML's Python loader.

    Why: reading the fixture organization took 45 ms of CPU with the Python loader and 6 ms with libyaml
    (``CSafeLoader``: the same safe constructor over libyaml's scanner and parser), on a command that should
    start in under 0.3 s (docs/benchmarks.md, "Start-up"). A document libyaml refuses is read again by the
    Python loader, so that a bad snapshot gets the message (and position) it always got.
    """
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # CSafeLoader: the safe constructor, as safe_load
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def dump_snapshot(snapshot: Snapshot, path: str | Path) -> None:
    """Write a snapshot as YAML (``.yaml``/``.yml``) or JSON, leaving out fields at their defaults."""
    data = snapshot.model_dump(mode="json", exclude_defaults=True)
    data["format"] = snapshot.format
    target = Path(path)
    if str(path).endswith((".yaml", ".yml")):
        target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    else:
        target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
