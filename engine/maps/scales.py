"""The fixed mapping from a Geo-Bias scale to the H3 resolution its hotspots are drawn at."""

from __future__ import annotations

SCALE_H3_RES: dict[str, int] = {"100km": 3, "1000km": 1, "knn": 2}
"""Geo-Bias scale -> H3 resolution of its hotspot map.

H3 average edge lengths: res 1 ≈ 483 km (for the 1000 km neighbourhoods), res 2 ≈ 182 km (kNN, adaptive),
res 3 ≈ 69 km (for the 100 km neighbourhoods; 41,162 cells on the globe).
"""

SCALE_LABELS: dict[str, str] = {"100km": "100 km", "1000km": "1000 km", "knn": "kNN (adaptive)"}
"""Display names of the scales."""

EDGE_KM: dict[int, int] = {0: 1282, 1: 483, 2: 182, 3: 69, 4: 26}
"""Average H3 hexagon edge length (km) per resolution."""
GLOBE_CELLS: dict[int, int] = {res: 2 + 120 * 7**res for res in range(5)}
"""Number of H3 cells on the globe per resolution (122, 842, 5,882, 41,162, 288,122)."""


def scale_resolution(scale: str) -> int:
    """The H3 resolution of ``scale`` (``ValueError`` listing the valid scales if unknown)."""
    try:
        return SCALE_H3_RES[scale]
    except KeyError:
        raise ValueError(f"unknown geo-bias scale {scale!r}; valid: {', '.join(SCALE_H3_RES)}") from None


def resolution_label(res: int) -> str:
    """``"H3 res 2 (edge ≈ 182 km)"`` — how the UI names a resolution."""
    edge = EDGE_KM.get(res)
    return f"H3 res {res}" + (f" (edge ≈ {edge} km)" if edge else "")


def suggested_resolution(
    n_points: int, options: tuple[int, ...] = (1, 2, 3), min_per_cell: float = 5.0
) -> int:
    """The finest of ``options`` at which ``n_points`` spread over the globe give ≥ ``min_per_cell`` per cell.

    Falls back to the coarsest option (per-cell means of one or two points are only 0 or 1).
    """
    fine_first = sorted(options, reverse=True)
    return next((r for r in fine_first if n_points / GLOBE_CELLS[r] >= min_per_cell), fine_first[-1])
