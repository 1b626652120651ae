"""The symbolic request: caller class, action, resource and context as solver variables.

Everything ``make_request`` derives (``aws:PrincipalArn``, ``kms:CallerAccount``,
``aws:ResourceAccount``, ...) is tied to the caller class, action and resource by constraints,
exactly as ``make_request`` fills it in; every other context key is free (present or not, with
any value), because a caller can send any of them.

The universe of requests (what a ``pass`` speaks about) is stated in ``Scope`` and the
docstrings: resources are ARNs (for key-policy checks: KMS key ARNs), actions are
``service:Name`` strings (for key-policy checks: ``kms:`` actions), callers and the key share a
partition, principal names are valid IAM names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from policyengine.analysis.backend import FALSE, TRUE, Backend, Regex, Term
from policyengine.analysis.keys import KeyUse
from policyengine.analysis.regex import glob_regex, glob_test, resource_test
from policyengine.analysis.universe import CallerClass, Named, Observed
from policyengine.analysis.values import IP_V6_OFFSET
from policyengine.aws_facts import CROSS_ACCOUNT_OPERATIONS
from policyengine.errors import RequestError
from policyengine.evaluator.patterns import glob_matcher
from policyengine.model.request import ContextValue

_BYPASS_ACTIONS = ("kms:putkeypolicy", "kms:createkey")
_PRINCIPAL_TYPES = {
    "user": "User",
    "assumed_role": "AssumedRole",
    "federated_user": "FederatedUser",
    "account": "Account",
    "role": "AssumedRole",
}
#: Dates are microseconds since the epoch; a non-whole second must fit an ISO 8601 date.
DATE_MIN_US = int((datetime(1, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000
DATE_MAX_US = (
    int((datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000 + 999_999
)
_SPARE_CHARS = "xzqjwv0123456789#~"
#: Each encryption-context pair is the context key ``kms:encryptioncontext:<key>`` (``make_request``).
EC_PREFIX = "kms:encryptioncontext:"


@dataclass(frozen=True, slots=True)
class Scope:
    """Which requests a check speaks about.

    ``kms_actions_only``: the action is a ``kms:`` action. ``key_resources_only``: the resource
    is a KMS key ARN with a 12-digit account (what a key policy ever decides). ``actions`` and
    ``resources``: patterns the request must also match (added by the check). ``key_account``:
    the account the key (the resource) belongs to, when known.
    """

    kms_actions_only: bool = True
    key_resources_only: bool = True
    actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    key_account: str | None = None


@dataclass
class Slot:
    """One value of a context key: its text, and one (readable, value) pair per typed family.

    Typed values are integers: numbers scaled by ``KeyUse.numeric_scale``, dates in
    microseconds, booleans 0/1, IPv4 addresses as themselves and IPv6 addresses offset by 2**32,
    binary values as an index into ``KeyUse.binaries`` (its length meaning "other bytes").
    """

    used: Term
    text: Term | None = None
    typed: dict[str, tuple[Term, Term]] = field(default_factory=dict)


@dataclass
class KeyVars:
    """A context key: is it present, and its values."""

    use: KeyUse
    present: Term
    slots: list[Slot] = field(default_factory=list)


class SymbolicRequest:
    """The variables of one request and the constraints that make them a well-formed request."""

    def __init__(
        self,
        backend: Backend,
        classes: Sequence[CallerClass],
        named: Named,
        keys: dict[str, KeyUse],
        action_chars: set[str],
        scope: Scope,
        observed: Observed,
    ) -> None:
        self.b = backend
        self.observed = observed
        self.classes = list(classes)
        self.named = named
        self.keys = keys
        self.scope = scope
        self.constraints: list[Term] = []
        self.approximations: set[str] = set()
        b = backend
        self.caller = b.int_var("caller")
        self.constraints.append(b.one_of(self.caller, range(len(self.classes))))
        self._class_terms: dict[int, Term] = {}
        self._declare_principals()
        self._declare_action(action_chars)
        self._declare_resource()
        self.bypass = b.bool_var("bypass_lockout_check")
        self.iam_allows = b.bool_var("iam_allows")
        #: A caller's unknown permissions boundary and session policy allow the request.
        self.caps_allow = b.bool_var("unknown_caps_allow")
        self.keyvars: dict[str, KeyVars] = {}
        for use in keys.values():
            self.keyvars[use.key] = self._declare_key(use)
        #: The encryption context's keys the policies or grants name (lowercased), and whether it
        #: holds some other key too; grant tokens the request may carry (declared on first use).
        self.ec_keys = tuple(sorted(k[len(EC_PREFIX) :] for k in self.keyvars if k.startswith(EC_PREFIX)))
        self.ec_other = b.bool_var("encryption_context_other_key")
        #: Whether a grant's constraint reads the encryption context (a counterexample then sends one).
        self.ec_modelled = False
        self.tokens: dict[str, Term] = {}
        #: The request's grant id (RetireGrant names the grant it retires): one of ``grant_ids``,
        #: or ``len(grant_ids)`` for none and ``len(grant_ids) + 1`` for an id no grant has.
        self.grant_ids: tuple[str, ...] = ()
        self.grant_choice = b.int_var("grant_id")
        self._grant_domain = len(self.constraints)
        self.constraints.append(b.one_of(self.grant_choice, (0, 1)))

    # -- caller ------------------------------------------------------------------------------

    def is_class(self, index: int) -> Term:
        term = self._class_terms.get(index)
        if term is None:
            term = self.b.eq(self.caller, self.b.int_const(index))
            self._class_terms[index] = term
        return term

    def caller_in(self, indices: Sequence[int]) -> Term:
        """The caller belongs to one of the classes ``indices``."""
        if len(indices) == len(self.classes):
            return TRUE
        return self.b.one_of(self.caller, indices)

    def _name_regex(self) -> Regex:
        """IAM user and role names: ``[A-Za-z0-9+=,.@_-]+`` (IAM API reference, ``UserName``)."""
        b = self.b
        chars = b.re_union([b.re_range("A", "Z"), b.re_range("a", "z"), b.re_range("0", "9"), *[b.re_lit(c) for c in "+=,.@_-"]])
        return b.re_plus(chars)

    def _declare_principals(self) -> None:
        b = self.b
        name_re = self._name_regex()
        path_re = b.re_star(b.re_concat((name_re, b.re_lit("/"))))
        digits = b.re_concat([b.re_range("0", "9")] * 12)
        self.partition_var: Term | None = None
        self.account_vars: dict[str | None, Term] = {}
        self.name_vars: dict[int, Term] = {}
        self.path_vars: dict[int, Term] = {}
        partitions = {c.partition for c in self.classes if c.kind != "service"}
        placeholders = {c.partition: c.placeholder.split(":")[4] for c in self.classes if c.kind == "account"}
        fresh_partition = next(
            (c.placeholder.split(":")[1] for c in self.classes if c.kind == "account" and c.partition is None), ""
        )
        if None in partitions and not self.observed.partition:
            self.partition_var = b.str_const(fresh_partition)
        elif None in partitions:
            var = b.str_var("fresh_partition")
            part_chars = b.re_union([b.re_range("a", "z"), b.re_range("0", "9"), b.re_lit("-")])
            self.constraints.append(b.in_re(var, b.re_plus(part_chars)))
            self.constraints.extend(b.not_(b.eq(var, b.str_const(p))) for p in sorted(self.named.partitions))
            self.partition_var = var
        for part in sorted(partitions, key=lambda p: (p is None, p or "")):
            if not self.observed.account:
                self.account_vars[part] = b.str_const(placeholders[part])
                continue
            var = b.str_var(f"fresh_account_{len(self.account_vars)}")
            self.constraints.append(b.in_re(var, digits))
            taken = sorted(a for p, a in self.named.accounts if p == part)
            self.constraints.extend(b.not_(b.eq(var, b.str_const(a))) for a in taken)
            self.account_vars[part] = var
        service_re = b.re_concat(
            (
                b.re_union([b.re_range("a", "z"), b.re_range("0", "9")]),
                b.re_star(b.re_union([b.re_range("a", "z"), b.re_range("0", "9"), b.re_lit("-")])),
                b.re_lit(".amazonaws.com"),
            )
        )
        self._name_re = name_re
        self._path_re = path_re
        self._service_re = service_re

    def name_var(self, cls: CallerClass) -> Term:
        """The fresh name of a class, declared on first use (most checks never read names)."""
        var = self.name_vars.get(cls.index)
        if var is None:
            b = self.b
            var = b.str_var(f"name_{cls.index}")
            if cls.kind == "service":
                self.constraints.append(b.in_re(var, self._service_re))
                taken = sorted(self.named.services)
            else:
                self.constraints.append(b.in_re(var, self._name_re))
                taken = sorted(self._names_taken(cls))
            self.constraints.extend(b.not_(b.eq(var, b.str_const(n))) for n in taken)
            self.name_vars[cls.index] = var
        return var

    def path_var(self, cls: CallerClass) -> Term:
        """The IAM path of a user or role caller, declared on first use."""
        var = self.path_vars.get(cls.index)
        if var is None:
            var = self.b.str_var(f"path_{cls.index}")
            self.constraints.append(self.b.in_re(var, self._path_re))
            self.path_vars[cls.index] = var
        return var

    def _names_taken(self, cls: CallerClass) -> set[str]:
        where = (cls.partition, cls.account)
        if cls.kind == "user":
            return {n for p, a, n in self.named.users if (p, a) == where} | self.named.usernames
        if cls.kind in ("role", "assumed_role"):
            return {n for p, a, n in self.named.roles if (p, a) == where}
        if cls.kind == "federated_user":
            return {n for p, a, n in self.named.federated if (p, a) == where}
        return set()

    def partition_of(self, cls: CallerClass) -> Term:
        if cls.partition is not None:
            return self.b.str_const(cls.partition)
        assert self.partition_var is not None
        return self.partition_var

    def account_of(self, cls: CallerClass) -> Term:
        if cls.account is not None:
            return self.b.str_const(cls.account)
        return self.account_vars[cls.partition]

    def name_of(self, cls: CallerClass) -> Term:
        if cls.name is not None:
            return self.b.str_const(cls.name)
        if not self.observed.names:
            return self.b.str_const(self._placeholder_name(cls))
        return self.name_var(cls)

    def path_of(self, cls: CallerClass) -> Term:
        return self.b.str_const(cls.path) if cls.path is not None else self.path_var(cls)

    @staticmethod
    def _placeholder_name(cls: CallerClass) -> str:
        if cls.kind == "service":
            return cls.placeholder
        resource = cls.placeholder.split(":", 5)[5]
        return resource.rpartition("/")[2]

    def arn_of(self, cls: CallerClass) -> Term:
        """The caller's ``aws:PrincipalArn`` (a session's is its role's ARN, without path)."""
        b = self.b
        head = [b.str_const("arn:"), self.partition_of(cls)]
        account = self.account_of(cls)
        if cls.kind == "account":
            return b.concat([*head, b.str_const(":iam::"), account, b.str_const(":root")])
        if cls.kind in ("user", "role"):
            return b.concat(
                [*head, b.str_const(":iam::"), account, b.str_const(f":{cls.kind}/"), self.path_of(cls), self.name_of(cls)]
            )
        if cls.kind == "assumed_role":
            return b.concat([*head, b.str_const(":iam::"), account, b.str_const(":role/"), self.name_of(cls)])
        return b.concat([*head, b.str_const(":sts::"), account, b.str_const(":federated-user/"), self.name_of(cls)])

    # -- action and resource -----------------------------------------------------------------

    def _declare_action(self, pattern_chars: set[str]) -> None:
        """The action, lowercased, as any string of the form ``service:Name``.

        The solver may use any character; ``action_text`` later replaces every character that no
        action pattern or constant spells (those are interchangeable for every test the formula
        makes) by one spare letter, which keeps the request a lowercase action name. Restricting
        the alphabet in the formula instead makes string solving far slower.
        """
        b = self.b
        constants = {c for op in CROSS_ACCOUNT_OPERATIONS for c in op} | set("kms:putkeypolicycreatekey")
        self.action_alphabet = frozenset(c for c in pattern_chars | constants if c not in "*?")
        self.action_spare = next(c for c in _SPARE_CHARS if c not in self.action_alphabet)
        not_colon = b.re_not_char(":")
        self.action = b.str_var("action")
        head = b.re_lit("kms:") if self.scope.kms_actions_only else b.re_concat((b.re_plus(not_colon), b.re_lit(":")))
        self.constraints.append(b.in_re(self.action, b.re_concat((head, b.re_all(), not_colon))))
        if self.scope.kms_actions_only:
            self.is_kms_action = TRUE
        else:
            self.is_kms_action = b.prefixof("kms:", self.action)
        self.cross_account_operation = b.or_(
            b.eq(self.action, b.str_const(f"kms:{op}")) for op in sorted(CROSS_ACCOUNT_OPERATIONS)
        )
        self.is_bypass_action = b.or_(b.eq(self.action, b.str_const(a)) for a in _BYPASS_ACTIONS)

    def action_text(self, value: str) -> str:
        """A model's action as a lowercase action name that every action test treats the same way."""
        return "".join(c if c in self.action_alphabet else self.action_spare for c in value)

    def _declare_resource(self) -> None:
        """The resource as ``arn:`` and five parts (for key-only scopes, a key ARN's literal parts fixed)."""
        b = self.b
        no_colon = b.re_star(b.re_not_char(":"))
        self.r_partition = b.str_var("resource_partition")
        self.r_region = b.str_var("resource_region")
        self.r_account = b.str_var("resource_account")
        lower = b.re_union([b.re_range("a", "z"), b.re_range("0", "9"), b.re_lit("-")])
        self.constraints.append(b.in_re(self.r_partition, b.re_plus(lower)))
        if self.scope.key_resources_only:
            self.r_key_id = b.str_var("resource_key_id")
            self.r_service = b.str_const("kms")
            self.r_rest = b.concat([b.str_const("key/"), self.r_key_id])
            id_chars = b.re_union([b.re_range("a", "z"), b.re_range("A", "Z"), b.re_range("0", "9"), b.re_lit("-")])
            self.constraints.append(b.in_re(self.r_key_id, b.re_plus(id_chars)))
            self.constraints.append(b.in_re(self.r_region, b.re_plus(lower)))
            self.constraints.append(b.in_re(self.r_account, b.re_concat([b.re_range("0", "9")] * 12)))
            self.resource = b.concat(
                [
                    b.str_const("arn:"),
                    self.r_partition,
                    b.str_const(":kms:"),
                    self.r_region,
                    b.str_const(":"),
                    self.r_account,
                    b.str_const(":key/"),
                    self.r_key_id,
                ]
            )
            self.is_key_resource = TRUE
        else:
            self.r_service = b.str_var("resource_service")
            self.r_rest = b.str_var("resource_rest")
            for part in (self.r_service, self.r_region, self.r_account):
                self.constraints.append(b.in_re(part, no_colon))
            self.constraints.append(b.in_re(self.r_rest, b.re_plus(b.re_char())))
            colon = b.str_const(":")
            self.resource = b.concat(
                [
                    b.str_const("arn:"),
                    self.r_partition,
                    colon,
                    self.r_service,
                    colon,
                    self.r_region,
                    colon,
                    self.r_account,
                    colon,
                    self.r_rest,
                ]
            )
            self.is_key_resource = b.and_((b.eq(self.r_service, b.str_const("kms")), b.prefixof("key/", self.r_rest)))
        self.has_resource_account = b.not_(b.eq(self.r_account, b.str_const("")))
        if self.scope.key_account is not None:
            self.constraints.append(b.eq(self.r_account, b.str_const(self.scope.key_account)))
        # the key lives in one of the universe's partitions (named ones, or the fresh one)
        known = [b.eq(self.r_partition, b.str_const(p)) for p in sorted(self.named.partitions)]
        if self.partition_var is not None:
            known.append(b.eq(self.r_partition, self.partition_var))
        self.constraints.append(b.or_(known))
        for cls in self.classes:
            if cls.kind != "service":
                self.constraints.append(b.implies(self.is_class(cls.index), b.eq(self.r_partition, self.partition_of(cls))))

    def resource_matches(self, pattern: str) -> Term:
        """The resource matches a Resource pattern (``regex.resource_test``, split by segment for keys).

        A key ARN's parts hold no colon, so a pattern of six colon-separated pieces can only
        match piece by piece (its five literal colons must meet the ARN's five), and each piece
        is a glob over one part: small tests on short variables instead of one regex over the
        whole ARN. Other patterns use the whole-ARN regex.
        """
        b = self.b
        pieces = pattern.split(":")
        if pattern == "*" or not self.scope.key_resources_only or not pattern.startswith("arn:") or len(pieces) < 6:
            return resource_test(b, self.resource, pattern)
        if len(pieces) > 6:
            return FALSE  # six literal colons cannot meet a key ARN's five
        _, partition, service, region, account, rest = pieces
        tests = [
            glob_test(b, self.r_partition, partition),
            TRUE if glob_matcher(service)("kms") else FALSE,
            glob_test(b, self.r_region, region),
            glob_test(b, self.r_account, account),
        ]
        if rest.startswith("key/"):
            tests.append(glob_test(b, self.r_key_id, rest[4:]))
        else:
            tests.append(b.in_re(self.r_rest, glob_regex(b, rest)))
        return b.and_(tests)

    def cross_account(self, cls: CallerClass) -> Term:
        """Caller and resource are in different known accounts (services never are)."""
        if cls.kind == "service":
            return FALSE
        b = self.b
        return b.and_((self.has_resource_account, b.not_(b.eq(self.account_of(cls), self.r_account))))

    # -- encryption context and grant tokens --------------------------------------------------

    def ec_has(self, key: str) -> Term:
        """The encryption context holds ``key`` (lowercased)."""
        return self.keyvars[EC_PREFIX + key].present

    def ec_pair(self, key: str, value: str) -> Term:
        """The encryption context maps ``key`` (lowercased) to exactly ``value``."""
        kv = self.keyvars[EC_PREFIX + key]
        text = kv.slots[0].text
        assert text is not None, f"{EC_PREFIX}{key} is declared with a text reading"
        return self.b.and_((kv.present, kv.slots[0].used, self.b.eq(text, self.b.str_const(value))))

    def declare_grant_ids(self, ids: Sequence[str]) -> None:
        """The grant ids a request may name (those of the grants in the policy set)."""
        self.grant_ids = tuple(sorted(set(ids)))
        self.constraints[self._grant_domain] = self.b.one_of(self.grant_choice, range(len(self.grant_ids) + 2))

    def grant_id_is(self, grant_id: str | None) -> Term:
        """The request names grant ``grant_id`` (``None``: names no grant)."""
        index = len(self.grant_ids) if grant_id is None else self.grant_ids.index(grant_id)
        return self.b.eq(self.grant_choice, self.b.int_const(index))

    def token(self, token: str) -> Term:
        """The request carries grant token ``token``."""
        term = self.tokens.get(token)
        if term is None:
            term = self.tokens[token] = self.b.bool_var(f"grant_token_{len(self.tokens)}")
        return term

    # -- context keys ------------------------------------------------------------------------

    def key_is(self, kv: KeyVars, value: ContextValue | None) -> list[Term]:
        """Terms fixing a context key to ``value`` (``None``: absent): presence, each value's text and
        typed readings. A ``RequestError`` when the value cannot be fixed exactly (more values than
        the key's slots, or a reading that is not an exact integer)."""
        from policyengine.analysis.values import reading

        b = self.b
        if value is None:
            return [b.not_(kv.present)]
        texts = [value] if isinstance(value, str) else list(value)
        if len(texts) > len(kv.slots):
            raise RequestError(f"`{kv.use.key}` holds {len(texts)} values; the model of these policies holds {len(kv.slots)}")
        pins = [kv.present]
        for index, slot in enumerate(kv.slots):
            if index >= len(texts):
                pins.append(b.not_(slot.used))
                continue
            text = texts[index]
            pins.append(slot.used)
            if slot.text is not None:
                pins.append(b.eq(slot.text, b.str_const(text)))
            for family, (readable, number) in slot.typed.items():
                fixed = reading(kv.use, family, text)
                if fixed is None:
                    raise RequestError(f"`{kv.use.key}` = `{text}` has no exact {family} reading")
                pins.append(readable if fixed[0] else b.not_(readable))
                if fixed[0]:
                    pins.append(b.eq(number, b.int_const(fixed[1])))
        return pins

    def facts(self, guard: Term, facts: Mapping[str, ContextValue], closed: tuple[str, ...] = ()) -> None:
        """When ``guard`` holds, the context keys ``facts`` names hold those values (``can``'s facts
        of a snapshot principal, account or key), and keys the policies read under a ``closed``
        prefix (``aws:principaltag/``) that ``facts`` does not name are absent. A fact that cannot
        be fixed exactly is left free."""
        b = self.b
        for key, kv in self.keyvars.items():
            if kv.use.derived:
                continue
            value = facts.get(key)
            if value is None and not key.startswith(closed or ("\0",)):
                continue
            try:
                pins = self.key_is(kv, value)
            except RequestError:
                self.approximations.add(f"`{key}` holds a value the model cannot fix exactly: left free")
                continue
            self.constraints.append(b.implies(guard, b.and_(pins)))

    def derived_alternatives(self, key: str, cls: CallerClass) -> list[tuple[Term, str | Term]]:
        """What ``make_request`` puts under a derived key for this caller: (guard, value) pairs."""
        b = self.b
        service = cls.kind == "service"
        if key == "aws:resourceaccount":
            return [(self.has_resource_account, self.r_account)]
        if key == "kms:bypasspolicylockoutsafetycheck":
            return [
                (b.and_((self.is_bypass_action, self.bypass)), "true"),
                (b.and_((self.is_bypass_action, b.not_(self.bypass))), "false"),
            ]
        if key == "aws:principalisawsservice":
            return [(TRUE, "true" if service else "false")]
        if key == "aws:principalservicename":
            return [(TRUE, self.name_of(cls))] if service else []
        if service:
            return []
        if key == "aws:principalarn":
            return [(TRUE, self.arn_of(cls))]
        if key == "aws:principalaccount":
            return [(TRUE, self.account_of(cls))]
        if key == "aws:principaltype":
            return [(TRUE, _PRINCIPAL_TYPES[cls.kind])]
        if key == "aws:username":
            return [(TRUE, self.name_of(cls))] if cls.kind == "user" else []
        if key == "kms:calleraccount":
            return [(self.is_kms_action, self.account_of(cls))]
        raise KeyError(key)

    def _declare_key(self, use: KeyUse) -> KeyVars:
        b = self.b
        safe = "".join(c if c.isalnum() else "_" for c in use.key)
        present = b.bool_var(f"has_{safe}")
        kv = KeyVars(use, present)
        if use.derived:
            text = b.str_var(f"value_{safe}")
            kv.slots.append(Slot(used=present, text=text))
            per_class = use.key not in ("aws:resourceaccount", "kms:bypasspolicylockoutsafetycheck")
            for cls in self.classes if per_class else self.classes[:1]:
                guard = self.is_class(cls.index) if per_class else TRUE
                alternatives = self.derived_alternatives(use.key, cls)
                facts = [b.eq(present, b.lift(b.or_(g for g, _ in alternatives)))]
                for condition, value in alternatives:
                    value_term = b.str_const(value) if isinstance(value, str) else value
                    facts.append(b.implies(condition, b.eq(text, value_term)))
                self.constraints.append(b.implies(guard, b.and_(facts)))
            return kv
        count = use.slots
        for index in range(count):
            used = present if count == 1 else b.bool_var(f"used_{safe}_{index}")
            kv.slots.append(self._declare_slot(use, f"{safe}_{index}", used))
        if count > 1:
            self.constraints.append(b.eq(present, b.lift(b.or_(s.used for s in kv.slots))))
            for earlier, later in zip(kv.slots, kv.slots[1:], strict=False):
                self.constraints.append(b.implies(later.used, earlier.used))
        if len(use.families) > 1:
            self.approximations.add(
                f"context key `{use.key}` is read as {' and '.join(sorted(use.families))}: each reading is a separate "
                "variable (a counterexample may not replay)"
            )
        return kv

    def _declare_slot(self, use: KeyUse, name: str, used: Term) -> Slot:
        b = self.b
        slot = Slot(used=used)
        families = use.families or {"string"}
        if "string" in families:
            slot.text = b.str_var(f"text_{name}")
        for family in sorted(families - {"string"}):
            ok = b.bool_var(f"{family}_ok_{name}")
            value = b.int_var(f"{family}_{name}")
            self.constraints.append(self.typed_domain(use, family, value, name))
            slot.typed[family] = (ok, value)
        return slot

    def typed_domain(self, use: KeyUse, family: str, value: Term, name: str) -> Term:
        """The integers that are readings of some request string, for one family."""
        b = self.b
        if family == "date":
            whole = b.int_var(f"date_seconds_{name}")
            # epoch seconds (any integer) or an ISO 8601 instant (microseconds, years 1-9999)
            in_iso = b.and_((b.le(b.int_const(DATE_MIN_US), value), b.le(value, b.int_const(DATE_MAX_US))))
            return b.or_((in_iso, b.eq(value, b.mul_const(whole, 1_000_000))))
        if family == "bool":
            return b.one_of(value, (0, 1))
        if family == "ip":
            return b.and_((b.le(b.int_const(0), value), b.lt(value, b.int_const(IP_V6_OFFSET + 2**128))))
        if family == "binary":
            return b.one_of(value, range(len(use.binaries) + 1))
        return TRUE
