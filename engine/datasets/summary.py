"""Plain summaries of a :class:`Dataset` (split sizes, classes, target statistics, extent, provenance).

:func:`summarize` returns a JSON-ready dict (for the dashboard and ``--json``); :func:`format_summary` turns
it into the text printed by ``python -m engine data show NAME``.
"""

from __future__ import annotations

import json
from typing import Any

import torch

from engine.datasets.base import Dataset, Split

TOP_CLASSES = 5


def _target_stats(split: Split, num_classes: int) -> dict[str, Any]:
    """Per-split target statistics: class counts (classification) or moments (regression)."""
    if len(split) == 0:
        return {"n": 0}
    if num_classes:
        counts = torch.bincount(split.target, minlength=num_classes)
        return {
            "n": len(split),
            "classes_present": int((counts > 0).sum()),
            "min_count": int(counts[counts > 0].min()),
            "max_count": int(counts.max()),
        }
    y = split.target.double()
    return {
        "n": len(split),
        "mean": float(y.mean()),
        "std": float(y.std()) if len(y) > 1 else 0.0,
        "min": float(y.min()),
        "max": float(y.max()),
    }


def _bbox(ds: Dataset) -> list[float] | None:
    """``[lon_min, lat_min, lon_max, lat_max]`` over all located samples, or ``None`` if there are none."""
    located = [s.lonlat[s.has_location] for s in ds.splits().values() if s.has_location is not None]
    xy = torch.cat(located) if located else torch.zeros(0, 2)
    if len(xy) == 0:
        return None
    lo, hi = xy.min(dim=0).values, xy.max(dim=0).values
    return [float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])]


def summarize(ds: Dataset) -> dict[str, Any]:
    """Summarise ``ds`` as a JSON-ready dict.

    Keys: ``name``, ``display_name``, ``task``, ``num_classes``, ``sizes``, ``target_name``, ``target``
    (per-split statistics), ``largest_classes`` (train, top 5 as ``[name, count]``), ``bbox``,
    ``without_location``, ``image_prior``, ``image_features_dim``, ``coverage``, ``licence``, ``citation``,
    ``source``, ``notes``, ``split_config``.
    """
    info, c = ds.info, ds.info.num_classes
    largest: list[list[Any]] = []
    if c and len(ds.train):
        counts = torch.bincount(ds.train.target, minlength=c)
        top = torch.argsort(counts, descending=True, stable=True)[:TOP_CLASSES]
        assert info.class_names is not None
        largest = [[info.class_names[int(k)], int(counts[k])] for k in top]
    features = ds.train.image_features
    return {
        "name": info.name,
        "display_name": info.display_name,
        "task": info.task,
        "num_classes": c,
        "sizes": ds.sizes(),
        "target_name": info.target_name,
        "target": {name: _target_stats(split, c) for name, split in ds.splits().items()},
        "largest_classes": largest,
        "bbox": _bbox(ds),
        "without_location": {
            name: int((~split.has_location).sum()) if split.has_location is not None else 0
            for name, split in ds.splits().items()
        },
        "image_prior": any(s.image_prior is not None for s in ds.splits().values()),
        "image_features_dim": int(features.shape[1]) if features is not None and features.ndim == 2 else 0,
        "coverage": info.coverage,
        "licence": info.licence,
        "citation": info.citation,
        "source": info.source,
        "notes": info.notes,
        "split_config": ds.split_config,
    }


def _stats_line(name: str, stats: dict[str, Any]) -> str:
    if stats["n"] == 0:
        return f"  {name:<5} empty"
    if "mean" in stats:
        return (
            f"  {name:<5} mean {stats['mean']:.4g}  std {stats['std']:.4g}  "
            f"min {stats['min']:.4g}  max {stats['max']:.4g}"
        )
    return (
        f"  {name:<5} {stats['classes_present']} classes present, "
        f"{stats['min_count']}–{stats['max_count']} samples per class"
    )


def format_summary(summary: dict[str, Any]) -> str:
    """Render :func:`summarize` output as aligned plain text."""
    s = summary
    sizes = s["sizes"]
    kind = f"classification, {s['num_classes']} classes" if s["task"] == "classification" else "regression"
    bbox = s["bbox"]
    extent = (
        f"lon [{bbox[0]:.2f}, {bbox[2]:.2f}], lat [{bbox[1]:.2f}, {bbox[3]:.2f}]" if bbox else "no locations"
    )
    lines = [
        f"{s['name']} — {s['display_name']}",
        f"task:      {kind}",
        f"target:    {s['target_name']}",
        f"splits:    train {sizes['train']:,} | val {sizes['val']:,} | test {sizes['test']:,}",
        f"split:     {json.dumps(s['split_config'])}",
        f"coverage:  {s['coverage']}; bbox {extent}",
        "target statistics:",
        *(_stats_line(name, stats) for name, stats in s["target"].items()),
    ]
    if s["largest_classes"]:
        top = ", ".join(f"{name} {count:,}" for name, count in s["largest_classes"])
        lines.append(f"largest classes (train): {top}")
    missing = {k: v for k, v in s["without_location"].items() if v}
    if missing:
        lines.append("without location: " + ", ".join(f"{k} {v:,}" for k, v in missing.items()))
    lines += [
        f"image prior: {'yes' if s['image_prior'] else 'no'}; image features: "
        + (f"{s['image_features_dim']}-d" if s["image_features_dim"] else "no"),
        f"licence:   {s['licence']}",
        f"source:    {s['source']}",
        f"citation:  {s['citation']}",
        f"notes:     {s['notes']}",
    ]
    return "\n".join(lines)
