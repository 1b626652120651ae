"""Every caller's answer on one key, computed once per group of equal callers.

A question over every caller of a key (who-can, a column of the access matrix) would otherwise
evaluate 20,000 callers of a large organization one by one, although most of them come in
groups that must get the same answers (``sameness.KeyGroups``: same kind, account, identity
policies, boundary and caller-identifying values, and not named by the key). Here the callers
are indexed once by that profile; a key then splits them into its groups with a few set
operations (only the callers it names leave their group), one member of each group is asked,
and the answer is expanded to the others when output is written.

``Reachers`` is the role graph turned around: for each role, the callers that can reach it and
by which path. A key's routes through roles are then found from the few roles that have access,
not by walking every caller's paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from policyengine.access.reach import Path
from policyengine.access.subjects import Subject
from policyengine.access.world import KeyInfo

if TYPE_CHECKING:
    from policyengine.access.queries import Access


class CallerGroups:
    """Subjects (by index into ``subjects``) by the profile that decides their answers, computed once."""

    def __init__(self, access: Access, subjects: Sequence[Subject]) -> None:
        self.access = access
        self.subjects = list(subjects)
        by_profile: dict[tuple[object, ...], list[int]] = {}
        self.single: list[int] = []
        #: each subject's profile, as an index into ``profiles`` (-1: asked on its own on every key)
        self.profile_of: list[int] = []
        self.by_name: dict[tuple[str | None, str], list[int]] = {}
        world = access.world
        for i, subject in enumerate(self.subjects):
            if subject.principal is not None:
                self.by_name.setdefault((subject.account, subject.principal.name), []).append(i)
            profile = access.sameness.profile(subject, world.account(subject.account))
            if profile is None:
                self.single.append(i)
                self.profile_of.append(-1)
            else:
                members = by_profile.setdefault(profile, [])
                self.profile_of.append(len(by_profile) - 1 if not members else self.profile_of[members[0]])
                members.append(i)
        self.profiles = list(by_profile.values())

    def on(self, key: KeyInfo) -> tuple[list[tuple[int, list[int]]], list[tuple[int, list[int]]]]:
        """The groups of subjects that get the same answers on ``key``, each with its profile's index
        (-1 for a group of one); the first member of each, the lowest index, is the one asked.

        Exactly ``KeyGroups.group``'s partition: callers the key names, and every caller when the
        key's policies read who is asking, are groups of one. The second list holds the groups
        the pre-checks exclude without asking: callers the key does not name, from accounts it
        does not let in (``Prechecks.admitted_accounts``).
        """
        groups = self.access.key_groups(key)
        if not groups.usable:
            return [(-1, [i]) for i in range(len(self.subjects))], []
        admitted = self.access.prechecks.admitted_accounts(key)
        named: set[int] = set()
        for pair in groups.named:
            if pair[1] is not None:
                named.update(self.by_name.get((pair[0], pair[1]), ()))
        asked = [(-1, [i]) for i in self.single]
        excluded: list[tuple[int, list[int]]] = []
        subjects = self.subjects
        touched = {self.profile_of[i] for i in named}
        for p, members in enumerate(self.profiles):
            if p in touched:
                members = [i for i in members if i not in named]
                if not members:
                    continue
            if admitted is None or subjects[members[0]].account in admitted:
                asked.append((p, members))
            else:
                excluded.append((p, members))
        asked.extend((-1, [i]) for i in sorted(named))
        return asked, excluded


class Reachers:
    """For each role, the subjects (by index) that reach it through the role graph, with the position of the
    role in the subject's paths (ties between equal routes go to the earlier one) and the path."""

    def __init__(self, access: Access, subjects: Sequence[Subject]) -> None:
        self.by_role: dict[str, list[tuple[int, int, Path]]] = {}
        reach = access.reach
        for i, subject in enumerate(subjects):
            for position, (arn, path) in enumerate(reach.paths_from(subject).items()):
                self.by_role.setdefault(arn, []).append((i, position, path))
