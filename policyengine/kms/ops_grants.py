"""Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.

Tokens are made and checked in ``grant_tokens``. A grant that allows CreateGrant lets its
grantee create only grants no wider than itself (``_check_subgrant``).
"""

from __future__ import annotations

from typing import Any

from policyengine.aws_facts import GRANT_OPERATIONS
from policyengine.errors import RequestError
from policyengine.explain.decision import Decision
from policyengine.kms import validation
from policyengine.kms.caller import Caller
from policyengine.kms.core import KmsCore, Response, denied_message, iso, new_key_id
from policyengine.kms.errors import (
    AccessDeniedException,
    LimitExceededException,
    NotFoundException,
    ValidationException,
)
from policyengine.kms.grant_tokens import grant_of_token, make_token
from policyengine.kms.pagination import page
from policyengine.parsing.request import classify_caller
from policyengine.store.base import StoreTransaction
from policyengine.store.records import GrantRecord, KeyRecord

MAX_GRANTS_PER_KEY = 50_000
CONSTRAINT_NAMES = ("EncryptionContextEquals", "EncryptionContextSubset")


def _principal(value: Any, name: str) -> str:
    text = validation.string(value, name, max_len=256)
    try:
        classify_caller(text)
    except RequestError:
        raise ValidationException(f"{name} `{text}` is not a valid principal ARN") from None
    return text


def _constraints(value: Any) -> dict[str, dict[str, str]] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not set(value) <= set(CONSTRAINT_NAMES) or len(value) != 1:
        raise ValidationException("Constraints must hold one of EncryptionContextEquals or EncryptionContextSubset")
    name, context = next(iter(value.items()))
    parsed = validation.encryption_context(context, f"constraints.{name}")
    if len(parsed) > 8:
        raise ValidationException("A grant constraint can hold at most 8 encryption context pairs")
    return {name: parsed}


def grant_json(grant: GrantRecord) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "KeyId": grant.key_arn,
        "GrantId": grant.grant_id,
        "CreationDate": iso(grant.creation_date),
        "GranteePrincipal": grant.grantee_principal,
        "IssuingAccount": f"arn:aws:iam::{grant.issuing_account}:root",
        "Operations": list(grant.operations),
    }
    if grant.name:
        entry["Name"] = grant.name
    if grant.retiring_principal:
        entry["RetiringPrincipal"] = grant.retiring_principal
    if grant.constraints:
        entry["Constraints"] = grant.constraints
    return entry


def _lower_keys(context: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in context.items()}


def at_least_as_strict(child: dict[str, dict[str, str]] | None, parent: dict[str, dict[str, str]] | None) -> bool:
    """Whether constraint ``child`` allows no request that ``parent`` refuses.

    Keys compare case-insensitively and values case-sensitively, as grant constraints match
    (API GrantConstraints). ``EncryptionContextEquals`` is met by one context only, so only the
    same one is as strict; ``EncryptionContextSubset`` S is met by every context holding S, so a
    subset or an equals constraint holding every pair of S is as strict or stricter.
    """
    if not parent or parent == {"EncryptionContextSubset": {}}:
        return True
    if not child:
        return False
    parent_kind, parent_pairs = next(iter(parent.items()))
    child_kind, child_pairs = next(iter(child.items()))
    wanted, offered = _lower_keys(parent_pairs), _lower_keys(child_pairs)
    if parent_kind == "EncryptionContextEquals":
        return child_kind == "EncryptionContextEquals" and offered == wanted
    return all(offered.get(k) == v for k, v in wanted.items())


