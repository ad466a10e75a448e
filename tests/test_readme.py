"""The README's encoder table is generated from the registry and must stay in sync."""

from __future__ import annotations

from pathlib import Path

from engine.cli.encoders import markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_encoder_table_matches_registry():
    text = README.read_text()
    start, end = "<!-- encoders:start -->\n", "\n<!-- encoders:end -->"
    table = text[text.index(start) + len(start) : text.index(end)]
    assert table == markdown_table(), (
        "README encoder table is stale: run python -m engine encoders --markdown"
    )


def test_readme_shows_the_two_commands():
    text = README.read_text()
    assert "make run" in text and "make test" in text
