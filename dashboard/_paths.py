"""Make ``import engine`` and the sibling modules (``data``, ``globe``, ``charts``, ``jobs``) importable.

``streamlit run dashboard/app.py`` puts only ``dashboard/`` on ``sys.path``; a page run on its own (e.g. by
``AppTest.from_file("dashboard/app_pages/home.py")``) gets ``dashboard/app_pages/``. Importing this module
first puts the repository root and ``dashboard/`` in front, once.
"""

from __future__ import annotations

import sys
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parent
ROOT = DASHBOARD.parent

for _path in (str(DASHBOARD), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
