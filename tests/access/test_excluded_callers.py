"""The "excluded caller" shortcut (``Access.excluded``) against full evaluation, where it is easiest to get wrong.

A caller from an account the key policy does not name is denied whatever its IAM policies say
(SEMANTICS §3, §4.1; KMS DG key-policy-modifying-external-accounts), so ``ask``, ``can`` and
``who_can`` skip it. But a grant's grantee in another account uses the key without the key policy
naming that account (KMS DG grants, https://docs.aws.amazon.com/kms/latest/developerguide/grants.html:
"the grantee principal ... can be ... in a different AWS account"), and a service principal named
by the key policy has no account at all: neither may be skipped, and the grantee's account-mates
are still denied.
"""

from __future__ import annotations

from typing import Any

from policyengine.access import Access, World
from policyengine.access.loader import snapshot_from_data

_ALL_KMS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}


def _trust(principal: dict[str, str]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}


def _key(key_id: str, extra: list[dict[str, Any]], grants: list[dict[str, Any]]) -> dict[str, Any]:
    root = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}
    return {
        "id": key_id,
        "region": "us-east-1",
        "policy": {"Version": "2012-10-17", "Statement": [root, *extra]},
        "grants": grants,
    }


GRANTED = "1111aaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
SERVICE = "1111bbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"


