"""The Geo-Bias Score (GBS): spatial self-information of where points are and where a model errs.

Wang, Janowicz, Mai & Majic, "Geo-Bias Score" (COSIT 2024), as computed by PyGBS and reported in
TorchSpatial: *unmarked* SSI (base geo-bias: how clustered the points are) and *marked* SSI (relative geo-bias:
how clustered the model's successes/failures are), per centre and per scale, plus SRI partitions.
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
