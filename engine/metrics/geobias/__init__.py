"""The Geo-Bias Score (GBS): spatial self-information of where points are and where a model errs.

Wang, Janowicz, Mai & Majic (COSIT 2024), as computed by PyGBS and reported in TorchSpatial: *unmarked* SSI
(base geo-bias: how clustered the points are) and *marked* SSI (relative geo-bias: how clustered the model's
successes and failures are), per centre and per scale, plus SRI partitions (:mod:`.sri`).

Usage::

    from engine.metrics.geobias import report, ssi_scores
    scores = ssi_scores(lonlat, marks, radius_km=100.0)  # scores.ssi [N], scores.n_neighbors [N]
    rep = report(predictions_frame)  # 100 km, 1000 km and kNN: rep.summary(), rep.to_dict()

Modules: :mod:`.ssi` (scores), :mod:`.report` (dataset report, H3 hotspots), :mod:`.sri`; internals
:mod:`._grid` (background grid), :mod:`._graph` (k-NN weights without M × M matrices), :mod:`._moments`,
:mod:`._reference` (PyGBS's own arithmetic, for ties and as the benchmark baseline).
"""

from engine.metrics.geobias.report import (
    H3_RESOLUTION,
    DatasetScores,
    GeoBiasReport,
    ScaleReport,
    marks_from_predictions,
    report,
)
from engine.metrics.geobias.sri import SRIScores, kl_sri, sri_scores
from engine.metrics.geobias.ssi import (
    NeighbourhoodSSI,
    SSIScores,
    neighbourhood_ssi,
    ssi_scores,
    ssi_scores_multi,
)

__all__ = [
    "H3_RESOLUTION",
    "DatasetScores",
    "GeoBiasReport",
    "NeighbourhoodSSI",
    "SRIScores",
    "SSIScores",
    "ScaleReport",
    "kl_sri",
    "marks_from_predictions",
    "neighbourhood_ssi",
    "report",
    "sri_scores",
    "ssi_scores",
    "ssi_scores_multi",
]
