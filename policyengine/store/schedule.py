"""When a key next needs scheduled work, kept with the key so that stores find due work by an index.

Scheduled work (a deletion whose waiting period ended, imported material that expired, an
automatic rotation) used to be found by reading every key on each pass; with 100,000 keys in an
account that is most of the cost of the call that runs the pass. Each store instead keeps
``due_time(key)`` in an indexed ``due`` column written with the key, and answers
``StoreTransaction.due_keys(now)`` and ``next_due()`` from that index.

``due_time`` and ``DUE_SQL`` say the same thing twice, once for records and once for the
migration that fills the column of keys written before it existed; a test holds them together.
"""

from __future__ import annotations

from policyengine.store.records import KeyRecord

__all__ = ["DUE_SQL", "due_time"]


def due_time(key: KeyRecord) -> float | None:
    """The time scheduled work is next due for ``key``, or None if nothing is ever due.

    The three cases, in the order the KMS facade settles them (kms.core ``_settle_key``): the end of
    a deletion's waiting period, the expiry of imported material, the next automatic rotation.
    """
    if key.state == "PendingDeletion" and key.deletion_date is not None:
        return key.deletion_date
    if key.valid_to is not None and key.expiration_model == "KEY_MATERIAL_EXPIRES" and key.state != "PendingImport":
        return key.valid_to
    if key.rotation_enabled and key.next_rotation_date is not None and key.state == "Enabled" and key.origin == "AWS_KMS":
        return key.next_rotation_date
    return None


#: ``due_time`` as an SQL expression over a ``keys`` row (SQLite and PostgreSQL alike).
DUE_SQL = (
    "CASE"
    " WHEN state = 'PendingDeletion' AND deletion_date IS NOT NULL THEN deletion_date"
    " WHEN valid_to IS NOT NULL AND expiration_model = 'KEY_MATERIAL_EXPIRES' AND state <> 'PendingImport' THEN valid_to"
    " WHEN rotation_enabled AND next_rotation_date IS NOT NULL AND state = 'Enabled' AND origin = 'AWS_KMS'"
    " THEN next_rotation_date"
    " END"
)
