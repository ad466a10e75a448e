"""The dashboard in a real browser: every page loads, the globes paint, a click changes the page, and no
request leaves 127.0.0.1.

``streamlit run dashboard/app.py`` runs as a subprocess on a free port over a temporary run store holding one
tiny trained run; Debian's ``chromium`` (software WebGL) is driven headless by the PyPI ``playwright``
package — no browser download. Screenshots of every page go to ``tests/artifacts/`` (git-ignored), with
``browser_timings.json``. Skipped when ``/usr/bin/chromium`` or ``playwright`` is missing (CI installs both).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
PAGES = {  # url path -> (title, has a globe)
    "": ("LocLab", False),
    "train_compare": ("Train & compare", False),
    "accuracy_map": ("Accuracy map", True),
    "geobias": ("Geo-bias hotspots", True),
    "embeddings": ("Embedding maps", True),
}
GLOBE = '[data-testid="stDeckGlJsonChart"] canvas'
LOCAL = {"127.0.0.1", "localhost"}

if not Path(CHROMIUM).is_file():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing (pip install playwright)")


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tiny_run_store(root: Path) -> Path:
    """A run store with one small trained checkerboard run (so the map pages have something to draw)."""
    import engine
    from engine.training.config import TrainConfig
    from engine.training.runner import run_dir, run_one

    kwargs = {"n_train": 2000, "n_val": 500, "n_test": 2000, "cache": False}
    dataset = engine.load_dataset("checkerboard", **kwargs)
    config = TrainConfig(epochs=5, batch_size=256, lr=3e-3, n_boot=50, geobias_max_points=500, device="cpu")
    out = run_dir(root / "tiny", "checkerboard", "sphere_c_plus", 0)
    record = run_one(dataset, "sphere_c_plus", 0, out, config=config, dataset_kwargs=kwargs)
    assert record["status"] == "ok", record["error"]
    return root


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run dashboard/app.py`` on a free loopback port; yields its base URL."""
    store = tiny_run_store(tmp_path_factory.mktemp("runs"))
    port = free_port()
    log = (tmp_path_factory.mktemp("server") / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port", str(port)],
        cwd=ROOT,  # .streamlit/config.toml is read from here: loopback only, headless, no telemetry
        env={**os.environ, "LOCLAB_RUNS": str(store)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.read() == b"ok":
                        break
            except OSError:
                pass
            assert proc.poll() is None, f"streamlit exited: {Path(log.name).read_text()}"
            assert time.time() < deadline, "streamlit did not answer /_stcore/health within 60 s"
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser_page(server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, list[str]]]:
    """A headless Chromium page with a fresh profile; yields it and the list of every requested URL."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 2400},
        )
        context.on("request", lambda request: requests.append(request.url))
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(60_000)
        try:
            yield page, requests
        finally:
            context.close()
    shutil.rmtree(profile, ignore_errors=True)


def distinct_colours(png: bytes) -> int:
    """Number of distinct RGB colours in a PNG screenshot."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return len(image.getcolors(maxcolors=1 << 24) or [])


def wait_for_painted_globe(page: object, timeout: float = 45.0) -> float:
    """Seconds until the first globe canvas shows more than a few colours (software WebGL is slow)."""
    start = time.perf_counter()
    canvas = page.locator(GLOBE).first
    canvas.wait_for(state="visible", timeout=timeout * 1000)
    colours = 0
    while time.perf_counter() - start < timeout:
        colours = distinct_colours(canvas.screenshot())
        if colours > 20:
            return time.perf_counter() - start
        time.sleep(0.5)
    raise AssertionError(f"globe canvas not painted after {timeout} s ({colours} distinct colours)")


def open_page(page: object, url: str, title: str) -> float:
    """Open ``url``, wait for the page title (h1) and for Streamlit to finish running; seconds taken."""
    start = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name=title, exact=True).first.wait_for()
    wait_until_idle(page)
    return time.perf_counter() - start


IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const loading = document.querySelector('[data-testid="stSkeleton"], [data-testid="stSkeletonElement"]');
    return app && app.getAttribute("data-test-script-state") === "notRunning" && !loading;
}"""


def wait_until_idle(page: object) -> None:
    """Wait until the script run has finished and every lazily loaded widget has replaced its skeleton."""
    page.wait_for_function(IDLE, timeout=120_000, polling=200)


@pytest.mark.timeout(480)
def test_every_page_in_a_real_browser(server: str, browser_page: tuple[object, list[str]]) -> None:
    page, requests = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    try:
        for path, (title, has_globe) in PAGES.items():
            name = path or "home"
            timings[f"{name}: title shown and script idle (s)"] = open_page(page, f"{server}/{path}", title)
            if has_globe:
                timings[f"{name}: then first painted globe (s)"] = wait_for_painted_globe(page)
            page.screenshot(path=str(ARTIFACTS / f"page_{name}.png"), full_page=True)
            errors = page.locator('[data-testid="stException"]')
            assert errors.count() == 0, f"{name}: {errors.first.inner_text()}"

        # a click that changes the page: a radio on Train & compare swaps the dataset picker for an uploader
        open_page(page, f"{server}/train_compare", "Train & compare")
        assert page.locator('[data-testid="stFileUploader"]').count() == 0
        page.get_by_text("My table (CSV / Parquet)", exact=True).click()
        page.locator('[data-testid="stFileUploader"]').wait_for()

        # the Home quick start: the button starts a background job, live progress appears, then results
        open_page(page, server, "LocLab")
        start = time.perf_counter()
        page.get_by_role("button", name="Train 3 encoders").click()
        page.locator('[data-testid="stProgress"]').first.wait_for()
        timings["home: quick start, first progress bar (s)"] = time.perf_counter() - start
        page.locator("table").filter(has_text="spherical_harmonics").first.wait_for(timeout=240_000)
        timings["home: quick start, results table (s)"] = time.perf_counter() - start
        wait_until_idle(page)
        page.screenshot(path=str(ARTIFACTS / "page_home_quick_start.png"), full_page=True)

        # a second page sees the job and its runs: Train & compare lists the job and compares the new sweep
        open_page(page, f"{server}/train_compare", "Train & compare")
        page.get_by_text("Quick start: 3 encoders on a small checkerboard", exact=False).first.wait_for()
        page.locator("table").filter(has_text="spherical_harmonics").first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "page_train_compare_after_quick_start.png"), full_page=True)
    finally:
        (ARTIFACTS / "browser_timings.json").write_text(json.dumps(timings, indent=2))

    local = ("data", "blob")
    outside = sorted(
        {u for u in requests if urlparse(u).scheme not in local and urlparse(u).hostname not in LOCAL}
    )
    assert requests and not outside, f"requests left 127.0.0.1: {outside}"
