"""Equal array shapes proved from the code, and the helper calls they save.

Rules compose without knowing shapes: the adjoint of ``u10 = u6 + u9`` is
``u6_bar = rt.unbroadcast(u10_bar, u6)`` (sum the adjoint down to ``u6``'s
shape, in case ``u6`` was broadcast), and that of ``u11 = np.sum(u10)``
spreads the scalar ``u11_bar`` over an array of ``u10``'s shape.  Both read
forward arrays only for their shapes, which keeps them alive to the end.
This pass runs on each finished generated function, before the factor
moves of :mod:`s2s_ad.arrayopt`, and

* gives each name assigned once, at the top level of the function, a
  *shape class* when it holds an ndarray or a NumPy scalar (never a Python
  number): a parameter of array kind never assigned is its own class;
  ``t = e`` takes the class of ``e`` when that is provable, else its own.
  A class is a set of classes broadcast together (broadcasting is
  associative, commutative and idempotent, so the set fixes the shape):
  elementwise arithmetic joins its operands' sets (a number adds nothing),
  a NumPy elementwise function of one argument keeps its argument's, and a
  basic slice ``x[a:-b]`` of a classed ``x`` is a class of its own, shared
  by every ``x[a:-b]`` with the same ``a + b`` (the same length);
* drops ``rt.unbroadcast(g, x)`` for ``g`` when ``g`` is broadcastable to the
  shape of ``x`` by the classes (an adjoint broadcasts to its primal's
  class; numbers to any; elementwise arithmetic to the join): then
  ``unbroadcast`` returns ``g`` itself, whatever ``g`` is;
* otherwise, when the reverse sweep reads ``x`` only there, passes a name
  of ``x``'s class that it keeps alive anyway (a parameter, or a name it
  reads): ``unbroadcast`` reads only the shape of an array, and ``x`` is
  then free to go once the forward sweep has used it;
* with NumPy 2 (scalars of a dtype combine with arrays as 0-d arrays of
  that dtype do), replaces ``v = rt.unreduce(g, x, None, False, True)``, the
  adjoint of a full sum without ``keepdims``, by ``v = g`` (``g`` is the
  adjoint of a 0-d result, so a number) when ``v`` only ever meets
  consumers for which the number gives exactly what the array of ``x``'s
  shape filled with it gave: copies, negations and scaling by numbers (the
  result is again such a stand-in), and a product with an array of exactly
  ``x``'s class (the result is the same array, entry for entry).

:func:`fold_number_factors`, run after the factor moves, writes ``v * (c *
e)`` in the value of an adjoint, ``v`` a number (a stand-in or a number
adjoint) and ``c`` a literal, as ``(c * v) * e``: one pass over ``e``
instead of two.

Guarantees: every value computed is the one computed before (the stand-in
only ever meets operations that broadcast it to what it stood for; shapes
are read from names of the same shape), except the reassociated products in
adjoints (within an ulp per entry).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

import gast
import numpy as np

from s2s_ad import astutil as A
from s2s_ad.bodyindex import BodyIndex

Stmts = list[gast.stmt]
Key = frozenset  # of atoms: ("param", p), ("name", t), ("slice", key, n)

#: Elementwise operators: the result has the broadcast shape of the operands.
_ELEMENTWISE = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)
#: NumPy functions of one array that keep its shape.
UNARY_UFUNCS = {
    "exp", "log", "tanh", "sin", "cos", "tan", "sqrt", "abs", "absolute",
    "negative", "square", "log1p", "expm1", "sinh", "cosh", "arctan",
    "arcsin", "arccos", "arcsinh", "log2", "log10", "exp2", "sign", "cbrt",
}  # fmt: skip
#: Statements whose reads the stand-in check follows (others: no stand-ins).
_FOLLOWED = (
    gast.Assign, gast.AugAssign, gast.Expr, gast.Return, gast.If, gast.For,
    gast.While, gast.Pass, gast.Break, gast.Continue,
)  # fmt: skip
#: NumPy functions whose results are NumPy values (besides ufuncs).
_NUMPY_RESULTS = {"sum", "mean", "max", "min", "prod", "dot", "matmul"}
_NUMPY_2 = int(np.__version__.split(".")[0]) >= 2


def _number(node: gast.expr) -> bool:
    """A numeric literal ``c`` or ``-c`` (not a bool)."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        node = node.operand
    return (
        isinstance(node, gast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    )


def _slice_offset(node: gast.expr) -> int | None:
    """``a + b`` for a slice ``a:-b`` (``a >= 0``, ``b > 0``, either may be
    missing, no step): its length along the axis is ``max(n - a - b, 0)``."""
    if not isinstance(node, gast.Slice) or node.step is not None:
        return None
    lower, upper = 0, 0
    if node.lower is not None:
        if not (isinstance(node.lower, gast.Constant) and _int(node.lower.value)):
            return None
        lower = node.lower.value
        if lower < 0:
            return None
    if node.upper is not None:
        value = _negative_int(node.upper)
        if value is None:
            return None
        upper = -value
    return lower + upper


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _negative_int(node: gast.expr) -> int | None:
    if (
        isinstance(node, gast.UnaryOp)
        and isinstance(node.op, gast.USub)
        and isinstance(node.operand, gast.Constant)
        and _int(node.operand.value)
        and node.operand.value > 0
    ):
        return -node.operand.value
    if isinstance(node, gast.Constant) and _int(node.value) and node.value < 0:
        return node.value
    return None


class ShapeClasses:
    """The shape class of each array name the function assigns once at its
    top level (or never, for parameters)."""

    def __init__(
        self,
        body: Stmts,
        params: list[str],
        kinds: dict[str, str],
        resolve: Callable[[str], Any],
        index: BodyIndex | None = None,
    ) -> None:
        self.kinds = kinds
        self.resolve = resolve
        stores = (index or BodyIndex(body, len(body))).stores
        self.keys: dict[str, Key] = {
            p: frozenset({("param", p)})
            for p in params
            if kinds.get(p) == "array" and p not in stores
        }
        #: Names in the order they got their class (parameters first).
        self.order = list(self.keys)
        for stmt in body:
            name = A.assigned_name(stmt)
            if (
                name is None
                or stores.get(name) != 1
                or kinds.get(name) not in ("array", "numeric")
                or not self.numpy_typed(stmt.value)
            ):
                continue
            key = self.key(stmt.value)
            self.keys[name] = key if key else frozenset({("name", name)})
            self.order.append(name)

    def numpy_typed(self, node: gast.expr) -> bool:
        """Whether ``node`` computes an ndarray or a NumPy scalar, never a
        Python number (whose adjoint ``unbroadcast`` turns into a float): a
        classed name, NumPy arithmetic on one, a NumPy function's result."""
        if isinstance(node, gast.Name):
            return node.id in self.keys
        if isinstance(node, gast.BinOp) and isinstance(
            node.op, (*_ELEMENTWISE, gast.MatMult)
        ):
            operands = (node.left, node.right)
            return all(self._number_valued(o) for o in operands) and any(
                self.numpy_typed(o) for o in operands
            )
        if isinstance(node, gast.UnaryOp) and isinstance(
            node.op, (gast.USub, gast.UAdd)
        ):
            return self.numpy_typed(node.operand)
        if isinstance(node, gast.Call) and not node.keywords:
            func = node.func
            return (
                isinstance(func, gast.Attribute)
                and isinstance(func.value, gast.Name)
                and self.resolve(func.value.id) is np
                and (
                    func.attr in _NUMPY_RESULTS
                    or isinstance(getattr(np, func.attr, None), np.ufunc)
                )
            )
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name):
            return self.kinds.get(node.value.id) == "array" and isinstance(
                node.slice, gast.Slice
            )
        return False

    def _number_valued(self, node: gast.expr) -> bool:
        if _number(node):
            return True
        names = A.name_nodes(node)
        return all(
            self.kinds.get(n.id) in ("scalar", "array", "numeric") for n in names
        )

    def shapeless(self, node: gast.expr) -> bool:
        """A number: broadcasting with it leaves the other shape as it is."""
        if _number(node):
            return True
        return isinstance(node, gast.Name) and self.kinds.get(node.id) == "scalar"

    def key(self, node: gast.expr) -> Key | None:
        """The class of the array ``node`` computes, when provable: the
        classes broadcast together (broadcasting is associative, commutative
        and idempotent, so a set of classes determines the shape)."""
        if self.shapeless(node):
            return frozenset()
        if isinstance(node, gast.Name):
            return self.keys.get(node.id)
        if isinstance(node, gast.BinOp) and isinstance(node.op, _ELEMENTWISE):
            left, right = self.key(node.left), self.key(node.right)
            return None if left is None or right is None else left | right
        if isinstance(node, gast.UnaryOp) and isinstance(
            node.op, (gast.USub, gast.UAdd)
        ):
            return self.key(node.operand)
        if isinstance(node, gast.Call) and self._unary_ufunc(node):
            return self.key(node.args[0])
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name):
            inner = self.keys.get(node.value.id)
            offset = _slice_offset(node.slice)
            if inner is not None and offset is not None:
                return frozenset({("slice", inner, offset)})
        return None

    def _unary_ufunc(self, call: gast.Call) -> bool:
        func = call.func
        if (
            len(call.args) != 1
            or call.keywords
            or not isinstance(func, gast.Attribute)
            or not isinstance(func.value, gast.Name)
            or func.attr not in UNARY_UFUNCS
        ):
            return False
        return self.resolve(func.value.id) is np


