"""Write SUPPORTED.rst: every function s2s_ad differentiates, from the registry.

Run ``python tools/supported_functions.py`` after adding rules; a test
fails while the file is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from s2s_ad.rules import registry

_LIBRARIES = ("numpy", "math", "builtins", "operator", "_operator", "copy", "s2s_ad")
# Registered only where the installed NumPy has them; listed by hand below.
_VERSION_DEPENDENT = {
    "numpy.trapz",
    "numpy.trapezoid",
    "numpy.vecdot",
    "numpy.matrix_transpose",
    "numpy.astype",
    "numpy.unstack",
}


def render() -> str:
    """The text of SUPPORTED.rst for the rules registered now."""
    registry._load_tables()
    groups: dict[str, set[str]] = {"functions": set(), "nondiff": set()}
    for rule in registry.registered():
        label = rule.label
        module = getattr(rule.target, "__module__", None) or ""
        if rule.target is not None and not module.startswith(_LIBRARIES):
            continue  # a user's own rule (README examples, tests)
        if label in _VERSION_DEPENDENT:
            continue
        if label.startswith(
            ("s2s_ad.runtime", "s2s_ad.rules.runtime_sources", "scipy")
        ):
            # Run-time helpers are for generated code; SciPy's rules exist
            # only where SciPy is installed (listed below by hand).
            continue
        if rule.nondifferentiable:
            groups["nondiff"].add(label)
        else:
            modes = []
            if rule.reverse is not None:
                modes.append("reverse")
            if rule.forward is not None or rule.linear is not None:
                modes.append("forward")
            groups["functions"].add(f"{label} ({', '.join(modes)})")
    lines = [
        "Supported functions",
        "===================",
        "",
        "Generated from the rule registry by ``python tools/supported_functions.py``;",
        "a test fails when this file is out of date. Names starting with a dot are",
        "array methods and attributes. Register more with ``s2s_ad.reverse_rule``,",
        "``s2s_ad.forward_rule``, ``s2s_ad.elementwise`` or ``s2s_ad.linear``.",
        "",
        "With SciPy installed, ``scipy.special`` adds logsumexp, expit, logit, erf,",
        "erfc, gammaln, digamma, polygamma (in x), xlogy, softmax and log_softmax",
        "(both modes).",
        "Where the installed NumPy has them: numpy.trapz, numpy.trapezoid,",
        "numpy.vecdot, numpy.matrix_transpose, numpy.astype, numpy.unstack.",
        "",
        f"Differentiable ({len(groups['functions'])})",
        "-" * len(f"Differentiable ({len(groups['functions'])})"),
        "",
    ]
    lines += [
        f"- ``{entry.split(' (')[0]}`` ({entry.split(' (')[1]}"
        for entry in sorted(groups["functions"])
    ]
    title = f"No gradient, by design ({len(groups['nondiff'])})"
    lines += ["", title, "-" * len(title), ""]
    lines += [f"- ``{label}``" for label in sorted(groups["nondiff"])]
    return "\n".join(lines) + "\n"


def main() -> int:
    path = ROOT / "SUPPORTED.rst"
    text = render()
    changed = not path.exists() or path.read_text() != text
    path.write_text(text)
    print(f"{'updated' if changed else 'same   '} {path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
