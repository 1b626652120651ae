"""Custom key stores (CloudHSM and external key stores): the operations, answered as an account that has none.

A local KMS has no CloudHSM cluster and reaches no external key store proxy, so every custom key
store operation answers exactly what AWS answers an account without custom key stores: the
listing is empty, and naming a store is ``CustomKeyStoreNotFoundException``. Creating one fails
where AWS would, on the cluster or proxy it cannot find. Each call is authorized first (these
actions are IAM-only, on resource ``*``), so a caller without permission still sees AccessDenied.
"""

from __future__ import annotations

from typing import Any

from policyengine.kms import validation
from policyengine.kms.caller import Caller
from policyengine.kms.core import KmsCore, Response
from policyengine.kms.errors import (
    CloudHsmClusterNotFoundException,
    CustomKeyStoreNotFoundException,
    XksProxyUriUnreachableException,
)

__all__ = ["CustomKeyStoreOps", "missing_custom_key_store"]


def missing_custom_key_store(store: str) -> CustomKeyStoreNotFoundException:
    """The error for a custom key store id or name that names nothing (every one, here)."""
    return CustomKeyStoreNotFoundException(f"Custom key store '{store}' does not exist in this account and Region.")


class CustomKeyStoreOps(KmsCore):
    """ConnectCustomKeyStore, CreateCustomKeyStore, DeleteCustomKeyStore, DescribeCustomKeyStores,
    DisconnectCustomKeyStore, UpdateCustomKeyStore."""

    def _named_store(self, caller: Caller, params: dict[str, Any], operation: str) -> Response:
        def work() -> tuple[Response, str | None]:
            store = validation.string(params.get("CustomKeyStoreId"), "customKeyStoreId", max_len=64)
            with self.reading() as tx:
                self.authorize(tx, caller, f"kms:{operation}", None)
            raise missing_custom_key_store(store)

        return self._call(operation, caller, params, work)

    def connect_custom_key_store(self, caller: Caller, **params: Any) -> Response:
        return self._named_store(caller, params, "ConnectCustomKeyStore")

    def disconnect_custom_key_store(self, caller: Caller, **params: Any) -> Response:
        return self._named_store(caller, params, "DisconnectCustomKeyStore")

    def delete_custom_key_store(self, caller: Caller, **params: Any) -> Response:
        return self._named_store(caller, params, "DeleteCustomKeyStore")

    def update_custom_key_store(self, caller: Caller, **params: Any) -> Response:
        return self._named_store(caller, params, "UpdateCustomKeyStore")

    def describe_custom_key_stores(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            store_id = params.get("CustomKeyStoreId")
            store_name = params.get("CustomKeyStoreName")
            with self.reading() as tx:
                self.authorize(tx, caller, "kms:DescribeCustomKeyStores", None)
            if store_id is not None:
                raise missing_custom_key_store(validation.string(store_id, "customKeyStoreId", max_len=64))
            if store_name is not None:
                raise missing_custom_key_store(validation.string(store_name, "customKeyStoreName", max_len=256))
            return {"CustomKeyStores": [], "Truncated": False}, None

        return self._call("DescribeCustomKeyStores", caller, params, work)

    def create_custom_key_store(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            validation.string(params.get("CustomKeyStoreName"), "customKeyStoreName", max_len=256)
            kind = validation.choice(
                params.get("CustomKeyStoreType", "AWS_CLOUDHSM"), "customKeyStoreType", ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE")
            )
            with self.reading() as tx:
                self.authorize(tx, caller, "kms:CreateCustomKeyStore", None)
            if kind == "AWS_CLOUDHSM":
                cluster = validation.string(params.get("CloudHsmClusterId"), "cloudHsmClusterId", min_len=19, max_len=24)
                raise CloudHsmClusterNotFoundException(f"CloudHSM cluster {cluster} does not exist in this account and Region.")
            endpoint = validation.string(params.get("XksProxyUriEndpoint"), "xksProxyUriEndpoint", min_len=10, max_len=128)
            raise XksProxyUriUnreachableException(f"The external key store proxy at {endpoint} is not reachable from KMS.")

        return self._call("CreateCustomKeyStore", caller, params, work)
