"""Resumable HTTP download with size and checksum verification (standard library + tqdm).

The file is written to ``<dest>.part``; a later call resumes it with an HTTP ``Range`` request (a server
that ignores ``Range`` answers 200 and the download restarts from zero). Only a fully verified file is
renamed to ``dest``. A checksum mismatch deletes the ``.part`` file (its bytes cannot be trusted); an
interrupted transfer keeps it for the next resume.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from tqdm.auto import tqdm

USER_AGENT = "loclab-locbench-downloader/1"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Remote:
    """A file to fetch: URL, expected size and checksums (``None`` where unknown)."""

    url: str
    filename: str
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None


def _total_from(headers: Message, status: int, offset: int) -> int | None:
    """Full file size from ``Content-Range`` (206/416) or ``Content-Length`` (200)."""
    content_range = headers.get("Content-Range")
    if content_range:
        match = re.search(r"/(\d+)\s*$", content_range)
        if match:
            return int(match.group(1))
    length = headers.get("Content-Length")
    if length is None:
        return None
    return int(length) + (offset if status == 206 else 0)


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path: Path, *, size: int | None, sha256: str | None, md5: str | None, what: str) -> None:
    """Check size and checksums of ``path``; ``ValueError`` naming expected and actual values."""
    actual = path.stat().st_size
    if size is not None and actual != size:
        raise ValueError(f"{what}: size mismatch, expected {size} bytes, got {actual}")
    for algorithm, expected in (("sha256", sha256), ("md5", md5)):
        if expected is not None:
            got = _digest(path, algorithm)
            if got.lower() != expected.lower():
                raise ValueError(f"{what}: {algorithm} checksum mismatch, expected {expected}, got {got}")


def _open(url: str, offset: int, timeout: float) -> tuple[http.client.HTTPResponse | None, int, int | None]:
    """(response or None, status, total size) for a request from byte ``offset``."""
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        resp: http.client.HTTPResponse = urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=timeout
        )
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:  # nothing left to fetch: the .part file is already whole (or too long)
            total = _total_from(err.headers, 416, offset)
            err.close()
            return None, 416, total
        raise
    return resp, resp.status, _total_from(resp.headers, resp.status, offset)


def fetch(remote: Remote, dest: Path, *, progress: bool = True, timeout: float = 60.0) -> Path:
    """Download ``remote`` to ``dest`` (resuming ``dest.part``), verify it, then rename it onto ``dest``.

    Args:
        remote: what to fetch and how to verify it.
        dest: final path of the file.
        progress: show a tqdm progress bar.
        timeout: socket timeout in seconds.

    Returns:
        ``dest``.

    Raises:
        ValueError: size or checksum mismatch, or the server announces another size than expected.
        urllib.error.URLError: network failure (the ``.part`` file is kept; call again to resume).

    """
    if dest.is_file():  # a kept archive from an earlier run: reuse it if it still verifies
        try:
            verify(dest, size=remote.size, sha256=remote.sha256, md5=remote.md5, what=str(dest))
            return dest
        except ValueError:
            dest.unlink()
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    if remote.size is not None and offset > remote.size:
        part.unlink()
        offset = 0
    size = remote.size
    if size is None or offset < size:
        resp, status, total = _open(remote.url, offset, timeout)
        if size is not None and total is not None and total != size:
            if resp is not None:
                resp.close()
            raise ValueError(f"{remote.url}: the server announces {total} bytes, expected {size}")
        size = size if size is not None else total
        if resp is not None:
            mode = "ab" if offset and status == 206 else "wb"
            start = offset if mode == "ab" else 0
            with (
                resp,
                open(part, mode) as fh,
                tqdm(
                    total=size, initial=start, unit="B", unit_scale=True, desc=dest.name, disable=not progress
                ) as bar,
            ):
                for chunk in iter(lambda: resp.read(CHUNK), b""):
                    fh.write(chunk)
                    bar.update(len(chunk))
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have < size:
        raise ValueError(f"{dest.name}: incomplete download ({have} of {size} bytes); run again to resume")
    try:
        verify(part, size=size, sha256=remote.sha256, md5=remote.md5, what=f"download of {remote.url}")
    except ValueError as err:
        part.unlink()
        raise ValueError(f"{err}; the partial file was deleted, run again to download afresh") from None
    os.replace(part, dest)
    return dest
