"""policyengine without the Authorizer memo: parse_policy_fast + compile_policy once per bundle, one PolicySet
per principal, then per request ``authorize(make_request(...), PolicySet)`` -- every request is built and decided
in full (the compiled policies' own candidate caches still apply, as in any use of ``authorize``).

Same policy kinds as ``policyengine_adapter.py``: the resource policy is compiled as "key_policy" for requests on a
KMS key (arn:aws:kms:...), else as "resource_policy"; identity attachments as "identity".
"""

import os
import sys

# Optional, to run a checkout without installing it (see policyengine_adapter.py).
if os.environ.get("POLICYENGINE_SRC"):
    sys.path.insert(0, os.environ["POLICYENGINE_SRC"])

import policyengine as pe

NAME = "policyengine (no memo)"
TIME_REPEAT_PASS = True  # runner.py also times the stream a second time on the same instance (caches warm)


def prepare(bundle, texts):
    docs = {n: pe.parse_policy_fast(t, source=n) for n, t in texts.items()}
    rp_name = bundle["resource_policy"]
    identity_cp = {}
    idents = {}
    for principal, names in bundle["identity"].items():
        for n in names:
            if n not in identity_cp:
                identity_cp[n] = pe.compile_policy(docs[n], "identity", n)
        idents[principal] = tuple(identity_cp[n] for n in names)
    by_kind = {}

    def sets_for(kind):
        sets = by_kind.get(kind)
        if sets is None:
            cp = pe.compile_policy(docs[rp_name], kind, rp_name) if rp_name else None
            sets = by_kind[kind] = {p: pe.PolicySet(key_policy=cp, identity=ids) for p, ids in idents.items()}
        return sets

    key_sets = sets_for("key_policy")
    other_sets = key_sets if not rp_name else None
    resource_account = bundle.get("resource_account")
    make_request = pe.make_request
    authorize = pe.authorize

    def decide(req):
        nonlocal other_sets
        resource = req["resource"]
        if resource.startswith("arn:aws:kms:"):
            sets = key_sets
        else:
            if other_sets is None:
                other_sets = sets_for("resource_policy")
            sets = other_sets
        principal = req["principal"]
        request = make_request(principal, req["action"], resource, req["context"], resource_account=resource_account)
        return authorize(request, sets[principal]).allowed

    return decide
