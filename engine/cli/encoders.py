"""``python -m engine encoders [--markdown]``: the encoder catalogue, generated from the registry."""

from __future__ import annotations

import argparse

from engine.encoders import create_position_encoding, encoder_info, list_encoders


def catalogue_rows() -> list[dict[str, str]]:
    """One row per encoder: name, display name, paper, PE dim formula, default PE dim, default net."""
    rows = []
    for name in list_encoders():
        info = encoder_info(name)
        try:
            dim = str(create_position_encoding(name).out_dim)
        except (ValueError, FileNotFoundError, ImportError):
            dim = "?"
        rows.append({"name": name, **info, "default_dim": dim})
    return rows


def markdown_table() -> str:
    """The catalogue as a Markdown table (the README's encoder table is this text)."""
    lines = [
        "| name | paper name | PE dim (default) | default net | paper |",
        "|---|---|---|---|---|",
    ]
    for r in catalogue_rows():
        lines.append(
            f"| `{r['name']}` | {r['display_name']} | {r['pe_dim']} ({r['default_dim']}) | {r['net']} "
            f"| {r['paper']} |"
        )
    return "\n".join(lines)


def plain_table() -> str:
    """The catalogue as aligned plain text for the terminal."""
    rows = catalogue_rows()
    cols = [
        ("name", "name"),
        ("display_name", "paper name"),
        ("pe_dim", "PE dim"),
        ("default_dim", "default"),
        ("net", "net"),
        ("paper", "paper"),
    ]
    widths = {k: max(len(h), *(len(r[k]) for r in rows)) for k, h in cols}
    head = "  ".join(h.ljust(widths[k]) for k, h in cols)
    body = ["  ".join(r[k].ljust(widths[k]) for k, _ in cols) for r in rows]
    return "\n".join([head, "-" * len(head), *body])


def _run(args: argparse.Namespace) -> int:
    print(markdown_table() if args.markdown else plain_table())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``encoders`` sub-command."""
    p = sub.add_parser("encoders", help="print the encoder catalogue")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table (as in the README)")
    p.set_defaults(func=_run)
