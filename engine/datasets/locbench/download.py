"""``python -m engine data download NAME --root DIR [--url URL]``: fetch and unpack a LocBench dataset.

Steps: resolve the archive (the :mod:`~engine.datasets.locbench.sources` table, else the Figshare API, or
``--url``); download it to ``DIR/<archive>.part`` with a progress bar, resuming a partial file with an HTTP
``Range`` request; verify size and checksum (sha256 when known, Figshare's MD5 when resolved through its
API); refuse archives with members that would escape ``DIR``; unpack into a temporary folder beside the
target and rename it to ``DIR/<folder>`` in one step; check that the dataset's required files are there.
Datasets that share an archive (e.g. ``birdsnap`` and ``birdsnap_ebird``) are fetched once.

Usage::

    python -m engine data download birdsnap --root ~/data/locbench
    DATASETS.build("birdsnap", root="~/data/locbench")
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from engine.datasets.base import DATASETS
from engine.datasets.locbench._archive import unpack
from engine.datasets.locbench._fetch import USER_AGENT, Remote, fetch
from engine.datasets.locbench.sources import (
    ARCHIVE_SUFFIXES,
    FIGSHARE_FILES_API,
    SOURCES,
    Source,
    archive_stem,
    get_source,
)

log = logging.getLogger(__name__)
NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError)


def required_files(name: str, folder: str) -> list[str]:
    """Return the required files of dataset ``name``, relative to its ``folder`` (from the registry)."""
    prefix = f"{folder}/"
    return [
        rel[len(prefix) :] if rel.startswith(prefix) else rel for rel in DATASETS.entry(name).meta["files"]
    ]


def _figshare_remote(source: Source, api_url: str, timeout: float) -> Remote:
    """Look the archive up in the Figshare record's file list (name, size, MD5, download URL)."""
    request = urllib.request.Request(
        api_url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as resp:
        files: list[dict[str, Any]] = json.loads(resp.read().decode("utf-8"))
    for entry in files:
        filename = str(entry.get("name", ""))
        if (
            filename.lower().endswith(ARCHIVE_SUFFIXES)
            and archive_stem(filename).lower() == source.folder.lower()
        ):
            md5 = entry.get("computed_md5") or entry.get("supplied_md5") or None
            size = entry.get("size")
            return Remote(str(entry["download_url"]), filename, int(size) if size else None, None, md5)
    names = ", ".join(sorted(str(e.get("name")) for e in files)) or "none"
    raise ValueError(
        f"no archive named {source.folder}{{{', '.join(ARCHIVE_SUFFIXES)}}} on the Figshare record "
        f"({api_url}); files there: {names}. Pass the right file's URL with --url"
    )


def resolve(source: Source, url: str | None, sha256: str | None, api_url: str, timeout: float) -> Remote:
    """Decide what to fetch: ``url`` if given, else the table's URL, else the Figshare API entry."""
    if url is not None:
        filename = Path(urllib.parse.urlparse(url).path).name
        if not filename.lower().endswith(ARCHIVE_SUFFIXES):
            filename = source.archive
        return Remote(url, filename, None, sha256, None)
    if source.url is not None:
        return Remote(source.url, source.archive, source.size, sha256 or source.sha256, source.md5)
    remote = _figshare_remote(source, api_url, timeout)
    return Remote(remote.url, remote.filename, remote.size, sha256, remote.md5)


def download(
    name: str,
    root: str | Path,
    url: str | None = None,
    *,
    sha256: str | None = None,
    force: bool = False,
    keep_archive: bool = False,
    progress: bool = True,
    api_url: str = FIGSHARE_FILES_API,
    timeout: float = 60.0,
) -> Path:
    """Download and unpack LocBench dataset ``name`` under ``root``.

    Args:
        name: a LocBench dataset name (e.g. ``"birdsnap"``).
        root: the data root; the dataset lands in ``root/<folder>`` (see each loader's docstring).
        url: archive URL overriding the published one.
        sha256: expected SHA-256 of the archive (checked when given, or when the table knows it).
        force: replace an existing but incomplete (or, with force, complete) dataset folder.
        keep_archive: keep the downloaded archive beside the folder (else deleted after unpacking).
        progress: show a tqdm progress bar.
        api_url: Figshare file-list URL used when no URL is known (tests point it at a local server).
        timeout: socket timeout in seconds.

    Returns:
        The dataset folder ``root/<folder>``.

    Raises:
        ValueError: unknown name, size/checksum mismatch, unsafe archive member, missing files.
        urllib.error.URLError: network failure (run again to resume the partial download).

    """
    source = get_source(name)
    base = Path(root).expanduser()
    base.mkdir(parents=True, exist_ok=True)
    target = base / source.folder
    required = required_files(name, source.folder)
    if target.exists() and not force:
        missing = [rel for rel in required if not (target / rel).is_file()]
        if not missing:
            log.info("%s: already present in %s", name, target)
            return target
        raise ValueError(f"{target} exists but lacks {missing}: remove it or pass --force to replace it")
    remote = resolve(source, url, sha256, api_url, timeout)
    archive = fetch(remote, base / remote.filename, progress=progress, timeout=timeout)
    unpack(archive, base, source.folder, required, replace=force)
    if not keep_archive:
        archive.unlink()
    return target


def _run(args: argparse.Namespace) -> int:
    """Entry point of ``data download``."""
    try:
        path = download(
            args.name,
            args.root,
            args.url,
            sha256=args.sha256,
            force=args.force,
            keep_archive=args.keep_archive,
            progress=not args.no_progress,
        )
    except NETWORK_ERRORS as err:
        print(
            f"error: downloading {args.name} failed ({err}); run the same command again to resume",
            file=sys.stderr,
        )
        return 1
    print(f"{args.name}: ready in {path} (load it with root={str(args.root)!r})")
    return 0


def register_download(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``download`` command to the ``data`` command group's ``subparsers``."""
    parser = subparsers.add_parser(
        "download",
        help="download and unpack a LocBench dataset",
        description="Fetch a LocBench dataset archive (resumable, verified) and unpack it under --root.",
    )
    parser.add_argument("name", choices=sorted(SOURCES), metavar="NAME", help="; ".join(sorted(SOURCES)))
    parser.add_argument(
        "--root", required=True, type=Path, help="data root (the dataset goes to ROOT/<folder>)"
    )
    parser.add_argument("--url", default=None, help="archive URL overriding the published one")
    parser.add_argument("--sha256", default=None, help="expected SHA-256 of the archive")
    parser.add_argument("--force", action="store_true", help="replace an existing dataset folder")
    parser.add_argument("--keep-archive", action="store_true", help="keep the archive after unpacking")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_run)
