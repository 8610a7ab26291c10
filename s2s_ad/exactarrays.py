"""Gradients of exact float64 arrays: NumPy operators where helpers were.

For arguments that are exactly ``np.ndarray`` of dtype float64 with at
least one dimension (kind ``float64[2d]`` and so on in the version key; the
analysis sees ``array``), the number of dimensions of many arrays in the
generated code follows from the code.  The helpers the rules call check at
run time what is then known, so this pass, run on the finished top gradient
function, replaces some of them:

1. ``rt.matmul_adjoint_a(g, a, b)`` -> ``g @ b.T`` and
   ``rt.matmul_adjoint_b(g, a, b)`` -> ``a.T @ g`` when ``a`` and ``b`` are
   certainly float64 matrices and ``g`` certainly an ndarray of exactly the
   shape of ``u = a @ b``: every value ``g`` is given is ``rt.unbroadcast(X,
   u)`` (or ``rt.unbroadcast_to(X, u_shape)``) of an ``X`` certainly an
   ndarray with dimensions, which the helper sums to ``u``'s shape exactly.
   The helper then takes its first branch, which computes just that.
2. An adjoint ``x_bar`` of such an argument ``x`` that starts at ``0.0`` and
   is only ever accumulated, by ``x_bar = rt.acc_into(x_bar, e)`` (e.g. a
   weight's gradient summed over the steps of a loop) with ``e`` certainly
   a float64 ndarray with as many dimensions as ``x``, or by ``x_bar =
   rt.add_at(x_bar, x, index, e)`` (the adjoint of reading ``x[index]``)
   with a basic index (integers and slices), starts as ``np.zeros_like(x)``
   and is updated by ``x_bar += e`` or ``x_bar[index] += e``: what the
   helpers do with an array, and ``0.0 + e`` is ``e``; without a call.
3. ``rt.finalize_owned(x, x_bar)`` -> ``x_bar`` when every value ``x_bar``
   is given is certainly a float64 ndarray of exactly ``x``'s shape (the
   zeros above, ``rt.add_at`` into ``x``'s adjoint, ``rt.unbroadcast(X,
   x)``, a matrix product adjoint of ``x``) and one is given on every path:
   ``finalize_owned`` returns such an array as it is.
4. ``rt.seed(r)`` (in a gradient made without a seed) -> ``1.0`` when
   ``r`` is certainly a ``np.float64`` (a full reduction of a float64
   array): ``rt.seed`` returns ``1.0`` for it.

"Certainly" is decided by a fixpoint over every assignment of each name
(loops included): a name has a number of dimensions only when all its
values agree on it, starting from the arguments' and following float64
arithmetic with numbers, NumPy's shape-keeping functions, matrix products,
slices and integer indexing.  Generated code differentiated again is the
general code (no argument kinds), which this pass never sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import gast

from s2s_ad import astutil as A
from s2s_ad.copyprop import reverse_start
from s2s_ad.ranks import Ranks, zero_literal
from s2s_ad.scalars import inline_seed

Stmts = list[gast.stmt]


@dataclass
class Context:
    """What the rewrites need to know about the function being finished."""

    forward: list[gast.stmt]  # the forward-sweep statements
    exact_ranks: dict[str, int]  # parameters with exact float64 array kinds
    numbers: set[str]  # variables of kind scalar (real numbers)
    floats: set[str]  # parameters whose arguments are Python floats
    primal_of: dict[str, str]  # adjoint name -> primal name
    resolve: Callable[[gast.expr], Any]  # a dotted name -> its object
    rt: str  # the name the runtime module goes by
    np_name: Callable[[], str]  # the name NumPy goes by (added on demand)


def optimize_exact_arrays(fdef: gast.FunctionDef, ctx: Context) -> None:
    """The rewrites, in place, on the finished top gradient function."""
    body = fdef.body
    ranks = Ranks(
        body,
        ctx.exact_ranks,
        ctx.numbers,
        ctx.floats,
        ctx.primal_of,
        ctx.resolve,
        ctx.rt,
    )
    params = ranks.params
    if not params:
        return
    start = reverse_start(body, {id(s) for s in ctx.forward})
    seeded = _seeded(body, ctx.rt)
    if seeded is not None and ranks.info(seeded) == (0, True, True):
        inline_seed(body, ctx.rt, {seeded})
    made = None
    if _matrix_products(ranks):
        made = _inline_matmul_adjoints(body, start, ranks, ctx)
        if made is not None:
            ranks.refresh()
    made = made or {}
    added = _accumulate_in_place(body, start, params, ranks, made, ctx)
    if added:
        ranks.refresh()
    _return_owned(body, params, ranks, made, added, ctx)


def _matrix_products(ranks: Ranks) -> bool:
    """Whether the function computes a product of two float64 matrices (only
    then is the reverse sweep searched for their adjoints)."""
    return any(
        isinstance(value, gast.BinOp)
        and isinstance(value.op, gast.MatMult)
        and ranks.has(value.left, 2)
        and ranks.has(value.right, 2)
        for values in ranks.values.values()
        for value in values
    )


def _seeded(body: Stmts, rt: str) -> str | None:
    """The result the top-level ``rt.seed(r[, seed])`` seeds, if a name."""
    for stmt in body:
        value = getattr(stmt, "value", None)
        if (
            isinstance(stmt, gast.Assign)
            and isinstance(value, gast.Call)
            and A.dotted_name(value.func) == f"{rt}.seed"
            and value.args
            and isinstance(value.args[0], gast.Name)
        ):
            return value.args[0].id
    return None


# -- the rewrites -----------------------------------------------------------


def _replace_calls(
    root: list[gast.stmt], replace: Callable[[gast.Call], gast.expr | None]
) -> None:
    """Each call for which ``replace`` gives a node, replaced by that node."""
    for node in A.walk(gast.Module(body=root, type_ignores=[])):
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, gast.Call):
                new = replace(value)
                if new is not None:
                    setattr(node, field, new)
            elif isinstance(value, list):
                for k, item in enumerate(value):
                    if isinstance(item, gast.Call):
                        new = replace(item)
                        if new is not None:
                            value[k] = new


def _inline_matmul_adjoints(
    body: Stmts, start: int, ranks: Ranks, ctx: Context
) -> dict[int, str] | None:
    """1: matrix product adjoints as products; for each new product (by id),
    the name of the matrix whose shape it has (None: nothing rewritten)."""
    made: dict[int, str] = {}
    names = {f"{ctx.rt}.matmul_adjoint_a": 0, f"{ctx.rt}.matmul_adjoint_b": 1}

    def replace(call: gast.Call) -> gast.expr | None:
        which = names.get(A.dotted_name(call.func))
        if which is None or len(call.args) != 3 or call.keywords:
            return None
        g, a, b = call.args
        if not (ranks.has(a, 2) and ranks.has(b, 2) and ranks.product_adjoint(g, a, b)):
            return None
        if which == 0:
            new = gast.BinOp(left=g, op=gast.MatMult(), right=A.attr(b, "T"))
            shaped = a
        else:
            new = gast.BinOp(left=A.attr(a, "T"), op=gast.MatMult(), right=g)
            shaped = b
        if isinstance(shaped, gast.Name) and ranks.has(g, 2):
            made[id(new)] = shaped.id  # float64, of exactly that shape
        return new

    rewritten = [0]

    def counted(call: gast.Call) -> gast.expr | None:
        new = replace(call)
        rewritten[0] += new is not None
        return new

    _replace_calls(body[start:], counted)
    return made if rewritten[0] else None


def _returned_finals(body: Stmts, ctx: Context, helper: str) -> list[gast.Call]:
    """The ``rt.<helper>(x, x_bar)`` calls of the returned gradients."""
    ret = body[-1] if body else None
    if not (isinstance(ret, gast.Return) and isinstance(ret.value, gast.Tuple)):
        return []
    grads = ret.value.elts[-1]
    if not isinstance(grads, gast.Tuple):
        return []
    return [
        call
        for call in grads.elts
        if isinstance(call, gast.Call)
        and A.dotted_name(call.func) == f"{ctx.rt}.{helper}"
        and len(call.args) == 2
        and all(isinstance(arg, gast.Name) for arg in call.args)
    ]


def _accumulate_in_place(
    body: Stmts,
    start: int,
    params: dict[str, int],
    ranks: Ranks,
    made: dict[int, str],
    ctx: Context,
) -> set[int]:
    """2: gradients summed in place from zeros (the zeros recorded in
    ``made``); the ids of the in-place additions."""
    added: set[int] = set()
    top = {id(stmt) for stmt in body}
    for call in _returned_finals(body, ctx, "finalize_owned"):
        x, bar = (arg.id for arg in call.args)
        if x not in params:
            continue
        stores = ranks.stores.get(bar, [])
        inits = [s for s in stores if zero_literal(getattr(s, "value", None))]
        if len(inits) != 1 or id(inits[0]) not in top:
            continue
        helpers = {f"{ctx.rt}.acc_into", f"{ctx.rt}.add_at"}
        if not all(
            stmt is inits[0]
            or (
                isinstance(stmt, gast.Assign)
                and isinstance(stmt.value, gast.Call)
                and A.dotted_name(stmt.value.func) in helpers
            )
            for stmt in stores
        ):
            continue  # checked first: rank questions may cost more
        updates = []
        for stmt in stores:
            if stmt is inits[0]:
                continue
            target = _in_place(stmt, x, bar, params[x], ranks, ctx)
            if target is None:
                break
            updates.append((stmt, target))
        if len(updates) != len(stores) - 1:
            continue
        # Nothing else may read the adjoint: the updates and the return do.
        reads = sum(
            n.id == bar and isinstance(n.ctx, gast.Load)
            for stmt in body[start:]
            for n in A.name_nodes(stmt)
        )
        if reads != len(updates) + 1:
            continue
        zeros = A.attr(A.load(ctx.np_name()), "zeros_like")
        inits[0].value = A.call(zeros, [A.load(x)])
        made[id(inits[0].value)] = x
        for stmt, target in updates:
            contribution = stmt.value.args[-1]
            augmented = gast.AugAssign(target=target, op=gast.Add(), value=contribution)
            A.copy_lineno(augmented, stmt)
            _swap(body, stmt, augmented)
            added.add(id(augmented))
    return added


def _in_place(
    stmt: gast.stmt, x: str, bar: str, rank: int, ranks: Ranks, ctx: Context
) -> gast.expr | None:
    """The target of ``target += e`` that adds what ``stmt`` adds to the
    float64 array ``bar`` of ``x``'s shape: ``bar`` for ``bar =
    rt.acc_into(bar, e)`` with ``e`` a float64 array of ``x``'s rank (which
    adds in place then), ``bar[index]`` for ``bar = rt.add_at(bar, x, index,
    e)`` with a basic index (which does ``bar[index] += e``)."""
    value = stmt.value if A.assigned_name(stmt) == bar else None
    if not (isinstance(value, gast.Call) and not value.keywords and value.args):
        return None
    args = value.args
    if not (isinstance(args[0], gast.Name) and args[0].id == bar):
        return None
    if any(bar in A.names(arg) for arg in args[1:]):
        return None
    path = A.dotted_name(value.func)
    if path == f"{ctx.rt}.acc_into" and len(args) == 2:
        return A.store(bar) if ranks.has(args[1], rank) else None
    if (
        path == f"{ctx.rt}.add_at"
        and len(args) == 4
        and isinstance(args[1], gast.Name)
        and args[1].id == x
    ):
        index = _basic_index(args[2], ranks, ctx)
        if index is not None:
            return gast.Subscript(value=A.load(bar), slice=index, ctx=gast.Store())
    return None


def _basic_index(node: gast.expr, ranks: Ranks, ctx: Context) -> gast.expr | None:
    """``node`` as a subscript when it is certainly a basic index (ints and
    slices, no arrays: ``+=`` then adds once per entry, as ``rt.add_at``
    does): integer literals, ``range`` loop variables, ``slice(...)`` of
    those and None, and tuples of them."""
    if isinstance(node, gast.Tuple):
        parts = [_basic_index(e, ranks, ctx) for e in node.elts]
        if any(p is None or isinstance(p, gast.Tuple) for p in parts):
            return None
        return gast.Tuple(elts=parts, ctx=gast.Load())
    if _integer(node, ranks):
        return node
    if (
        isinstance(node, gast.Call)
        and ctx.resolve(node.func) is slice
        and len(node.args) == 3
        and not node.keywords
    ):
        bounds = []
        for arg in node.args:
            if isinstance(arg, gast.Constant) and arg.value is None:
                bounds.append(None)
            elif _integer(arg, ranks):
                bounds.append(arg)
            else:
                return None
        return gast.Slice(lower=bounds[0], upper=bounds[1], step=bounds[2])
    return None


def _integer(node: gast.expr, ranks: Ranks) -> bool:
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        node = node.operand
    if isinstance(node, gast.Constant):
        return type(node.value) is int
    return isinstance(node, gast.Name) and node.id in ranks.ints


def _swap(block: Stmts, old: gast.stmt, new: gast.stmt) -> bool:
    """Put ``new`` where ``old`` is, in ``block`` or a block nested in it."""
    for k, stmt in enumerate(block):
        if stmt is old:
            block[k] = new
            return True
        for sub in A.sub_blocks(stmt):
            if _swap(sub, old, new):
                return True
    return False


def _return_owned(
    body: Stmts,
    params: dict[str, int],
    ranks: Ranks,
    made: dict[int, str],
    added: set[int],
    ctx: Context,
) -> None:
    """3: owned gradients of exactly the argument's shape, returned as is."""
    ret = body[-1]
    top = {id(stmt) for stmt in body}
    owned: dict[int, str] = {}
    for call in _returned_finals(body, ctx, "finalize_owned"):
        x, bar = (arg.id for arg in call.args)
        if x not in params:
            continue
        may_be_zero = False
        covered = False
        fine = True
        for stmt in ranks.stores.get(bar, []):
            if id(stmt) in added:
                continue  # in place: the shape stays
            value = stmt.value if A.assigned_name(stmt) == bar else None
            if value is not None and zero_literal(value):
                may_be_zero = True
                covered = False
                continue
            if value is None or not _exact_for(value, x, bar, ranks, made, ctx):
                fine = False
                break
            covered = covered or id(stmt) in top
        if fine and (covered or not may_be_zero):
            owned[id(call)] = bar
    if owned:
        _replace_calls(
            [ret], lambda c: A.load(owned[id(c)]) if id(c) in owned else None
        )


def _exact_for(
    value: gast.expr,
    x: str,
    bar: str,
    ranks: Ranks,
    made: dict[int, str],
    ctx: Context,
) -> bool:
    """Whether ``value`` is certainly a float64 ndarray of exactly ``x``'s
    shape (``x`` an exact float64 array argument)."""
    if made.get(id(value)) == x:
        return True
    if not isinstance(value, gast.Call) or value.keywords:
        return False
    path = A.dotted_name(value.func)
    args = value.args
    if path == f"{ctx.rt}.add_at" and len(args) == 4:
        return (
            isinstance(args[0], gast.Name)
            and args[0].id == bar
            and isinstance(args[1], gast.Name)
            and args[1].id == x
        )
    if path == f"{ctx.rt}.unbroadcast" and len(args) == 2:
        # Float64 with dimensions: summed down to (or already of) x's shape.
        return (
            isinstance(args[1], gast.Name)
            and args[1].id == x
            and ranks.array_f8(args[0])
        )
    return False
