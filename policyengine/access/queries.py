"""The questions: can, who-can, what-can, over one compiled snapshot.

``Access`` holds the world, its subjects, the user's fixed context and (built on first use)
the role graph. Each question is a loop over ``ask``: build the request a subject would send
for an action on a key, with the context the snapshot fixes, and evaluate it partially. Routes
through roles reuse the direct answers of the roles themselves, so who-can and the matrix cost
one evaluation per (subject, action, key) plus the graph.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from policyengine._catalog import unknown_action
from policyengine.access.actions import GROUPS, Group, actions_for, key_actions
from policyengine.access.answers import RANK, Answer, Route, Verdict
from policyengine.access.bykey import CallerGroups, Reachers
from policyengine.access.doors import AccountBits, Caller, Door
from policyengine.access.errors import LookupFailure
from policyengine.access.facts import Facts
from policyengine.access.formula import FALSE
from policyengine.access.heap import FrozenHeap
from policyengine.access.memo import BoundedMemo
from policyengine.access.partial import Partial, Prepared, partial_authorize
from policyengine.access.precheck import Prechecks
from policyengine.access.reach import Reachability
from policyengine.access.sameness import KeyGroups, Sameness
from policyengine.access.subjects import Subject, SubjectIndex, facts_for, principal_subject, subject_facts
from policyengine.access.world import KeyInfo, Principal, World
from policyengine.aws_facts import key_state_error
from policyengine.errors import RequestError
from policyengine.evaluator.authorizer import PolicySet
from policyengine.evaluator.compiled import CompiledPolicy
from policyengine.explain.decision import Decision, Effect
from policyengine.model.request import ContextValue, Request
from policyengine.parsing.request import make_request

Progress = Callable[[int], None]
_EC_PREFIX = "kms:encryptioncontext:"


def split_context(given: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str] | None]:
    """User context as (plain keys, encryption context): ``kms:EncryptionContext:k=v`` pairs form the latter."""
    plain: dict[str, Any] = {}
    ec: dict[str, str] = {}
    for key, value in given.items():
        if key.lower().startswith(_EC_PREFIX):
            ec[key[len(_EC_PREFIX) :]] = str(value)
        else:
            plain[key] = value
    return plain, (ec or None)


@lru_cache(maxsize=1024)
def normalise_action(action: str) -> str:
    """``Decrypt`` and ``kms:decrypt`` both mean ``kms:Decrypt`` (the catalog's spelling when known).

    An action AWS does not have (``kms:Decypt``) is a ``LookupFailure`` naming the closest real
    ones: answering "deny" for it would let a "must be denied" check pass on a typo.
    """
    name = action if ":" in action else f"kms:{action}"
    spelled = {known.lower(): known for known in key_actions()}
    found = spelled.get(name.lower())
    if found is not None:
        return found
    problem = unknown_action(name)
    if problem is not None:
        raise LookupFailure("action", problem)
    return name


def _earlier(paths: Mapping[str, object], first: str, second: str) -> bool:
    """Does ``first`` come before ``second`` in ``paths`` (ties between equal routes go to the first found)?"""
    for arn in paths:
        if arn == first:
            return True
        if arn == second:
            return False
    return False


class Reached(NamedTuple):
    """A role a caller reaches, with the best key its route could have in ``Access.route``'s order:
    (rank of the route's status if the role is allowed, fewer hops, earlier in the caller's paths)."""

    arn: str
    role: Subject
    bound: tuple[int, int, int]
    #: the role's name (a key names roles by account and name)
    name: str


def _bound(reached: Reached) -> tuple[int, int, int]:
    return reached.bound


@dataclass
class Access:
    """Questions over one world, with the context the user fixed (see ``facts.Facts``)."""

    world: World
    given: Mapping[str, Any]
    encryption_context: Mapping[str, str] | None
    closed: bool = False
    max_hops: int = 4
    #: How many answers (by group of equal callers, key and action) the memo keeps; a matrix pair's
    #: 33 answers count as one entry of the pair memo, which keeps a tenth as many.
    memo_limit: int = 100_000

    @classmethod
    def of(
        cls,
        world: World,
        context: Mapping[str, Any] | None = None,
        *,
        closed: bool = False,
        max_hops: int = 4,
        memo_limit: int = 100_000,
    ) -> Access:
        plain, ec = split_context(context or {})
        if closed and ec is None:
            ec = {}
        return cls(world, plain, ec, closed, max_hops, memo_limit)

    def __post_init__(self) -> None:
        self.subjects = SubjectIndex(self.world)
        self._reach: Reachability | None = None
        self._given_keys = frozenset(k.lower() for k in self.given)
        self._key_ctx: dict[str, dict[str, ContextValue]] = {}
        self.prechecks = Prechecks()
        self.sameness = Sameness()
        # Answers are memoised with a cap (``memo.py``); the other caches hold at most one entry
        # per key, caller or policy of the world, so they are bounded by its size.
        self._memo: BoundedMemo[tuple[object, ...], Partial] = BoundedMemo(self.memo_limit)
        self._group_memo: BoundedMemo[tuple[object, ...], dict[str, Partial]] = BoundedMemo(max(1, self.memo_limit // 10))
        self._key_groups: dict[str, KeyGroups] = {}
        self._index: tuple[list[Subject], CallerGroups, Reachers] | None = None
        self._doors: dict[str, Door] = {}
        self._bits = AccountBits()
        self._callers: dict[str, Caller] = {}
        self._roles_by_account: dict[str, list[tuple[str | None, list[Reached], frozenset[str]]]] = {}

    # -- one request ----------------------------------------------------------------------------

    def policy_set(self, subject: Subject, key: KeyInfo | None, resource_account: str) -> PolicySet:
        """The policies that decide ``subject``'s requests on a key (or, with ``key=None``, on a role)."""
        principal = subject.principal
        own = self.world.account(subject.account) if subject.kind in ("user", "role", "session", "root") else None
        target = self.world.account(resource_account)
        return PolicySet(
            key_policy=key.policy if key is not None else None,
            identity=principal.identity if principal is not None else (),
            boundary=principal.boundary if principal is not None else None,
            scp_levels=own.scp_levels if own is not None else None,
            rcp_levels=target.rcp_levels if target is not None else None,
            grants=key.grants if key is not None else (),
            management_account=self.world.management_account,
            endpoint_policy=self._endpoint_policy(),
        )

    def _endpoint_policy(self) -> CompiledPolicy | None:
        """The policy of the VPC endpoint the question's ``aws:SourceVpce`` names, when the snapshot has it."""
        for name, value in self.given.items():
            if name.lower() == "aws:sourcevpce" and isinstance(value, str):
                return self.world.endpoints.get(value)
        return None

    def _facts(self, subject: Subject, context: Mapping[str, ContextValue]) -> Facts:
        base = Facts(context, self._given_keys, self.encryption_context, closed=self.closed)
        return subject_facts(subject, base)

    def _key_context(self, key: KeyInfo) -> dict[str, ContextValue]:
        found = self._key_ctx.get(key.arn)
        if found is None:
            found = self.world.key_context(key)
            self._key_ctx[key.arn] = found
        return found

    def request(self, subject: Subject, action: str, key: KeyInfo) -> Request:
        """The request ``subject`` sends for ``action`` on ``key``, with the context the snapshot and the user fix."""
        context = facts_for(self.world, subject, self._key_context(key))
        context.update(self.given)
        try:
            return make_request(
                subject.caller,
                action,
                key.arn,
                context,
                identity_arn=subject.identity_arn,
                resource_account=key.account,
                encryption_context=self.encryption_context,
            )
        except RequestError as exc:
            raise LookupFailure("request", str(exc)) from None

    def prepare(self, subject: Subject, key: KeyInfo, action: str = "kms:DescribeKey") -> Prepared:
        """Everything ``subject``'s requests on ``key`` share; ``decide(action)`` answers each action."""
        request = self.request(subject, action, key)
        return Prepared(
            request,
            self.policy_set(subject, key, key.account),
            self._facts(subject, request.context),
            identity_atom=subject.outside_atom(),
            build=lambda other: self.request(subject, other, key),
        )

    def evaluate(self, subject: Subject, action: str, key: KeyInfo) -> Partial:
        """The partial answer for one subject, action and key."""
        return self.prepare(subject, key, action).decide(action)

    def ask(self, subject: Subject, action: str, key: KeyInfo, *, full: bool = False) -> Answer:
        """``evaluate`` with the notes a person needs next to the answer.

        Unless ``full``, a pair the pre-checks deny is answered "deny" from them without a full
        evaluation; its reason and deciding statements, when read, come from the full evaluation,
        so a matching Deny statement still makes the answer an explicit deny, as ``simulate``
        says. ``full`` is for explanations that name every statement.
        """
        if not full and self.excluded(subject, key):
            # What ``Prechecks.denied`` says for such a caller (tests/access/test_scale_shortcuts.py), without a memo.
            denied = self._prechecked(subject, action, key, "key_policy_excludes_caller")
            return Answer(subject, action, key, denied, self.notes(denied, action, key))
        same = None if full else self.same(subject, key)
        result = self._memo.get((*same, action)) if same is not None else None
        if result is None:
            reason = None if full else self.prechecks.denied(subject, key, action)
            result = self.evaluate(subject, action, key) if reason is None else self._prechecked(subject, action, key, reason)
            if same is not None:
                self._memo.put((*same, action), result)
        return Answer(subject, action, key, result, self.notes(result, action, key))

    def excluded(self, subject: Subject, key: KeyInfo) -> bool:
        """Is ``subject`` a snapshot user or role from an account ``key`` does not let in, and not named by it?

        Such a caller is denied every action with ``key_policy_excludes_caller``
        (``Prechecks.admitted_accounts``); most (caller, key) pairs of an organization are.
        """
        caller = self.caller_bits(subject)
        return caller is not None and self.door(key).shuts_out(caller)

    def door(self, key: KeyInfo) -> Door:
        """Who ``key`` may let in (``Prechecks.admitted_accounts``) and the callers it names (``KeyGroups.named``),
        as the door test reads them (``doors.Door``); made once per key."""
        found = self._doors.get(key.arn)
        if found is None:
            admitted = self.prechecks.admitted_accounts(key)
            found = self._doors[key.arn] = Door.of(self._bits, key, admitted, self.key_groups(key).named, self._key_notes(key))
        return found

    def caller_bits(self, subject: Subject) -> Caller | None:
        """``AccountBits.caller`` for ``subject``, made once per subject (its ``reached`` mask with its routes);
        None for a caller that is not a snapshot user or role."""
        found = self._callers.get(subject.id)
        if found is None and subject.principal is not None:
            found = self._callers[subject.id] = self._bits.caller(subject)
        return found

    def _prechecked(self, subject: Subject, action: str, key: KeyInfo, reason: str) -> Partial:
        """A denial the pre-checks settled with ``reason``; its decision, when read, is ``subject``'s full evaluation
        (the subject's own: a Deny statement that names its account makes it an explicit deny)."""
        return Partial("deny", FALSE, reason, (), lambda: self._full_decision(subject, action, key))

    def _full_decision(self, subject: Subject, action: str, key: KeyInfo) -> Decision:
        """The decision a full evaluation gives, for an answer the pre-checks settled."""
        full = self.evaluate(subject, action, key)
        decision = full.decision
        if decision is not None:
            return decision
        effect: Effect = "explicit_deny" if full.reason == "explicit_deny" else "implicit_deny"
        return Decision(effect, full.deciding, full.reason)

    def same(self, subject: Subject, key: KeyInfo) -> tuple[object, ...] | None:
        """A memo key shared by callers that must get the same answers on ``key`` (``sameness.py``).

        The key's group of equal callers when it has one (cheap: the caller's profile is computed
        once), else the per-caller key that also covers callers the key names.
        """
        own = self.world.account(subject.account)
        group = self.key_groups(key).group(subject, own)
        if group is not None:
            return ("group", key.arn, *group)
        return self.sameness.key(subject, key, own, self.world.account(key.account))

    def key_groups(self, key: KeyInfo) -> KeyGroups:
        """How ``key`` groups its callers (``sameness.KeyGroups``), made once per key."""
        groups = self._key_groups.get(key.arn)
        if groups is None:
            groups = self._key_groups[key.arn] = KeyGroups(self.sameness, key, self.world.account(key.account))
        return groups

    def same_on_role(self, subject: Subject, role: Principal) -> tuple[object, ...] | None:
        """A memo key shared by callers that must get the same answer on sts:AssumeRole on ``role``."""
        own = self.world.account(subject.account)
        return self.sameness.trust_key(subject, role, own, self.world.account(role.account))

    def notes(self, result: Partial, action: str, key: KeyInfo) -> tuple[str, ...]:
        """What a person needs next to the answer: a key state that fails an authorized call, and the key's own
        notes (``_key_notes``, all a denial carries)."""
        if result.status != "deny":
            error = key_state_error(action.partition(":")[2], key.state)
            if error is not None:
                return (f"authorized, but the key is {key.state}: the call fails with {error}", *self._key_notes(key))
        return self._key_notes(key)

    @staticmethod
    def _key_notes(key: KeyInfo) -> tuple[str, ...]:
        if not key.grants_known:
            return ("the key's grants were not exported: access through grants is not counted",)
        return ()

    def assume(self, subject: Subject, role: Principal) -> Partial:
        """May ``subject`` call sts:AssumeRole on ``role``? (trust policy as the gate)."""
        assert role.trust is not None
        context = facts_for(self.world, subject, {})
        context.update(self.given)
        request = make_request(
            subject.caller, "sts:AssumeRole", role.arn, context, identity_arn=subject.identity_arn, resource_account=role.account
        )
        policies = self.policy_set(subject, None, role.account)
        policies = PolicySet(
            trust_policy=role.trust,
            identity=policies.identity,
            boundary=policies.boundary,
            scp_levels=policies.scp_levels,
            rcp_levels=policies.rcp_levels,
            management_account=policies.management_account,
        )
        return partial_authorize(request, policies, self._facts(subject, request.context), identity_atom=subject.outside_atom())

    @property
    def reach(self) -> Reachability:
        if self._reach is None:
            self._reach = Reachability(self.subjects, self.assume, max_hops=self.max_hops, same=self.same_on_role)
        return self._reach

    # -- lookups ----------------------------------------------------------------------------------

    def subject(self, text: str) -> Subject:
        """A subject by anything ``World.principal`` accepts, or a named caller's ARN or label (``root/<account>``)."""
        if text in self.subjects.by_id:
            return self.subjects.by_id[text]
        for subject in self.subjects.all():
            if subject.kind not in ("user", "role") and text in (subject.label, subject.caller):
                return subject
        return principal_subject(self.world.principal(text))

    # -- questions --------------------------------------------------------------------------------

    def route(self, subject: Subject, answers: Mapping[str, Answer]) -> Route | None:
        """The best route through roles to an answer in ``answers`` (by role ARN), if any beats denial."""
        best: Route | None = None
        best_arn = ""
        paths = self.reach.paths_from(subject)
        # Walk the smaller side: usually few roles are not denied, and a caller reaches many roles.
        # Equal routes are decided by the order of ``paths`` either way (the first one found wins).
        arns = (arn for arn in answers if arn in paths) if len(answers) < len(paths) else iter(paths)
        for role_arn in arns:
            final = answers.get(role_arn)
            if final is None or final.status == "deny":
                continue
            route = Route(paths[role_arn].hops, final)
            if route.status == "deny":
                continue
            rank = (RANK[route.status], -len(route.hops))
            if (
                best is None
                or rank > (RANK[best.status], -len(best.hops))
                or (rank == (RANK[best.status], -len(best.hops)) and _earlier(paths, role_arn, best_arn))
            ):
                best, best_arn = route, role_arn
        return best

    def can(self, principal: str, action: str, key: str, *, explain: bool = False, direct_only: bool = False) -> Verdict:
        """Can ``principal`` do ``action`` on ``key``, directly or (unless ``direct_only``) through roles it can assume?

        With ``explain`` the direct answer is always fully evaluated, so a denial names the
        statements and reason ``authorize`` gives rather than the pre-check's reason.
        """
        action = normalise_action(action)
        if not explain:
            shut = self._shut_out(principal, action, key, direct_only)
            if shut is not None:
                return shut
        subject = self.subject(principal)
        target = self.world.key(key)
        with FrozenHeap():
            return self._can(subject, action, target, explain, direct_only)

    def _shut_out(self, principal: str, action: str, key: str, direct_only: bool) -> Verdict | None:
        """The verdict for a caller the key excludes (``excluded``) that reaches no role of an account the key
        lets in or names, or None. Most pairs of an organization are such (19 in 20 random ones at 20,000
        principals), and they are answered here from a few bit tests (``doors.py``) on two records found by
        the names the question gives (an ARN; anything else is looked up first): what ``_can`` finds for them
        (a pre-checked denial, no candidate role) without its lists, sort and route."""
        caller = self._callers.get(principal)
        if caller is None:
            caller = self.caller_bits(self.subject(principal))
            if caller is None:
                return None
        door = self._doors.get(key)
        if door is None:
            door = self.door(self.world.key(key))
        if not door.shuts_out(caller):
            return None
        if not direct_only and self._reached_mask(caller) & (door.admitted_mask | door.named_mask):
            return None
        denied = self._prechecked(caller.subject, action, door.key, "key_policy_excludes_caller")
        return Verdict(Answer(caller.subject, action, door.key, denied, door.deny_notes))

    def _can(self, subject: Subject, action: str, target: KeyInfo, explain: bool, direct_only: bool) -> Verdict:
        direct = self.ask(subject, action, target, full=explain)
        if direct.status == "allow" or direct_only:
            return Verdict(direct)
        # Roles from accounts the key does not let in, that it does not name, are denied (``excluded``): not asked.
        door = self.door(target)
        admitted = door.admitted
        candidates: list[Reached] = []
        for account, roles, names in self.roles_by_account(subject):
            if admitted is None or account in admitted:
                candidates.extend(roles)
            else:
                # Only the roles the key names are not excluded: found by name, without a test per role.
                wanted = door.named_by_account.get(account)
                if wanted is not None and not names.isdisjoint(wanted):
                    candidates.extend(r for r in roles if r.name in wanted)
        # Best first: a role is asked only while its route could still beat the best one found
        # (``Reached.bound``); the ones left could not, so ``route`` picks the same route without them.
        candidates.sort(key=_bound, reverse=True)
        answers: dict[str, Answer] = {}
        best: tuple[int, int, int] | None = None
        for reached in candidates:
            if best is not None and reached.bound <= best:
                break
            answer = answers[reached.arn] = self.ask(reached.role, action, target)
            rank = min(RANK[answer.status], reached.bound[0])
            if rank > 0 and (best is None or (rank, *reached.bound[1:]) > best):
                best = (rank, reached.bound[1], reached.bound[2])
        return Verdict(direct, self.route(subject, answers) if answers else None)

    def _reached_mask(self, caller: Caller) -> int:
        """The accounts of the roles ``caller`` reaches, as a mask (``Caller.reached``, made with its routes)."""
        if caller.reached is not None:
            return caller.reached
        self.roles_by_account(caller.subject)
        made = self._callers[caller.subject.id]
        assert made is not None and made.reached is not None
        return made.reached

    def roles_by_account(self, subject: Subject) -> list[tuple[str | None, list[Reached], frozenset[str]]]:
        """The roles ``subject`` reaches (``Reachability.paths_from``), by account with their names, made once per
        subject: a key lets in few accounts, so ``can`` looks at the roles of those only."""
        found = self._roles_by_account.get(subject.id)
        if found is None:
            by_account: dict[str | None, list[Reached]] = {}
            by_id = self.subjects.by_id
            for position, (arn, path) in enumerate(self.reach.paths_from(subject).items()):
                role = by_id[arn]
                assert role.principal is not None  # the role graph's nodes are the snapshot's roles
                rank = min((RANK[hop.result.status] for hop in path.hops), default=RANK["allow"])
                by_account.setdefault(role.account, []).append(
                    Reached(arn, role, (rank, -len(path.hops), -position), role.principal.name)
                )
            found = self._roles_by_account[subject.id] = [
                (account, roles, frozenset(r.name for r in roles)) for account, roles in by_account.items()
            ]
            caller = self.caller_bits(subject)
            if caller is not None:
                self._callers[subject.id] = caller._replace(reached=self._bits.mask(frozenset(by_account)))
        return found

    def who_can(self, action: str, key: str, *, progress: Progress | None = None) -> list[Verdict]:
        """Every subject's verdict on ``action`` on ``key``, allowed first (then in subject order).

        One member of each group of equal callers is asked (``bykey.CallerGroups``; groups from
        accounts the key does not let in are denied without asking), and its answer stands for
        the others. Routes are looked for only from callers that reach a role the key lets in
        (``bykey.Reachers``), the same routes ``route`` finds from each caller's own paths.
        """
        target = self.world.key(key)
        action = normalise_action(action)
        with FrozenHeap():
            subjects, callers, reachers = self.index()
            asked, excluded = callers.on(target)
            # Answers by profile and for callers asked on their own. An excluded group's denial is its first
            # member's (not one for every group: its explanation differs where a Deny names some accounts).
            by_profile: list[Partial | None] = [None] * len(callers.profiles)
            alone: dict[int, Partial] = {}
            for profile, members in excluded:
                by_profile[profile] = self._prechecked(subjects[members[0]], action, target, "key_policy_excludes_caller")
            done = sum(len(members) for _, members in excluded)
            if progress is not None:
                progress(done)
            role_answers: dict[str, Answer] = {}
            for profile, members in asked:
                answer = self.ask(subjects[members[0]], action, target)
                result = answer.result
                if profile >= 0:
                    by_profile[profile] = result
                else:
                    alone[members[0]] = result
                if result.status != "deny":
                    for i in members:
                        subject = subjects[i]
                        if subject.kind == "role" and subject.principal is not None:
                            role_answers[subject.principal.arn] = Answer(subject, action, target, result, answer.notes)
                done += len(members)
                if progress is not None:
                    progress(done)

            def result_of(i: int) -> Partial:
                found = alone.get(i)
                if found is None:
                    found = by_profile[callers.profile_of[i]]
                assert found is not None
                return found

            routes: dict[int, Route] = {}
            if role_answers:
                candidates = {i for arn in role_answers for i, _, _ in reachers.by_role.get(arn, ())}
                for i in sorted(candidates):
                    if result_of(i).status != "allow":
                        route = self.route(subjects[i], role_answers)
                        if route is not None:
                            routes[i] = route
            notes: dict[int, tuple[str, ...]] = {}
            by_status: dict[str, list[Verdict]] = {"allow": [], "conditional": [], "deny": []}
            for i, subject in enumerate(subjects):
                final = result_of(i)
                said = notes.get(id(final))
                if said is None:
                    said = notes[id(final)] = self.notes(final, action, target)
                route = routes.get(i)
                verdict = Verdict(Answer(subject, action, target, final, said), route)
                by_status[verdict.status if route is not None else final.status].append(verdict)
        return by_status["allow"] + by_status["conditional"] + by_status["deny"]

    def index(self) -> tuple[list[Subject], CallerGroups, Reachers]:
        """What questions over every caller share, built once: the subjects, their groups of equal
        callers and, for each role, the callers that reach it (which computes every caller's routes).

        With it, each caller's roles by account (``roles_by_account``) and account bits (``caller_bits``)
        and what each key lets in (``door``) are made too, so a question finds them made: they depend on
        the snapshot only, like the compiled policies."""
        if self._index is None:
            subjects = self.subjects.all()
            self._index = (subjects, CallerGroups(self, subjects), Reachers(self, subjects))
            for subject in subjects:
                self.roles_by_account(subject)
            for key in self.world.keys.values():
                self.door(key)
        return self._index

    def group_answers(self, subject: Subject, key: KeyInfo) -> dict[Group, list[Answer]]:
        """Answers for every action of every group that fits the key."""
        groups = actions_for(key.usage, key.spec, key.origin, key.multi_region)
        return {g: [self.ask(subject, action, key) for action in groups[g]] for g in GROUPS}
