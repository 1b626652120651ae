"""Key lifecycle operations: create, describe, list, describe, enable/disable, delete, policies, tags.

Each public method mirrors one KMS API operation (boto3's name in snake_case, AWS's parameter
names as keyword arguments, AWS's response shape). Authorization always precedes any change.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from policyengine.errors import PolicyInputError
from policyengine.key_policies import aws_managed_key_policy_json, default_key_policy_json
from policyengine.kms import validation
from policyengine.kms.caller import Caller
from policyengine.kms.core import KmsCore, Response, iso, key_arn, new_key_id, public_id
from policyengine.kms.custom_key_stores import missing_custom_key_store
from policyengine.kms.errors import (
    KMSInvalidStateException,
    LimitExceededException,
    MalformedPolicyDocumentException,
    NotFoundException,
    TagException,
    UnsupportedOperationException,
    ValidationException,
)
from policyengine.kms.keyspecs import (
    IMPORTABLE_SPECS,
    KEY_SPECS,
    KEY_USAGES,
    LEGACY_SPECS,
    SM2,
    SYMMETRIC,
    UNAVAILABLE_SPECS,
    USAGES,
    algorithms_metadata,
    new_material,
)
from policyengine.kms.pagination import after_page, after_window, page
from policyengine.model import unknown
from policyengine.model.policy import PolicyDocument
from policyengine.parsing.document import parse_policy
from policyengine.store.base import StoreTransaction
from policyengine.store.records import AliasRecord, KeyRecord

MAX_POLICY_BYTES = 32768
MAX_TAGS = 50
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _key_position(after: str | None) -> tuple[float, str] | None:
    """ListKeys' marker back to the (creation date, key record id) it names."""
    if after is None:
        return None
    when, _, key_id = after.partition("/")
    try:
        return float(when), key_id
    except ValueError:
        raise ValidationException("Invalid marker") from None


def _tags_from_list(tags: Any) -> dict[str, str]:
    """Tags as a dict, refused as AWS refuses them (TagException words recorded from AWS)."""
    if tags is None:
        return {}
    if not isinstance(tags, list):
        raise ValidationException("Tags must be a list of {TagKey, TagValue} objects")
    out: dict[str, str] = {}
    for index, tag in enumerate(tags, start=1):
        if not isinstance(tag, dict) or set(tag) != {"TagKey", "TagValue"}:
            raise ValidationException("Each tag must have exactly TagKey and TagValue")
        tag_key = validation.string(tag["TagKey"], f"tags.{index}.member.tagKey", max_len=128)
        tag_value = validation.string(tag["TagValue"], f"tags.{index}.member.tagValue", min_len=0, max_len=256)
        if tag_key in out:
            raise TagException("Duplicate tag keys")
        out[tag_key] = tag_value
    if any(k.lower().startswith("aws:") for k in out):
        raise TagException("Tags beginning with aws: are reserved")
    if len(out) > MAX_TAGS:
        raise TagException("Too many tags")
    return out


def read_key_policy(text: Any, name: str = "policy") -> PolicyDocument:
    """Parse and check a key policy as PutKeyPolicy/CreateKey do; errors are MalformedPolicyDocument."""
    policy = validation.string(text, name, max_len=131072)
    if len(policy.encode("utf-8")) > MAX_POLICY_BYTES:
        raise LimitExceededException(f"The key policy is larger than {MAX_POLICY_BYTES} bytes")
    try:
        document = parse_policy(policy, "key policy")
    except PolicyInputError as error:
        raise MalformedPolicyDocumentException(_validate_words(error)) from None
    for statement in document.statements:
        if statement.principal is None and statement.not_principal is None:
            raise MalformedPolicyDocumentException(
                f"Statement {statement.label} has no Principal; key policy statements need one"
            )
        for entry in statement.principal.entries if statement.principal else ():
            if entry.ref.kind in ("invalid", "unknown") or unknown.contains(entry.value):
                # An unknown marker is the linter's stand-in for a template value; no real policy holds one.
                problem = entry.ref.problem or f"principal `{entry.value}` is not valid"
                raise MalformedPolicyDocumentException(
                    f"Policy contains a statement with one or more invalid principals: {problem}"
                )
    return document


