"""What the reverse sweep's builders and passes precompute agrees with a
recomputation.

``ReverseBuilder.name_nodes`` (see s2s_ad.sweepindex: started by
rematerialize, completed by first_contributions, read by copyprop) holds,
for each statement it names, exactly the Name and Call nodes the statement
holds when first_contributions and copyprop run.  The compiled plan of each
rule template's statement (s2s_ad.templates) makes what the generic
substitution makes."""

from __future__ import annotations

from typing import Any

import gast
import pytest

from s2s_ad import astutil as A
from s2s_ad import program, sweepindex
from s2s_ad.source import load
from tests.programs import PROGRAMS, program_kinds, program_wrt_names


def _check(index: sweepindex.Index) -> int:
    """Assert every entry of ``index`` agrees with a fresh walk; the count."""
    for stmt, names, calls in index.values():
        fresh_names, fresh_calls, _ = sweepindex.statement_nodes(stmt)
        assert sorted(map(id, names)) == sorted(map(id, fresh_names))
        assert sorted(map(id, calls)) == sorted(map(id, fresh_calls))
        if isinstance(stmt, (gast.Assign, gast.Expr)):
            assert sorted(map(id, names)) == sorted(map(id, A.name_nodes(stmt)))
    return len(index)


@pytest.mark.parametrize("specialise", [False, True])
def test_name_nodes_agree_with_a_fresh_walk(
    monkeypatch: pytest.MonkeyPatch, specialise: bool
) -> None:
    checked = []
    first = program.first_contributions
    optimize = program.optimize_functions

    def first_checking(rev: Any, builder: Any) -> set[str]:
        checked.append(_check(builder.name_nodes))
        # The scan reading the index finds what it finds without one.
        scalars = set(builder.adjoints.values())
        shared = program._Scan(rev, scalars, builder.name_nodes)
        alone = program._Scan(rev, scalars, {})
        assert shared.every == alone.every and shared.where == alone.where
        assert sorted(map(id, shared.calls)) == sorted(map(id, alone.calls))
        return first(rev, builder)

    def checking(defs: Any, builder: Any, fwd: Any) -> None:
        checked.append(_check(builder.name_nodes))
        optimize(defs, builder, fwd)

    monkeypatch.setattr(program, "first_contributions", first_checking)
    monkeypatch.setattr(program, "optimize_functions", checking)
    for entry in PROGRAMS:
        kinds = program_kinds(entry) if specialise else None
        wrt = program_wrt_names(entry)
        program.Program(entry.func, wrt, load(entry.func), "reverse", kinds)
    assert sum(checked) > 0


def _rules() -> list[Any]:
    from s2s_ad.rules import registry

    rules = list(registry.registered()) + list(registry._VARIANTS.values())
    return [r for r in rules if r.reverse is not None]


@pytest.mark.parametrize("rewritten", [False, True])
def test_compiled_template_plans_make_what_substitution_makes(
    rewritten: bool,
) -> None:
    """Each statement's compiled plan (s2s_ad.templates.compile_plan) makes
    the tree the generic ``_Substitute`` copy makes, field for field."""
    from s2s_ad import templates as T

    rules = _rules()
    assert rules
    made: list[tuple[str, str]] = []  # what the plans ask, in order

    def rewrite(node: Any) -> Any:
        made.append(("rewrite", gast.dump(node)))
        return node

    def global_name(name: str, value: Any) -> str:
        made.append(("global", name))
        return f"g_{name}"

    for rule in rules:
        template = rule.reverse
        bound = {
            name: [A.load("v1"), A.load("v2")] if kind == "var" else A.load(f"a_{name}")
            for name, kind in template.params
            if name not in template.defaults
        }
        bound.update({n: d for n, d in template.defaults.items() if n not in bound})
        temps = {n: f"{n}_1" for n in T._stored_names(template)}
        for stmt, (kind, plan, _) in zip(template.body, T._steps(template)):
            if kind not in ("acc", "stmt"):
                continue
            node = stmt.value if kind == "acc" else stmt
            args = (template, bound, A.load("ans"), "ans_bar", temps, global_name)
            extra = (rewrite,) if rewritten else ()
            made.clear()
            generic = T._Substitute(*args, *extra).visit(node)
            generic_log = list(made)
            made.clear()
            compiled = plan(T._Substitute(*args, *extra))
            assert A.structure(compiled) == A.structure(generic), rule.label
            assert list(compiled.__dict__) == list(generic.__dict__), rule.label
            assert made == generic_log, rule.label
