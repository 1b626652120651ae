"""Importers: real exports to a snapshot. Each reads one kind of export and returns ``Imported``
(plain snapshot data plus what it could not use); ``build_snapshot`` merges and validates."""

from policyengine.access.importers._common import Imported
from policyengine.access.importers.authdetails import import_authdetails
from policyengine.access.importers.kms_exports import import_kms_dir
from policyengine.access.importers.merge import build_snapshot
from policyengine.access.importers.organizations import import_organization
from policyengine.access.importers.terraform import import_terraform_plan

__all__ = ["Imported", "build_snapshot", "import_authdetails", "import_kms_dir", "import_organization", "import_terraform_plan"]
