"""Which callers a key shuts out, as bit masks over accounts: the test most ``can`` questions end at.

Most (caller, key) pairs of an organization are denied before any policy is read: the key's
policy neither names the caller nor lets its account in, no grant is for it
(``Prechecks.admitted_accounts``, ``KeyGroups.named``), and the caller reaches no role of an account
the key lets in or names. Asked for 2,000 random pairs of a 20,000-principal organization, 19 in 20
end there, and the test was most of ``can``'s time; most of that was reading sets, tuples and strings
scattered over a large heap. Here each account is a bit: a key's door is two masks (the accounts it
lets in, the accounts of the callers it names) and a caller is its own account's bit, so the test is
a few integer operations on two small records, and only a caller whose account the key names is
looked up by name.
"""

from __future__ import annotations

from typing import NamedTuple

from policyengine.access.subjects import Subject
from policyengine.access.world import KeyInfo


class Caller(NamedTuple):
    """A snapshot user or role as the door test reads it: its account's bit, its (account, name), the mask of the
    accounts of the roles it reaches (None until its routes are found), and the subject itself (so that an answer
    is made without reading the subject's own fields)."""

    own: int
    name: tuple[str | None, str]
    subject: Subject
    reached: int | None = None


class Door(NamedTuple):
    """Who a key may let in: the accounts (None: anyone) and, as masks of ``AccountBits``, those accounts and the
    accounts of the callers it names; the names it names by account (Principal entries and grantees,
    ``KeyGroups.named``); with the key and the notes a denial on it carries (``Access.notes``)."""

    admitted: frozenset[str] | None
    admitted_mask: int
    named_mask: int
    named_by_account: dict[str | None, frozenset[str | None]]
    key: KeyInfo
    deny_notes: tuple[str, ...]

    @classmethod
    def of(
        cls,
        bits: AccountBits,
        key: KeyInfo,
        admitted: frozenset[str] | None,
        named: set[tuple[str | None, str | None]],
        deny_notes: tuple[str, ...],
    ) -> Door:
        by_account: dict[str | None, set[str | None]] = {}
        for account, name in named:
            by_account.setdefault(account, set()).add(name)
        return cls(
            admitted,
            bits.mask(admitted),
            bits.mask(frozenset(by_account)),
            {account: frozenset(names) for account, names in by_account.items()},
            key,
            deny_notes,
        )

    def shuts_out(self, caller: Caller) -> bool:
        """Is ``caller`` kept out: not from an account the key lets in, and not named by it?"""
        own = caller.own
        if self.admitted is None or self.admitted_mask & own:
            return False
        # A set bit means the key names someone of the caller's account: is it the caller?
        return not (self.named_mask & own and caller.name[1] in self.named_by_account[caller.name[0]])


class AccountBits:
    """A bit for each account, given on first sight; masks of account sets."""

    def __init__(self) -> None:
        self._bits: dict[str | None, int] = {}

    def bit(self, account: str | None) -> int:
        found = self._bits.get(account)
        if found is None:
            found = self._bits[account] = 1 << len(self._bits)
        return found

    def mask(self, accounts: frozenset[str] | frozenset[str | None] | None) -> int:
        found = 0
        for account in accounts or ():
            found |= self.bit(account)
        return found

    def caller(self, subject: Subject) -> Caller:
        """A snapshot user or role as a ``Caller`` (anyone else is never shut out, and has none)."""
        principal = subject.principal
        assert principal is not None
        return Caller(self.bit(subject.account), (subject.account, principal.name), subject)
