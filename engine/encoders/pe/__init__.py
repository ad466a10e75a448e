"""Position encodings, one class per file (see ``engine.encoders.zoo`` for the named encoders)."""

from engine.encoders.pe.base import PositionEncoding

__all__ = ["PositionEncoding"]
