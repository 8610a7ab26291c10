"""What a callee's forward function hands its reverse function.

A differentiated helper function becomes a pair: ``fwd_h`` computes the
value and returns it with a trace, which the caller keeps and later passes
to ``rev_h``.  In general the trace is a list the forward code pushes onto
(in loops, in branches) and the reverse code pops.  Most helpers push once,
as their last statement: the values their reverse code reads.  For those,
``hand_over_saved`` makes ``fwd_h`` return that tuple itself and ``rev_h``
unpack it, with no list made, appended to or popped: a helper called once
per step of a loop costs a call, not a call plus three list operations.

Guarantee: applied only when the trace list is made at the top of ``fwd_h``
and mentioned nowhere else but in one top-level push directly before the
final ``return value, trace``, and ``rev_h`` mentions its trace parameter
only in one top-level ``saved = trace.pop()``.  The reverse code then reads
the very tuple that was pushed, so every value is unchanged.
"""

from __future__ import annotations

from typing import Callable

import gast

from s2s_ad import astutil as A


def hand_over_saved(
    fwd: gast.FunctionDef,
    rev: gast.FunctionDef,
    trace: str,
    fresh: Callable[[str], str],
) -> None:
    """Rewrite ``fwd``/``rev`` (a callee's pair, ``trace`` the name of the
    list in ``fwd`` and of the first parameter of ``rev``) in place, when
    the guarantee in the module docstring allows it."""
    body = fwd.body
    if len(body) < 2 or not _returns_with_trace(body[-1], trace):
        return
    made = [i for i, s in enumerate(body) if _makes_list(s, trace)]
    push = len(body) - 2 if _pushes(body[-2], trace) else None
    mentions = _mentions(fwd, trace)
    if len(made) != 1 or mentions != 2 + (push is not None):
        return
    pops = [i for i, s in enumerate(rev.body) if _pops(s, trace)]
    if len(pops) != (push is not None) or _mentions(rev, trace) != 1 + len(pops):
        return
    returned = body[-1].value
    returned.elts[1] = body[push].value.args[0] if push is not None else A.tuple_([])
    for i in sorted(made + ([push] if push is not None else []), reverse=True):
        del body[i]
    saved = fresh("saved")
    rev.args.args[0].id = saved
    for i in pops:
        rev.body[i].value = A.load(saved)


def _returns_with_trace(stmt: gast.stmt, trace: str) -> bool:
    value = stmt.value if isinstance(stmt, gast.Return) else None
    return (
        isinstance(value, gast.Tuple)
        and len(value.elts) == 2
        and _is_name(value.elts[1], trace)
    )


def _makes_list(stmt: gast.stmt, trace: str) -> bool:
    return (
        isinstance(stmt, gast.Assign)
        and _is_name(stmt.targets[0], trace)
        and isinstance(stmt.value, gast.List)
        and not stmt.value.elts
    )


def _pushes(stmt: gast.stmt, trace: str) -> bool:
    call = stmt.value if isinstance(stmt, gast.Expr) else None
    return _method_call(call, trace, "append") and len(call.args) == 1


def _pops(stmt: gast.stmt, trace: str) -> bool:
    return (
        isinstance(stmt, gast.Assign)
        and _method_call(stmt.value, trace, "pop")
        and not stmt.value.args
    )


def _method_call(node: gast.expr | None, owner: str, method: str) -> bool:
    return (
        isinstance(node, gast.Call)
        and isinstance(node.func, gast.Attribute)
        and node.func.attr == method
        and _is_name(node.func.value, owner)
        and not node.keywords
    )


def _is_name(node: gast.expr, name: str) -> bool:
    return isinstance(node, gast.Name) and node.id == name


def _mentions(fdef: gast.FunctionDef, name: str) -> int:
    return sum(1 for n in A.name_nodes(fdef) if n.id == name)
