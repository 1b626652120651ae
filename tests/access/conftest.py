"""Shared fixtures: the fixture organization, compiled once per session, and a question helper."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.access import Access, World, load_snapshot

FIXTURES = Path(__file__).parent / "fixtures"
ORG = FIXTURES / "org.yaml"
PAYMENTS = "alias/payments"
LOGS = "alias/logs"
RETIRED = "alias/retired"
WORKLOAD = "alias/workload"


@pytest.fixture(scope="session")
def world() -> World:
    return World.build(load_snapshot(ORG), str(ORG))


@pytest.fixture(scope="session")
def access(world: World) -> Access:
    return Access.of(world)
