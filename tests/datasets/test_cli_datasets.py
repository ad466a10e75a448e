import json
import sys

import pytest

from engine.cli import data as data_cli
from engine.cli import main
from engine.cli.datasets import dataset_row, missing_files
from engine.datasets import DATASETS, list_datasets
from engine.registry import Entry


@pytest.fixture(scope="module", autouse=True)
def _module_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        # one cache for the session's dataset tests: keys include every parameter, so sharing is safe
        mp.setenv("LOCLAB_CACHE", str(tmp_path_factory.getbasetemp() / "loclab_cache"))
        yield


def test_datasets_lists_embedded_with_sizes(capsys):
    assert main(["datasets", "--group", "embedded"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert set(lines) == set(list_datasets("embedded"))
    assert (
        "10,000" in lines["checkerboard"]
        and "16" in lines["checkerboard"]
        and "embedded" in lines["checkerboard"]
    )
    assert "51,006" in lines["land_ocean"] and "regression" in lines["cities_population"]


def test_datasets_checks_downloadable_files_without_loading(tmp_path, capsys):
    entry = Entry(
        "fake",
        lambda **kw: pytest.fail("must not load"),
        {"group": "locbench", "task": "regression", "files": ["fake/a.csv", "fake/b.npy"]},
    )
    assert missing_files(entry, None) == ["fake/a.csv", "fake/b.npy"]
    assert "pass --root" in dataset_row(entry, None)["data"]
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "a.csv").write_text("x")
    assert dataset_row(entry, str(tmp_path))["data"].startswith("missing 1 file(s)")
    (tmp_path / "fake" / "b.npy").write_text("x")
    assert dataset_row(entry, str(tmp_path))["data"] == "present"
    checked = Entry(
        "fake2", lambda **kw: None, {"group": "locbench", "check": lambda root: [], "sizes": {"train": 5}}
    )
    row = dataset_row(checked, str(tmp_path))
    assert row["data"] == "present" and row["train"] == "5"
    assert main(["datasets", "--group", "locbench", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in list_datasets("locbench"):  # LocBench loaders, when registered: reported absent, not loaded
        assert name in out
    assert "present" not in out.replace("not present", "")


def test_data_show_prints_summary(capsys):
    assert main(["data", "show", "checkerboard"]) == 0
    out = capsys.readouterr().out
    for text in (
        "classification, 16 classes",
        "train 10,000 | val 10,000 | test 10,000",
        "licence:",
        "notes:",
        "bbox lon [",
        "largest classes (train)",
    ):
        assert text in out
    assert main(["data", "show", "cities_population", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["task"] == "regression" and summary["split_config"]["split"] == "random"
    assert set(summary["target"]["train"]) == {"n", "mean", "std", "min", "max"}
    assert main(["data", "show", "checkerboard", "--split", "spatial_block", "--seed", "1", "--json"]) == 0
    config = json.loads(capsys.readouterr().out)["split_config"]
    assert config["split"] == "spatial_block" and config["seed"] == 1


def test_data_show_unknown_name_is_a_one_line_error(capsys):
    assert main(["data", "show", "no_such_dataset"]) == 2
    assert "valid:" in capsys.readouterr().err


def test_data_group_is_extensible(tmp_path, monkeypatch, capsys):
    (tmp_path / "fake_download_ext.py").write_text(
        "def register_download(sub):\n"
        "    p = sub.add_parser('download')\n"
        "    p.add_argument('name')\n"
        "    p.set_defaults(func=lambda args: print('downloading', args.name) or 0)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(
        data_cli,
        "EXTENSIONS",
        (
            ("fake_download_ext", "register_download"),
            ("engine.datasets.no_such_module.download", "register_download"),
        ),
    )
    assert main(["data", "download", "yfcc"]) == 0
    assert "downloading yfcc" in capsys.readouterr().out
    sys.modules.pop("fake_download_ext", None)


def test_registry_names_are_unique_and_grouped():
    groups = {e.meta.get("group") for e in DATASETS}
    assert groups <= {"embedded", "locbench"}
