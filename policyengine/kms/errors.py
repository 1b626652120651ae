"""KMS errors, named and coded like AWS's (KMS API Reference, "Errors" of each operation).

Every error carries ``code`` (AWS's ``__type``, stable for the wire protocol) and ``status``
(the HTTP status AWS answers with). ``AccessDeniedException`` also carries the ``Decision``
that refused the call, so the explanation travels with the refusal.

::

    PolicyEngineError
    └── KMSError                                  code, status
        ├── AccessDeniedException                 .decision
        ├── AlreadyExistsException
        ├── CloudHsmClusterNotFoundException
        ├── CustomKeyStoreNotFoundException
        ├── DisabledException
        ├── ExpiredImportTokenException
        ├── IncorrectKeyException
        ├── IncorrectKeyMaterialException
        ├── InvalidAliasNameException
        ├── InvalidArnException
        ├── InvalidCiphertextException            one opaque message, whatever went wrong
        ├── InvalidGrantIdException
        ├── InvalidGrantTokenException
        ├── InvalidImportTokenException
        ├── InvalidKeyUsageException
        ├── KMSInvalidMacException
        ├── KMSInvalidSignatureException
        ├── KMSInvalidStateException
        ├── LimitExceededException
        ├── MalformedPolicyDocumentException
        ├── NotFoundException
        ├── TagException
        ├── UnsupportedOperationException
        ├── ValidationException
        └── XksProxyUriUnreachableException
"""

from __future__ import annotations

from policyengine.errors import PolicyEngineError
from policyengine.explain.decision import Decision


class KMSError(PolicyEngineError):
    """A KMS API error: ``code`` is AWS's error type, ``status`` its HTTP status."""

    code = "KMSInternalException"
    status = 500

    def __init__(self, message: str, *, key_arn: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key_arn = key_arn


class AccessDeniedException(KMSError):
    """The evaluator refused the call; ``decision`` says why."""

    code = "AccessDeniedException"
    status = 400

    def __init__(self, message: str, decision: Decision, *, key_arn: str | None = None) -> None:
        super().__init__(message, key_arn=key_arn)
        self.decision = decision


class InvalidCiphertextException(KMSError):
    """The ciphertext, its encryption context or its key does not fit. AWS says nothing more: its
    answer has no message at all (an empty message here, which the server leaves out)."""

    code = "InvalidCiphertextException"
    status = 400

    def __init__(self, message: str = "", *, key_arn: str | None = None) -> None:
        super().__init__(message, key_arn=key_arn)


class AlreadyExistsException(KMSError):
    """An alias or a key with that name already exists."""

    code = "AlreadyExistsException"
    status = 400


class CloudHsmClusterNotFoundException(KMSError):
    """No CloudHSM cluster has that id (a local KMS has none)."""

    code = "CloudHsmClusterNotFoundException"
    status = 400


class CustomKeyStoreNotFoundException(KMSError):
    """No custom key store has that id or name (a local KMS has none)."""

    code = "CustomKeyStoreNotFoundException"
    status = 400


class XksProxyUriUnreachableException(KMSError):
    """The external key store proxy cannot be reached (a local KMS reaches no proxy)."""

    code = "XksProxyUriUnreachableException"
    status = 400


class DisabledException(KMSError):
    """The key is disabled."""

    code = "DisabledException"
    status = 400


class ExpiredImportTokenException(KMSError):
    """The import token has expired."""

    code = "ExpiredImportTokenException"
    status = 400


class IncorrectKeyException(KMSError):
    """The ciphertext was not made with the key given."""

    code = "IncorrectKeyException"
    status = 400


class IncorrectKeyMaterialException(KMSError):
    """Reimported material differs."""

    code = "IncorrectKeyMaterialException"
    status = 400


class InvalidAliasNameException(KMSError):
    """The alias name is not valid."""

    code = "InvalidAliasNameException"
    status = 400


class InvalidArnException(KMSError):
    """An ARN in the request is not valid."""

    code = "InvalidArnException"
    status = 400


class InvalidGrantIdException(KMSError):
    """No such grant for this key."""

    code = "InvalidGrantIdException"
    status = 400


class InvalidGrantTokenException(KMSError):
    """The grant token is not valid."""

    code = "InvalidGrantTokenException"
    status = 400


class InvalidImportTokenException(KMSError):
    """The import token is not valid."""

    code = "InvalidImportTokenException"
    status = 400


class InvalidKeyUsageException(KMSError):
    """The key's usage or spec does not allow this."""

    code = "InvalidKeyUsageException"
    status = 400


class KMSInvalidMacException(KMSError):
    """The MAC does not verify (AWS's answer has no message)."""

    code = "KMSInvalidMacException"
    status = 400

    def __init__(self, message: str = "", *, key_arn: str | None = None) -> None:
        super().__init__(message, key_arn=key_arn)


class KMSInvalidSignatureException(KMSError):
    """The signature does not verify (AWS's answer has no message)."""

    code = "KMSInvalidSignatureException"
    status = 400

    def __init__(self, message: str = "", *, key_arn: str | None = None) -> None:
        super().__init__(message, key_arn=key_arn)


class KMSInvalidStateException(KMSError):
    """The key's state does not allow this."""

    code = "KMSInvalidStateException"
    status = 400


class LimitExceededException(KMSError):
    """A limit was exceeded."""

    code = "LimitExceededException"
    status = 400


class MalformedPolicyDocumentException(KMSError):
    """The key policy is not valid."""

    code = "MalformedPolicyDocumentException"
    status = 400


class NotFoundException(KMSError):
    """No such key, alias or grant."""

    code = "NotFoundException"
    status = 400


class TagException(KMSError):
    """A tag is not valid."""

    code = "TagException"
    status = 400


class UnsupportedOperationException(KMSError):
    """Not supported for this key."""

    code = "UnsupportedOperationException"
    status = 400


class ValidationException(KMSError):
    """A request parameter is not valid."""

    code = "ValidationException"
    status = 400


ALL_ERRORS: tuple[type[KMSError], ...] = (
    AccessDeniedException,
    AlreadyExistsException,
    CloudHsmClusterNotFoundException,
    CustomKeyStoreNotFoundException,
    DisabledException,
    ExpiredImportTokenException,
    IncorrectKeyException,
    IncorrectKeyMaterialException,
    InvalidAliasNameException,
    InvalidArnException,
    InvalidCiphertextException,
    InvalidGrantIdException,
    InvalidGrantTokenException,
    InvalidImportTokenException,
    InvalidKeyUsageException,
    KMSInvalidMacException,
    KMSInvalidSignatureException,
    KMSInvalidStateException,
    LimitExceededException,
    MalformedPolicyDocumentException,
    NotFoundException,
    TagException,
    UnsupportedOperationException,
    ValidationException,
    XksProxyUriUnreachableException,
)
