"""Starting points: the shipped examples as workspaces (scenarios, and key policies on their own).

A scenario in ``examples/scenarios`` becomes a workspace as it is, with the policy files it
names by path read in (the page edits text, not paths). A key policy in ``examples/`` becomes a
workspace with a default question: an application role in the key's account asking to decrypt.
``default`` is the blank start: AWS's default key policy and that question.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from policyengine._data import data_dir
from policyengine.key_policies import default_key_policy_json
from policyengine.playground.scenarios import from_scenario
from policyengine.playground.workspace import PolicyText, Workspace, WorkspaceError

DEFAULT_ACCOUNT = "111122223333"
DEFAULT_KEY = f"arn:aws:kms:us-east-1:{DEFAULT_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DEFAULT_ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/AppRole"
DEFAULT_REQUEST = {
    "principal": f"arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/AppRole/app",
    "action": "kms:Decrypt",
    "resource": DEFAULT_KEY,
}


def _examples() -> Path:
    return data_dir("examples")


def _policy_files() -> dict[str, Path]:
    found = {}
    for path in sorted(_examples().glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and "Statement" in data and "Principal" in json.dumps(data):
            found[path.stem] = path
    return found


def _scenario_files() -> dict[str, Path]:
    folder = _examples() / "scenarios"
    return {f"scenario/{p.stem}": p for p in sorted(folder.glob("*")) if p.suffix in (".json", ".yaml", ".yml")}


def example_names() -> list[str]:
    """``default``, then every key-policy example, then every scenario (``scenario/<name>``)."""
    return ["default", *_policy_files(), *_scenario_files()]


def _inline(value: Any, base: Path) -> Any:
    """A scenario's policies with each path it names replaced by the file's JSON."""
    if isinstance(value, str):
        try:
            return json.loads((base / value).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise WorkspaceError(f"{base / value}: cannot read the policy the scenario names ({error})") from None
    if isinstance(value, list):
        return [_inline(v, base) for v in value]
    return value


def scenario_data(path: Path) -> dict[str, Any]:
    """A scenario file's data with its policy paths read in (relative to the file)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise WorkspaceError(f"{path}: cannot read the scenario ({error})") from None
    if not isinstance(data, dict):
        raise WorkspaceError(f"{path}: a scenario is an object with `policies` and `request`")
    policies = dict(data.get("policies", {}))
    for name in ("key_policy", "resource_policy", "permissions_boundary", "session_policy"):
        if name in policies:
            policies[name] = _inline(policies[name], path.parent)
    if isinstance(policies.get("identity_policies"), dict):
        policies["identity_policies"] = {
            arn: _inline(docs if isinstance(docs, list) else [docs], path.parent)
            for arn, docs in policies["identity_policies"].items()
        }
    for name in ("scps", "rcps"):
        if isinstance(policies.get(name), dict):
            policies[name] = {acct: _inline(levels, path.parent) for acct, levels in policies[name].items()}
    return {**data, "policies": policies}


def load_example(name: str) -> Workspace:
    """The named example as a workspace; ``KeyError`` when there is none of that name."""
    if name == "default":
        text = json.dumps(default_key_policy_json(DEFAULT_ACCOUNT), indent=2) + "\n"
        return Workspace(
            key_policy=text, identity_policies=(PolicyText("identity_policies.0", "", DEFAULT_ROLE),), request=DEFAULT_REQUEST
        )
    scenarios = _scenario_files()
    if name in scenarios:
        return from_scenario(scenario_data(scenarios[name]))
    policies = _policy_files()
    if name in policies:
        text = policies[name].read_text(encoding="utf-8")
        return Workspace(
            key_policy=text, identity_policies=(PolicyText("identity_policies.0", "", DEFAULT_ROLE),), request=DEFAULT_REQUEST
        )
    raise KeyError(name)
