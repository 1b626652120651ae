"""The answer memo of a long-lived ``Access`` stays under its cap, and the cap changes no answer; the partial
evaluator's cache of policy variables is bounded too."""

from __future__ import annotations

import pytest

from policyengine.access import Access, World, access_matrix, partial
from policyengine.access.memo import BoundedMemo
from policyengine.access.synthetic import generate
from policyengine.evaluator.compiled import compile_policy
from policyengine.parsing.document import parse_policy_fast


def test_the_oldest_entry_goes_first_past_the_cap() -> None:
    memo: BoundedMemo[str, int] = BoundedMemo(3)
    for i, name in enumerate("abcd"):
        memo.put(name, i)
    assert len(memo) == 3 and "a" not in memo and [memo.get(n) for n in "bcd"] == [1, 2, 3]
    memo.put("b", 10)  # replacing an entry drops nothing
    assert len(memo) == 3 and memo.get("b") == 10 and memo.get("c") == 2


def test_a_memo_without_room_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one entry"):
        BoundedMemo(0)


def test_a_capped_access_answers_as_an_uncapped_one_and_stays_under_its_cap() -> None:
    org = World.build(generate(120, 30, accounts=3, seed=5))
    capped = Access.of(org, memo_limit=25)
    free = Access.of(org)
    subjects = capped.subjects.principals()
    keys = sorted(org.keys)
    asked = 0
    for n, subject in enumerate(subjects):
        for key in keys[n % 7 :: 7]:
            for action in ("kms:Decrypt", "kms:Encrypt", "kms:DescribeKey"):
                got, expected = capped.can(subject.id, action, key), free.can(subject.id, action, key)
                assert got.to_json() == expected.to_json(), (subject.label, key, action)
                asked += 1
        assert len(capped._memo) <= 25 and len(capped._group_memo) <= 2
    assert asked > 1000 and len(free._memo) > 25


def test_a_capped_matrix_is_the_uncapped_one() -> None:
    org = World.build(generate(60, 12, accounts=2, seed=3))
    capped = Access.of(org, memo_limit=10)
    assert access_matrix(capped).to_json() == access_matrix(Access.of(org)).to_json()
    assert len(capped._group_memo) == 1


def test_the_policy_variable_cache_is_emptied_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """It holds compiled statements alive: a process that compiles policy after policy must not keep them all."""
    monkeypatch.setattr(partial, "VARIABLE_KEYS_LIMIT", 4)
    monkeypatch.setattr(partial, "_VARIABLE_KEYS", {})
    document = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", '
        '"Resource": "arn:aws:kms:*:${aws:PrincipalAccount}:key/*"}]}'
    )
    for n in range(10):
        statement = compile_policy(parse_policy_fast(document, source=f"p{n}"), "identity", f"p{n}").statements[0]
        assert statement.resource_static is None  # the path that reads the variables
        keys = partial._variables(statement, (item.template for item in statement.resource_items))
        assert keys == ("aws:principalaccount",) and len(partial._VARIABLE_KEYS) <= 4
