"""policyengine (this repository): parse_policy_fast + compile_policy once per bundle, one PolicySet per
principal wrapped in an Authorizer, then Authorizer.decide per request (it memoizes on the request facts the
policies can see: caller, action, resource and the context keys their conditions name).

Policy kinds: the bundle's resource policy is compiled as "key_policy" for requests on a KMS key
(arn:aws:kms:..., AWS KMS key-policy semantics: the key policy must allow, by naming the caller or
delegating to the account), else as "resource_policy"; identity attachments are compiled as "identity".
The request context is handed over as is (make_request lowercases keys, fills in the keys AWS sets).
"""

import os
import sys

# Optional, to run a checkout without installing it: POLICYENGINE_SRC=<repository root> and any python with the
# package's dependencies, e.g. OURS_PYTHON="env POLICYENGINE_SRC=$PWD python3" bash bench/peers/run.sh
if os.environ.get("POLICYENGINE_SRC"):
    sys.path.insert(0, os.environ["POLICYENGINE_SRC"])

import policyengine as pe

NAME = "policyengine"
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
    # One PolicySet per principal and per resource-policy kind; the "key_policy" sets are built here (the
    # kms bundle's resource is a KMS key), the "resource_policy" ones on first use by a non-KMS resource.
    by_kind = {}

    def sets_for(kind):
        sets = by_kind.get(kind)
        if sets is None:
            cp = pe.compile_policy(docs[rp_name], kind, rp_name) if rp_name else None
            sets = by_kind[kind] = {
                p: pe.Authorizer(pe.PolicySet(key_policy=cp, identity=ids)) for p, ids in idents.items()
            }
        return sets

    key_sets = sets_for("key_policy")
    other_sets = key_sets if not rp_name else None
    resource_account = bundle.get("resource_account")
    def decide(req):
        nonlocal other_sets
        resource = req["resource"]
        if resource.startswith("arn:aws:kms:"):
            sets = key_sets
        else:
            if other_sets is None:
                other_sets = sets_for("resource_policy")
            sets = other_sets
        return sets[req["principal"]].decide(
            req["principal"], req["action"], resource, req["context"], resource_account=resource_account
        ).allowed

    return decide
