"""Which values of a generated function certainly are float64 arrays, and of
how many dimensions.

Given the parameters that hold exact float64 ndarrays of known numbers of
dimensions (and those that hold Python floats), :class:`Ranks` gives each
expression of the generated code an :data:`Info` ``(rank, f8, certain)``,
or None (nothing known):

* certain, ``rank >= 1``: an ndarray of ``rank`` dimensions; ``rank == ND``:
  an ndarray with at least one; ``rank == 0``: a number (a Python number or
  a NumPy scalar);
* not certain: a number, or an array of at most ``rank`` dimensions (any
  number for ND), the kind of value an adjoint holds: zero until a
  contribution comes, or a 0-d constant adjoint, or an array broadcastable
  to its primal;
* ``f8``: the dtype is certainly float64, or the value is a Python ``int``
  or ``float`` (which a float64 array absorbs without changing its dtype).

A name gets the join of the information of all its values (every
assignment, in loops too, ignoring the ``None`` placeholders and the values
restored from the trace, which are earlier values of the same name): a
greatest fixpoint, so a loop that keeps a matrix a matrix keeps it known.
Expressions follow NumPy: elementwise arithmetic broadcasts (as many
dimensions as its largest operand), matrix products of matrices and
vectors, slices keep and integer indices drop a dimension, shape-keeping
float ufuncs, reductions, ``np.zeros(shape)`` has ``len(shape)``
dimensions.  The broadcasting helpers give an array of exactly ``x``'s
shape from an array ``g`` (``rt.unbroadcast(g, x)``, ``rt.unreduce(g, x,
...)``), else a number or such an array.  An adjoint whose values say
nothing is bounded by its primal, with an unknown dtype (the adjoint of a
number may be an unreduced array of any shape).
"""

from __future__ import annotations

from typing import Any, Callable

import gast
import numpy as np

from s2s_ad import astutil as A
from s2s_ad.shapes import UNARY_UFUNCS

Stmts = list[gast.stmt]

#: Any number of dimensions (at least one, for a certain array).
ND = -1
Info = tuple[int, bool, bool]  # (rank, f8, certain)
_UNSET = ("unset",)  # no value seen yet (the optimistic start)
_ABSENT = ("absent",)  # not being solved

_ELEMENTWISE = (gast.Add, gast.Sub, gast.Mult, gast.Div)
_ELEMENTWISE_OPS = frozenset(_ELEMENTWISE)
_SIGNS = (gast.USub, gast.UAdd)
_Name, _BinOp, _Call, _Constant = gast.Name, gast.BinOp, gast.Call, gast.Constant
_UnaryOp, _Expr = gast.UnaryOp, gast.Expr
#: NumPy reductions that, over a whole array, give a NumPy scalar.
_FULL_REDUCTIONS = {"sum", "mean", "max", "min", "prod", "amax", "amin"}
_FILLED = {"zeros", "ones", "empty"}
_MATMUL = {(2, 2): 2, (2, 1): 1, (1, 2): 1, (1, 1): 0}
#: At most this many names are solved after each refresh: past that, the
#: rest is unknown.  The rewrites save a call or two per operation, which
#: matters in small functions; a function with thousands of intermediates
#: would pay more to transform than its calls could save.
_BUDGET = 2000
_SPREADING = (
    "unbroadcast",
    "unbroadcast_to",
    "unreduce",
    "unreduce_mean",
    "unreduce_max",
)


def _known(info: Any) -> bool:
    return isinstance(info, tuple) and info is not _UNSET


def _array(info: Any) -> bool:
    """Certainly an ndarray with dimensions."""
    return _known(info) and info[2] and info[0] != 0


def _widest(ranks: list[int]) -> int:
    return ND if ND in ranks else max(ranks)


def join(a: Any, b: Any) -> Any:
    """What a name with values described by ``a`` and by ``b`` certainly is."""
    if a is _UNSET:
        return b
    if b is _UNSET or a == b:
        return a
    if a is None or b is None:
        return None
    f8 = a[1] and b[1]
    if a[2] and b[2] and a[0] == b[0]:
        return (a[0], f8, True)
    if _array(a) and _array(b):
        return (ND, f8, True)
    return (_widest([a[0], b[0]]), f8, False)


