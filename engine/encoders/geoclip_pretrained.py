"""Offline access to the pretrained GeoCLIP location encoder shipped in the ``geoclip`` wheel.

The wheel (``pip install --no-deps geoclip==1.3.0``) holds the released location-encoder weights at
``geoclip/model/weights/location_encoder_weights.pth``: a plain state dict of 27 tensors, keys
``LocEnc{0,1,2}.capsule.*`` / ``LocEnc{0,1,2}.head.*``, one branch per RFF scale σ. Nothing here downloads:
the package folder is located with :func:`importlib.util.find_spec`, which does not run the package
``__init__`` (that one imports ``transformers`` and the image side of GeoCLIP).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

INSTALL_HINT = "pip install --no-deps geoclip==1.3.0"
WEIGHTS_FILE = ("model", "weights", "location_encoder_weights.pth")

# (wheel sub-module inside LocEnc{i}, index inside our per-branch nn.Sequential in GeoCLIPNet)
_LINEAR_KEY_MAP = (("capsule.1", "0"), ("capsule.3", "2"), ("capsule.5", "4"), ("head.0", "6"))


def geoclip_package_dir() -> Path:
    """Return the installed ``geoclip`` package folder without importing the package.

    Raises:
        ModuleNotFoundError: if the wheel is not installed; the message says how to install it.

    """
    try:
        spec = importlib.util.find_spec("geoclip")
    except (ImportError, ValueError):  # ValueError: a module in sys.modules without a spec
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "The pretrained GeoCLIP location encoder ships in the `geoclip` wheel, which is not installed. "
            f"Install it without its dependencies (no download happens at run time): `{INSTALL_HINT}`"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def geoclip_weights_path() -> Path:
    """Return the path of ``location_encoder_weights.pth`` inside the installed wheel.

    Raises:
        ModuleNotFoundError: if the wheel is not installed.
        FileNotFoundError: if the wheel is installed but the weights file is missing.

    """
    path = geoclip_package_dir().joinpath(*WEIGHTS_FILE)
    if not path.is_file():
        raise FileNotFoundError(f"GeoCLIP weights not found at {path}; reinstall with `{INSTALL_HINT}`")
    return path


def geoclip_key_map(n_branches: int = 3) -> dict[str, str]:
    """Map the wheel's state-dict keys onto :class:`~engine.encoders.geoclip.GeoCLIPEncoder` keys.

    ``LocEnc{i}.capsule.0.b`` (the RFF matrix B, shape ``(256, 2)``) becomes ``pe.branches.{i}.b``;
    the Linear layers ``capsule.{1,3,5}`` and ``head.0`` become ``net.branches.{i}.{0,2,4,6}``.

    Args:
        n_branches: number of RFF branches (3 in the release).

    Returns:
        ``{wheel_key: our_key}`` with ``9 * n_branches`` entries.

    """
    key_map: dict[str, str] = {}
    for i in range(n_branches):
        key_map[f"LocEnc{i}.capsule.0.b"] = f"pe.branches.{i}.b"
        for src, dst in _LINEAR_KEY_MAP:
            for param in ("weight", "bias"):
                key_map[f"LocEnc{i}.{src}.{param}"] = f"net.branches.{i}.{dst}.{param}"
    return key_map


def remap_geoclip_state_dict(state: Mapping[str, Tensor], n_branches: int = 3) -> dict[str, Tensor]:
    """Rename a wheel state dict to our module names, refusing missing or unexpected keys.

    Args:
        state: the wheel's state dict (``LocEnc{i}.*`` keys).
        n_branches: number of RFF branches expected.

    Returns:
        The same tensors under :func:`geoclip_key_map` names.

    Raises:
        ValueError: listing the missing and unexpected keys when the key sets differ.

    """
    key_map = geoclip_key_map(n_branches)
    missing = sorted(set(key_map) - set(state))
    unexpected = sorted(set(state) - set(key_map))
    if missing or unexpected:
        raise ValueError(
            f"GeoCLIP weights do not match the expected {len(key_map)} keys: "
            f"missing={missing}, unexpected={unexpected}"
        )
    return {key_map[key]: tensor for key, tensor in state.items()}


def load_geoclip_state_dict() -> dict[str, Tensor]:
    """Load the wheel's location-encoder weights (CPU, ``weights_only``) under our module names."""
    state = torch.load(geoclip_weights_path(), weights_only=True, map_location="cpu")
    return remap_geoclip_state_dict(state)


def _stub_package(name: str, path: Path) -> types.ModuleType:
    """Make an empty package module whose ``__path__`` points at ``path`` (its ``__init__`` is not run)."""
    module = types.ModuleType(name)
    module.__path__ = [str(path)]
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    module.__spec__.submodule_search_locations = [str(path)]
    return module


def load_reference_geoclip_location_encoder() -> nn.Module:
    """Return the wheel's own ``LocationEncoder`` with its pretrained weights, in eval mode (for tests).

    Only ``geoclip.model.location_encoder`` (and the ``misc`` / ``rff`` modules it imports) is executed:
    stub modules stand in for the ``geoclip`` and ``geoclip.model`` packages, whose ``__init__`` would
    import ``transformers``. ``sys.modules`` is restored afterwards and the global torch RNG is left
    untouched (the wheel samples its RFF matrices before overwriting them with the weights).
    Its input is ``(lat, lon)`` in degrees, shape ``[N, 2]``; its output is ``[N, 512]``.

    Raises:
        ModuleNotFoundError: if the wheel is not installed.

    """
    name = "geoclip.model.location_encoder"
    if name in sys.modules:
        module = sys.modules[name]
    else:
        package_dir = geoclip_package_dir()
        saved = {key: mod for key, mod in sys.modules.items() if key.split(".")[0] == "geoclip"}
        try:
            sys.modules.setdefault("geoclip", _stub_package("geoclip", package_dir))
            sys.modules.setdefault("geoclip.model", _stub_package("geoclip.model", package_dir / "model"))
            with warnings.catch_warnings():  # its rff module uses the deprecated torch.jit.script
                warnings.simplefilter("ignore", DeprecationWarning)
                module = importlib.import_module(name)
        finally:
            for key in [key for key in sys.modules if key.split(".")[0] == "geoclip"]:
                del sys.modules[key]
            sys.modules.update(saved)
    with torch.random.fork_rng(devices=[]):
        encoder = module.LocationEncoder()
    return encoder.eval()
