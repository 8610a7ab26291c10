"""State shared by the reverse and forward transformers of one function.

Guarantees: both builders see the same source, core form, activity, namer
and global-name allocator, and name run-time helpers the same way.
"""

from __future__ import annotations

from typing import Any, Callable

import gast
import numpy as np

from s2s_ad import astutil as A
from s2s_ad.analysis import Activity
from s2s_ad.naming import Namer
from s2s_ad.normalize import NormalizedFunction
from s2s_ad.source import FunctionSource


class SweepBuilder:
    """The common part of ReverseBuilder and ForwardBuilder."""

    def __init__(
        self,
        src: FunctionSource,
        nf: NormalizedFunction,
        activity: Activity,
        namer: Namer,
        comments: list[str],
        global_name: Callable[[str, Any], str],
    ) -> None:
        self.src = src
        self.nf = nf
        self.act = activity
        self.namer = namer
        self.comments = comments
        self.global_name = global_name

    def rule_args(self, op: Any) -> list[gast.expr]:
        """The arguments a rule template is bound to: constant lists and
        tuples given to a NumPy ufunc become arrays, as the ufunc itself
        treats them (derivative expressions like ``1.0 / b``
        or ``b - 1`` are not defined on lists)."""
        rule = op.rule
        if not isinstance(rule.target, np.ufunc):
            return list(op.args)
        out = []
        for arg in op.args:
            if (
                isinstance(arg, gast.Name)
                and self.act.kinds.get(arg.id) == "container"
                and arg.id not in self.act.active
            ):
                asarray = A.attr(A.load(self.global_name("np", np)), "asarray")
                arg = A.call(asarray, [arg])
            out.append(arg)
        return out

    def rt(self, helper: str) -> gast.expr:
        """``rt.<helper>`` under the name the runtime has in this function."""
        from s2s_ad import runtime

        return A.attr(A.load(self.global_name("rt", runtime)), helper)
