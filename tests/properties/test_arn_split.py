"""``parse_arn`` splits on colons; ``grammars/arn.lark`` is the definition: both agree on every text."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from lark import LarkError, Tree

from policyengine.parsing.loader import arn_parser
from policyengine.parsing.strings import ArnParts, parse_arn


def _by_grammar(text: str) -> ArnParts | None:
    if not text.startswith("arn:"):
        return None
    try:
        tree = arn_parser().parse(text)
    except LarkError:
        return None
    return ArnParts(*["".join(str(t) for t in child.children) for child in tree.children if isinstance(child, Tree)])


_PIECES = st.sampled_from(["arn", ":", "aws", "kms", "us-east-1", "111122223333", "key/", "*", "?", "/", "", "\n", "a:b", "role"])


@given(st.lists(_PIECES, max_size=14).map("".join) | st.text(max_size=40).map(lambda t: "arn:" + t))
@example("arn:aws:iam::111122223333:role/a:b/c")
@example("arn:aws:kms:us-east-1:111122223333:")
@example("arn::::::")
@example("arn:aws:s3:::bucket")
def test_split_agrees_with_the_grammar(text: str) -> None:
    parse_arn.cache_clear()
    assert parse_arn(text) == _by_grammar(text)
