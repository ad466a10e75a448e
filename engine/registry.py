"""
The smallest correct registry: name -> builder, with metadata.

Duplicate names raise at import time; unknown names raise ``ValueError`` listing the valid ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered builder and its descriptive metadata."""

    name: str
    builder: Callable[..., T]
    meta: dict[str, Any] = field(default_factory=dict)


class Registry(Generic[T]):
    """A named collection of builders (``kind`` is used in error messages, e.g. "encoder")."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, **meta: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering ``builder`` under ``name``; raises ``ValueError`` on a duplicate."""

        def deco(builder: Callable[..., T]) -> Callable[..., T]:
            if name in self._entries:
                raise ValueError(f"duplicate {self.kind} name {name!r}")
            self._entries[name] = Entry(name, builder, dict(meta))
            return builder

        return deco

    def entry(self, name: str) -> Entry[T]:
        """The entry for ``name``; ``ValueError`` naming the valid choices if unknown."""
        try:
            return self._entries[name]
        except KeyError:
            valid = ", ".join(sorted(self._entries))
            raise ValueError(f"unknown {self.kind} {name!r}; valid: {valid}") from None

    def build(self, name: str, /, **kwargs: Any) -> T:
        """Call the builder registered under ``name`` with ``kwargs``."""
        return self.entry(name).builder(**kwargs)

    def names(self) -> list[str]:
        """Registered names in registration order."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)
