"""``python -m engine``: the LocLab command line (see :mod:`engine.cli`)."""

from engine.cli import main

raise SystemExit(main())
