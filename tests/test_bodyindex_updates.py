"""The names a BodyIndex keeps for rewritten statements agree with a walk.

:meth:`s2s_ad.bodyindex.BodyIndex.replaced` edits a statement's list of
Name nodes in place instead of walking the statement again; the passes that
follow (the factor moves, fusion) rely on the list being the one a walk of
the statement finds, in the same order.
"""

from __future__ import annotations

import gast
import numpy as np

import s2s_ad
from s2s_ad import arrayopt
from s2s_ad import astutil as A
from s2s_ad.bodyindex import BodyIndex, _own_names


def _identities(names: list[gast.Name]) -> list[int]:
    return [id(n) for n in names]


def test_replaced_swaps_and_drops_in_walk_order():
    body = gast.parse("y = rt.unbroadcast(g * 2, x) + rt.unbroadcast(h, z)\n").body
    index = BodyIndex(body, 0)
    stmt = body[0]
    before = index.own_names(stmt)
    assert _identities(before) == _identities(_own_names(stmt))
    first = stmt.value.left
    # rt.unbroadcast(g * 2, x) -> g * 2
    stmt.value.left = first.args[0]
    for name in [*A.name_nodes(first.func), first.args[1]]:
        index.replaced(stmt, name, None)
    assert _identities(index.own_names(stmt)) == _identities(_own_names(stmt))
    # rt.unbroadcast(h, z) -> rt.unbroadcast(h, w)
    second = stmt.value.right
    old, new = second.args[1], A.load("w")
    second.args[1] = new
    index.replaced(stmt, old, new)
    assert _identities(index.own_names(stmt)) == _identities(_own_names(stmt))


def loop_and_broadcasts(a, b, n):
    s = a * b + 1.0
    for _ in range(n):
        s = np.tanh(s * a + b)
    return np.sum(s + a[0])


def broadcasts(a, b):
    t = a * b
    u = np.sin(t) + a * t
    return np.sum(u * b - t)


def test_names_after_the_shape_pass_are_those_of_a_walk(monkeypatch):
    checked = []
    replaced = []
    original = arrayopt.optimize_shapes
    told = BodyIndex.replaced

    def telling(self, stmt, old, new):
        replaced.append(stmt)
        told(self, stmt, old, new)

    def checking(body, params, kinds, primal_of, resolve, rt, index):
        result = original(body, params, kinds, primal_of, resolve, rt, index)
        for stmt in A.statements(body):
            kept = index.own_names(stmt)
            assert _identities(kept) == _identities(_own_names(stmt))
            checked.append(stmt)
        return result

    monkeypatch.setattr(arrayopt, "optimize_shapes", checking)
    monkeypatch.setattr(BodyIndex, "replaced", telling)
    a, b = np.linspace(0.1, 0.9, 4), np.linspace(-0.5, 0.5, 4)
    s2s_ad.gradient_source(loop_and_broadcasts, (0, 1), (a, b, 2))
    s2s_ad.gradient_source(broadcasts, (0, 1), (a, b))
    assert checked and replaced
