"""PyGBS-faithful floating point: the reference's grid coordinates, haversine and k-NN for one neighbourhood.

Exact ties are common in the Geo-Bias graph: the centre sits at distance δ from the first ring, and the
point (t=1, j=0) has the centre and the point (t=2, j=0) at exactly the same distance δ. The reference
(seai-lab/PyGBS 0e202f6) breaks such ties by the rounding of its own coordinates: the grid is built in
(lat, lon) radians, converted to xyz, rotated with ``scipy.spatial.transform.Rotation`` and converted back,
and sklearn's ``BallTree(metric="haversine")`` compares the reduced distances
sin²(Δφ/2) + cos φ₁ cos φ₂ sin²(Δλ/2). This module reproduces that arithmetic operation by operation, so
that ``ties="reference"`` resolves a tie the way the reference does, and holds the per-neighbourhood
reference computation used for unresolvable ties and for the naive baseline of the benchmark.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation
from sklearn.neighbors import BallTree


def reference_density(n: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Automatic density ⌈5n / (π r²)⌉ points per square radian, evaluated as the reference does."""
    return np.ceil((5 * n) / (np.pi * radius**2)).astype(np.int64)


def reference_grid_latlon(
    centre_latlon: np.ndarray, density: np.ndarray, ring: np.ndarray, index: np.ndarray, ring_size: np.ndarray
) -> np.ndarray:
    """(lat, lon) radians of grid points (ring, index) of centres ``centre_latlon`` ``[P, 2]``, as PyGBS.

    All arguments are aligned ``[P]`` arrays (one row per grid point); returns ``[P, 2]``.
    """
    dist = 1 / np.sqrt(density)
    lat = np.pi / 2 - dist * ring
    lon = -np.pi + (2 * np.pi / ring_size) * index
    r = np.cos(lat)
    xyz = np.stack([np.cos(lon) * r, np.sign(lat) * np.sin(lon) * r, np.sin(lat)], axis=-1)
    angles = np.stack([0.5 * np.pi - centre_latlon[:, 0], centre_latlon[:, 1]], axis=-1)
    mats = Rotation.from_euler("yz", angles).as_matrix()
    rot = (mats @ xyz[:, :, None])[:, :, 0]
    return np.stack([np.arcsin(rot[:, 2]), np.arctan2(rot[:, 1], rot[:, 0])], axis=-1)


def reference_rdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sklearn's reduced haversine distance between (lat, lon) radians rows, query ``a`` to data ``b``."""
    s0 = np.sin(0.5 * (a[..., 0] - b[..., 0]))
    s1 = np.sin(0.5 * (a[..., 1] - b[..., 1]))
    return s0 * s0 + np.cos(a[..., 0]) * np.cos(b[..., 0]) * s1 * s1


def reference_background(centre_latlon: np.ndarray, radius: float, density: float) -> np.ndarray:
    """The reference's background grid for one centre: (lat, lon) radians ``[m, 2]``."""
    dist = 1 / np.sqrt(density)
    n_rings = int(np.ceil(radius / dist))
    sizes = [int(np.ceil(2 * np.pi * i)) for i in range(1, n_rings + 1)]
    ring = np.repeat(np.arange(1, n_rings + 1), sizes)
    index = np.concatenate([np.arange(s) for s in sizes])
    lat = np.pi / 2 - dist * ring
    lon = -np.pi + (2 * np.pi / np.repeat(sizes, sizes)) * index
    r = np.cos(lat)
    xyz = np.stack([np.cos(lon) * r, np.sign(lat) * np.sin(lon) * r, np.sin(lat)], axis=-1)
    rot = Rotation.from_euler("yz", [0.5 * np.pi - centre_latlon[0], centre_latlon[1]]).apply(xyz)
    return np.stack([np.arcsin(rot[:, 2]), np.arctan2(rot[:, 1], rot[:, 0])], axis=-1)


def reference_edges(
    presence_latlon: np.ndarray, centre_latlon: np.ndarray, radius: float, density: float, weight_k: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Directed k-NN edges (row, col) over presence + background exactly as the reference builds them.

    ``BallTree(leaf_size=30, metric="haversine")`` query of the k + 1 nearest, self removed (a row keeps
    k + 1 edges when exact duplicates push the point itself out). Returns (rows, cols, M).
    """
    points = np.concatenate([presence_latlon, reference_background(centre_latlon, radius, density)])
    nbrs = BallTree(points, leaf_size=30, metric="haversine").query(
        points, k=weight_k + 1, return_distance=False
    )
    rows = np.repeat(np.arange(points.shape[0]), weight_k + 1)
    cols = nbrs.ravel()
    keep = rows != cols
    return rows[keep], cols[keep], int(points.shape[0])


def moran_from_edges(rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> float:
    """Unscaled Moran's I, Ī = Σ_ab W_ab x_a x_b with x = z − mean(z), from an edge list."""
    x = values - values.mean()
    return float(np.dot(x[rows], x[cols]))


def dense_moran(rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> float:
    """The same Ī through a dense M × M weight matrix (the reference's way; benchmark baseline only)."""
    weights = np.zeros((values.shape[0], values.shape[0]))
    weights[rows, cols] = 1.0
    x = values - values.mean()
    return float(x @ weights @ x)


def reference_ssi(
    lonlat: np.ndarray,
    marks_list: list[np.ndarray | None],
    centres: np.ndarray,
    *,
    radius_km: float,
    max_neighbors: int = 100,
    weight_k: int = 4,
    dense: bool = True,
) -> np.ndarray:
    """The reference algorithm, one centre at a time: BallTree neighbourhoods, PyGBS grid, BallTree k-NN
    and (``dense``) an M × M weight matrix. Returns SSI ``[len(marks_list), len(centres)]``.

    Slow by design (O(M²) per centre); it is the baseline of the benchmark and a cross-check in tests.
    """
    from engine.metrics.geobias._moments import categories, pygbs_moments, tail_ssi

    latlon = np.radians(np.asarray(lonlat, dtype=np.float64)[:, ::-1])
    radius = radius_km / 6371.0
    tree = BallTree(latlon, leaf_size=30, metric="haversine")
    dist, nbrs = tree.query(latlon[centres], k=max_neighbors)
    out = np.zeros((len(marks_list), len(centres)))
    for col, i in enumerate(centres.tolist()):
        idx = nbrs[col][dist[col] <= radius]
        n = idx.shape[0]
        density = reference_density(np.array([n]), np.array([radius]))[0]
        rows, cols, size = reference_edges(latlon[idx], latlon[i], radius, density, weight_k)
        for s, marks in enumerate(marks_list):
            values = np.zeros(size)
            values[:n] = 1.0 if marks is None else marks[idx]
            moran = dense_moran(rows, cols, values) if dense else moran_from_edges(rows, cols, values)
            cats, counts = categories(values[:n], np.zeros(n, np.int64), 1, np.array([size - n]))
            mu, sigma = pygbs_moments(cats, counts)
            out[s, col] = tail_ssi(np.array([moran]), mu, sigma)[1][0]
    return out