def _validate_words(error: PolicyInputError) -> str:
    """What ``policyengine validate`` says of a refused key policy, on one line: where, what, and its hint."""
    first = error.issues[0]
    where = f"line {first.span.line}, column {first.span.column}: " if first.span is not None else ""
    hint = f" (hint: {first.hint})" if first.hint else ""
    more = f" (and {len(error.issues) - 1} more problem{'s' if len(error.issues) > 2 else ''})" if len(error.issues) > 1 else ""
    return f"{where}{first.message}{hint}{more}"


def new_key_policy(text: Any, account: str) -> tuple[str, PolicyDocument | None]:
    """A new key's policy: the one given (checked as PutKeyPolicy checks it), or AWS's default key policy."""
    if text is not None:
        return text, read_key_policy(text)
    return json.dumps(default_key_policy_json(account), indent=2), None


class KeyOps(KmsCore):
    """CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey, DisableKey, ScheduleKeyDeletion,
    CancelKeyDeletion, GetKeyPolicy, PutKeyPolicy, ListKeyPolicies, TagResource, UntagResource, ListResourceTags."""

    def key_metadata(self, key: KeyRecord, material_version: int | None = None) -> dict[str, Any]:
        """DescribeKey's ``KeyMetadata`` for ``key``, with exactly the fields AWS returns for such a key.

        ``material_version`` is the key's current material version (the count of its versions), for
        ``CurrentKeyMaterialId``, which AWS shows for symmetric encryption keys once they have material.
        """
        meta: dict[str, Any] = {
            "AWSAccountId": key.account,
            "KeyId": public_id(key),
            "Arn": key.arn,
            "CreationDate": iso(key.creation_date),
            "Enabled": key.state == "Enabled",
            "Description": key.description,
            "KeyUsage": key.key_usage,
            "KeyState": key.state,
            "Origin": key.origin,
            "KeyManager": key.key_manager,
            "KeySpec": key.key_spec,
            "MultiRegion": key.multi_region is not None,
        }
        if key.key_spec in LEGACY_SPECS:
            meta["CustomerMasterKeySpec"] = key.key_spec
        meta.update(algorithms_metadata(key.key_spec, key.key_usage))
        if key.state == "PendingDeletion" and key.deletion_date is not None:
            meta["DeletionDate"] = iso(key.deletion_date)
        if key.state == "PendingReplicaDeletion":  # AWS shows the window only while replicas hold it back
            meta["PendingDeletionWindowInDays"] = key.pending_window_days
        if key.origin == "EXTERNAL" and key.state != "PendingImport" and key.expiration_model is not None:
            meta["ExpirationModel"] = key.expiration_model
            if key.valid_to is not None:
                meta["ValidTo"] = iso(key.valid_to)
        current = self.current_key_material_id(key, material_version)
        if current is not None:
            meta["CurrentKeyMaterialId"] = current
        if key.multi_region is not None:
            meta["MultiRegionConfiguration"] = self.multi_region_configuration(key)
        return meta

    def multi_region_configuration(self, key: KeyRecord) -> dict[str, Any]:
        """DescribeKey's ``MultiRegionConfiguration``: the primary and every replica, by ARN and region."""
        assert key.multi_region is not None
        primary = key.multi_region["primary"]
        mrk = public_id(key)
        return {
            "MultiRegionKeyType": "PRIMARY" if key.region == primary else "REPLICA",
            "PrimaryKey": {"Arn": key_arn(primary, key.account, mrk), "Region": primary},
            "ReplicaKeys": [
                {"Arn": key_arn(region, key.account, mrk), "Region": region}
                for region in key.multi_region["regions"]
                if region != primary
            ],
        }

    # -- CreateKey -------------------------------------------------------------------------

    def create_key(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            spec = validation.choice(params.get("KeySpec", params.get("CustomerMasterKeySpec", SYMMETRIC)), "keySpec", KEY_SPECS)
            if params.get("KeyUsage") is None and spec != SYMMETRIC:
                raise ValidationException(
                    "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
                )
            usage = validation.choice(params.get("KeyUsage", "ENCRYPT_DECRYPT"), "keyUsage", KEY_USAGES)
            if usage not in USAGES[spec]:
                raise ValidationException(f"KeyUsage {usage} is not compatible with KeySpec {spec}")
            if spec == SM2:
                raise UnsupportedOperationException("KeySpec SM2 is only available in China Regions")
            if spec in UNAVAILABLE_SPECS:
                raise UnsupportedOperationException(UNAVAILABLE_SPECS[spec])
            origin = validation.choice(
                params.get("Origin", "AWS_KMS"), "origin", ("AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE")
            )
            store_id = params.get("CustomKeyStoreId")
            if store_id is not None:
                raise missing_custom_key_store(validation.string(store_id, "customKeyStoreId", max_len=64))
            if origin in ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"):
                raise ValidationException(f"Origin {origin} requires a CustomKeyStoreId")
            if origin == "EXTERNAL" and spec not in IMPORTABLE_SPECS:
                raise UnsupportedOperationException(f"KeySpec {spec} does not support imported key material (Origin EXTERNAL)")
            multi_region = bool(params.get("MultiRegion", False))
            description = validation.string(params.get("Description", ""), "description", min_len=0, max_len=8192)
            tags = _tags_from_list(params.get("Tags"))
            bypass = bool(params.get("BypassPolicyLockoutSafetyCheck", False))
            key_id = new_key_id(multi_region=multi_region)
            arn = key_arn(self.region, caller.account, key_id)
            policy_text, document = new_key_policy(params.get("Policy"), caller.account)
            context: dict[str, Any] = {
                "kms:KeySpec": spec,
                "kms:KeyUsage": usage,
                "kms:KeyOrigin": origin,
                "kms:MultiRegion": "true" if multi_region else "false",
            }
            if multi_region:
                context["kms:MultiRegionKeyType"] = "PRIMARY"
            if tags:
                context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
                context["aws:TagKeys"] = list(tags)
            now = self.clock.now()
            with self.writing() as tx:
                self.authorize(tx, caller, "kms:CreateKey", None, context, new_policy=document, bypass_lockout=bypass)
                key = KeyRecord(
                    key_id=key_id,
                    arn=arn,
                    account=caller.account,
                    region=self.region,
                    key_spec=spec,
                    key_usage=usage,
                    origin=origin,
                    key_manager="CUSTOMER",
                    state="PendingImport" if origin == "EXTERNAL" else "Enabled",
                    creation_date=now,
                    policy=policy_text,
                    description=description,
                    tags=tags,
                    expiration_model=None,
                    multi_region={"primary": self.region, "regions": [self.region]} if multi_region else None,
                )
                tx.put_key(key)
                if origin == "AWS_KMS":
                    self.new_material(tx, key_id, 1, new_material(spec), now)
            return {"KeyMetadata": self.key_metadata(key, 1 if origin == "AWS_KMS" else None)}, arn

        return self._call("CreateKey", caller, params, work)

    def _aws_managed_key(
        self, tx: StoreTransaction, caller: Caller, account: str, region: str, alias_name: str
    ) -> KeyRecord | None:
        """``alias/aws/<service>`` names an AWS managed key, created on first use (KMS DG AWS managed keys)."""
        service = alias_name.removeprefix("alias/aws/")
        if not alias_name.startswith("alias/aws/") or not _SERVICE.match(service) or account != caller.account:
            return None
        now = self.clock.now()
        key_id = new_key_id()
        arn = key_arn(region, account, key_id)
        policy = json.dumps(aws_managed_key_policy_json(account, service, region), indent=2)
        key = KeyRecord(
            key_id=key_id,
            arn=arn,
            account=account,
            region=region,
            key_spec=SYMMETRIC,
            key_usage="ENCRYPT_DECRYPT",
            origin="AWS_KMS",
            key_manager="AWS",
            state="Enabled",
            creation_date=now,
            policy=policy,
            description=f"Default key that protects my {service} data when no other key is defined",
            rotation_enabled=True,
            rotation_period_days=365,
            next_rotation_date=now + 365 * 86400,
        )
        tx.put_key(key)
        self.new_material(tx, key_id, 1, new_material(SYMMETRIC), now)
        tx.put_alias(AliasRecord(account, region, alias_name, key_id, now, now))
        self.wake_scheduler(key.next_rotation_date)
        return key

    # -- DescribeKey / ListKeys / UpdateKeyDescription -------------------------------------

    def describe_key(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            with self.reading(ref) as tx:
                key = self.resolve_key(tx, caller, ref)
                self.authorize(
                    tx,
                    caller,
                    "kms:DescribeKey",
                    key,
                    _request_alias(ref),
                    grant_tokens=tuple(validation.string_list(params.get("GrantTokens"), "grantTokens")),
                )
                version = len(tx.materials(key.key_id)) if key.key_spec == SYMMETRIC else None
            return {"KeyMetadata": self.key_metadata(key, version)}, key.arn

        return self._call("DescribeKey", caller, params, work)

    def list_keys(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            after, size = after_window(params.get("Limit"), params.get("Marker"))
            position = _key_position(after)
            with self.reading() as tx:
                self.authorize(tx, caller, "kms:ListKeys", None)
                keys = tx.list_keys(caller.account, self.region, after=position, limit=size + 1)  # one page, not the account
            chunk, more = after_page(keys, size, lambda k: f"{k.creation_date!r}/{k.key_id}")
            return {"Keys": [{"KeyId": public_id(k), "KeyArn": k.arn} for k in chunk], **more}, None

        return self._call("ListKeys", caller, params, work)

    def update_key_description(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            description = validation.string(params.get("Description"), "description", min_len=0, max_len=8192)
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:UpdateKeyDescription", key)
                self.check_state(key, "UpdateKeyDescription")
                self._customer_managed(key, "UpdateKeyDescription")
                tx.put_key(replace(key, description=description))
            return {}, key.arn

        return self._call("UpdateKeyDescription", caller, params, work)

    def _customer_managed(self, key: KeyRecord, operation: str) -> None:
        if key.key_manager == "AWS":
            raise UnsupportedOperationException(f"{operation} is not supported on AWS managed key {key.arn}")

    # -- state ------------------------------------------------------------------------------

    def enable_key(self, caller: Caller, **params: Any) -> Response:
        return self._set_state(caller, params, "EnableKey", "Enabled")

    def disable_key(self, caller: Caller, **params: Any) -> Response:
        return self._set_state(caller, params, "DisableKey", "Disabled")

    def _set_state(self, caller: Caller, params: dict[str, Any], operation: str, state: str) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, f"kms:{operation}", key)
                self.check_state(key, operation)
                self._customer_managed(key, operation)
                tx.put_key(replace(key, state=state))
            self.wake_scheduler()
            return {}, key.arn

        return self._call(operation, caller, params, work)

    def schedule_key_deletion(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            days = validation.integer(params.get("PendingWindowInDays", 30), "pendingWindowInDays", minimum=7, maximum=30)
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(
                    tx, caller, "kms:ScheduleKeyDeletion", key, {"kms:ScheduleKeyDeletionPendingWindowInDays": str(days)}
                )
                self.check_state(key, "ScheduleKeyDeletion")
                self._customer_managed(key, "ScheduleKeyDeletion")
                if self.has_replicas(key):
                    # KMS DG "Deleting multi-Region keys": the primary waits for its replicas, then its window starts.
                    tx.put_key(replace(key, state="PendingReplicaDeletion", deletion_date=None, pending_window_days=days))
                    return {"KeyId": key.arn, "KeyState": "PendingReplicaDeletion", "PendingWindowInDays": days}, key.arn
                when = self.clock.now() + days * 86400
                tx.put_key(replace(key, state="PendingDeletion", deletion_date=when, pending_window_days=days))
            self.wake_scheduler(when)
            return {
                "KeyId": key.arn,
                "DeletionDate": iso(when),
                "KeyState": "PendingDeletion",
                "PendingWindowInDays": days,
            }, key.arn

        return self._call("ScheduleKeyDeletion", caller, params, work)

    def cancel_key_deletion(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:CancelKeyDeletion", key)
                self.check_state(key, "CancelKeyDeletion")
                tx.put_key(replace(key, state="Disabled", deletion_date=None, pending_window_days=None))
            return {"KeyId": key.arn}, key.arn

        return self._call("CancelKeyDeletion", caller, params, work)

    # -- key policies -----------------------------------------------------------------------

    def get_key_policy(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            name = validation.string(params.get("PolicyName", "default"), "policyName", max_len=128)
            with self.reading() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:GetKeyPolicy", key, {"kms:PolicyName": name})
            if name != "default":
                raise NotFoundException(f"No such policy exists: {name}", key_arn=key.arn)
            return {"Policy": key.policy, "PolicyName": "default"}, key.arn

        return self._call("GetKeyPolicy", caller, params, work)

    def put_key_policy(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            name = validation.string(params.get("PolicyName", "default"), "policyName", max_len=128)
            bypass = bool(params.get("BypassPolicyLockoutSafetyCheck", False))
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                if name != "default":
                    raise NotFoundException(f"No such policy exists: {name}", key_arn=key.arn)
                document = read_key_policy(params.get("Policy"))
                self.authorize(
                    tx, caller, "kms:PutKeyPolicy", key, {"kms:PolicyName": name}, new_policy=document, bypass_lockout=bypass
                )
                self._customer_managed(key, "PutKeyPolicy")
                tx.put_key(replace(key, policy=params["Policy"]))
            return {}, key.arn

        return self._call("PutKeyPolicy", caller, params, work)

    def list_key_policies(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            with self.reading() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:ListKeyPolicies", key)
            chunk, more = page(["default"], params.get("Limit"), params.get("Marker"))
            return {"PolicyNames": chunk, **more}, key.arn

        return self._call("ListKeyPolicies", caller, params, work)

    # -- tags -------------------------------------------------------------------------------

    def tag_resource(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            tags = _tags_from_list(validation.required(params.get("Tags"), "tags"))
            context: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
            context["aws:TagKeys"] = list(tags)
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:TagResource", key, context)
                self.check_state(key, "TagResource")
                self._customer_managed(key, "TagResource")
                merged = {**key.tags, **tags}
                if len(merged) > MAX_TAGS:
                    raise TagException("Too many tags", key_arn=key.arn)
                tx.put_key(replace(key, tags=merged))
            return {}, key.arn

        return self._call("TagResource", caller, params, work)

    def untag_resource(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            tag_keys = validation.string_list(
                validation.required(params.get("TagKeys"), "tagKeys"), "tagKeys", max_items=MAX_TAGS
            )
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:UntagResource", key, {"aws:TagKeys": tag_keys})
                self.check_state(key, "UntagResource")
                self._customer_managed(key, "UntagResource")
                tx.put_key(replace(key, tags={k: v for k, v in key.tags.items() if k not in tag_keys}))
            return {}, key.arn

        return self._call("UntagResource", caller, params, work)

    def list_resource_tags(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            with self.reading() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:ListResourceTags", key)
            tags = [{"TagKey": k, "TagValue": v} for k, v in sorted(key.tags.items())]
            chunk, more = page(tags, params.get("Limit"), params.get("Marker"), default=50, maximum=50)
            return {"Tags": chunk, **more}, key.arn

        return self._call("ListResourceTags", caller, params, work)

    def _require_state(self, key: KeyRecord, *states: str) -> None:
        if key.state not in states:
            raise KMSInvalidStateException(f"{key.arn} is {key.state}", key_arn=key.arn)


def _request_alias(ref: str) -> dict[str, Any]:
    """``kms:RequestAlias`` when the caller named the key by an alias."""
    if ref.startswith("alias/"):
        return {"kms:RequestAlias": ref}
    if ref.startswith("arn:") and ":alias/" in ref:
        return {"kms:RequestAlias": ref.split(":", 5)[5]}
    return {}
