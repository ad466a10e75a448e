"""LocLab dashboard: ``streamlit run dashboard/app.py`` (from the repository root, which holds
``.streamlit/config.toml``: loopback only, headless, no telemetry).

The entry point only sets the page up and lists the pages; each page lives in ``app_pages/``.
"""

from __future__ import annotations

import _paths  # noqa: F401  (repository root on sys.path: `import engine` works in every page)
import streamlit as st

# (file relative to this folder, title, icon) of every page, in menu order; the first is the default.
# (A bare string here would be rendered by Streamlit's "magic" as page text.)
PAGES = (
    ("app_pages/home.py", "Home", ":material/home:"),
    ("app_pages/train_compare.py", "Train & compare", ":material/model_training:"),
    ("app_pages/accuracy_map.py", "Accuracy map", ":material/public:"),
    ("app_pages/geobias.py", "Geo-bias hotspots", ":material/crisis_alert:"),
    ("app_pages/embeddings.py", "Embedding maps", ":material/scatter_plot:"),
)

# No page_icon: a Material-icon favicon is fetched from fonts.gstatic.com (the default favicon is served here).
st.set_page_config(layout="wide", page_title="LocLab")
navigation = st.navigation(
    [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(PAGES)]
)
navigation.run()