class _ShapePass:
    def __init__(
        self,
        body: Stmts,
        classes: ShapeClasses,
        primal_of: dict[str, str],
        rt: str,
        index: BodyIndex,
    ) -> None:
        self.body = body
        self.classes = classes
        self.primal_of = primal_of
        self.rt = rt
        self.index = index

    def _helper(self, node: gast.AST, name: str, nargs: int) -> bool:
        # The attribute first: asked of every statement, it rejects most
        # without building a dotted name.
        return (
            node.__class__ is gast.Call
            and node.func.__class__ is gast.Attribute
            and node.func.attr == name
            and A.dotted_name(node.func) == f"{self.rt}.{name}"
            and len(node.args) == nargs
            and not node.keywords
        )

    def full_sum(self, node: gast.AST) -> bool:
        """``rt.unreduce(g, x, None, False, True)``: a full sum's adjoint."""
        if not self._helper(node, "unreduce", 5):
            return False
        axis, keepdims, where = (
            a.value if isinstance(a, gast.Constant) else a for a in node.args[2:]
        )
        return axis is None and keepdims is False and where is True

    def bound(self, node: gast.expr) -> Key | None:
        """Classes whose broadcast ``node``'s value broadcasts to: an
        adjoint's value broadcasts to its primal's shape."""
        if isinstance(node, gast.Name) and node.id in self.primal_of:
            if self.classes.shapeless(node):
                return frozenset()
            return self.classes.keys.get(self.primal_of[node.id])
        if isinstance(node, gast.BinOp) and isinstance(node.op, _ELEMENTWISE):
            left, right = self.bound(node.left), self.bound(node.right)
            return None if left is None or right is None else left | right
        if isinstance(node, gast.UnaryOp) and isinstance(
            node.op, (gast.USub, gast.UAdd)
        ):
            return self.bound(node.operand)
        return self.classes.key(node)

    def drop_unbroadcasts(self, params: list[str]) -> bool:
        """``rt.unbroadcast(g, x)`` -> ``g`` where ``g`` broadcasts to ``x``;
        else, when the reverse sweep reads ``x`` for nothing else, ``x`` -> a
        name of its class that it keeps alive anyway (a parameter, or a name
        it reads): ``unbroadcast`` reads only the shape of an array.  Whether
        the reverse sweep holds a full sum's adjoint (for _UniformSeeds)."""
        # The reverse sweep's calls (only it calls helpers) with where they
        # sit, and the names it reads other than as their ``x``.
        sites = [
            slot
            for slot in self.index.reverse_calls
            if self._helper(slot[4], "unbroadcast", 2)
        ]
        full_sum = any(self.full_sum(slot[4]) for slot in self.index.reverse_calls)
        loads = self.index.reverse_loads
        shape_only = {id(call.args[1]) for *_, call in sites}
        alive = set(params) | {n.id for n in loads if id(n) not in shape_only}
        reps: dict[Key, str] = {}
        for name in self.classes.order:
            if name in alive:
                reps.setdefault(self.classes.keys[name], name)
        per_statement = Counter(id(slot[0]) for slot in sites)
        for stmt, parent, field, k, call in sites:
            x = call.args[1]
            new = self._simpler(call, alive, reps)
            if k is None:
                setattr(parent, field, new)
            else:
                getattr(parent, field)[k] = new
            if per_statement[id(stmt)] > 1:
                # Calls nested in calls: one may be replaced in a tree
                # another replacement took out (the names say nothing).
                self.index.rewritten(stmt)
            elif new is not call:  # the call went, g took its place
                for name in [*A.name_nodes(call.func), x]:
                    self.index.replaced(stmt, name, None)
            elif call.args[1] is not x:
                self.index.replaced(stmt, x, call.args[1])
        return full_sum

    def _simpler(self, node: gast.Call, alive: set[str], reps: dict[Key, str]) -> Any:
        g, x = node.args
        target = self.classes.keys.get(x.id) if isinstance(x, gast.Name) else None
        if target is None:
            return node
        bound = self.bound(g)
        if bound is not None and bound <= target:
            return g
        rep = reps.get(target)
        if x.id not in alive and rep is not None:
            node.args[1] = A.load(rep)
        return node