class GrantOps(KmsCore):
    """CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant."""

    def create_grant(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            grantee = _principal(params.get("GranteePrincipal"), "granteePrincipal")
            operations = validation.string_list(
                validation.required(params.get("Operations"), "operations"), "operations", max_items=len(GRANT_OPERATIONS)
            )
            if not operations:
                raise ValidationException("Operations must name at least one grant operation")
            unknown = [op for op in operations if op not in GRANT_OPERATIONS]
            if unknown:
                raise ValidationException(
                    f"1 validation error detected: Value '{unknown[0]}' at 'operations' failed to "
                    "satisfy constraint: Member must satisfy enum value set: "
                    f"[{', '.join(sorted(GRANT_OPERATIONS))}]"
                )
            retiring = _principal(params["RetiringPrincipal"], "retiringPrincipal") if params.get("RetiringPrincipal") else None
            constraints = _constraints(params.get("Constraints"))
            name = validation.string(params["Name"], "name", max_len=256) if params.get("Name") is not None else None
            context: dict[str, Any] = {
                "kms:GrantOperations": operations,
                "kms:GranteePrincipal": grantee,
                "kms:GrantIsForAWSResource": "true" if caller.via_service else "false",
            }
            if retiring:
                context["kms:RetiringPrincipal"] = retiring
            if constraints:
                context["kms:GrantConstraintType"] = next(iter(constraints))
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                decision = self.authorize(
                    tx,
                    caller,
                    "kms:CreateGrant",
                    key,
                    context,
                    grant_tokens=tuple(validation.string_list(params.get("GrantTokens"), "grantTokens")),
                )
                self.check_state(key, "CreateGrant")
                if constraints and key.key_spec != "SYMMETRIC_DEFAULT":
                    raise ValidationException("Grant constraints are supported only for symmetric encryption KMS keys")
                if decision.path == "grant":
                    self._check_subgrant(tx, key, caller, decision, operations, constraints)
                existing = tx.grants_for_key(key.key_id)
                if name is not None:
                    for grant in existing:
                        if (
                            grant.name,
                            grant.grantee_principal,
                            grant.operations,
                            grant.retiring_principal,
                            grant.constraints,
                        ) == (name, grantee, tuple(operations), retiring, constraints):
                            return {"GrantToken": grant.grant_token, "GrantId": grant.grant_id}, key.arn
                if len(existing) >= MAX_GRANTS_PER_KEY:
                    raise LimitExceededException(f"A key can have at most {MAX_GRANTS_PER_KEY} grants", key_arn=key.arn)
                grant_id = new_key_id().replace("-", "") + new_key_id().replace("-", "")
                token = make_token(grant_id)
                tx.put_grant(
                    GrantRecord(
                        grant_id,
                        key.key_id,
                        key.arn,
                        grantee,
                        tuple(operations),
                        caller.account,
                        self.clock.now(),
                        token,
                        retiring,
                        name,
                        constraints,
                    )
                )
            return {"GrantToken": token, "GrantId": grant_id}, key.arn

        return self._call("CreateGrant", caller, params, work)

    def _check_subgrant(
        self,
        tx: StoreTransaction,
        key: KeyRecord,
        caller: Caller,
        decision: Decision,
        operations: list[str],
        constraints: dict[str, dict[str, str]] | None,
    ) -> None:
        """A grant that allows CreateGrant lets its grantee create only grants no wider than itself.

        The new grant must allow a subset of the parent grant's operations and carry an encryption
        context constraint "equally strict or stricter" than the parent's (API CreateGrant,
        ``Constraints``; KMS DG "Granting CreateGrant permission"). The parents are the grants that
        allowed this CreateGrant (the decision names them); one of them must cover the new grant
        on its own, so two narrow grants cannot be combined into a wide one.
        """
        allowing = {ref.sid for ref in decision.deciding if ref.policy_kind == "grant"}
        for parent in tx.grants_for_key(key.key_id):
            if parent.grant_id not in allowing:
                continue
            if set(operations) <= set(parent.operations) and at_least_as_strict(constraints, parent.constraints):
                return
        refusal = Decision("implicit_deny", (), "no_allow")
        raise AccessDeniedException(denied_message(caller, "kms:CreateGrant", key.arn, refusal), refusal, key_arn=key.arn)

    def list_grants(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            with self.reading() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(
                    tx, caller, "kms:ListGrants", key, {"kms:GrantIsForAWSResource": "true" if caller.via_service else "false"}
                )
                grants = tx.grants_for_key(key.key_id)
            if params.get("GrantId") is not None:
                grants = [g for g in grants if g.grant_id == params["GrantId"]]
            if params.get("GranteePrincipal") is not None:
                grants = [g for g in grants if g.grantee_principal == params["GranteePrincipal"]]
            chunk, more = page(grants, params.get("Limit"), params.get("Marker"))
            return {"Grants": [grant_json(g) for g in chunk], **more}, key.arn

        return self._call("ListGrants", caller, params, work)

    def list_retirable_grants(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            retiring = _principal(params.get("RetiringPrincipal"), "retiringPrincipal")
            with self.reading() as tx:
                self.authorize(tx, caller, "kms:ListRetirableGrants", None)
                grants = [
                    g
                    for g in tx.grants_for_retiring_principal(retiring)
                    if g.issuing_account == caller.account or g.key_arn.split(":")[4] == caller.account
                ]
            chunk, more = page(grants, params.get("Limit"), params.get("Marker"))
            return {"Grants": [grant_json(g) for g in chunk], **more}, None

        return self._call("ListRetirableGrants", caller, params, work)

    def retire_grant(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            token = params.get("GrantToken")
            grant_id = params.get("GrantId")
            ref = params.get("KeyId")
            with self.writing() as tx:
                if token is not None:
                    grant = grant_of_token(tx, validation.string(token, "grantToken", max_len=8192))
                elif grant_id is not None and ref is not None:
                    key = self.resolve_key(tx, caller, validation.string(ref, "keyId"), aliases=False)
                    found = tx.get_grant(validation.string(grant_id, "grantId", max_len=128))
                    if found is None or found.key_id != key.key_id:
                        raise NotFoundException(f"Grant ID {grant_id} not found", key_arn=key.arn)
                    grant = found
                else:
                    raise ValidationException("Specify a GrantToken, or a KeyId and a GrantId")
                key_record = tx.get_key(grant.key_id)
                if key_record is None:
                    raise NotFoundException(f"Key for grant {grant.grant_id} does not exist")
                self.authorize(tx, caller, "kms:RetireGrant", key_record, grant_id=grant.grant_id)
                tx.delete_grant(grant.grant_id)
            return {}, key_record.arn

        return self._call("RetireGrant", caller, params, work)

    def revoke_grant(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            grant_id = validation.string(params.get("GrantId"), "grantId", max_len=128)
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(
                    tx, caller, "kms:RevokeGrant", key, {"kms:GrantIsForAWSResource": "true" if caller.via_service else "false"}
                )
                grant = tx.get_grant(grant_id)
                if grant is None or grant.key_id != key.key_id:
                    raise NotFoundException(f"Grant ID {grant_id} not found", key_arn=key.arn)
                tx.delete_grant(grant_id)
            return {}, key.arn

        return self._call("RevokeGrant", caller, params, work)