class Ranks:
    """The :data:`Info` of each name of a generated function (see the
    module docstring)."""

    def __init__(
        self,
        body: Stmts,
        params: dict[str, int],
        numbers: set[str],
        floats: set[str],
        primal_of: dict[str, str],
        resolve: Callable[[gast.expr], Any],
        rt: str,
    ) -> None:
        self.body = body
        self.candidates = params
        self.numbers = numbers
        self.primal_of = primal_of
        self.resolve = resolve
        self.rt = rt
        self._prefix = f"{rt}."
        self._floats = floats
        self.refresh()

    def refresh(self) -> None:
        """Start afresh (after a rewrite of the body).  Names are solved when
        first asked about, with the names their values read (a strongly
        connected set of names, as in a loop, at once): what is never asked
        about costs nothing."""
        #: Every value each name is given (None: by other than ``=``), and
        #: the statements that give them, in the order of the code.
        self.values: dict[str, list[gast.expr | None]] = {}
        self.stores: dict[str, list[gast.stmt]] = {}
        loop_targets: set[str] = set()
        collect, expr = self._collect, _Expr
        for stmt in A.statements(self.body):
            # Expressions (comments, pushes: a third of the body) store nothing.
            if stmt.__class__ is not expr:
                collect(stmt, loop_targets)
        values = self.values
        #: The exact array parameters never assigned (still the arguments).
        self.params = {p: r for p, r in self.candidates.items() if p not in values}
        self.floats = {p for p in self._floats if p not in values}
        self.ints = {
            n for n in loop_targets if all(v is None for v in values.get(n, []))
        }
        self.tuples = {
            n: len(v[0].elts)
            for n, v in values.items()
            if len(v) == 1 and isinstance(v[0], gast.Tuple)
        }
        self.shape_of = {
            n: v[0].value.id
            for n, v in values.items()
            if len(v) == 1
            and isinstance(v[0], gast.Attribute)
            and v[0].attr == "shape"
            and isinstance(v[0].value, gast.Name)
        }
        self._solved: dict[str, Any] = {
            p: (r, True, True) for p, r in self.params.items()
        }
        self._state: dict[str, Any] = {}
        self._deps_of: dict[str, set[str]] = {}
        self._budget = _BUDGET
        #: The names being solved that the evaluation under way has read
        #: (None: not recorded).
        self._reads: set[str] | None = None

    def info(self, name: str) -> Any:
        """The :data:`Info` of variable ``name``, or None."""
        return self._name(name)

    def _deps(self, name: str) -> set[str]:
        """The assigned names whose information that of ``name`` may use
        (itself too, in a loop)."""
        found: set[str] = set()
        for value in self.values[name]:
            if value is not None:
                found |= A.names_loaded(value)
        extra = {self.shape_of[n] for n in found if n in self.shape_of}
        extra |= {self.primal_of[n] for n in found | {name} if n in self.primal_of}
        deps = {n for n in found | extra if n in self.values}
        self._deps_of[name] = deps
        return deps

    def _solve(self, root: str) -> None:
        """Solve ``root`` and every unsolved name it depends on: Tarjan's
        strongly connected components (dependencies first), each by a
        greatest fixpoint."""
        if self._budget <= 0:
            self._solved[root] = None
            return
        index: dict[str, int] = {root: 0}
        low: dict[str, int] = {root: 0}
        stack, on_stack = [root], {root}
        work = [(root, iter(sorted(self._deps(root))))]
        while work:
            node, deps = work[-1]
            for dep in deps:
                if dep in self._solved or dep in self._state:
                    continue  # solved, or being solved by a caller
                if dep not in index:
                    if len(index) >= self._budget:
                        # Past the budget: nothing reached from here is known.
                        self._budget = 0
                        self._solved.update(dict.fromkeys(index))
                        return
                    index[dep] = low[dep] = len(index)
                    stack.append(dep)
                    on_stack.add(dep)
                    work.append((dep, iter(sorted(self._deps(dep)))))
                    break
                if dep in on_stack:
                    low[node] = min(low[node], index[dep])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    self._budget -= len(component)
                    cyclic = len(component) > 1 or node in self._deps_of[node]
                    self._fixpoint(component, cyclic)

    def _fixpoint(self, names: list[str], cyclic: bool) -> None:
        state = self._state
        for name in names:
            state[name] = _UNSET
        # A name's evaluation is a function of the names being solved that it
        # reads (and of names solved for good): while none of those changed
        # since its last evaluation, another would give the same, and is
        # skipped.  Rounds, changes and the result are those of evaluating
        # every name in every round.
        outer = self._reads
        changed_at: dict[str, int] = {}
        last: dict[str, tuple[set[str], int]] = {}
        clock = 0
        # The information only ever decreases, through finitely many steps;
        # the bound on rounds is a guard, not expected to be reached.  A name
        # that depends on no name of its own component needs one round.
        for _ in range(64 if cyclic else 1):
            changed = False
            for name in names:
                if state[name] is None:
                    continue
                seen = last.get(name)
                if seen is not None:
                    reads, then = seen
                    for n in reads:
                        if changed_at.get(n, 0) > then:
                            break
                    else:
                        continue  # nothing it read has changed since
                reads = set()
                self._reads = reads if cyclic else None
                new: Any = _UNSET
                for expr in self.values[name]:
                    new = join(new, None if expr is None else self.of(expr))
                    if new is None:
                        break
                if cyclic:
                    last[name] = (reads, clock)
                if new != state[name]:
                    state[name] = new
                    changed = True
                    clock += 1
                    changed_at[name] = clock
            if not changed or not cyclic:
                break
        else:
            for name in names:
                state[name] = None
        self._reads = outer
        for name in names:
            found = state.pop(name)
            self._solved[name] = found if _known(found) else None

    def _collect(self, stmt: gast.stmt, loop_targets: set[str]) -> None:
        target = A.assigned_name(stmt)
        if target is not None:
            value = stmt.value
            cls = value.__class__  # (exact classes: asked of every statement)
            placeholder = cls is _Constant and value.value is None
            if not (placeholder or (cls is _Call and _popped(value))):
                self._add(target, value, stmt)
            return
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
            name = stmt.target.id
            as_binop = gast.BinOp(left=A.load(name), op=stmt.op, right=stmt.value)
            self._add(name, as_binop, stmt)
            return
        if isinstance(stmt, gast.For):
            names = A.names_stored(stmt.target)
            if _range_loop(stmt, self.resolve):
                loop_targets |= names
        elif isinstance(stmt, (gast.If, gast.While, gast.Expr, gast.Return)):
            return  # (a generated Expr or Return stores nothing)
        else:
            names = A.names_stored(stmt)
        for name in names:
            self._add(name, None, stmt)

    def _add(self, name: str, value: gast.expr | None, stmt: gast.stmt) -> None:
        values = self.values.get(name)
        if values is not None:
            values.append(value)
            self.stores[name].append(stmt)
        else:
            self.values[name] = [value]
            self.stores[name] = [stmt]

    # -- the information of an expression --------------------------------

    def of(self, node: gast.expr) -> Any:
        """The :data:`Info` of ``node``'s value, or None."""
        # Exact classes (nothing subclasses gast's), the commonest first: the
        # fixpoint asks this of every value of a loop's names, round after
        # round.
        cls = node.__class__
        if cls is _Name:
            # _name's commonest answers without the call: a name being solved
            # or solved already.
            name = node.id
            found = self._state.get(name, _ABSENT)
            if found is _ABSENT:
                found = self._solved.get(name)
            elif self._reads is not None:
                self._reads.add(name)
            return found if found is not None else self._name(name)
        if cls is _BinOp:
            return self._binop(node)
        if cls is _Call:
            return self._call(node)
        if cls is _Constant:
            return (0, True, True) if type(node.value) in (int, float) else None
        if cls is _UnaryOp and node.op.__class__ in _SIGNS:
            return self.of(node.operand)
        if isinstance(node, gast.Attribute) and node.attr == "T":
            info = self.of(node.value)
            return (
                info if info is _UNSET or (_array(info) and info[0] in (1, 2)) else None
            )
        if isinstance(node, gast.Subscript):
            return self._subscript(node)
        if isinstance(node, gast.IfExp):
            return join(self.of(node.body), self.of(node.orelse))
        return None

    def _name(self, name: str) -> Any:
        found = self._state.get(name, _ABSENT)
        if found is not _ABSENT:  # being solved
            if self._reads is not None:
                self._reads.add(name)
        else:
            if name not in self._solved and name in self.values:
                self._solve(name)
            found = self._solved.get(name)
        if found is not None:
            return found
        if name in self.floats:
            return (0, True, True)  # a parameter that is a Python float
        if name in self.numbers:
            return (0, False, True)  # a real number of some dtype
        if name in self.primal_of:
            # An adjoint: a number or an array broadcastable to its primal.
            primal = self._name(self.primal_of[name])
            if _known(primal):
                return (primal[0] if primal[0] >= 1 else ND, False, False)
            return primal if primal is _UNSET else None
        return None

    def _binop(self, node: gast.BinOp) -> Any:
        left, right = self.of(node.left), self.of(node.right)
        if left is None or right is None:
            return None
        if left is _UNSET or right is _UNSET:
            return _UNSET
        if node.op.__class__ in _ELEMENTWISE_OPS:  # the commonest first
            return _broadcast([left, right])
        if isinstance(node.op, gast.MatMult):
            if not (left[2] and right[2]):
                return None
            rank = _MATMUL.get((left[0], right[0]))
            return None if rank is None else (rank, left[1] and right[1], True)
        if isinstance(node.op, gast.Pow):
            exponent = node.right
            numeric = isinstance(exponent, gast.Constant) and type(exponent.value) in (
                int,
                float,
            )
            return left if numeric else None
        return None

    def _subscript(self, node: gast.Subscript) -> Any:
        info = self.of(node.value)
        if info is _UNSET:
            return _UNSET
        if not _array(info) or info[0] == ND:
            return None
        parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        if len(parts) > info[0]:
            return None
        dropped = 0
        for part in parts:
            if isinstance(part, gast.Slice):
                continue
            if (isinstance(part, gast.Constant) and type(part.value) is int) or (
                isinstance(part, gast.Name) and part.id in self.ints
            ):
                dropped += 1
            else:
                return None
        return (info[0] - dropped, info[1], True)

    def _call(self, node: gast.Call) -> Any:
        if node.keywords:
            return self._reduction(node)
        args = node.args
        path = A.dotted_name(node.func) or ""
        prefix = self._prefix
        helper = path[len(prefix) :] if path.startswith(prefix) else None
        if helper in _SPREADING and len(args) >= 2:
            return self._spread(args[0], args[1])
        if helper in ("acc_into", "acc") and len(args) == 2:
            if zero_literal(args[0]):
                return self.of(args[1])  # the first contribution itself
            return _broadcast([self.of(args[0]), self.of(args[1])])
        if helper == "div" and len(args) == 2:
            return _broadcast([self.of(args[0]), self.of(args[1])])
        if helper in ("matmul_adjoint_a", "matmul_adjoint_b") and len(args) == 3:
            return self._matmul_adjoint(*args)
        if helper == "seed" and len(args) == 1:
            return (0, True, True)  # 1.0, or it raises
        if helper == "seed" and len(args) == 2:
            result = self.of(args[0])
            # rt.seed gives a number of the result's type (or 1.0).
            return result if result in ((0, True, True), _UNSET) else None
        obj = self.resolve(node.func)
        name = getattr(obj, "__name__", None)
        if name is None or getattr(np, name, None) is not obj or len(args) != 1:
            return None
        if name in _FILLED:
            shape = args[0]
            if isinstance(shape, gast.Tuple) and shape.elts:
                return (len(shape.elts), True, True)
            if isinstance(shape, gast.Name) and self.tuples.get(shape.id):
                return (self.tuples[shape.id], True, True)
            return None
        info = self.of(args[0])
        if info is None or info is _UNSET:
            return info
        if name in UNARY_UFUNCS:
            return info
        if name in _FULL_REDUCTIONS:
            return (0, info[1], True)  # a NumPy scalar
        return None

    def _spread(self, g_node: gast.expr, x_node: gast.expr) -> Any:
        """A broadcasting helper's result: an array of exactly x's shape from
        an array g (of g's dtype), else a number or such an array."""
        g, x = self.of(g_node), self._shaped(x_node)
        if g is None or x is None:
            return None
        if _UNSET in (g, x):
            return _UNSET
        if not (x[2] and x[0] >= 1):
            return None
        if _array(g):
            return (x[0], g[1], True)
        # A Python number g is spread in x's float dtype.
        return (x[0], g[1] and x[1], False)

    def _matmul_adjoint(
        self, g_node: gast.expr, a_node: gast.expr, b_node: gast.expr
    ) -> Any:
        """Zero, or an array of exactly the shape of the operand (a for
        ``matmul_adjoint_a``, b for ``_b``: here the same rank, matrices)."""
        g, a, b = (self.of(n) for n in (g_node, a_node, b_node))
        if None in (g, a, b):
            return None
        if _UNSET in (g, a, b):
            return _UNSET
        if not (_array(a) and _array(b) and a[0] == b[0] == 2):
            return None
        f8 = a[1] and b[1] and g[1]
        certain = _array(g) or self.product_adjoint(g_node, a_node, b_node)
        return (2, f8, certain)

    def _reduction(self, node: gast.Call) -> Any:
        """``np.sum(x, axis=k)`` and the like (``keepdims=`` a literal)."""
        obj = self.resolve(node.func)
        name = getattr(obj, "__name__", None)
        if (
            name not in _FULL_REDUCTIONS
            or getattr(np, name, None) is not obj
            or len(node.args) != 1
        ):
            return None
        options = {k.arg: k.value for k in node.keywords}
        axis, keep = options.pop("axis", None), options.pop("keepdims", None)
        if options or not (isinstance(axis, gast.Constant) and type(axis.value) is int):
            return None
        if keep is not None and not (
            isinstance(keep, gast.Constant) and type(keep.value) is bool
        ):
            return None
        info = self.of(node.args[0])
        if info is _UNSET:
            return _UNSET
        if not _array(info) or info[0] == ND:
            return None
        rank = info[0] if keep is not None and keep.value else info[0] - 1
        return (rank, info[1], True)

    def _shaped(self, x: gast.expr) -> Any:
        """The information of the array ``x`` stands for: itself, or the one
        whose ``.shape`` it holds (s2s_ad/keepshape.py)."""
        if isinstance(x, gast.Name) and x.id in self.shape_of:
            return self._name(self.shape_of[x.id])
        return self.of(x)

    def product_adjoint(self, g: gast.expr, a: gast.expr, b: gast.expr) -> bool:
        """Whether ``g`` is certainly an ndarray of exactly the shape of ``a
        @ b``: each value of it is an array summed down to the shape of the
        name the function assigns ``a @ b`` (once)."""
        values = self.values.get(g.id) if isinstance(g, gast.Name) else [g]
        if not values:
            return False
        for value in values:
            if not (
                isinstance(value, gast.Call)
                and A.dotted_name(value.func)
                in (f"{self.rt}.unbroadcast", f"{self.rt}.unbroadcast_to")
                and len(value.args) == 2
                and isinstance(value.args[1], gast.Name)
                and _array(self.of(value.args[0]))
            ):
                return False
            target = value.args[1].id
            target = self.shape_of.get(target, target)
            defined = self.values.get(target)
            if not (
                defined
                and len(defined) == 1
                and isinstance(defined[0], gast.BinOp)
                and isinstance(defined[0].op, gast.MatMult)
                and A.structure(defined[0].left) == A.structure(a)
                and A.structure(defined[0].right) == A.structure(b)
            ):
                return False
        return True

    def has(self, node: gast.expr, rank: int, f8: bool = True) -> bool:
        """Whether ``node`` certainly is an ndarray of ``rank`` dimensions (a
        number for 0), and of dtype float64 when ``f8``."""
        info = self.of(node)
        return _known(info) and info[2] and info[0] == rank and (info[1] or not f8)

    def array_f8(self, node: gast.expr) -> bool:
        """Whether ``node`` certainly is a float64 ndarray with dimensions."""
        info = self.of(node)
        return _array(info) and info[1]


