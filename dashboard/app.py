"""LocLab dashboard: ``streamlit run dashboard/app.py`` (from the repository root, which holds
``.streamlit/config.toml``: loopback only, headless, no telemetry).

The entry point only sets the page up and lists the pages; each page lives in ``app_pages/``.
"""

from __future__ import annotations

import _paths  # noqa: F401  (repository root on sys.path: `import engine` works in every page)
import streamlit as st

# (file relative to this folder, title) of every page, in menu order; the first is the default.
# No page icons: the active page's icon becomes the favicon, and a ":material/...:" favicon is fetched from
# fonts.gstatic.com (emoji need an emoji font). A bare string here would be rendered as page text ("magic").
PAGES = (
    ("app_pages/home.py", "Home"),
    ("app_pages/train_compare.py", "Train & compare"),
    ("app_pages/accuracy_map.py", "Accuracy map"),
    ("app_pages/geobias.py", "Geo-bias hotspots"),
    ("app_pages/embeddings.py", "Embedding maps"),
)

st.set_page_config(layout="wide", page_title="LocLab")
navigation = st.navigation(
    [st.Page(path, title=title, default=i == 0) for i, (path, title) in enumerate(PAGES)]
)
navigation.run()
