"""Rewrite tests/golden/*.py.txt from the current compiler.

Run ``python tools/update_golden.py`` after an intended change to generated
code, then review ``git diff tests/golden``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from s2s_ad import gradient_source
from tests.golden_programs import GOLDEN


def main() -> int:
    out = ROOT / "tests" / "golden"
    out.mkdir(exist_ok=True)
    for name, (func, wrt, args) in sorted(GOLDEN.items()):
        path = out / f"{name}.py.txt"
        text = gradient_source(func, wrt=wrt, args=args)
        changed = not path.exists() or path.read_text() != text
        path.write_text(text)
        print(f"{'updated' if changed else 'same   '} {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
