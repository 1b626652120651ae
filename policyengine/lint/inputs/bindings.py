"""Concrete values a user gives for what a template leaves to the deployment (``--account``, ``--region``, ``--parameter``).

Without them the deploying account, region and partition are unknowns of their kind
(``policyengine.model.unknown``); with them the policy reads as it would be deployed there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_ACCOUNT = re.compile(r"^[0-9]{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")


@dataclass(frozen=True)
class Bindings:
    """The deployment's account and region, and template parameter / Terraform variable values."""

    account: str | None = None
    region: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)

    @property
    def partition(self) -> str | None:
        """The partition the region belongs to (``aws-cn`` for ``cn-north-1``), when the region is given."""
        if self.region is None:
            return None
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    @property
    def url_suffix(self) -> str | None:
        """``AWS::URLSuffix``: ``amazonaws.com.cn`` in China, ``amazonaws.com`` elsewhere."""
        if self.region is None:
            return None
        return "amazonaws.com.cn" if self.region.startswith("cn-") else "amazonaws.com"


def make_bindings(account: str | None, region: str | None, parameters: Iterable[str]) -> Bindings:
    """Bindings from command-line text; ``ValueError`` names the option that is wrong."""
    if account is not None and not _ACCOUNT.match(account):
        raise ValueError(f"--account: `{account}` is not a 12-digit account id")
    if region is not None and not _REGION.match(region):
        raise ValueError(f"--region: `{region}` is not a region name such as us-east-1")
    values: dict[str, str] = {}
    for item in parameters:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--parameter: `{item}` is not NAME=VALUE")
        values[name.strip()] = value
    return Bindings(account, region, values)