def _broadcast(infos: list[Any]) -> Any:
    """The result of elementwise arithmetic on operands so described."""
    if None in infos:
        return None
    if _UNSET in infos:
        return _UNSET
    # Every info is known now: _array(i) is ``i[2] and i[0] != 0``.  One
    # loop, as the fixpoint asks this of most operations, round after round.
    f8 = True
    arrays: list[int] = []
    others: list[int] = []
    for rank, exact, certain in infos:
        f8 = f8 and exact
        if certain and rank != 0:
            arrays.append(rank)
        else:
            others.append(rank)
    if not arrays:
        # Numbers (a NumPy or Python number), or maybe arrays up to a bound.
        certain = all(i[2] for i in infos)
        return (_widest(others) if not certain else 0, f8, certain)
    rank = _widest(arrays)
    if any(b == ND or (rank != ND and b > rank) for b in others):
        rank = ND
    return (rank, f8, True)


def _popped(value: gast.expr) -> bool:
    return (
        isinstance(value, gast.Call)
        and isinstance(value.func, gast.Attribute)
        and value.func.attr == "pop"
        and not value.args
    )


def zero_literal(node: gast.expr) -> bool:
    """A literal ``0`` or ``0.0`` (the zero an adjoint starts from)."""
    return (
        isinstance(node, gast.Constant)
        and type(node.value) in (int, float)
        and node.value == 0
    )


def _range_loop(stmt: gast.For, resolve: Callable[[gast.expr], Any]) -> bool:
    """``for t in range(...)`` or ``for t in reversed(range(...))``."""
    it = stmt.iter
    if (
        isinstance(it, gast.Call)
        and resolve(it.func) is reversed
        and len(it.args) == 1
        and not it.keywords
    ):
        it = it.args[0]
    return (
        isinstance(stmt.target, gast.Name)
        and isinstance(it, gast.Call)
        and resolve(it.func) is range
    )
