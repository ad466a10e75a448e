"""
Plain-numpy encodings computed the way the TorchSpatial reference does (baseline for the benchmark).

The reference moves the batch to numpy, builds ``[B, 1, S, 2]`` frequency grids with ``expand_dims`` /
``repeat`` on float64 arrays, concatenates the terms and converts back with ``torch.FloatTensor``. These
functions reproduce that path so the benchmark can report our speed-up as a ratio measured in one run.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from engine.encoders.pe.frequencies import geometric_frequencies


def _freq_mat(frequency_num: int, min_radius: float, max_radius: float) -> np.ndarray:
    freq_list = geometric_frequencies(frequency_num, min_radius, max_radius).numpy()
    return np.repeat(np.expand_dims(freq_list, axis=1), 2, axis=1)  # [S, 2]


def sphere_c_numpy(coords: torch.Tensor, frequency_num: int = 64, min_radius: float = 0.001) -> torch.Tensor:
    """SphereC via numpy (reference style)."""
    coords_mat = np.asarray(coords.detach().cpu().numpy()).astype(float)[:, None, :]  # [B, 1, 2]
    freq_mat = _freq_mat(frequency_num, min_radius, 1.0)
    lon = np.expand_dims(np.expand_dims(coords_mat[:, :, 0] * math.pi / 180, axis=2), axis=3)
    lat = np.expand_dims(np.expand_dims(coords_mat[:, :, 1] * math.pi / 180, axis=2), axis=3)
    lon = lon * freq_mat[:, :1]  # [B, 1, S, 1]
    lat = lat * freq_mat[:, :1]
    lat_sin, lat_cos = np.sin(lat), np.cos(lat)
    lon_sin, lon_cos = np.sin(lon), np.cos(lon)
    spr = np.concatenate([lat_sin, lat_cos * lon_cos, lat_cos * lon_sin], axis=-1)
    spr = np.reshape(spr, (coords_mat.shape[0], 1, -1))
    return torch.FloatTensor(spr[:, 0, :])


def sphere_m_numpy(coords: torch.Tensor, frequency_num: int = 64, min_radius: float = 0.001) -> torch.Tensor:
    """SphereM via numpy (reference style)."""
    coords_mat = np.asarray(coords.detach().cpu().numpy()).astype(float)[:, None, :]
    freq_mat = _freq_mat(frequency_num, min_radius, 1.0)
    lon_single = np.expand_dims(np.expand_dims(coords_mat[:, :, 0] * math.pi / 180, axis=2), axis=3)
    lat_single = np.expand_dims(np.expand_dims(coords_mat[:, :, 1] * math.pi / 180, axis=2), axis=3)
    lon = lon_single * freq_mat[:, :1]
    lat = lat_single * freq_mat[:, :1]
    lat_sin, lat_cos = np.sin(lat), np.cos(lat)
    lon_sin, lon_cos = np.sin(lon), np.cos(lon)
    lat_single_cos = np.cos(lat_single)
    lon_single_sin, lon_single_cos = np.sin(lon_single), np.cos(lon_single)
    spr = np.concatenate(
        [
            lat_sin,
            lat_cos * lon_single_cos,
            lat_single_cos * lon_cos,
            lat_cos * lon_single_sin,
            lat_single_cos * lon_sin,
        ],
        axis=-1,
    )
    spr = np.reshape(spr, (coords_mat.shape[0], 1, -1))
    return torch.FloatTensor(spr[:, 0, :])


def space2vec_theory_numpy(
    coords: torch.Tensor, frequency_num: int = 64, min_radius: float = 0.05, max_radius: float = 360.0
) -> torch.Tensor:
    """Space2Vec-theory via numpy (reference style)."""
    coords_mat = np.asarray(coords.detach().cpu().numpy()).astype(float)[:, None, :]  # [B, 1, 2]
    unit_vec1 = np.asarray([1.0, 0.0])
    unit_vec2 = np.asarray([-1.0 / 2.0, math.sqrt(3) / 2.0])
    unit_vec3 = np.asarray([-1.0 / 2.0, -math.sqrt(3) / 2.0])
    freq_mat = _freq_mat(frequency_num, min_radius, max_radius)
    angle_mat1 = np.expand_dims(np.matmul(coords_mat, unit_vec1), axis=-1)
    angle_mat2 = np.expand_dims(np.matmul(coords_mat, unit_vec2), axis=-1)
    angle_mat3 = np.expand_dims(np.matmul(coords_mat, unit_vec3), axis=-1)
    angle_mat = np.concatenate(
        [angle_mat1, angle_mat1, angle_mat2, angle_mat2, angle_mat3, angle_mat3], axis=-1
    )
    angle_mat = np.expand_dims(angle_mat, axis=-2)  # [B, 1, 1, 6]
    angle_mat = np.repeat(angle_mat, frequency_num, axis=-2)  # [B, 1, S, 6]
    angle_mat = angle_mat * np.tile(freq_mat[:, :1], (1, 6))
    spr = np.reshape(angle_mat, (coords_mat.shape[0], 1, -1))
    spr[:, :, 0::2] = np.sin(spr[:, :, 0::2])
    spr[:, :, 1::2] = np.cos(spr[:, :, 1::2])
    return torch.FloatTensor(spr[:, 0, :])


NUMPY_BASELINES = {
    "sphere_c": sphere_c_numpy,
    "sphere_m": sphere_m_numpy,
    "space2vec_theory": space2vec_theory_numpy,
}
