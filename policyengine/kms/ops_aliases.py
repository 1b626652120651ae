"""Aliases: friendly names for keys, and the way to rotate keys manually (point the alias anew).

An alias operation is authorized twice, as in AWS: on the alias ARN (IAM policies only; an
alias has no policy of its own) and on each key involved (key policy and IAM).
"""

from __future__ import annotations

import re
from typing import Any

from policyengine.kms import validation
from policyengine.kms.caller import Caller
from policyengine.kms.core import KmsCore, Response, iso, shown_key_id
from policyengine.kms.errors import (
    AlreadyExistsException,
    InvalidAliasNameException,
    KMSInvalidStateException,
    LimitExceededException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from policyengine.kms.pagination import after_page, after_window, page
from policyengine.store.base import StoreTransaction
from policyengine.store.records import AliasRecord, KeyRecord

#: The aliases of AWS managed keys a fresh account and region already lists (ListAliases), each
#: without a target until the service first uses it (facts from real-account listings).
AWS_PREDEFINED_ALIASES = (
    "alias/aws/acm",
    "alias/aws/dynamodb",
    "alias/aws/ebs",
    "alias/aws/elasticfilesystem",
    "alias/aws/es",
    "alias/aws/glue",
    "alias/aws/kinesisvideo",
    "alias/aws/lambda",
    "alias/aws/rds",
    "alias/aws/redshift",
    "alias/aws/s3",
    "alias/aws/secretsmanager",
    "alias/aws/ssm",
    "alias/aws/xray",
)

ALIAS_PATTERN = r"^alias/[a-zA-Z0-9/_-]+$"
MAX_ALIASES_PER_KEY = 50


class AliasOps(KmsCore):
    """CreateAlias, UpdateAlias, DeleteAlias, ListAliases."""

    def _alias_entry(self, caller: Caller, alias: AliasRecord) -> dict[str, Any]:
        return {
            "AliasName": alias.alias_name,
            "AliasArn": self._alias_arn(caller, alias.alias_name),
            "TargetKeyId": shown_key_id(alias.target_key_id),
            "CreationDate": iso(alias.creation_date),
            "LastUpdatedDate": iso(alias.last_updated),
        }

    def _alias_arn(self, caller: Caller, name: str) -> str:
        return f"arn:aws:kms:{self.region}:{caller.account}:{name}"

    def _alias_name(self, value: Any) -> str:
        name = validation.string(value, "aliasName", max_len=256)
        if not name.startswith("alias/"):
            raise ValidationException(
                'Alias must start with the prefix "alias/". '
                "Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
            )
        if not re.fullmatch(ALIAS_PATTERN, name):
            raise InvalidAliasNameException(f"Alias {name} contains characters that are not allowed")
        return name

    def _target(self, tx: StoreTransaction, caller: Caller, ref: str) -> KeyRecord:
        key = self.resolve_key(tx, caller, ref, aliases=False)
        if key.account != caller.account:
            raise NotFoundException(f"Key '{key.arn}' does not exist")
        if key.key_manager == "AWS":
            raise UnsupportedOperationException(f"Aliases cannot be added to AWS managed key {key.arn}", key_arn=key.arn)
        if key.state == "PendingDeletion":
            raise KMSInvalidStateException(f"{key.arn} is pending deletion.", key_arn=key.arn)
        return key

    def create_alias(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            name = self._alias_name(params.get("AliasName"))
            if name.startswith("alias/aws/"):
                raise InvalidAliasNameException("Alias names that begin with alias/aws/ are reserved for AWS managed keys")
            ref = validation.string(params.get("TargetKeyId"), "targetKeyId")
            now = self.clock.now()
            with self.writing() as tx:
                key = self._target(tx, caller, ref)
                self.authorize(tx, caller, "kms:CreateAlias", None, resource=self._alias_arn(caller, name))
                self.authorize(tx, caller, "kms:CreateAlias", key)
                if tx.get_alias(caller.account, self.region, name) is not None:
                    raise AlreadyExistsException(
                        f"An alias with the name {self._alias_arn(caller, name)} already exists", key_arn=key.arn
                    )
                count = len(tx.aliases_for_key(key.key_id))
                if count >= MAX_ALIASES_PER_KEY:
                    raise LimitExceededException(f"A key can have at most {MAX_ALIASES_PER_KEY} aliases", key_arn=key.arn)
                tx.put_alias(AliasRecord(caller.account, self.region, name, key.key_id, now, now))
            return {}, key.arn

        return self._call("CreateAlias", caller, params, work)

    def update_alias(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            name = self._alias_name(params.get("AliasName"))
            if name.startswith("alias/aws/"):
                raise InvalidAliasNameException("Aliases that begin with alias/aws/ cannot be changed")
            ref = validation.string(params.get("TargetKeyId"), "targetKeyId")
            with self.writing() as tx:
                alias = tx.get_alias(caller.account, self.region, name)
                if alias is None:
                    raise NotFoundException(f"Alias {self._alias_arn(caller, name)} is not found.")
                new_key = self._target(tx, caller, ref)
                old_key = tx.get_key(alias.target_key_id)
                self.authorize(tx, caller, "kms:UpdateAlias", None, resource=self._alias_arn(caller, name))
                if old_key is not None:
                    self.authorize(tx, caller, "kms:UpdateAlias", old_key)
                    if (old_key.key_usage, old_key.key_spec == "SYMMETRIC_DEFAULT") != (
                        new_key.key_usage,
                        new_key.key_spec == "SYMMETRIC_DEFAULT",
                    ):
                        raise ValidationException("The new target key must have the same key type and key usage")
                self.authorize(tx, caller, "kms:UpdateAlias", new_key)
                if alias.target_key_id != new_key.key_id:
                    count = len(tx.aliases_for_key(new_key.key_id))
                    if count >= MAX_ALIASES_PER_KEY:
                        raise LimitExceededException(f"A key can have at most {MAX_ALIASES_PER_KEY} aliases", key_arn=new_key.arn)
                tx.put_alias(
                    AliasRecord(alias.account, alias.region, name, new_key.key_id, alias.creation_date, self.clock.now())
                )
            return {}, new_key.arn

        return self._call("UpdateAlias", caller, params, work)

    def delete_alias(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            name = self._alias_name(params.get("AliasName"))
            if name.startswith("alias/aws/"):
                raise InvalidAliasNameException("Aliases that begin with alias/aws/ cannot be deleted")
            with self.writing() as tx:
                alias = tx.get_alias(caller.account, self.region, name)
                if alias is None:
                    raise NotFoundException(f"Alias {self._alias_arn(caller, name)} is not found.")
                key = tx.get_key(alias.target_key_id)
                self.authorize(tx, caller, "kms:DeleteAlias", None, resource=self._alias_arn(caller, name))
                if key is not None:
                    self.authorize(tx, caller, "kms:DeleteAlias", key)
                tx.delete_alias(caller.account, self.region, name)
            return {}, key.arn if key is not None else None

        return self._call("DeleteAlias", caller, params, work)

    def list_aliases(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = params.get("KeyId")
            if ref is not None:  # a key's aliases: a few, read through the aliases-by-target index
                with self.reading() as tx:
                    self.authorize(tx, caller, "kms:ListAliases", None)
                    key = self.resolve_key(tx, caller, validation.string(ref, "keyId"), aliases=False)
                    aliases = tx.aliases_for_key(key.key_id)
                chunk, more = page([self._alias_entry(caller, a) for a in aliases], params.get("Limit"), params.get("Marker"))
                return {"Aliases": chunk, **more}, None
            after, size = after_window(params.get("Limit"), params.get("Marker"))
            with self.reading() as tx:
                self.authorize(tx, caller, "kms:ListAliases", None)
                stored = tx.list_aliases(caller.account, self.region, after=after, limit=size + 1)  # one page
            # A real account lists AWS's predefined aliases before the services make their keys:
            # name and ARN only, no TargetKeyId until first use creates the AWS managed key.
            entries = {a.alias_name: self._alias_entry(caller, a) for a in stored}
            for name in AWS_PREDEFINED_ALIASES:
                if name > (after or "") and name not in entries:
                    entries[name] = {"AliasName": name, "AliasArn": self._alias_arn(caller, name)}
            # The first size + 1 names of both lists are the first size + 1 of the account's whole list
            # (a stored page is its first size + 1 past the marker, the predefined names all of theirs).
            merged = [entries[name] for name in sorted(entries)[: size + 1]]
            chunk, more = after_page(merged, size, lambda entry: str(entry["AliasName"]))
            return {"Aliases": chunk, **more}, None

        return self._call("ListAliases", caller, params, work)
