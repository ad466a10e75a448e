"""engine.maps: H3 grids, aggregation, globe embeddings, RGB reduction, PE channels, difference maps."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest
import torch

import engine
from engine.maps import (
    SCALE_H3_RES,
    aggregate_h3,
    build_pe,
    difference_map,
    embed_globe,
    embed_points,
    geobias_hotspots,
    h3_cells,
    pe_channel,
    pe_channel_info,
    pe_defaults,
    points_table,
    read_points_csv,
    suggested_resolution,
    to_rgb,
)

LABELLED = [
    "sphere_c",
    "sphere_c_plus",
    "sphere_m",
    "sphere_m_plus",
    "dfs",
    "space2vec_grid",
    "space2vec_theory",
    "nerf",
    "spherical_harmonics",
    "wrap",
    "xyz",
    "direct",
    "rff",
    "rbf",
    "tile",
]
SMALL = {
    "sphere_c": {"frequency_num": 4},
    "sphere_c_plus": {"frequency_num": 4},
    "sphere_m": {"frequency_num": 4},
    "sphere_m_plus": {"frequency_num": 4},
    "dfs": {"frequency_num": 3},
    "space2vec_grid": {"frequency_num": 4},
    "space2vec_theory": {"frequency_num": 4},
    "nerf": {"frequency_num": 4},
    "spherical_harmonics": {"legendre_polys": 5},
    "rff": {"frequency_num": 8},
    "rbf": {"num_anchors": 8},
    "tile": {"cell_size": 30.0, "embed_dim": 4},
}


@pytest.mark.parametrize(("res", "count"), [(0, 122), (1, 842), (2, 5882)])
def test_h3_cells_cover_the_globe(res: int, count: int) -> None:
    ids, lonlat = h3_cells(res)
    assert len(ids) == count == len(set(ids.tolist()))
    assert lonlat.shape == (count, 2) and lonlat.dtype == torch.float32
    assert all(h3.get_resolution(c) == res for c in ids[:50])
    lat, lng = h3.cell_to_latlng(ids[7])
    assert lonlat[7].tolist() == pytest.approx([lng, lat], abs=1e-4)
    assert (lonlat[:, 0].abs() <= 180).all() and (lonlat[:, 1].abs() <= 90).all()


def test_h3_cells_is_cached_and_copies() -> None:
    ids_a, ll_a = h3_cells(1)
    ids_b, ll_b = h3_cells(1)
    assert ids_a is ids_b and not ids_a.flags.writeable
    ll_a += 1.0
    assert not torch.equal(ll_a, ll_b)
    with pytest.raises(ValueError, match="resolution"):
        h3_cells(9)


def test_aggregate_h3_known_answer() -> None:
    paris, paris2, sydney = (2.35, 48.85), (2.36, 48.86), (151.2, -33.87)
    lonlat = np.array([paris, paris2, sydney, (np.nan, 0.0)])
    values = np.array([1.0, 0.0, 1.0, 1.0])
    out = aggregate_h3(lonlat, values, 2)
    c_paris = h3.latlng_to_cell(48.85, 2.35, 2)
    c_sydney = h3.latlng_to_cell(-33.87, 151.2, 2)
    assert list(out.columns) == ["cell", "value_mean", "count"]
    rows = out.set_index("cell")
    assert len(out) == 2  # the NaN point is dropped
    assert rows.loc[c_paris, "value_mean"] == 0.5 and rows.loc[c_paris, "count"] == 2
    assert rows.loc[c_sydney, "value_mean"] == 1.0 and rows.loc[c_sydney, "count"] == 1
    assert out["cell"].is_monotonic_increasing
    booleans = aggregate_h3(torch.tensor(lonlat[:3]), torch.tensor([True, False, True]), 2)
    pd.testing.assert_frame_equal(booleans, out)


def test_aggregate_h3_empty_and_bad_shapes() -> None:
    empty = aggregate_h3(np.zeros((0, 2)), np.zeros(0), 1)
    assert list(empty.columns) == ["cell", "value_mean", "count"] and len(empty) == 0
    with pytest.raises(ValueError, match="points but"):
        aggregate_h3(np.zeros((3, 2)), np.zeros(2), 1)


def test_embed_globe_batching_equals_one_shot() -> None:
    enc = engine.create_encoder("sphere_c", frequency_num=4, hidden_dim=16, num_hidden_layer=1)
    enc.train()
    one = embed_globe(enc, 1)
    batched = embed_globe(enc, 1, batch_size=100)
    assert one.shape == (842, enc.out_dim)
    torch.testing.assert_close(batched, one)
    assert enc.training  # mode restored
    _, lonlat = h3_cells(1)
    with torch.no_grad():
        torch.testing.assert_close(one, enc.eval()(lonlat))


def test_embed_globe_of_a_pe() -> None:
    pe = build_pe("xyz")
    out = embed_points(pe, torch.tensor([[0.0, 0.0], [90.0, 0.0]]))
    torch.testing.assert_close(out, torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), atol=1e-6, rtol=0)


@pytest.mark.parametrize("method", ["pca", "ica"])
def test_to_rgb_shape_dtype_range(method: str) -> None:
    x = torch.randn(500, 16)
    rgb = to_rgb(x, method=method, seed=0)
    assert rgb.shape == (500, 3) and rgb.dtype == np.uint8
    assert rgb.min() == 0 and rgb.max() == 255  # robust 1–99 % scaling saturates the tails
    np.testing.assert_array_equal(rgb, to_rgb(x.numpy(), method=method, seed=0))


def test_to_rgb_edge_cases() -> None:
    assert to_rgb(np.ones((10, 4))).tolist() == [[128, 128, 128]] * 10
    two = to_rgb(np.stack([np.linspace(0, 1, 50), np.zeros(50)], axis=1))
    assert two.shape == (50, 3) and (two[:, 1:] == 128).all() and two[0, 0] == 0 and two[-1, 0] == 255
    with pytest.raises(ValueError, match="method"):
        to_rgb(np.ones((5, 3)), method="tsne")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", LABELLED)
def test_pe_channel_info_covers_every_column(name: str) -> None:
    kwargs = SMALL.get(name, {})
    info = pe_channel_info(name, **kwargs)
    assert [c.index for c in info] == list(range(build_pe(name, **kwargs).out_dim))
    assert all(c.label and c.term for c in info)


def test_pe_channel_labels() -> None:
    info = pe_channel_info("sphere_c", frequency_num=4)
    assert info[1].term == "sin φ_s" and info[1].scale == 1 and "ω=" in info[1].label
    assert info[3].frequency == pytest.approx(1.0)  # the coarsest scale: ω = 1 / max_radius
    assert info[3].wavelength_km == pytest.approx(2 * np.pi * 6371.0)
    assert info[4].term == "cos φ_s cos λ_s" and info[4].scale == 0
    sh = pe_channel_info("spherical_harmonics", legendre_polys=3)
    assert (sh[5].scale, sh[5].order) == (2, -1)
    assert pe_defaults("sphere_c") == {"frequency_num": 64, "min_radius": 0.001, "max_radius": 1.0}


@pytest.mark.parametrize("name", ["sphere_c_plus", "space2vec_grid", "nerf", "spherical_harmonics", "dfs"])
def test_pe_channel_equals_the_pe_column(name: str) -> None:
    kwargs = SMALL[name]
    _, lonlat = h3_cells(1)
    pe = engine.create_position_encoding(name, **kwargs)
    full = pe(lonlat)
    for channel in (0, pe.out_dim // 2, pe.out_dim - 1):
        got = pe_channel(name, channel, lonlat, batch_size=300, **kwargs)
        torch.testing.assert_close(got, full[:, channel].float())


def test_pe_channel_formula_and_range() -> None:
    lonlat = torch.tensor([[10.0, 30.0], [-120.0, -45.0]])
    info = pe_channel_info("sphere_c", frequency_num=4)
    c = next(c for c in info if c.term == "sin φ_s" and c.scale == 2)
    expected = torch.sin(torch.deg2rad(lonlat[:, 1]).double() * c.frequency).float()
    torch.testing.assert_close(pe_channel("sphere_c", c.index, lonlat, frequency_num=4), expected)
    with pytest.raises(ValueError, match="channel"):
        pe_channel("sphere_c", 12, lonlat, frequency_num=4)


def _preds(points: list[tuple[float, float]], correct: list[bool]) -> pd.DataFrame:
    lon, lat = zip(*points, strict=True)
    return pd.DataFrame({"lon": lon, "lat": lat, "has_location": True, "correct": correct})


def test_difference_map_known_answer() -> None:
    paris, paris2, sydney, lima = (2.35, 48.85), (2.36, 48.86), (151.2, -33.87), (-77.0, -12.0)
    a = _preds([paris, paris2, sydney], [True, True, False])
    b = _preds([paris, paris2, lima], [True, False, True])
    out = difference_map(a, b, 2).set_index("cell")
    c_paris = h3.latlng_to_cell(48.85, 2.35, 2)
    assert list(out.index) == [c_paris]  # only cells both runs cover
    assert out.loc[c_paris, "value_a"] == 1.0 and out.loc[c_paris, "value_b"] == 0.5
    assert out.loc[c_paris, "diff"] == 0.5
    assert (out.loc[c_paris, "count_a"], out.loc[c_paris, "count_b"]) == (2, 2)


def test_difference_map_regression_and_located_rows() -> None:
    a = pd.DataFrame(
        {"lon": [0.0, 0.0], "lat": [0.0, 0.0], "has_location": [True, False], "abs_error": [1.0, 9.0]}
    )
    b = pd.DataFrame({"lon": [0.0], "lat": [0.0], "abs_error": [3.0]})
    out = difference_map(a, b, 1)
    assert out["diff"].tolist() == [-2.0]


def test_scale_mapping_and_marks() -> None:
    assert SCALE_H3_RES == {"100km": 3, "1000km": 1, "knn": 2}
    assert [suggested_resolution(n) for n in (300, 10_000, 50_000, 300_000)] == [1, 1, 2, 3]
    from engine.metrics.geobias import marks_from_predictions

    marks, _, _ = marks_from_predictions(pd.DataFrame({"correct": [True, False]}))
    assert marks.tolist() == [1.0, -1.0]
    marks, _, rule = marks_from_predictions(pd.DataFrame({"error": [1.0, -2.0, 3.0]}))
    assert marks.tolist() == [1.0, 1.0, -1.0] and "median" in rule


def test_geobias_hotspots_all_correct_marked_equals_unmarked() -> None:
    ll = engine.geo.fibonacci_lattice(150).numpy()
    df = pd.DataFrame({"lon": ll[:, 0], "lat": ll[:, 1], "correct": True})
    hs = geobias_hotspots(df, "knn")
    assert hs.res == 2 and hs.n_points == 150
    assert hs.scores["marked"] == pytest.approx(hs.scores["unmarked"])
    assert hs.cells["count"].sum() == 150 and set(hs.cells.columns) == {"cell", "unmarked", "marked", "count"}
    with pytest.raises(ValueError):
        geobias_hotspots(df.head(50), "knn")


def test_upload_validation() -> None:
    ok = "lon,lat,correct\n" + "\n".join(f"{i % 360 - 180},{i % 180 - 90},{i % 2}" for i in range(120))
    table = points_table(read_points_csv(ok.encode()), "correct")
    assert list(table.columns) == ["lon", "lat", "correct"] and len(table) == 120
    cases = {
        "lon,lat\n1,2\n": "missing column",
        "lon,lat,correct\n1,,1\n" * 2: "missing, non-numeric",
        "lon,lat,correct\n10,95,1\n": "latitudes outside",
        "lon,lat,correct\n1,2,1\n": "at least",
        "lon,lat,correct\n1,2,maybe\n" * 1: "at least",
    }
    for text, message in cases.items():
        with pytest.raises(ValueError, match=message):
            points_table(read_points_csv(text.encode()), "correct")
    bad_marks = "lon,lat,correct\n" + "1,2,maybe\n" * 120
    with pytest.raises(ValueError, match="0/1"):
        points_table(read_points_csv(bad_marks.encode()), "correct")
    with pytest.raises(ValueError, match="limit"):
        read_points_csv(b"x" * 101, max_bytes=100)
    with pytest.raises(ValueError, match="empty"):
        read_points_csv(b"")
    err = points_table(read_points_csv(("lon,lat,error\n" + "1,2,-3\n" * 100).encode()), "error")
    assert err["abs_error"].tolist() == [3.0] * 100
