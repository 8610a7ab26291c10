"""``python -m s2s_ad``: the command-line interface (see :mod:`s2s_ad.cli`)."""

from s2s_ad.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