def optimize_shapes(
    body: Stmts,
    params: list[str],
    kinds: dict[str, str],
    primal_of: dict[str, str],
    resolve: Callable[[str], Any],
    rt: str,
    index: BodyIndex,
) -> set[str]:
    """Drop redundant ``unbroadcast`` calls and keep full-sum adjoints as
    numbers (see the module docstring) in one function's body, of which
    ``index`` is the index (its reverse sweep starting where the index says);
    the names that hold numbers, for :func:`fold_number_factors`."""
    numbers = {n for n, k in kinds.items() if k == "scalar"}
    classes = ShapeClasses(body, params, kinds, resolve, index)
    if not classes.keys:
        return numbers
    shapes = _ShapePass(body, classes, primal_of, rt, index)
    full_sum = shapes.drop_unbroadcasts(params)
    if (
        _NUMPY_2
        and full_sum
        and all(isinstance(s, _FOLLOWED) for s in index.statements)
    ):
        numbers |= _UniformSeeds(shapes).run()
    return numbers


class _UniformSeeds:
    """The full-sum adjoints that may stay numbers (see the docstring)."""

    def __init__(self, shapes: _ShapePass) -> None:
        self.shapes = shapes
        self.index = shapes.index
        # Asked of a few names only: gathered per name, when first asked.
        self.defs: dict[str, int] = {}
        self.reads: dict[str, list[tuple[gast.stmt, list[gast.AST]]]] = {}

    def _defs(self, name: str) -> int:
        """How many definitions ``name`` has: stores in statements other
        than an if or while (whose tests define nothing), each name of a for
        target counting as one."""
        if name not in self.defs:
            index = self.index
            if index.plain:
                count = sum(
                    1
                    for stmt in index.storing.get(name, ())
                    if not isinstance(stmt, (gast.If, gast.While, gast.For))
                )
                for loop in index.loops:
                    count += sum(n.id == name for n in A.name_nodes(loop.target))
            else:
                # A nested block of another kind is its statement's as well.
                count = sum(
                    _stored_names(stmt).count(name) for stmt in index.statements
                )
            self.defs[name] = count
        return self.defs[name]

    def _reads(self, name: str) -> list[tuple[gast.stmt, list[gast.AST]]]:
        """Each read of ``name`` with its ancestors, from the tree as it is
        now: the rewrites since the index was built replaced only helper
        calls and their shape-only arguments (names of a shape class, never
        a stand-in), so the statements that read ``name`` are still those
        the index found."""
        if name not in self.reads:
            found: list[tuple[gast.stmt, list[gast.AST]]] = []
            for stmt in self.index.reading_statements(name):
                own = stmt.test if isinstance(stmt, (gast.If, gast.While)) else stmt
                if isinstance(stmt, gast.For):
                    own = stmt.iter
                _reads_in(stmt, own, [], name, found)
            self.reads[name] = found
        return self.reads[name]

    def run(self) -> set[str]:
        """Rewrite the seeds that may stay numbers; their names, and those
        of the stand-ins copied from them."""
        found: set[str] = set()
        seeds = []
        for stmt in self.index.statements:
            # A seed is an assignment of a call: most statements are not.
            if (
                stmt.__class__ is not gast.Assign
                or stmt.value.__class__ is not gast.Call
            ):
                continue
            name = A.assigned_name(stmt)
            if name is None or not self.shapes.full_sum(stmt.value):
                continue
            x = stmt.value.args[1]
            key = (
                self.shapes.classes.keys.get(x.id) if isinstance(x, gast.Name) else None
            )
            names: set[str] = set()
            if key is not None and self._stays(name, key, names, 0):
                seeds.append(stmt)
                found |= names
        # Rewritten only now: every question above saw the same tree (a read
        # inside a seed's call is no stand-in's, rewritten or not).
        for stmt in seeds:
            stmt.value = stmt.value.args[0]
            self.index.rewritten(stmt)
        return found

    def _stays(self, name: str, key: Key, names: set[str], depth: int) -> bool:
        """Whether every read of ``name`` (assigned once) takes a number
        standing for an array of class ``key`` as well as that array."""
        if depth > 50 or self._defs(name) != 1:
            return False
        names.add(name)
        for stmt, path in self._reads(name):
            if not self._use_ok(stmt, path, key, names, depth):
                return False
        return True

    def _use_ok(
        self,
        stmt: gast.stmt,
        path: list[gast.AST],
        key: Key,
        names: set[str],
        depth: int,
    ) -> bool:
        classes = self.shapes.classes
        node = path[-1]
        for parent in reversed(path[:-1]):
            if isinstance(parent, gast.UnaryOp) and isinstance(
                parent.op, (gast.USub, gast.UAdd)
            ):
                node = parent
                continue
            if isinstance(parent, gast.BinOp) and isinstance(parent.op, gast.Mult):
                other = parent.right if parent.left is node else parent.left
                if classes.shapeless(other):
                    node = parent
                    continue
                # The product is the array the stand-in stood for, scaled.
                return classes.key(other) == key
            if isinstance(parent, gast.BinOp) and isinstance(parent.op, gast.Div):
                if parent.left is node and classes.shapeless(parent.right):
                    node = parent
                    continue
                return False
            if isinstance(parent, gast.Assign) and parent.value is node:
                target = A.assigned_name(parent)
                return target is not None and self._stays(target, key, names, depth + 1)
            return False
        return False


