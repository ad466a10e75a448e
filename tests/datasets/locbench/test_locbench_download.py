"""``data download`` against a local HTTP server on 127.0.0.1 (no other network)."""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import re
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

import engine.datasets.locbench.sources as sources
from engine.datasets.base import DATASETS
from engine.datasets.locbench.download import download, register_download
from tests.datasets.locbench.fakes import FAKES


class _Handler(BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}
    honour_range = True
    cut_after: int | None = None  # close the connection after this many body bytes (once)
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Range")))
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and self.honour_range:
            start = int(match.group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            body = body[start:]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.cut_after is not None:
            body, type(self).cut_after = body[: self.cut_after], None
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"files": {}, "seen": [], "honour_range": True, "cut_after": None})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def _tree(tmp_path: Path, name: str = "yfcc") -> Path:
    src = tmp_path / "src"
    FAKES[name].write(src)
    return src


def _targz(src: Path, arcroot: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for path in sorted(src.rglob("*")):
            tf.add(path, arcname=f"{arcroot}{path.relative_to(src)}", recursive=False)
    return buf.getvalue()


def _zip(src: Path, arcroot: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(p for p in src.rglob("*") if p.is_file()):
            zf.write(path, f"{arcroot}{path.relative_to(src)}")
    return buf.getvalue()


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name != "yfcc")


def test_full_download_tar_gz(server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    base, handler = server
    handler.files["/yfcc.tar.gz"] = _targz(_tree(tmp_path))
    root = tmp_path / "data"
    path = download("yfcc", root, f"{base}/yfcc.tar.gz", progress=False)
    assert path == root / "yfcc" and _leftovers(root) == []  # archive, .part and temp folders gone
    assert len(DATASETS.build("yfcc", root=root).test) > 0
    # already present: no second request
    download("yfcc", root, f"{base}/yfcc.tar.gz", progress=False)
    assert len(handler.seen) == 1


def test_zip_with_nested_folder_and_kept_archive(server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    base, handler = server
    handler.files["/files/42"] = _zip(_tree(tmp_path), arcroot="LocBench/")  # LocBench/yfcc/...
    root = tmp_path / "data"
    download("yfcc", root, f"{base}/files/42", progress=False, keep_archive=True)
    assert (root / "yfcc/train_test_split.csv").is_file() and (root / "yfcc.zip").is_file()


def test_resume_partial_download(server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    base, handler = server
    blob = _targz(_tree(tmp_path))
    handler.files["/yfcc.tar.gz"] = blob
    root = tmp_path / "data"
    root.mkdir()
    (root / "yfcc.tar.gz.part").write_bytes(blob[: len(blob) // 3])
    sha = hashlib.sha256(blob).hexdigest()
    download("yfcc", root, f"{base}/yfcc.tar.gz", sha256=sha, progress=False)
    assert handler.seen == [("/yfcc.tar.gz", f"bytes={len(blob) // 3}-")]
    assert (root / "yfcc/class_names.csv").is_file() and _leftovers(root) == []


def test_interrupted_transfer_resumes(server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    base, handler = server
    blob = _targz(_tree(tmp_path))
    handler.files["/yfcc.tar.gz"] = blob
    handler.cut_after = 1000
    root = tmp_path / "data"
    with pytest.raises((ValueError, http.client.IncompleteRead)):  # "incomplete download (1000 of …)"
        download("yfcc", root, f"{base}/yfcc.tar.gz", progress=False)
    assert (root / "yfcc.tar.gz.part").stat().st_size == 1000
    download("yfcc", root, f"{base}/yfcc.tar.gz", sha256=hashlib.sha256(blob).hexdigest(), progress=False)
    assert handler.seen[-1] == ("/yfcc.tar.gz", "bytes=1000-") and (root / "yfcc/class_names.csv").is_file()


def test_server_ignoring_range_restarts(server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    base, handler = server
    blob = _targz(_tree(tmp_path))
    handler.files["/yfcc.tar.gz"] = blob
    handler.honour_range = False
    root = tmp_path / "data"
    root.mkdir()
    (root / "yfcc.tar.gz.part").write_bytes(b"garbage that must not be kept")
    download("yfcc", root, f"{base}/yfcc.tar.gz", sha256=hashlib.sha256(blob).hexdigest(), progress=False)
    assert (root / "yfcc/train_test_split.csv").is_file()


def test_checksum_mismatch(server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    base, handler = server
    handler.files["/yfcc.tar.gz"] = _targz(_tree(tmp_path))
    root = tmp_path / "data"
    with pytest.raises(ValueError, match="sha256 checksum mismatch"):
        download("yfcc", root, f"{base}/yfcc.tar.gz", sha256="0" * 64, progress=False)
    assert not (root / "yfcc").exists() and not (root / "yfcc.tar.gz.part").exists()


def test_size_mismatch_from_table(
    server: tuple[str, type[_Handler]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, handler = server
    blob = _targz(_tree(tmp_path))
    handler.files["/yfcc.tar.gz"] = blob
    entry = replace(sources.SOURCES["yfcc"], url=f"{base}/yfcc.tar.gz", size=len(blob) + 7)
    monkeypatch.setitem(sources.SOURCES, "yfcc", entry)
    with pytest.raises(ValueError, match=f"expected {len(blob) + 7}"):
        download("yfcc", tmp_path / "data", progress=False)


def test_figshare_api_resolution_checks_md5(server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    base, handler = server
    blob = _zip(_tree(tmp_path, "sustainbench_women_bmi"))
    listing = [
        {"name": "yfcc.zip", "size": 10, "computed_md5": "x", "download_url": f"{base}/files/1"},
        {
            "name": "sustainbench.zip",
            "size": len(blob),
            "computed_md5": hashlib.md5(blob).hexdigest(),
            "download_url": f"{base}/files/2",
        },
    ]
    handler.files.update({"/api": json.dumps(listing).encode(), "/files/2": blob})
    root = tmp_path / "data"
    download("sustainbench_women_bmi", root, progress=False, api_url=f"{base}/api")
    assert len(DATASETS.build("sustainbench_women_edu", root=root).test) > 0  # same archive, other task
    listing[1]["computed_md5"] = "0" * 32
    handler.files["/api"] = json.dumps(listing).encode()
    with pytest.raises(ValueError, match="md5 checksum mismatch"):
        download("sustainbench_asset_index", tmp_path / "other", progress=False, api_url=f"{base}/api")
    with pytest.raises(ValueError, match=r"no archive named fmow.*sustainbench\.zip"):
        download("fmow", tmp_path / "other", progress=False, api_url=f"{base}/api")


def _evil_tar(kind: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("yfcc/../../evil.txt" if kind == "dotdot" else "yfcc/link")
        if kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, "../../etc/passwd"
            tf.addfile(info)
        else:
            info.size = 4
            tf.addfile(info, io.BytesIO(b"evil"))
    return buf.getvalue()


def _evil_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("yfcc/class_names.csv", "id,name\n")
        zf.writestr("../evil.txt", "evil")
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["dotdot", "symlink", "zip"])
def test_traversal_member_refused(kind: str, server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    base, handler = server
    handler.files["/yfcc.tar.gz"] = _evil_zip() if kind == "zip" else _evil_tar(kind)
    root = tmp_path / "data"
    with pytest.raises(ValueError, match="path traversal"):
        download("yfcc", root, f"{base}/yfcc.tar.gz", progress=False)
    assert not (tmp_path / "evil.txt").exists() and not (root / "yfcc").exists()
    assert not any(p.name.endswith(".unpack") for p in root.iterdir())


def test_incomplete_existing_folder_needs_force(server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    base, handler = server
    handler.files["/yfcc.tar.gz"] = _targz(_tree(tmp_path))
    root = tmp_path / "data"
    (root / "yfcc").mkdir(parents=True)
    with pytest.raises(ValueError, match="--force"):
        download("yfcc", root, f"{base}/yfcc.tar.gz", progress=False)
    download("yfcc", root, f"{base}/yfcc.tar.gz", progress=False, force=True)
    assert (root / "yfcc/train_test_split.csv").is_file() and _leftovers(root) == []


def test_archive_without_the_files(server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    base, handler = server
    handler.files["/yfcc.tar.gz"] = _targz(_tree(tmp_path, "fmow"))
    with pytest.raises(ValueError, match=r"train_test_split\.csv"):
        download("yfcc", tmp_path / "data", f"{base}/yfcc.tar.gz", progress=False)


def test_cli_register_download(
    server: tuple[str, type[_Handler]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, handler = server
    handler.files["/yfcc.tar.gz"] = _targz(_tree(tmp_path))
    parser = argparse.ArgumentParser(prog="data")
    register_download(parser.add_subparsers(dest="data_command", required=True))
    root = tmp_path / "data"
    args = parser.parse_args(
        ["download", "yfcc", "--root", str(root), "--url", f"{base}/yfcc.tar.gz", "--no-progress"]
    )
    assert args.func(args) == 0 and (root / "yfcc").is_dir()
    args = parser.parse_args(["download", "fmow", "--root", str(root), "--url", f"{base}/missing.zip"])
    assert args.func(args) == 1 and "run the same command again to resume" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["download", "imagenet", "--root", str(root)])
