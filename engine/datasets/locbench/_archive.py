"""Safe, atomic unpacking of a downloaded zip / tar archive into ``root/<folder>``.

Every member is checked before anything is written: absolute paths, ``..`` components, links pointing
outside the archive and device/FIFO members are refused (path traversal). The archive is extracted into a
temporary folder beside the target, the folder holding the dataset's files is located inside it (the
archive may hold the files directly, ``<folder>/…`` or ``<anything>/<folder>/…``), checked for the required
files, then renamed onto the target in one step: an interrupted unpack never leaves a half-filled target.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath


def _unsafe_path(name: str) -> bool:
    """True when archive member ``name`` would land outside the extraction folder."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        return True
    return ".." in PurePosixPath(posix).parts


def _refuse(archive: Path, member: str, why: str) -> ValueError:
    return ValueError(f"refusing to unpack {archive.name}: member {member!r} {why} (path traversal)")


def check_members(archive: Path) -> None:
    """Raise ``ValueError`` naming the first member that could escape the extraction folder."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if _unsafe_path(name):
                    raise _refuse(archive, name, "would be written outside the target folder")
        return
    with tarfile.open(archive) as tf:
        for m in tf.getmembers():
            if _unsafe_path(m.name):
                raise _refuse(archive, m.name, "would be written outside the target folder")
            if m.issym() or m.islnk():
                # symlink targets are relative to the member's folder, hard links to the archive root
                base = PurePosixPath(m.name).parent if m.issym() else PurePosixPath()
                target = os.path.normpath(str(base / m.linkname.replace("\\", "/")))
                if m.linkname.startswith("/") or target == ".." or target.startswith("../"):
                    raise _refuse(archive, m.name, f"links outside the target folder ({m.linkname!r})")
            elif not (m.isfile() or m.isdir()):
                raise _refuse(archive, m.name, "is a device, FIFO or other special file")


def archive_kind(archive: Path) -> str:
    """``"zip"`` or ``"tar"`` (any compression) by content; ``ValueError`` for anything else."""
    if zipfile.is_zipfile(archive):
        return "zip"
    if tarfile.is_tarfile(archive):
        return "tar"
    raise ValueError(f"{archive} is neither a zip nor a tar archive (corrupt download? delete it and retry)")


def _extract(archive: Path, dest: Path) -> None:
    if archive_kind(archive) == "zip":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(dest, filter="data")  # second line of defence after check_members


def _locate(tmp: Path, folder: str, required: Sequence[str]) -> Path:
    """The folder inside ``tmp`` that holds the dataset files (``required`` are relative to it)."""
    candidates = [tmp / folder, *sorted(tmp.glob(f"*/{folder}")), tmp]
    entries = [p for p in tmp.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        candidates.append(entries[0])
    for cand in candidates:
        if cand.is_dir() and all((cand / rel).is_file() for rel in required):
            return cand
    best = next((c for c in candidates if c.is_dir()), tmp)
    missing = [rel for rel in required if not (best / rel).is_file()]
    raise ValueError(
        f"the archive does not contain the expected files of {folder}/: missing {missing} (looked in "
        f"{', '.join(str(c.relative_to(tmp)) for c in candidates)} inside the archive)"
    )


def unpack(archive: Path, root: Path, folder: str, required: Sequence[str], *, replace: bool = False) -> Path:
    """Unpack ``archive`` so that ``root / folder`` holds the dataset, atomically.

    Args:
        archive: a zip or tar (gz, bz2, xz) file.
        root: the data root.
        folder: the dataset folder under ``root`` (e.g. ``"birdsnap"``).
        required: paths relative to ``root / folder`` that must exist after unpacking.
        replace: replace an existing ``root / folder`` (else it must not exist).

    Returns:
        ``root / folder``.

    """
    check_members(archive)
    target = root / folder
    if target.exists() and not replace:
        raise ValueError(f"{target} already exists: remove it or pass --force")
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder}.", suffix=".unpack", dir=root))
    try:
        _extract(archive, tmp)
        source = _locate(tmp, folder, required)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder}.", suffix=".old", dir=root))
            os.replace(target, old / folder)
            os.replace(source, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(source, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
