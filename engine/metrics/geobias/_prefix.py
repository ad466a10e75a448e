"""A presence point's nearest fellow presence points, read off the prefix of its global k-NN list.

The prefix (:data:`PREFIX` + 1 entries) and its sort keys depend only on the point, not on the centre, so
they are computed and ordered once per job (:class:`PrefixTable`); per neighbourhood only the membership
of each listed point is tested, and the first members in key order are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.metrics.geobias._grid import sort_keys
from engine.metrics.geobias._rows import NO_KEY, Batch, entry_table

PREFIX = 12
"""Entries of a presence point's global k-NN list scanned for its nearest fellow presence points."""
BITMAP_CELLS = 8_000_000
"""Largest membership bitmap (centres × distinct points of a batch) used instead of distance tests."""


@dataclass(frozen=True, eq=False)
class PrefixTable:
    """Per data point: the first :data:`PREFIX` + 1 entries of its global k-NN list ordered by
    :func:`sort_keys` (``ids``, ``keys`` ``[N, S]``; the point itself keyed ``NO_KEY``, last) and the chord²
    to the last entry of the list prefix (``reach`` ``[N]``: no other point lies closer unscanned).
    """

    ids: np.ndarray
    keys: np.ndarray
    reach: np.ndarray

    @staticmethod
    def build(xyz: np.ndarray, nbr_idx: np.ndarray) -> PrefixTable:
        """From the distance-sorted global k-NN lists ``nbr_idx`` ``[N, K]`` of the points ``xyz``."""
        span = min(PREFIX + 1, nbr_idx.shape[1])
        cand = nbr_idx[:, :span]
        x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
        d2 = (x[cand] - x[:, None]) ** 2 + (y[cand] - y[:, None]) ** 2 + (z[cand] - z[:, None]) ** 2
        keys = np.where(cand != np.arange(xyz.shape[0])[:, None], sort_keys(d2, cand), NO_KEY)
        order = np.argsort(keys, axis=1)
        return PrefixTable(np.take_along_axis(cand, order, 1), np.take_along_axis(keys, order, 1), d2[:, -1])


def prefix_rows(
    batch: Batch, xyz: np.ndarray, width: int, prefix: PrefixTable
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fellow presence points of each presence point from the prefix of its global k-NN list.

    Membership of the listed points is tested exactly (:func:`_members`). Returns (keys
    ``[E, width]`` sorted, ``NO_KEY`` padding; global ids, −1 padding; rows with ``width + 1`` members found
    (then the ``width`` listed are the nearest); chord² to the end of the scanned prefix).
    """
    cand, keys = prefix.ids[batch.member], prefix.keys[batch.member]
    inside = _members(batch, xyz, cand)
    inside &= keys < NO_KEY
    # The rows are in key order already: keep the first width + 1 members of each.
    slot = np.cumsum(inside, axis=1) - 1
    r, c = np.nonzero(inside & (slot <= width))
    out_k = np.full((cand.shape[0], width + 1), NO_KEY)
    out_i = np.full((cand.shape[0], width + 1), -1, np.int64)
    out_k[r, slot[r, c]] = keys[r, c]
    out_i[r, slot[r, c]] = cand[r, c]
    return out_k[:, :width], out_i[:, :width], out_k[:, width] < NO_KEY, prefix.reach[batch.member]


def _members(batch: Batch, xyz: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Whether each listed point ``cand[e, j]`` belongs to the neighbourhood of entry e: ``[E, S]``.

    A bitmap (centre × the batch's distinct points) answers exactly when it is small; otherwise a point is
    a member when closer to the centre than the last member, with an exact look-up in a narrow band.
    """
    own, n_c = batch.owner, batch.n.shape[0]
    uniq, local = np.unique(batch.member, return_inverse=True)
    if n_c * (uniq.shape[0] + 1) <= BITMAP_CELLS:
        lookup = np.full(xyz.shape[0], uniq.shape[0])  # points outside the batch: an all-False column
        lookup[uniq] = np.arange(uniq.shape[0])
        bitmap = np.zeros((n_c, uniq.shape[0] + 1), bool)
        bitmap[own, local] = True
        return bitmap[own[:, None], lookup[cand]]
    table = entry_table(batch)
    last = table[np.arange(n_c), batch.n - 1]
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    cx, cy, cz = batch.centre_xyz[:, 0], batch.centre_xyz[:, 1], batch.centre_xyz[:, 2]
    lm = batch.member[last]
    last2 = (x[lm] - cx) ** 2 + (y[lm] - cy) ** 2 + (z[lm] - cz) ** 2
    dc = (
        (x[cand] - cx[own][:, None]) ** 2
        + (y[cand] - cy[own][:, None]) ** 2
        + (z[cand] - cz[own][:, None]) ** 2
    )
    lim = last2[own][:, None]
    inside = dc < lim * (1 - 1e-12)
    band = ~inside & (dc <= lim * (1 + 1e-12))
    if band.any():
        r, c = np.nonzero(band)
        sorted_keys = np.sort(own * xyz.shape[0] + batch.member)
        probe = own[r] * xyz.shape[0] + cand[r, c]
        at = np.minimum(np.searchsorted(sorted_keys, probe), sorted_keys.shape[0] - 1)
        inside[r, c] = sorted_keys[at] == probe
    return inside
