"""Refuse syntax s2s_ad cannot differentiate, before any other work.

Guarantees: if :func:`check` returns, the function uses only constructs the
later passes handle; otherwise it raises UnsupportedSyntaxError naming the
construct with the user's file:line and the offending source line.
"""

from __future__ import annotations

import gast

from s2s_ad import astutil as A
from s2s_ad.errors import UnsupportedSyntaxError
from s2s_ad.source import FunctionSource

_REFUSED = {
    "Try": "try/except",
    "TryStar": "try/except*",
    "With": "with statements",
    "AsyncWith": "async with",
    "AsyncFor": "async for",
    "AsyncFunctionDef": "async functions",
    "Await": "await",
    "Yield": "yield (generators)",
    "YieldFrom": "yield from (generators)",
    "Global": "global declarations",
    "Nonlocal": "nonlocal declarations",
    "ClassDef": "class definitions inside the function",
    "Delete": "del statements",
    "Import": "import statements inside the function (import at module level)",
    "ImportFrom": "import statements inside the function (import at module level)",
    "Match": "match statements",
    "NamedExpr": "assignment expressions (:=)",
    "SetComp": "set comprehensions",
}


def check(src: FunctionSource) -> None:
    """Raise UnsupportedSyntaxError for the first refused construct."""
    fdef = src.node
    args = fdef.args
    if args.vararg is not None or args.kwarg is not None:
        raise src.error(
            UnsupportedSyntaxError,
            "*args/**kwargs parameters are not supported by s2s_ad "
            "(name each parameter)",
            fdef,
        )
    # Every refused construct is a node with fields (none is a leaf).
    for node in A.walk_inner_in_order(fdef):
        kind = type(node).__name__
        if kind in _REFUSED:
            raise src.error(
                UnsupportedSyntaxError,
                f"s2s_ad does not support {_REFUSED[kind]}",
                node,
            )
        if isinstance(node, gast.Starred):
            raise src.error(
                UnsupportedSyntaxError,
                "starred expressions (*x) are not supported by s2s_ad",
                node,
            )
        if (
            isinstance(node, gast.FunctionDef)
            and node is not fdef
            and node.decorator_list
        ):
            raise src.error(
                UnsupportedSyntaxError,
                "decorated functions defined inside the function are not supported",
                node,
            )
        if isinstance(node, gast.keyword) and node.arg is None:
            raise src.error(
                UnsupportedSyntaxError,
                "**kwargs in calls is not supported by s2s_ad",
                node,
            )
