"""Write the derivatives of a module's functions to a standalone module.

The same as ``s2s-ad codegen``::

    python tools/s2s_codegen.py examples/seed.py -o seed_grad.py
    python tools/s2s_codegen.py examples/seed.py -o seed_grad.py --check
    python tools/s2s_codegen.py model.py -o model_grad.py --function loss:w,b

Every ``@differentiate`` function of the module is generated, and each
``--function NAME[:WRT][:MODE]``.  The written module does not import s2s_ad
(see ``s2s_ad/codegen.py`` for what it guarantees).  ``--check`` writes
nothing and exits with status 1, naming the stale functions, when the module
written earlier no longer matches its sources.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if (ROOT / "s2s_ad" / "__init__.py").is_file() and str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from s2s_ad.codegen import main

if __name__ == "__main__":
    raise SystemExit(main(prog="s2s_codegen.py"))
