"""Values a policy's source computes but that cannot be known offline: the stack's account, a parameter...

A CloudFormation template writes its own account root as ``!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root``
and a Terraform module as ``arn:aws:iam::${data.aws_caller_identity.current.account_id}:root``. Neither is a
policy variable and neither is ``*``: each is a definite value that only the deployment knows. The input
readers replace every such value by an *unknown marker* inside the policy string, so the rest of the
string keeps its meaning (an ARN is still an ARN, its account part is an unknown account), and every
layer above asks this module, not the string, what an unknown stands for:

* ``contains(text)`` / ``whole(text)``: is there an unknown in it, or is it one unknown and nothing else;
* ``display(text)``: the text as the user wrote it (``arn:aws:iam::${AWS::AccountId}:root``), for messages;
* ``example(text)``: the text with each unknown replaced by a valid value of its kind (``us-east-1`` for a
  region), for format checks; None when some unknown has no kind that says what it looks like;
* ``as_pattern(text)``: each unknown replaced by ``*``, for "could these match" comparisons.

Kinds: ``account`` is the deploying account (``AWS::AccountId``, ``aws_caller_identity``): every marker of
that kind is the same account, so principals compare it through ``OWN_ACCOUNT``; ``region``,
``partition`` and ``url_suffix`` are the deployment's; ``value`` is anything else (a parameter without
a default, ``Fn::ImportValue``, a Terraform variable): what it is depends on where it stands (an unknown
principal, an unknown account id in an ARN's account field).

A marker is ``U+E000 kind U+E002 hex(label) U+E001``: private-use characters no policy uses, and hex
digits so that an ARN's ``:`` and ``/`` splitting, wildcard matching and JSON escaping never see
anything but opaque word characters. Only the input readers write markers; a marker in a policy sent to
the KMS facade is rejected like any other malformed principal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

UnknownKind = Literal["account", "region", "partition", "url_suffix", "value"]
KINDS: tuple[UnknownKind, ...] = ("account", "region", "partition", "url_suffix", "value")

_KIND_NAMES: dict[str, UnknownKind] = {k: k for k in KINDS}

OPEN = "\ue000"
_SEP = "\ue002"
CLOSE = "\ue001"
_MARKER = re.compile("\ue000([a-z_]+)\ue002([0-9a-f]*)\ue001")

#: What stands in for each kind in ``example``; ``value`` has none (it could be anything).
_EXAMPLES: dict[str, str] = {
    "account": "111122223333",
    "region": "us-east-1",
    "partition": "aws",
    "url_suffix": "amazonaws.com",
}


@dataclass(frozen=True, slots=True)
class Unknown:
    """One unknown value: its kind and how the source wrote it (``${AWS::AccountId}``, ``var.admin``)."""

    kind: UnknownKind
    label: str


def marker(kind: UnknownKind, label: str) -> str:
    """The marker standing for an unknown ``kind`` written as ``label``."""
    return f"{OPEN}{kind}{_SEP}{label.encode('utf-8').hex()}{CLOSE}"


#: The deploying account, whatever the source called it: principals in it compare equal.
OWN_ACCOUNT = marker("account", "")
OWN_ACCOUNT_LABEL = "<the deploying account>"


def contains(text: str) -> bool:
    """Whether ``text`` holds at least one unknown."""
    return OPEN in text


def _unknown(match: re.Match[str]) -> Unknown:
    kind: UnknownKind = _KIND_NAMES.get(match.group(1), "value")
    return Unknown(kind, bytes.fromhex(match.group(2)).decode("utf-8", "replace"))


def unknowns(text: str) -> list[Unknown]:
    """The unknowns in ``text``, in order."""
    if OPEN not in text:
        return []
    return [_unknown(m) for m in _MARKER.finditer(text)]


def whole(text: str) -> Unknown | None:
    """The unknown when ``text`` is exactly one marker and nothing else."""
    if not text.startswith(OPEN):
        return None
    match = _MARKER.fullmatch(text)
    return _unknown(match) if match else None


def display(text: str) -> str:
    """``text`` with each unknown shown as its source wrote it."""
    if OPEN not in text:
        return text

    def label(match: re.Match[str]) -> str:
        return _unknown(match).label or OWN_ACCOUNT_LABEL

    return _MARKER.sub(label, text)


def example(text: str) -> str | None:
    """``text`` with each unknown replaced by a valid value of its kind; None if a ``value`` unknown is in it."""
    if OPEN not in text:
        return text
    if any(u.kind not in _EXAMPLES for u in unknowns(text)):
        return None
    return _MARKER.sub(lambda m: _EXAMPLES[_unknown(m).kind], text)


def stand_in(text: str) -> str:
    """``text`` with each unknown as an example of its kind and an unknown of no kind as nothing: for sizes.

    The size measured is at most the deployed one (no example is longer than a real value of its kind),
    so a policy found too large is too large whatever the unknowns hold.
    """
    if OPEN not in text:
        return text
    return _MARKER.sub(lambda m: _EXAMPLES.get(_unknown(m).kind, ""), text)


def strip(text: str) -> str:
    """``text`` without its unknowns: the part whose characters are known."""
    if OPEN not in text:
        return text
    return _MARKER.sub("", text)


def as_pattern(text: str) -> str:
    """``text`` with each unknown replaced by ``*``: what it could match."""
    if OPEN not in text:
        return text
    return _MARKER.sub("*", text)


def account_of(segment: str) -> str | None:
    """The account an ARN's account field names when it is an unknown: ``OWN_ACCOUNT`` or the marker itself."""
    found = whole(segment)
    if found is None:
        return None
    return OWN_ACCOUNT if found.kind == "account" else segment
