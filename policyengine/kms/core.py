"""The machinery every KMS operation shares: finding keys, authorizing, state checks, audit.

``KmsCore`` holds the injected store, master key and clock. Operations (in the ``ops_*``
modules) call ``_call`` so that each one is audited exactly once, allowed or not, and call
``authorize`` before they touch key material: the gate comes first, always.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from policyengine.aws_facts import key_state_error
from policyengine.errors import PolicyEngineError
from policyengine.evaluator.authorizer import PolicySet, authorize
from policyengine.evaluator.compiled import CompiledPolicy, compile_policy
from policyengine.explain.decision import Decision
from policyengine.kms import _crypto
from policyengine.kms.audit import build_event
from policyengine.kms.caller import Caller
from policyengine.kms.clock import Clock, SystemClock
from policyengine.kms.errors import (
    AccessDeniedException,
    DisabledException,
    InvalidArnException,
    KMSError,
    KMSInvalidStateException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from policyengine.kms.grant_tokens import check_tokens
from policyengine.kms.organization import Organization
from policyengine.model.grant import Grant
from policyengine.model.policy import PolicyDocument
from policyengine.parsing.document import parse_policy_fast
from policyengine.parsing.request import make_grant, make_request
from policyengine.store import StoreConflict
from policyengine.store.base import KeyStore, StoreTransaction
from policyengine.store.records import GrantRecord, KeyRecord, MaterialRecord

Response = dict[str, Any]
#: How many times one call runs when its transaction keeps losing races (``StoreConflict``).
_CONFLICT_ATTEMPTS = 5
_KEY_ID = re.compile(r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$")
#: How AWS words a key state in KMSInvalidStateException ("<arn> is pending import.").
_STATE_WORDS = {
    "PendingDeletion": "pending deletion",
    "PendingImport": "pending import",
    "PendingReplicaDeletion": "pending replica deletion",
    "Disabled": "disabled",
    "Enabled": "enabled",
}
_DENY_WORDS = {
    "key_policy": "a resource-based policy",
    "identity": "an identity-based policy",
    "boundary": "a permissions boundary",
    "session_policy": "a session policy",
    "scp": "a service control policy",
    "rcp": "a resource control policy",
}
_IMPLICIT_WORDS = {
    "no_allow": "no resource-based policy allows",
    "key_policy_does_not_trust_account": "no resource-based policy allows",
    "cross_account_needs_identity_allow": "no identity-based policy allows",
    "cross_account_needs_resource_allow": "no resource-based policy allows",
    "no_scp_allow": "no service control policy allows",
    "boundary_cap": "no permissions boundary allows",
    "session_policy_cap": "no session policy allows",
}


def key_arn(region: str, account: str, key_id: str) -> str:
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def public_id(key: KeyRecord) -> str:
    """The key id AWS shows (the ARN's last part). It differs from ``key.key_id``, the store's record id,
    only for a multi-Region replica, whose record is ``<mrk-id>@<region>`` (related keys share the id)."""
    return key.arn.rsplit("/", 1)[1]


def replica_record_id(mrk_id: str, region: str) -> str:
    """The store record id of the multi-Region key ``mrk_id`` in ``region`` when it is not the first made."""
    return f"{mrk_id}@{region}"


def shown_key_id(record_id: str) -> str:
    """The key id AWS shows for a store record id (aliases and grants name records)."""
    return record_id.split("@", 1)[0]


def iso(epoch: float) -> datetime:
    """Epoch seconds as the timezone-aware datetime boto3 gives for timestamps."""
    return datetime.fromtimestamp(epoch, UTC)


def material_aad(key_id: str, version: int) -> bytes:
    return f"policyengine-material:{key_id}:{version}".encode()


class KmsCore:
    """Shared state and helpers; ``LocalKms`` adds the operations."""

    def __init__(self, store: KeyStore, master_key: bytes, *, region: str = "us-east-1", clock: Clock | None = None) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self.store = store
        self.region = region
        self.clock: Clock = clock or SystemClock()
        self._master_key = master_key
        self._policy_cache: dict[tuple[str, str], CompiledPolicy] = {}
        self._material_cache: dict[tuple[str, int, bytes], bytes] = {}
        self._time_text: tuple[int, str] = (-1, "")
        self._cache_lock = threading.Lock()
        self._next_due: float = 0.0
        self._calls = threading.local()  # .current: the _OpenCall of this thread's call in progress
        self.organization = Organization()  # shared in place by every region view (for_region copies the reference)

    def __repr__(self) -> str:
        return f"LocalKms(region={self.region!r})"

    def for_region(self, region: str) -> KmsCore:
        """A view of the same store in another region (same master key, clock and caches)."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.region = region
        return other

    # ---- audit and the call wrapper -------------------------------------------------------

    def _call(
        self, name: str, caller: Caller, parameters: Mapping[str, Any], work: Callable[[], tuple[Response, str | None]]
    ) -> Response:
        """Run one operation: scheduled work first, then ``work``; audit the outcome either way.

        A call that changes something is recorded in its own transaction (see ``writing``); a
        call that changes nothing, or fails, is recorded on its own. The record's ``requestID``
        is the request id the server sent the client (``request_scope``), or a fresh one.
        """
        now = self.clock.now()
        request_id = _REQUEST_ID.get() or str(uuid.uuid4())
        try:
            _require_unicode(parameters)
            return self._attempt(now, name, caller, parameters, request_id, work)
        except KMSError as error:
            self._audit(now, name, caller, parameters, request_id, None, error.key_arn, error.code, error.message)
            raise
        except PolicyEngineError as error:
            self._audit(now, name, caller, parameters, request_id, None, None, "ValidationException", str(error))
            raise

    def _attempt(
        self,
        now: float,
        name: str,
        caller: Caller,
        parameters: Mapping[str, Any],
        request_id: str,
        work: Callable[[], tuple[Response, str | None]],
    ) -> Response:
        """Scheduled work, then the operation and its audit record; all again (a few times, after a
        short random pause) when the store rolled a transaction back because it lost a race with
        another process (``StoreConflict``, e.g. a deadlock PostgreSQL broke). An attempt that
        failed left nothing behind (its transaction rolled back), so running it again is safe."""
        for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
            try:
                self.run_scheduled_work(now)
                call = _OpenCall(self.store)
                self._calls.current = call
                try:
                    response, key_arn_seen = work()
                    event = self._event(now, name, caller, parameters, request_id, _audit_response(name, response), key_arn_seen)
                    if not call.append_and_commit(now, name, caller.principal, key_arn_seen, event):
                        self.store.append_audit(now, name, caller.principal, key_arn_seen, None, event)
                    return response
                except BaseException as error:
                    call.abandon(error)
                    raise
                finally:
                    self._calls.current = None
            except StoreConflict:
                if attempt == _CONFLICT_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.0, 0.005 * 2**attempt))
        raise AssertionError("unreachable")

    def _event(
        self,
        now: float,
        name: str,
        caller: Caller,
        parameters: Mapping[str, Any],
        request_id: str,
        response: Response | None,
        arn: str | None,
        code: str | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        return build_event(
            event_time=now,
            event_name=name,
            caller=caller,
            region=self.region,
            parameters=parameters,
            response=response,
            key_arn=arn,
            error_code=code,
            error_message=message,
            request_id=request_id,
        )

    def _audit(
        self,
        now: float,
        name: str,
        caller: Caller,
        parameters: Mapping[str, Any],
        request_id: str,
        response: Response | None,
        arn: str | None,
        code: str | None,
        message: str | None,
    ) -> None:
        """Record a call that changed nothing (it failed, or only read), in a transaction of its own."""
        event = self._event(now, name, caller, parameters, request_id, response, arn, code, message)
        self.store.append_audit(now, name, caller.principal, arn, code, event)

    @contextmanager
    def writing(self) -> Iterator[StoreTransaction]:
        """The write transaction of the call in progress, opened on first use and committed by
        ``_call`` together with the call's audit record (every block of one call shares it).
        Outside a call (scheduled work, a reset), a transaction of its own."""
        call: _OpenCall | None = getattr(self._calls, "current", None)
        if call is None:
            with self.store.transaction() as tx:
                yield tx
            return
        yield call.transaction()

    # ---- keys ------------------------------------------------------------------------------

    def reading(self, key_ref: object = None) -> AbstractContextManager[StoreTransaction]:
        """A read-only transaction for an operation that changes nothing, unless naming the key could
        create it (``alias/aws/<service>`` makes an AWS managed key on first use)."""
        creates = isinstance(key_ref, str) and (key_ref.startswith("alias/aws/") or ":alias/aws/" in key_ref)
        call: _OpenCall | None = getattr(self._calls, "current", None)
        if creates or (call is not None and call.is_open):
            return self.writing()
        return self.store.transaction(write=False)

    def resolve_key(self, tx: StoreTransaction, caller: Caller, key_ref: str, *, aliases: bool = True) -> KeyRecord:
        """A key by id, key ARN, alias name or alias ARN, as KMS resolves ``KeyId``."""
        if key_ref.startswith("arn:"):
            parts = key_ref.split(":", 5)
            if len(parts) != 6 or parts[2] != "kms" or not parts[3] or not parts[4]:
                raise InvalidArnException(f"ARN {key_ref} is not a valid KMS ARN")
            region, account, resource = parts[3], parts[4], parts[5]
            if region != self.region:
                raise NotFoundException(f"Key '{key_ref}' does not exist in {self.region}")
            if resource.startswith("alias/") and aliases:
                return self._key_by_alias(tx, caller, account, region, resource, key_ref)
            if resource.startswith("key/"):
                key = self.key_in_region(tx, resource[4:], region)
                if key is None or key.arn != key_ref:
                    raise NotFoundException(f"Key '{key_ref}' does not exist")
                return key
            raise NotFoundException(f"Invalid keyId '{key_ref}'")
        if key_ref.startswith("alias/") and aliases:
            return self._key_by_alias(tx, caller, caller.account, self.region, key_ref, key_ref)
        if not _KEY_ID.match(key_ref):
            raise NotFoundException(f"Invalid keyId '{key_ref}'")
        key = self.key_in_region(tx, key_ref, self.region)
        if key is None or key.account != caller.account:
            raise NotFoundException(f"Key '{key_arn(self.region, caller.account, key_ref)}' does not exist")
        return key

    def key_in_region(self, tx: StoreTransaction, key_id: str, region: str) -> KeyRecord | None:
        """The key with AWS key id ``key_id`` in ``region`` (a multi-Region key has one per region)."""
        key = tx.get_key(key_id)
        if key is not None and key.region == region:
            return key
        if key_id.startswith("mrk-") and (key is None or key.multi_region is not None):
            return tx.get_key(replica_record_id(key_id, region))
        return None

    @staticmethod
    def has_replicas(key: KeyRecord) -> bool:
        """A multi-Region primary key that still has replica keys."""
        return key.multi_region is not None and key.multi_region["primary"] == key.region and len(key.multi_region["regions"]) > 1

    def related_keys(self, tx: StoreTransaction, key: KeyRecord) -> list[KeyRecord]:
        """Every key of ``key``'s multi-Region key, itself included (just ``key`` for a single-Region key)."""
        if key.multi_region is None:
            return [key]
        related = [self.key_in_region(tx, public_id(key), region) for region in key.multi_region["regions"]]
        return [k for k in related if k is not None]

    def _key_by_alias(
        self, tx: StoreTransaction, caller: Caller, account: str, region: str, alias_name: str, shown: str
    ) -> KeyRecord:
        alias = tx.get_alias(account, region, alias_name)
        if alias is None:
            created = self._aws_managed_key(tx, caller, account, region, alias_name)
            if created is not None:
                return created
            raise NotFoundException(f"Alias arn:aws:kms:{region}:{account}:{alias_name} is not found.")
        key = tx.get_key(alias.target_key_id)
        if key is None:
            raise NotFoundException(f"Alias {shown} is not found.")
        return key

    def _aws_managed_key(
        self, tx: StoreTransaction, caller: Caller, account: str, region: str, alias_name: str
    ) -> KeyRecord | None:
        """Hook for AWS managed keys (``alias/aws/<service>``), made on first use; see ops_keys."""
        return None

    def compiled_key_policy(self, key: KeyRecord) -> CompiledPolicy:
        cache_key = (key.key_id, key.policy)
        with self._cache_lock:
            compiled = self._policy_cache.get(cache_key)
        if compiled is None:
            document = parse_policy_fast(key.policy, f"key policy of {key.key_id}")
            compiled = compile_policy(document, "key_policy", "key policy")
            with self._cache_lock:
                if len(self._policy_cache) > 4096:
                    self._policy_cache.clear()
                self._policy_cache[cache_key] = compiled
        return compiled

    # ---- the gate --------------------------------------------------------------------------

    def base_context(self, caller: Caller, now: float) -> dict[str, Any]:
        """The global condition keys AWS sets for every call of this caller."""
        second = int(now)
        if self._time_text[0] != second:
            self._time_text = (second, iso(now).strftime("%Y-%m-%dT%H:%M:%SZ"))
        context: dict[str, Any] = {
            "aws:CurrentTime": self._time_text[1],
            "aws:EpochTime": str(int(now)),
            "aws:SecureTransport": "true" if caller.secure_transport else "false",
            "aws:RequestedRegion": self.region,
        }
        if caller.source_ip and not caller.via_service:
            context["aws:SourceIp"] = caller.source_ip
        if caller.mfa is not None:
            context["aws:MultiFactorAuthPresent"] = "true" if caller.mfa else "false"
        for tag_key, tag_value in caller.tags.items():
            context[f"aws:PrincipalTag/{tag_key}"] = tag_value
        if caller.via_service:
            context["kms:ViaService"] = caller.via_service
            context["aws:ViaAWSService"] = "true"
        if caller.user_id is not None:
            context["aws:userid"] = caller.user_id
        if self.organization:
            context.update(self.organization.principal_context(caller.account))
        return context

    def key_context(self, key: KeyRecord) -> dict[str, Any]:
        """The condition keys that describe the key itself."""
        context: dict[str, Any] = {
            "kms:KeySpec": key.key_spec,
            "kms:CustomerMasterKeySpec": key.key_spec,
            "kms:KeyUsage": key.key_usage,
            "kms:CustomerMasterKeyUsage": key.key_usage,
            "kms:KeyOrigin": key.origin,
            "kms:MultiRegion": "false" if key.multi_region is None else "true",
        }
        if key.multi_region is not None:
            context["kms:MultiRegionKeyType"] = "PRIMARY" if key.multi_region["primary"] == key.region else "REPLICA"
        for tag_key, tag_value in key.tags.items():
            context[f"aws:ResourceTag/{tag_key}"] = tag_value
        if self.organization:
            context.update(self.organization.resource_context(key.account))
        return context

    def authorize(
        self,
        tx: StoreTransaction,
        caller: Caller,
        action: str,
        key: KeyRecord | None,
        extra_context: Mapping[str, Any] | None = None,
        *,
        encryption_context: Mapping[str, str] | None = None,
        grant_tokens: tuple[str, ...] = (),
        new_policy: PolicyDocument | None = None,
        bypass_lockout: bool = False,
        grant_id: str | None = None,
        resource: str | None = None,
    ) -> Decision:
        """Ask the evaluator; raise ``AccessDeniedException`` carrying the decision when it refuses.

        Grant tokens are checked first: a request presenting one that is not the token of an
        existing grant is refused with ``InvalidGrantTokenException`` whatever else would allow it.
        """
        check_tokens(tx, grant_tokens)
        now = self.clock.now()
        context = self.base_context(caller, now)
        if key is not None:
            context.update(self.key_context(key))
            aliases = tuple(f"arn:aws:kms:{key.region}:{key.account}:{a.alias_name}" for a in tx.aliases_for_key(key.key_id))
            if aliases:
                context["kms:ResourceAliases"] = list(aliases)
        if extra_context:
            context.update(extra_context)
        target = resource or (key.arn if key is not None else "*")
        request = make_request(
            caller.principal,
            action,
            target,
            context,
            identity_arn=caller.identity_arn,
            principal_account=caller.account,
            resource_account=key.account if key is not None else caller.account,
            encryption_context=encryption_context,
            grant_tokens=grant_tokens,
            new_key_policy=new_policy,
            bypass_policy_lockout_safety_check=bypass_lockout,
            grant_id=grant_id,
        )
        grants: tuple[Grant, ...] = ()
        if key is not None:
            grants = tuple(_to_grant(g) for g in tx.grants_for_key(key.key_id))
        policies = PolicySet(
            key_policy=self.compiled_key_policy(key) if key is not None else None,
            identity=caller.compiled_identity,
            boundary=caller.compiled_boundary,
            session_policy=caller.compiled_session_policy,
            scp_levels=caller.compiled_scps,
            rcp_levels=self.organization.rcp_levels(key.account) if key is not None else None,
            grants=grants,
            management_account=self.organization.management_account,
        )
        decision = authorize(request, policies)
        if not decision.allowed:
            if decision.reason == "lockout_safety_check":
                from policyengine.kms.errors import MalformedPolicyDocumentException

                raise MalformedPolicyDocumentException(
                    "The new key policy will not allow you to update the key policy in the future."
                )
            raise AccessDeniedException(
                denied_message(caller, action, target, decision), decision, key_arn=key.arn if key is not None else None
            )
        return decision

    def check_state(self, key: KeyRecord, operation: str) -> None:
        """Raise the error AWS gives for ``operation`` on a key in this state (KMS DG key states)."""
        # A primary waiting for its replicas' deletion is refused what a key pending deletion is refused.
        error = key_state_error(operation, "PendingDeletion" if key.state == "PendingReplicaDeletion" else key.state)
        if error is None:
            return
        if error == "DisabledException":
            raise DisabledException(f"{key.arn} is disabled.", key_arn=key.arn)
        if error == "UnsupportedOperationException":
            raise UnsupportedOperationException(
                f"{key.arn} origin is EXTERNAL which is not valid for this operation.", key_arn=key.arn
            )
        raise KMSInvalidStateException(f"{key.arn} is {_STATE_WORDS.get(key.state, key.state)}.", key_arn=key.arn)

    # ---- key material ----------------------------------------------------------------------

    def seal_material(self, key_id: str, version: int, material: bytes) -> bytes:
        return _crypto.aes_gcm_seal(self._master_key, material, material_aad(key_id, version))

    def open_material(self, record: MaterialRecord) -> bytes:
        """The plaintext of a material version, unsealed once and then kept (versions never change)."""
        cache_key = (record.key_id, record.version, record.sealed_material)
        material = self._material_cache.get(cache_key)
        if material is None:
            material = _crypto.aes_gcm_open(self._master_key, record.sealed_material, material_aad(record.key_id, record.version))
            with self._cache_lock:
                if len(self._material_cache) > 1024:
                    self._material_cache.clear()
                self._material_cache[cache_key] = material
        return material

    def key_material_id(self, key: KeyRecord, version: int) -> str:
        """The ``KeyMaterialId`` of a generated material version: 64 hex digits, the same for every key of a
        multi-Region key (they share material), never revealing the material (keyed by the master key)."""
        label = f"policyengine-key-material-id\x00{public_id(key)}:{version}".encode()
        return hmac.new(self._master_key, label, hashlib.sha256).hexdigest()

    def current_key_material_id(self, key: KeyRecord, version: int | None) -> str | None:
        """``CurrentKeyMaterialId`` as AWS shows it: for symmetric encryption keys that have (or had) material.
        Imported material is named by its keyed fingerprint, so reimporting the same material keeps its id."""
        if key.key_spec != "SYMMETRIC_DEFAULT":
            return None
        if key.origin == "EXTERNAL":
            return key.material_fingerprint
        return self.key_material_id(key, version) if version else None

    def fingerprint(self, material: bytes) -> str:
        """A keyed digest of imported material, so a reimport can be checked without keeping it."""
        return hmac.new(self._master_key, b"policyengine-import\x00" + material, hashlib.sha256).hexdigest()

    def new_material(
        self,
        tx: StoreTransaction,
        key_id: str,
        version: int,
        material: bytes,
        now: float,
        rotation_type: str | None = None,
        imported: bool = False,
    ) -> None:
        sealed = self.seal_material(key_id, version, material)
        tx.add_material(MaterialRecord(key_id, version, sealed, now, rotation_type, imported))

    def current_material(self, tx: StoreTransaction, key: KeyRecord) -> tuple[int, bytes]:
        current = current_record(tx.materials(key.key_id))
        if current is None or not current.sealed_material:
            raise KMSInvalidStateException(f"{key.arn} is pending import.", key_arn=key.arn)
        return current.version, self.open_material(current)

    def material_version(self, tx: StoreTransaction, key: KeyRecord, version: int) -> bytes | None:
        for record in tx.materials(key.key_id):
            if record.version == version and record.sealed_material and record.rotation_type != PENDING_ROTATION:
                return self.open_material(record)
        return None

    def forget_imported_material(self, tx: StoreTransaction, key: KeyRecord) -> None:
        """DeleteImportedKeyMaterial and expiry: every imported version loses its material but keeps its
        number (blank), so that reimporting it makes every earlier ciphertext decrypt again."""
        materials = tx.materials(key.key_id)
        tx.delete_materials(key.key_id)
        for record in materials:
            if record.rotation_type != PENDING_ROTATION:
                tx.add_material(replace(record, sealed_material=b""))

    def material_id(self, key: KeyRecord, record: MaterialRecord) -> str:
        """``KeyMaterialId`` of one material version: imported material by its keyed fingerprint (reimporting
        the same bytes keeps the id), generated material by key id and version."""
        if record.imported and record.sealed_material:
            return self.fingerprint(self.open_material(record))
        return self.key_material_id(key, record.version)

    # ---- scheduled work --------------------------------------------------------------------

    def run_scheduled_work(self, now: float) -> None:
        """Deletions, automatic rotations and import expiry that are due by ``now``, done once.

        Due keys are found through the store's index on their due time (store/schedule.py), so a
        pass costs what is due, not what the account holds; so does finding when to look next.
        """
        if now < self._next_due:
            return
        busy = False
        with self.store.transaction() as tx:
            for key in tx.due_keys(now):
                # Claimed first, so that of several processes sharing the store exactly one does the
                # work, on the key as it is now (another may have done it since due_keys read it).
                claimed = tx.claim_key(key.key_id)
                if claimed is None:  # deleted meanwhile, or another process holds it (and is doing this)
                    busy = True
                    continue
                self._settle_key(tx, claimed, now)
            next_due = tx.next_due()
        if next_due is None:
            next_due = float("inf")
        if busy and next_due <= now:
            next_due = now + 1.0  # what another process is doing: look again shortly
        # Another process sharing the store may schedule work this one has not seen: look again soon.
        self._next_due = min(next_due, now + 60.0)

    def _settle_key(self, tx: StoreTransaction, key: KeyRecord, now: float) -> float | None:
        """Apply what is due for one key; return when it next needs attention, if ever."""
        if key.state == "PendingDeletion" and key.deletion_date is not None:
            if now >= key.deletion_date:
                tx.delete_key(key.key_id)
                if key.multi_region is not None:
                    return self._forget_region(tx, key, now)
                return None
            return key.deletion_date
        if key.valid_to is not None and key.expiration_model == "KEY_MATERIAL_EXPIRES" and key.state != "PendingImport":
            if now >= key.valid_to:
                self.forget_imported_material(tx, key)
                tx.put_key(replace(key, state="PendingImport", valid_to=None))
                return None
            return key.valid_to
        if key.rotation_enabled and key.next_rotation_date is not None and key.state == "Enabled" and key.origin == "AWS_KMS":
            due = key.next_rotation_date
            if now >= due:
                self.add_material_to_all(tx, key, _crypto.generate_symmetric_key(), due, "AUTOMATIC")
                period = (key.rotation_period_days or 365) * 86400.0
                tx.put_key(replace(key, next_rotation_date=due + period))
                return due + period
            return due
        return None

    def _forget_region(self, tx: StoreTransaction, deleted: KeyRecord, now: float) -> float | None:
        """A key of a multi-Region key was deleted: the others no longer list its region, and a primary
        that was waiting for its last replica (PendingReplicaDeletion) starts its own waiting period."""
        assert deleted.multi_region is not None
        regions = [r for r in deleted.multi_region["regions"] if r != deleted.region]
        due: float | None = None
        for region in regions:
            other = self.key_in_region(tx, public_id(deleted), region)
            if other is None:
                continue
            config = {"primary": deleted.multi_region["primary"], "regions": regions}
            if other.state == "PendingReplicaDeletion" and len(regions) == 1:
                when = now + (other.pending_window_days or 30) * 86400.0
                tx.put_key(replace(other, multi_region=config, state="PendingDeletion", deletion_date=when))
                due = when
            else:
                tx.put_key(replace(other, multi_region=config))
        return due

    def add_material_to_all(self, tx: StoreTransaction, key: KeyRecord, material: bytes, now: float, rotation_type: str) -> int:
        """Rotate ``key`` to new material; a multi-Region key's replicas get the same material (they share it).
        Returns the new version."""
        version = len(tx.materials(key.key_id)) + 1
        for related in self.related_keys(tx, key):
            self.new_material(tx, related.key_id, version, material, now, rotation_type)
        return version

    def wake_scheduler(self, when: float | None = None) -> None:
        """A key got a new due time: make sure the next call looks again."""
        self._next_due = 0.0 if when is None else min(self._next_due, when)


#: ``MaterialRecord.rotation_type`` of imported material waiting for RotateKeyOnDemand to become current.
PENDING_ROTATION = "PENDING_ROTATION"


def current_record(materials: list[MaterialRecord]) -> MaterialRecord | None:
    """The material version in use: the newest one not waiting for a rotation."""
    for record in reversed(materials):
        if record.rotation_type != PENDING_ROTATION:
            return record
    return None


_REQUEST_ID: ContextVar[str | None] = ContextVar("policyengine_kms_request_id", default=None)


@contextmanager
def request_scope(request_id: str) -> Iterator[None]:
    """Calls made inside the block record ``request_id`` as their ``requestID`` (the server passes the
    ``x-amzn-RequestId`` it answers with, so a client's id finds its audit record)."""
    token = _REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        _REQUEST_ID.reset(token)


class _OpenCall:
    """The write transaction of one call, held open across the call's blocks until its audit
    record is appended to it; then committed (or rolled back when the call fails)."""

    def __init__(self, store: KeyStore) -> None:
        self._store = store
        self._stack: ExitStack | None = None
        self._tx: StoreTransaction | None = None

    @property
    def is_open(self) -> bool:
        return self._tx is not None

    def transaction(self) -> StoreTransaction:
        if self._tx is None:
            stack = ExitStack()
            self._tx = stack.enter_context(self._store.transaction())
            self._stack = stack
        return self._tx

    def append_and_commit(self, now: float, name: str, principal: str, arn: str | None, event: dict[str, Any]) -> bool:
        """Append the record and commit; False when the call opened no write transaction."""
        if self._tx is None or self._stack is None:
            return False
        self._tx.append_audit(now, name, principal, arn, None, event)
        stack, self._stack, self._tx = self._stack, None, None
        stack.close()  # commits; a failed commit raises (StoreConflict included) and the store rolled back
        return True

    def abandon(self, error: BaseException) -> None:
        """Roll back whatever the failed call wrote."""
        stack, self._stack, self._tx = self._stack, None, None
        if stack is not None:
            stack.__exit__(type(error), error, error.__traceback__)


def denied_message(caller: Caller, action: str, resource: str, decision: Decision) -> str:
    """AccessDeniedException's message, in AWS's shape."""
    head = f"User: {caller.principal} is not authorized to perform: {action} on resource: {resource}"
    if decision.decision == "explicit_deny":
        kind = decision.deciding[0].policy_kind if decision.deciding else "key_policy"
        return f"{head} with an explicit deny in {_DENY_WORDS.get(kind, 'a policy')}"
    if decision.reason == "operation_not_cross_account":
        return f"{head} because {action} cannot be used on a key in another account"
    words = _IMPLICIT_WORDS.get(decision.reason, "no policy allows")
    if dict(decision.facts).get("key_policy") == "trusts_account":
        words = "no identity-based policy allows"
    return f"{head} because {words} the {action} action"


def _to_grant(record: GrantRecord) -> Grant:
    constraints = None
    if record.constraints:
        constraints = {
            ("encryption_context_equals" if name == "EncryptionContextEquals" else "encryption_context_subset"): value
            for name, value in record.constraints.items()
        }
    return make_grant(
        record.grant_id,
        record.key_arn,
        record.grantee_principal,
        record.operations,
        constraints=constraints,
        retiring_principal=record.retiring_principal,
        name=record.name,
        grant_token=record.grant_token,
        issuing_account=record.issuing_account,
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def _require_unicode(parameters: Mapping[str, Any]) -> None:
    """ValidationException when a string parameter (or a key or value inside one) holds half a UTF-16 surrogate pair."""
    stack: list[Any] = [parameters]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is bytes or kind is int or kind is bool:  # blobs and numbers, first: Mapping's check is slow
            continue
        if kind is str or isinstance(item, str):
            if _SURROGATE.search(item):
                raise ValidationException("A string parameter holds an unpaired UTF-16 surrogate; strings must be Unicode text")
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def new_key_id(*, multi_region: bool = False) -> str:
    """A fresh key id: a UUID, or ``mrk-`` and 32 hex digits for a multi-Region key (as AWS makes them)."""
    return f"mrk-{uuid.uuid4().hex}" if multi_region else str(uuid.uuid4())


_SECRET_RESPONSE_FIELDS = frozenset(
    {
        "Plaintext",
        "CiphertextBlob",
        "PrivateKeyPlaintext",
        "PrivateKeyCiphertextBlob",
        "PublicKey",
        "Signature",
        "Mac",
        "ImportToken",
        "CiphertextForRecipient",
        "SharedSecret",
        "SharedSecretCiphertextBlob",
        "GrantToken",  # CloudTrail records a CreateGrant's grant id, never its token
    }
)


def _audit_response(name: str, response: Response) -> Response | None:
    """What of a response an audit record keeps: metadata, never blobs."""
    if name in (
        "Encrypt",
        "Decrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "ReEncrypt",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "Sign",
        "Verify",
        "GenerateMac",
        "VerifyMac",
        "GenerateRandom",
        "GetPublicKey",
        "DeriveSharedSecret",
        "Encapsulate",
        "Decapsulate",
    ):
        return None
    return {k: _jsonable(v) for k, v in response.items() if k not in _SECRET_RESPONSE_FIELDS}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return None
    return value
