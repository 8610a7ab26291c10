"""Scalar gradients of Python floats: Python float arithmetic, no helpers.

Rewrites of the top gradient function, made for arguments that are
exactly Python floats (kind ``float`` in the version key):

1. ``rt.finalize(x, x_bar)`` becomes ``float(x_bar)`` when ``x_bar`` is
   certainly a scalar: every assignment to it in the reverse sweep is
   arithmetic on numbers, scalar primals and such adjoints, NumPy ufuncs of
   them, or a helper that reduces to a scalar's shape (``rt.unbroadcast``
   to a scalar, ``rt.seed`` of a scalar).  For a float ``x`` and a scalar
   ``x_bar``, ``rt.finalize`` returns exactly ``float(x_bar)``; an adjoint
   that some rule leaves unreduced keeps the call (which sums it).
2. ``np.exp`` of a Python float is a ``np.float64``, and every product with
   it is NumPy-scalar arithmetic, three to four times the cost of Python
   float arithmetic; the adjoint of a scalar function is a chain of such
   products.  So ``v = float(v)`` is added before the reverse sweep for
   each such ``v`` it reads, under these guarantees (the gradient is bit
   for bit what it was, and so is every error):

- ``v`` is certainly a ``np.float64`` (or a Python float) at that point: it
  is assigned once, at the top level of the forward sweep (no loop or branch
  assigns it, the reverse sweep never restores it), by an expression typed
  from differentiated arguments that are exactly Python floats, numeric
  literals, ``+ - * /``, ``**`` with an integer literal exponent, and NumPy
  ufuncs whose float64 loop returns float64.  ``float(v)`` is then exact.
- The reverse sweep uses no operator whose Python-float behaviour differs
  from NumPy's: ``/``, ``//``, ``%`` and ``**`` raise on zero divisors or
  overflow where NumPy returns inf or nan, so any of them anywhere in the
  reverse sweep turns the pass off.  ``+``, ``-`` and ``*`` round alike on
  both types; helpers and NumPy functions take either.
- The function's value was kept aside before, and the seed computed from
  the unconverted result, so only adjoint arithmetic sees the floats.

3. In a gradient made without a seed, the seed of a result certainly a
   float is the literal ``1.0`` (and every read of the result's adjoint
   becomes that literal, see s2s_ad/unitseed.py); then the Python float
   types of the reverse sweep allow three more exact rewrites (see
   :func:`python_float_arithmetic`): no multiplications by ``1.0``, ``2.0 *
   x`` for ``2 * x``, and gradients returned without ``float()`` when they
   are Python floats already.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

import gast
import numpy as np

from s2s_ad import astutil as A
from s2s_ad.copyprop import reverse_start
from s2s_ad.unitseed import is_one, is_unseeded

PY_FLOAT, NP_FLOAT, INT = "float", "float64", "int"

#: Operators that behave differently on Python floats (they raise).
_RAISING = (gast.Div, gast.FloorDiv, gast.Mod, gast.Pow)
_ARITHMETIC = (gast.Add, gast.Sub, gast.Mult, gast.Div)
_COMMENT = "NumPy scalars as Python floats: the same values, faster arithmetic"


@dataclass
class Context:
    """What the rewrites need to know about the function being finished."""

    forward: list[gast.stmt]  # the forward-sweep statements
    exact_floats: set[str]  # parameters whose arguments are Python floats
    wrt: tuple[str, ...]
    scalar_primals: set[str]  # variables of kind scalar (kinds analysis)
    adjoints: set[str]  # the adjoint variables' names
    resolve: Callable[[gast.expr], Any]  # a dotted name -> its object
    rt: str  # the name the runtime module goes by
    to_float: Callable[[], str]  # the name of the builtin float
    comment: Callable[..., gast.stmt]  # ReverseBuilder.comment


def optimize_scalars(fdef: gast.FunctionDef, ctx: Context) -> Callable[[], None] | None:
    """The rewrites, in place, on the finished top gradient function; the
    last of them (:func:`python_float_arithmetic`) is returned, to be run
    once single-use numbers are fused (fusion forms the products it
    simplifies)."""
    if not ctx.exact_floats:
        return None
    _return_floats(fdef, ctx)
    types = _types(ctx.forward, ctx.exact_floats, ctx.resolve)
    seed = next((s for s in fdef.body if _calls(s, f"{ctx.rt}.seed")), None)
    _inline_seed(fdef, ctx, types)
    if seed is None:
        return None
    converted = _convert_numpy_scalars(fdef, ctx, types, seed)
    return lambda: python_float_arithmetic(fdef, ctx, types, converted)


# -- the seed of a float result ----------------------------------------------


def _inline_seed(fdef: gast.FunctionDef, ctx: Context, types: dict[str, str]) -> None:
    """The seed of a result that is certainly a float."""
    certain = {n for n, t in types.items() if t in (PY_FLOAT, NP_FLOAT)}
    inline_seed(fdef.body, ctx.rt, certain)


def inline_seed(body: list[gast.stmt], rt: str, certain: set[str]) -> None:
    """``rt.seed(r)`` (in a gradient made without a seed) -> ``1.0`` in the
    top level of ``body`` when ``r`` is one of the names ``certain`` to hold
    a Python float or a ``np.float64``: rt.seed returns 1.0 for it."""
    for stmt in body:
        if not (isinstance(stmt, gast.Assign) and _calls(stmt, f"{rt}.seed")):
            continue
        result = stmt.value.args[0]
        if (
            is_unseeded(stmt.value, rt)
            and isinstance(result, gast.Name)
            and result.id in certain
        ):
            stmt.value = A.const(1.0)
        return


# -- gradients returned as floats --------------------------------------------


def _returned_gradients(fdef: gast.FunctionDef) -> gast.Tuple | None:
    """The tuple of gradients in ``return value, (...)``, if it ends ``fdef``."""
    ret = fdef.body[-1]
    if not (isinstance(ret, gast.Return) and isinstance(ret.value, gast.Tuple)):
        return None
    grads = ret.value.elts[-1]
    return grads if isinstance(grads, gast.Tuple) else None


def _return_floats(fdef: gast.FunctionDef, ctx: Context) -> None:
    grads = _returned_gradients(fdef)
    if grads is None:
        return
    scalars = _scalar_adjoints(fdef.body, ctx)
    finalize = f"{ctx.rt}.finalize"
    for k, (name, call) in enumerate(zip(ctx.wrt, grads.elts)):
        if not (
            name in ctx.exact_floats
            and isinstance(call, gast.Call)
            and A.dotted_name(call.func) == finalize
            and len(call.args) == 2
            and isinstance(call.args[1], gast.Name)
            and call.args[1].id in scalars
        ):
            continue
        grads.elts[k] = A.call(A.load(ctx.to_float()), [call.args[1]])


def _scalar_adjoints(body: list[gast.stmt], ctx: Context) -> set[str]:
    """The adjoints every assignment of which makes a scalar (the greatest
    such set: an accumulation ``a = a + e`` keeps ``a`` scalar)."""
    return _greatest(body, ctx.adjoints, lambda v, found: _scalar(v, found, ctx))


def _greatest(
    body: list[gast.stmt],
    names: set[str],
    holds: Callable[[gast.expr, set[str]], bool],
) -> set[str]:
    """The greatest subset of ``names`` every value of each of which, as
    ``body`` assigns them, ``holds`` for (given that subset); any store other
    than ``name = value`` excludes the name."""
    values: dict[str, list[gast.expr | None]] = {n: [] for n in names}
    for stmt in A.statements(body):
        target = A.assigned_name(stmt)
        for name in A.own_stores(stmt) if target is None else ():
            if name in values:
                values[name].append(None)  # any other store: unknown
        if target in values:
            values[target].append(stmt.value)
    found = set(values)
    changed = True
    while changed:
        changed = False
        for name in sorted(found):
            if not all(v is not None and holds(v, found) for v in values[name]):
                found.discard(name)
                changed = True
    return found


def _scalar(node: gast.expr, scalars: set[str], ctx: Context) -> bool:
    if isinstance(node, gast.Constant):
        return type(node.value) in (int, float)
    if isinstance(node, gast.Name):
        return node.id in scalars or node.id in ctx.scalar_primals
    if isinstance(node, gast.BinOp):
        return _scalar(node.left, scalars, ctx) and _scalar(node.right, scalars, ctx)
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        return _scalar(node.operand, scalars, ctx)
    if not isinstance(node, gast.Call) or node.keywords:
        return False
    path = A.dotted_name(node.func)
    args = node.args
    if path in (f"{ctx.rt}.unbroadcast", f"{ctx.rt}.seed") and args:
        # Reduced to (or checked against) the shape of a scalar primal.
        shaped_by = args[1] if path.endswith("unbroadcast") else args[0]
        return isinstance(shaped_by, gast.Name) and shaped_by.id in ctx.scalar_primals
    if path == f"{ctx.rt}.div":
        return all(_scalar(a, scalars, ctx) for a in args)
    func = ctx.resolve(node.func)
    return (
        isinstance(func, np.ufunc)
        and func.nout == 1
        and all(_scalar(a, scalars, ctx) for a in args)
    )


# -- NumPy scalars as Python floats ------------------------------------------


def _convert_numpy_scalars(
    fdef: gast.FunctionDef, ctx: Context, types: dict[str, str], seed: gast.stmt
) -> set[str]:
    """Insert the conversions right after the ``seed`` statement and the
    adjoint initialisations that follow it; the names converted."""
    body = fdef.body
    start = reverse_start(body, {id(s) for s in ctx.forward})
    reverse = body[start:]
    if any(_raises_on_floats(node) for s in reverse for node in A.walk(s)):
        return set()
    seeded = next((k for k, s in enumerate(reverse) if s is seed), None)
    if seeded is None:
        return set()
    at = start + seeded + 1
    while at < len(body) and _initialisation(body[at]):
        at += 1
    after = body[at:]
    stored = {n for s in reverse for n in A.names_stored(s)}
    read = {n for s in after for n in A.names_loaded(s)}
    names = sorted(
        n for n, t in types.items() if t == NP_FLOAT and n in read and n not in stored
    )
    if not names:
        return set()
    float_name = ctx.to_float()
    conversions = [A.assign(n, A.call(A.load(float_name), [A.load(n)])) for n in names]
    body[at:at] = [ctx.comment(_COMMENT), *conversions]
    return set(names)


def _raises_on_floats(node: gast.AST) -> bool:
    if isinstance(node, (gast.BinOp, gast.AugAssign)):
        return isinstance(node.op, _RAISING)
    return False


def _calls(stmt: gast.stmt, dotted: str) -> bool:
    value = getattr(stmt, "value", None)
    return isinstance(value, gast.Call) and A.dotted_name(value.func) == dotted


def _initialisation(stmt: gast.stmt) -> bool:
    return isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Constant)


def _types(
    forward: list[gast.stmt],
    exact_floats: set[str],
    resolve: Callable[[gast.expr], Any],
) -> dict[str, str]:
    """The float type of each variable assigned once at the top level of
    ``forward`` whose value is certainly a float (Python or NumPy)."""
    assigned = Counter(n for s in forward for n in A.names_stored(s))
    types: dict[str, str] = dict.fromkeys(exact_floats, PY_FLOAT)
    for stmt in forward:
        name = A.assigned_name(stmt)
        if name is None or assigned[name] != 1 or name in exact_floats:
            continue
        kind = _type_of(stmt.value, types, resolve)
        if kind in (PY_FLOAT, NP_FLOAT):
            types[name] = kind
    for name in exact_floats:
        if assigned[name]:
            del types[name]  # a parameter overwritten: not the argument
    return types


def _type_of(
    node: gast.expr, types: dict[str, str], resolve: Callable[[gast.expr], Any]
) -> str | None:
    if isinstance(node, gast.Name):
        return types.get(node.id)
    if isinstance(node, gast.Constant):
        if type(node.value) is float:
            return PY_FLOAT
        return INT if type(node.value) is int else None
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        return _type_of(node.operand, types, resolve)
    if isinstance(node, gast.BinOp):
        return _binop_type(node, types, resolve)
    if isinstance(node, gast.Call) and not node.keywords:
        return _ufunc_type(node, types, resolve)
    return None


def _binop_type(
    node: gast.BinOp, types: dict[str, str], resolve: Callable[[gast.expr], Any]
) -> str | None:
    left = _type_of(node.left, types, resolve)
    if isinstance(node.op, gast.Pow):
        exponent = node.right
        integral = isinstance(exponent, gast.Constant) and type(exponent.value) is int
        return left if integral and left in (PY_FLOAT, NP_FLOAT) else None
    if not isinstance(node.op, _ARITHMETIC):
        return None
    return _joined([left, _type_of(node.right, types, resolve)])


def _ufunc_type(
    node: gast.Call, types: dict[str, str], resolve: Callable[[gast.expr], Any]
) -> str | None:
    func = resolve(node.func)
    if not isinstance(func, np.ufunc) or func.nout != 1 or len(node.args) != func.nin:
        return None
    if "d" * func.nin + "->d" not in func.types:
        return None
    joined = _joined([_type_of(a, types, resolve) for a in node.args])
    return NP_FLOAT if joined is not None else None


def _joined(kinds: list[str | None]) -> str | None:
    """NumPy float if any operand is one, else Python float if any is;
    None if an operand is not a float or an int literal, or all are ints."""
    if any(k not in (PY_FLOAT, NP_FLOAT, INT) for k in kinds):
        return None
    if NP_FLOAT in kinds:
        return NP_FLOAT
    return PY_FLOAT if PY_FLOAT in kinds else None


# -- Python float arithmetic in the reverse sweep ----------------------------


def python_float_arithmetic(
    fdef: gast.FunctionDef,
    ctx: Context,
    types: dict[str, str],
    converted: set[str],
) -> None:
    """Rewrites of the reverse sweep that its float types make exact:

    - ``1.0 * e`` -> ``e`` where that is ``e`` bit for bit and of its type:
      ``e`` certainly a float, or a Python float times (plus, minus) a real
      number, which is a float; and ``(1.0 * a) * p`` -> ``a * p`` for a
      real number ``a`` and a Python float ``p``: both convert ``a`` to a
      float once, then multiply.  (The literal is what the result's adjoint
      becomes without a seed, see s2s_ad/unitseed.py.)
    - ``2 * e`` -> ``2.0 * e`` (``+``, ``-`` and ``*`` alike) for ``e``
      certainly a float: Python converts the int operand exactly anyway;
    - ``float(x_bar)`` -> ``x_bar`` among the returned gradients when every
      value ``x_bar`` is given is certainly a Python float.

    Real numbers are the variables of kind ``scalar`` and numeric literals.
    """
    body = fdef.body
    start = reverse_start(body, {id(s) for s in ctx.forward})
    known = dict(types)
    known.update(dict.fromkeys(converted, PY_FLOAT))
    rewrite = _FloatRewrite(known, ctx)
    for k in range(start, len(body)):
        for stmt in A.statements([body[k]]):
            for field in ("value", "test", "iter"):
                node = stmt.__dict__.get(field)
                if isinstance(node, gast.expr):
                    stmt.__dict__[field] = rewrite.visit(node)
    _return_python_floats(fdef, ctx, known)


class _FloatRewrite:
    """The first two rewrites of :func:`python_float_arithmetic`, bottom-up."""

    def __init__(self, types: dict[str, str], ctx: Context) -> None:
        self.types = types
        self.resolve = ctx.resolve
        self.scalars = ctx.scalar_primals

    def visit(self, node: gast.expr) -> gast.expr:
        for name in node._fields:
            value = node.__dict__.get(name)
            if isinstance(value, gast.expr):
                node.__dict__[name] = self.visit(value)
            elif isinstance(value, list):
                value[:] = [
                    self.visit(v) if isinstance(v, gast.expr) else v for v in value
                ]
        if isinstance(node, gast.BinOp) and isinstance(
            node.op, (gast.Add, gast.Sub, gast.Mult)
        ):
            return self._binop(node)
        return node

    def _type(self, node: gast.expr) -> str | None:
        return _type_of(node, self.types, self.resolve)

    def _float(self, node: gast.expr) -> bool:
        return self._type(node) in (PY_FLOAT, NP_FLOAT)

    def _real(self, node: gast.expr) -> bool:
        if isinstance(node, gast.Name):
            return node.id in self.scalars or node.id in self.types
        return isinstance(node, gast.Constant) and type(node.value) in (int, float)

    def _float_result(self, node: gast.expr) -> bool:
        """Certainly a float, or a Python float combined with a real number."""
        if self._float(node):
            return True
        if not (
            isinstance(node, gast.BinOp)
            and isinstance(node.op, (gast.Add, gast.Sub, gast.Mult))
        ):
            return False
        left, right = node.left, node.right
        return (self._type(left) == PY_FLOAT and self._real(right)) or (
            self._type(right) == PY_FLOAT and self._real(left)
        )

    def _binop(self, node: gast.BinOp) -> gast.expr:
        scaled = _one_times(node)
        if scaled is not None and self._float_result(scaled):
            return scaled
        if isinstance(node.op, gast.Mult):
            for inner, outer in ((node.left, node.right), (node.right, node.left)):
                a = _one_times(inner)
                if a is not None and self._real(a) and self._type(outer) == PY_FLOAT:
                    if inner is node.left:
                        node.left = a
                    else:
                        node.right = a
                    break
        for side, other in (("left", node.right), ("right", node.left)):
            value = node.__dict__[side]
            if (
                isinstance(value, gast.Constant)
                and type(value.value) is int
                and abs(value.value) <= 2**53
                and self._float(other)
            ):
                node.__dict__[side] = A.const(float(value.value))
        return node


def _one_times(node: gast.expr) -> gast.expr | None:
    """``a`` if ``node`` is ``1.0 * a`` or ``a * 1.0``."""
    if not (isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult)):
        return None
    if is_one(node.left):
        return node.right
    if is_one(node.right):
        return node.left
    return None


def _return_python_floats(
    fdef: gast.FunctionDef, ctx: Context, known: dict[str, str]
) -> None:
    grads = _returned_gradients(fdef)
    if grads is None:
        return
    floats = _python_float_adjoints(fdef.body, ctx, known)
    to_float = ctx.to_float()
    for k, call in enumerate(grads.elts):
        if (
            isinstance(call, gast.Call)
            and A.dotted_name(call.func) == to_float
            and len(call.args) == 1
            and isinstance(call.args[0], gast.Name)
            and call.args[0].id in floats
        ):
            grads.elts[k] = call.args[0]


def _python_float_adjoints(
    body: list[gast.stmt], ctx: Context, known: dict[str, str]
) -> set[str]:
    """The adjoints every value of which is certainly a Python float."""

    def python_float(value: gast.expr, found: set[str]) -> bool:
        if is_unseeded(value, ctx.rt):
            return True  # exactly 1.0, or it raises
        types = {**known, **dict.fromkeys(found, PY_FLOAT)}
        return _type_of(value, types, ctx.resolve) == PY_FLOAT

    return _greatest(body, ctx.adjoints, python_float)