def _reads_in(
    stmt: gast.stmt,
    node: gast.AST,
    path: list[gast.AST],
    name: str,
    found: list[tuple[gast.stmt, list[gast.AST]]],
) -> None:
    """The reads of ``name`` in ``node``, part of ``stmt`` but not of the
    blocks nested in it, each with its ancestors."""
    if isinstance(node, gast.Name):
        if node.id == name and isinstance(node.ctx, gast.Load):
            found.append((stmt, [*path, node]))
        return
    if isinstance(node, gast.stmt) and node is not stmt:
        return  # a nested block: visited as its own statement
    for field in node._fields:
        value = getattr(node, field, None)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, gast.AST):
                _reads_in(stmt, item, [*path, node], name, found)


def _stored_names(stmt: gast.stmt) -> list[str]:
    if isinstance(stmt, (gast.If, gast.While)):
        return []
    if isinstance(stmt, gast.For):
        return [n.id for n in A.name_nodes(stmt.target)]
    return [n.id for n in A.name_nodes(stmt) if not isinstance(n.ctx, gast.Load)]


def fold_number_factors(
    reverse: Stmts,
    numbers: set[str],
    kinds: dict[str, str],
    adjoints: set[str],
    index: BodyIndex | None = None,
) -> None:
    """``v * (c * e)`` -> ``(c * v) * e`` for a number ``v``, a literal ``c``
    and ``e`` computed from numbers and arrays only (``c * e`` never repeats
    a list), in the values of adjoints only: values the function computes
    (forward, or recomputed in the reverse sweep) stay as they were.
    ``index``, if given, knows the names of each statement (as a set: the
    order may have changed), and a statement naming no number is skipped
    without a walk."""
    if not numbers:
        return  # most often, for arrays: no walk needed to find nothing
    for stmt in A.statements(reverse):
        if A.assigned_name(stmt) not in adjoints:
            continue
        if index is not None and numbers.isdisjoint(
            [n.id for n in index.own_names(stmt)]
        ):
            continue
        for node in A.walk_inner(stmt.value):
            if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
                _fold(node, numbers, kinds)


def _fold(node: gast.BinOp, numbers: set[str], kinds: dict[str, str]) -> None:
    for side, other in (("left", "right"), ("right", "left")):
        v, product = getattr(node, side), getattr(node, other)
        if not (isinstance(v, gast.Name) and v.id in numbers):
            continue
        if not (isinstance(product, gast.BinOp) and isinstance(product.op, gast.Mult)):
            continue
        if _number(product.left):
            c, e = product.left, product.right
        elif _number(product.right):
            c, e = product.right, product.left
        else:
            continue
        if not all(
            kinds.get(n.id) in ("scalar", "array", "numeric") for n in A.name_nodes(e)
        ):
            continue
        node.left = gast.BinOp(left=c, op=gast.Mult(), right=v)
        node.right = e
        return
