"""``snapshot pull``: read IAM, KMS and Organizations from live accounts with the user's credentials.

``aws`` talks to AWS (read-only, every page, retried, refusals as notes), ``collect`` saves what it
reads as the raw exports ``snapshot import`` reads (and a re-run resumes from), ``run`` picks the
accounts and regions and builds the snapshot from the exports. boto3 is imported only when a pull runs.
"""

from policyengine.access.pull.aws import READ_ONLY_OPERATIONS, Calls, Note
from policyengine.access.pull.run import PullResult, pull, snapshot_from_exports

__all__ = ["READ_ONLY_OPERATIONS", "Calls", "Note", "PullResult", "pull", "snapshot_from_exports"]
