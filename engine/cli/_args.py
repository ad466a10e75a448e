"""Argument helpers shared by ``train`` and ``bench``: ``key=value`` options and comma lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def parse_value(text: str) -> Any:
    """JSON value when it parses (``32``, ``1e-3``, ``true``, ``[1, 16]``), else the string itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_pairs(items: Sequence[str] | None, option: str) -> dict[str, Any]:
    """``["k=v", ...]`` as a dict of parsed values; a malformed item raises ``ValueError``."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{option} expects key=value, got {item!r}")
        out[key.strip()] = parse_value(value.strip())
    return out


def split_list(text: str | None) -> list[str]:
    """``"a, b,c"`` → ``["a", "b", "c"]`` (empty items dropped)."""
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def format_metrics(metrics: dict[str, dict[str, float]]) -> str:
    """A plain-text table ``metric  value  [low, high]`` of a run's test metrics."""
    width = max([len("metric"), *(len(name) for name in metrics)])
    lines = [f"{'metric':<{width}} {'value':>10}   95% interval"]
    for name, entry in metrics.items():
        value, low, high = (entry.get(k) for k in ("value", "low", "high"))
        if not isinstance(value, int | float):
            continue
        ci = f"[{low:.4f}, {high:.4f}]" if isinstance(low, float) and isinstance(high, float) else ""
        lines.append(f"{name:<{width}} {value:>10.4f}   {ci}")
    return "\n".join(lines)
