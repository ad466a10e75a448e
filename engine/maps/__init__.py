"""
Map science for the dashboard (pure torch / numpy / h3): H3 grids, per-cell aggregation, whole-globe
embeddings reduced to RGB, single PE channels, and run-vs-run difference maps.

>>> from engine.maps import h3_cells, aggregate_h3, embed_globe, to_rgb
>>> cells, lonlat = h3_cells(1)            # 842 cells, lonlat [842, 2]
>>> import engine; rgb = to_rgb(embed_globe(engine.create_encoder("xyz"), 1))   # [842, 3] uint8
"""

from engine.maps.channels import (
    ChannelInfo,
    Continuity,
    build_pe,
    channel_continuity,
    encoder_hyperparameters,
    pe_channel,
    pe_channel_info,
    pe_defaults,
)
from engine.maps.compare import MapValues, default_value_column, difference_map, map_values, run_map
from engine.maps.embedding import embed_globe, embed_points, to_rgb
from engine.maps.h3grid import MAX_GLOBE_RES, aggregate_h3, h3_cells, latlng_to_cells
from engine.maps.hotspots import Hotspots, geobias_hotspots
from engine.maps.runs import RunSummary, run_stamp, summarize_run
from engine.maps.scales import (
    EDGE_KM,
    SCALE_H3_RES,
    SCALE_LABELS,
    resolution_label,
    scale_resolution,
    suggested_resolution,
)
from engine.maps.upload import MAX_UPLOAD_BYTES, MIN_POINTS, points_table, read_points_csv

__all__ = [
    "EDGE_KM",
    "MAX_GLOBE_RES",
    "MAX_UPLOAD_BYTES",
    "MIN_POINTS",
    "SCALE_H3_RES",
    "SCALE_LABELS",
    "ChannelInfo",
    "Continuity",
    "Hotspots",
    "MapValues",
    "RunSummary",
    "aggregate_h3",
    "build_pe",
    "channel_continuity",
    "default_value_column",
    "difference_map",
    "embed_globe",
    "embed_points",
    "encoder_hyperparameters",
    "geobias_hotspots",
    "h3_cells",
    "latlng_to_cells",
    "map_values",
    "pe_channel",
    "pe_channel_info",
    "pe_defaults",
    "points_table",
    "read_points_csv",
    "resolution_label",
    "run_map",
    "run_stamp",
    "scale_resolution",
    "suggested_resolution",
    "summarize_run",
    "to_rgb",
]