def _world() -> World:
    logs = {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"}
    grant = {"grant_id": "g-app", "grantee_principal": "arn:aws:iam::222222222222:role/app", "operations": ["Decrypt"]}
    data = {
        "format": "policyengine-snapshot/1",
        "accounts": [
            {"id": "111111111111", "keys": [_key(GRANTED, [], [grant]), _key(SERVICE, [logs], [])]},
            {
                "id": "222222222222",
                "roles": [
                    # no IAM policy: the grant alone lets it decrypt
                    {"name": "app", "trust_policy": _trust({"AWS": "arn:aws:iam::222222222222:user/dev"})},
                    # every KMS action in IAM, but neither the key policy nor a grant names it
                    {
                        "name": "other",
                        "trust_policy": _trust({"Service": "ec2.amazonaws.com"}),
                        "inline_policies": [{"name": "kms", "document": _ALL_KMS}],
                    },
                ],
                "users": [
                    {
                        "name": "dev",
                        "inline_policies": [
                            {
                                "name": "assume",
                                "document": {
                                    "Version": "2012-10-17",
                                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
                                },
                            }
                        ],
                    }
                ],
            },
            {"id": "333333333333", "users": [{"name": "eve", "inline_policies": [{"name": "kms", "document": _ALL_KMS}]}]},
        ],
    }
    return World.build(snapshot_from_data(data, "excluded-callers"), "excluded-callers")


def test_every_shortcut_answer_is_the_full_evaluation() -> None:
    """ask (shortcut or memo), can and who-can say what a full evaluation of every caller and role says."""
    world = _world()
    access, slow = Access.of(world), Access.of(world)
    for key in world.keys.values():
        who = {v.direct.subject.id: v for v in access.who_can("kms:Decrypt", key.arn)}
        for subject in slow.subjects.all():
            full = slow.ask(subject, "kms:Decrypt", key, full=True)
            every = {
                arn: slow.ask(slow.subjects.by_id[arn], "kms:Decrypt", key, full=True) for arn in slow.reach.paths_from(subject)
            }
            route = slow.route(subject, every) if full.status != "allow" else None
            expected = route.status if route is not None else full.status
            assert access.ask(access.subjects.by_id[subject.id], "kms:Decrypt", key).status == full.status, (
                subject.label,
                key.label,
            )
            assert access.can(subject.id, "kms:Decrypt", key.arn).status == expected, (subject.label, key.label)
            assert who[subject.id].status == expected, (subject.label, key.label)


def test_a_grantee_in_an_account_the_key_policy_does_not_name_is_not_excluded() -> None:
    world = _world()
    access = Access.of(world)
    key = world.key(GRANTED)
    assert access.can("arn:aws:iam::222222222222:role/app", "kms:Decrypt", key.arn).status == "allow"
    # through the grantee role: dev assumes app
    verdict = access.can("arn:aws:iam::222222222222:user/dev", "kms:Decrypt", key.arn)
    assert verdict.direct.status == "deny" and verdict.route is not None and verdict.status == "allow"
    # the grantee's account-mate with every KMS action in IAM is still denied, and so is another account's user
    other = access.can("arn:aws:iam::222222222222:role/other", "kms:Decrypt", key.arn)
    eve = access.can("arn:aws:iam::333333333333:user/eve", "kms:Decrypt", key.arn)
    assert other.status == "deny" and eve.status == "deny"
    assert access.excluded(access.subjects.by_id["arn:aws:iam::333333333333:user/eve"], key)


def test_a_grant_lets_in_its_grantee_not_the_grantees_account() -> None:
    """A grant is for one grantee principal (KMS DG grants: "the grantee principal ... can use the
    permissions in the grant"; ``grantee_is_caller``), so the grantee's account-mates are excluded like
    any caller of an account the key policy does not name: answered "deny" without a full evaluation,
    with the reason the full evaluation gives, while the grantee itself is still asked."""
    world = _world()
    access, slow = Access.of(world), Access.of(world)
    key = world.key(GRANTED)
    assert access.prechecks.admitted_accounts(key) == frozenset({"111111111111"})
    other = access.subjects.by_id["arn:aws:iam::222222222222:role/other"]
    app = access.subjects.by_id["arn:aws:iam::222222222222:role/app"]
    assert access.excluded(other, key) and not access.excluded(app, key)
    assert access.prechecks.denied(other, key) == "key_policy_excludes_caller"
    assert access.prechecks.denied(app, key, "kms:Decrypt") is None
    # the grant is for Decrypt only: for another operation its grantee is excluded by the pre-check too,
    # and the full evaluation agrees
    assert access.prechecks.denied(app, key, "kms:Encrypt") == "key_policy_excludes_caller"
    expected = ((other, "kms:Decrypt", "key_policy_does_not_trust_account"), (app, "kms:Encrypt", "no_allow"))
    for subject, action, reason in expected:
        full = slow.ask(slow.subjects.by_id[subject.id], action, key, full=True).result
        assert (full.status, full.reason) == ("deny", reason)


def test_a_service_the_key_policy_names_is_not_excluded() -> None:
    world = _world()
    access = Access.of(world)
    key = world.key(SERVICE)
    assert access.door(key).admitted == frozenset({"111111111111"})
    allowed = {v.direct.subject.label for v in access.who_can("kms:Decrypt", key.arn) if v.status == "allow"}
    assert allowed == {"root/111111111111", "service/logs.amazonaws.com"}


def test_who_can_explains_each_excluded_caller_by_its_own_evaluation() -> None:
    """Excluded callers are denied without asking, but each denial's reason and deciding statements are the
    caller's own full evaluation: a Deny that names one excluded account makes that account's denials explicit
    (SEMANTICS §5: report explicit vs implicit), the others' stay implicit."""
    no_audit = {
        "Sid": "NoAudit",
        "Effect": "Deny",
        "Principal": {"AWS": "arn:aws:iam::444444444444:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    user = {"name": "mallory", "inline_policies": [{"name": "kms", "document": _ALL_KMS}]}
    data = {
        "format": "policyengine-snapshot/1",
        "accounts": [
            {"id": "111111111111", "keys": [_key(GRANTED, [no_audit], [])]},
            {"id": "333333333333", "users": [{**user, "name": "eve"}]},
            {"id": "444444444444", "users": [user]},
        ],
    }
    world = World.build(snapshot_from_data(data, "deny-names-an-account"), "deny-names-an-account")
    access, slow = Access.of(world), Access.of(world)
    key = world.key(GRANTED)
    explained = 0
    for verdict in access.who_can("kms:Decrypt", key.arn):
        subject = verdict.direct.subject
        full = slow.ask(slow.subjects.by_id[subject.id], "kms:Decrypt", key, full=True).result
        assert (verdict.direct.result.reason, verdict.direct.result.deciding) == (full.reason, full.deciding), subject.label
        explained += access.excluded(subject, key)
    assert explained == 2
    mallory = next(v for v in access.who_can("kms:Decrypt", key.arn) if v.direct.subject.label == "user/mallory")
    assert mallory.direct.result.reason == "explicit_deny" and [r.sid for r in mallory.direct.result.deciding] == ["NoAudit"]


def test_an_account_grantee_keeps_its_account_for_the_full_evaluation() -> None:
    """A grant to an account (``GranteePrincipal`` a root ARN: KMS API CreateGrant, "Valid principals include Amazon
    Web Services accounts") names no user or role, so its account stays among those the key may let in and its
    callers are asked, not excluded by the shortcut; every answer is the full evaluation's."""
    grant = {"grant_id": "g-acct", "grantee_principal": "arn:aws:iam::222222222222:root", "operations": ["Decrypt"]}
    data = {
        "format": "policyengine-snapshot/1",
        "accounts": [
            {"id": "111111111111", "keys": [_key(GRANTED, [], [grant])]},
            {"id": "222222222222", "users": [{"name": "dev", "inline_policies": [{"name": "kms", "document": _ALL_KMS}]}]},
        ],
    }
    world = World.build(snapshot_from_data(data, "account-grantee"), "account-grantee")
    access, slow = Access.of(world), Access.of(world)
    key = world.key(GRANTED)
    assert access.prechecks.admitted_accounts(key) == frozenset({"111111111111", "222222222222"})
    dev = access.subjects.by_id["arn:aws:iam::222222222222:user/dev"]
    assert not access.excluded(dev, key)
    for subject in slow.subjects.all():
        full = slow.ask(subject, "kms:Decrypt", key, full=True)
        fast = access.can(subject.id, "kms:Decrypt", key.arn, direct_only=True)
        assert (fast.status, fast.direct.result.reason) == (full.status, full.result.reason), subject.label
