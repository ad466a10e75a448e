"""Where each LocBench dataset's archive is published: URL, size and checksums per dataset.

All LocBench data sits on one Figshare record (DOI 10.6084/m9.figshare.26026798, article 26026798). The
direct file URLs, sizes and checksums of its archives could not be checked from the machines this project
is built on (no network beyond package registries), so the table below leaves ``url``, ``size``,
``sha256`` and ``md5`` as ``None`` and records only the **assumed** archive name (``<folder>.zip``). At
download time a missing URL is resolved through the public Figshare API
(:data:`FIGSHARE_FILES_API`), which lists each file's name, size, ``computed_md5`` and download URL: the
file whose name matches the archive (``<folder>.zip`` / ``.tar.gz`` / ``.tgz`` / ``.tar``) is fetched, its
size and MD5 verified. With ``--url`` the size is taken from ``Content-Length`` and a checksum is verified
only when given (``--sha256``). Fill in ``url``/``size``/``sha256`` here once they are confirmed.

Variants that share files share an archive: ``birdsnap`` and ``birdsnap_ebird`` (``birdsnap/``), the four
MOSAIKS tasks (``mosaiks/``) and the six SustainBench tasks (``sustainbench/``).
"""

from __future__ import annotations

from dataclasses import dataclass

FIGSHARE_ARTICLE_ID = 26026798
FIGSHARE_FILES_API = f"https://api.figshare.com/v2/articles/{FIGSHARE_ARTICLE_ID}/files?page_size=1000"
"""Figshare API listing of the record's files (JSON list of ``{name, size, computed_md5, download_url}``)."""

ARCHIVE_SUFFIXES: tuple[str, ...] = (".zip", ".tar.gz", ".tgz", ".tar")


@dataclass(frozen=True)
class Source:
    """One published archive.

    Attributes:
        folder: folder under the data root that the archive provides (e.g. ``"birdsnap"``).
        archive: file name of the archive on the Figshare record (assumed ``<folder>.zip``).
        url: direct download URL, or ``None`` to resolve it through the Figshare API.
        size: archive size in bytes, or ``None`` (then verified against the server's ``Content-Length``).
        sha256: hex SHA-256 of the archive, or ``None`` (unknown).
        md5: hex MD5 of the archive, or ``None`` (Figshare publishes MD5; filled in from the API when used).

    """

    folder: str
    archive: str
    url: str | None = None
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None


def _source(folder: str) -> Source:
    # URL, size and checksums unknown (not verifiable offline): resolved from the Figshare API at download.
    return Source(folder=folder, archive=f"{folder}.zip")


_FOLDER: dict[str, str] = {
    "birdsnap": "birdsnap",
    "birdsnap_ebird": "birdsnap",
    "nabirds_ebird": "nabirds",
    "inat2017": "inat_2017",
    "inat2018": "inat_2018",
    "yfcc": "yfcc",
    "fmow": "fmow",
    "mosaiks_population": "mosaiks",
    "mosaiks_forest_cover": "mosaiks",
    "mosaiks_nightlights": "mosaiks",
    "mosaiks_elevation": "mosaiks",
    "sustainbench_asset_index": "sustainbench",
    "sustainbench_women_bmi": "sustainbench",
    "sustainbench_water_index": "sustainbench",
    "sustainbench_under5_mort": "sustainbench",
    "sustainbench_sanitation_index": "sustainbench",
    "sustainbench_women_edu": "sustainbench",
}

SOURCES: dict[str, Source] = {name: _source(folder) for name, folder in _FOLDER.items()}
"""Dataset name -> its archive (the 17 LocBench names)."""


def get_source(name: str) -> Source:
    """Return the :class:`Source` of dataset ``name``; ``ValueError`` listing the valid names."""
    try:
        return SOURCES[name]
    except KeyError:
        raise ValueError(f"unknown LocBench dataset {name!r}; valid: {', '.join(SOURCES)}") from None


def archive_stem(filename: str) -> str:
    """Strip a known archive suffix (``x.tar.gz`` -> ``x``); other names are returned unchanged."""
    lower = filename.lower()
    for suffix in ARCHIVE_SUFFIXES:
        if lower.endswith(suffix):
            return filename[: -len(suffix)]
    return filename
