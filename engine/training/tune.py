"""Hyperparameter search for one (dataset, encoder) with Ray Tune: ASHA early stopping, Optuna sampling.

Every trial trains with :func:`engine.training.loop.fit` and reports the validation metric after each epoch
(fit's ``callback``); the ASHA scheduler stops weak trials early. Trials are sampled by Optuna
(``ray.tune.search.optuna.OptunaSearch``) when ``optuna`` is installed, else at random. Selection uses the
validation split only: the best trial is the one with the highest validation metric (test metrics are
never read).

Search space file (JSON), one entry per hyperparameter::

    {"lr": {"type": "loguniform", "low": 1e-4, "high": 1e-2},
     "hidden_dim": {"type": "choice", "values": [128, 256, 512]},
     "dropout": {"type": "uniform", "low": 0.0, "high": 0.5},
     "num_hidden_layer": {"type": "randint", "low": 1, "high": 4}}

``lr`` and ``batch_size`` set the :class:`~engine.training.config.TrainConfig` fields, every other key an
encoder kwarg (keys the encoder does not accept are dropped). ``randint``'s ``high`` is exclusive.

The best settings are written to a per-(encoder, dataset) hyperparameter table (the columns of
``locbench_hparams.csv`` plus ``dropout``, ``legendre_polys``, ``val_metric``, ``version`` and ``source``)
that ``python -m engine bench --hparams FILE`` reads; re-tuning a pair replaces its row and increments its
``version``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from engine.training.config import TrainConfig
from engine.training.hparams import encoder_accepts

Space = dict[str, dict[str, Any]]
"""``{name: {"type": "loguniform" | "uniform" | "choice" | "randint", ...}}``."""

BASE_SPACE: Space = {
    "lr": {"type": "loguniform", "low": 1e-4, "high": 3e-2},
    "frequency_num": {"type": "choice", "values": [16, 32, 64]},
    "min_radius": {"type": "loguniform", "low": 1e-3, "high": 1.0},
    "hidden_dim": {"type": "choice", "values": [128, 256, 512]},
    "num_hidden_layer": {"type": "choice", "values": [1, 2, 3]},
    "dropout": {"type": "uniform", "low": 0.0, "high": 0.5},
    "legendre_polys": {"type": "choice", "values": [5, 10, 20]},
}
"""The default space; :func:`default_space` keeps the keys an encoder accepts."""

TABLE_COLUMNS = (
    "encoder",
    "dataset",
    "lr",
    "frequency_num",
    "min_radius",
    "max_radius",
    "num_hidden_layer",
    "hidden_dim",
    "batch_size",
    "activation",
    "rbf_or_rff",
    "dropout",
    "legendre_polys",
    "val_metric",
    "version",
    "source",
)
"""Columns of the table :func:`write_best` writes (``load_hparams`` reads it)."""

CONFIG_KEYS = ("lr", "batch_size")


def default_space(encoder: str) -> Space:
    """The default search space for ``encoder`` (``lr`` plus the encoder kwargs it accepts)."""
    accepts = encoder_accepts(encoder)
    return {k: v for k, v in BASE_SPACE.items() if k in CONFIG_KEYS or k in accepts}


def load_space(path: str | Path) -> Space:
    """Read a JSON search space file (format in the module docstring); ``ValueError`` on a bad entry."""
    space = json.loads(Path(path).read_text())
    for name, spec in space.items():
        if not isinstance(spec, dict) or spec.get("type") not in (
            "loguniform",
            "uniform",
            "choice",
            "randint",
        ):
            raise ValueError(f"{path}: {name!r} needs a type of loguniform | uniform | choice | randint")
    return space


def to_tune(space: Space) -> dict[str, Any]:
    """The Ray Tune search space (``tune.loguniform`` / ``uniform`` / ``choice`` / ``randint``)."""
    from ray import tune

    out: dict[str, Any] = {}
    for name, spec in space.items():
        kind = spec["type"]
        if kind == "choice":
            out[name] = tune.choice(list(spec["values"]))
        else:
            out[name] = getattr(tune, kind)(spec["low"], spec["high"])
    return out


def trial_config(base: TrainConfig, params: dict[str, Any]) -> TrainConfig:
    """``base`` with one trial's ``params`` applied (config fields, then accepted encoder kwargs)."""
    accepts = encoder_accepts(base.encoder)
    kwargs = {**base.encoder_kwargs, **{k: v for k, v in params.items() if k in accepts}}
    changes = {k: type(getattr(base, k))(params[k]) for k in CONFIG_KEYS if k in params}
    return base.replace(encoder_kwargs=kwargs, **changes)


def _trainable(params: dict[str, Any], *, dataset: str, dataset_kwargs: dict, root: Any, base: dict) -> None:
    """One trial: load the dataset, fit, report the validation metric every epoch."""
    from ray import tune

    from engine.datasets.base import DATASETS
    from engine.training.loop import fit

    ds = DATASETS.entry(dataset).builder(root=root, **dataset_kwargs)
    config = trial_config(TrainConfig.from_dict(base), params)
    fit(ds, config, callback=lambda row: tune.report({"val_metric": float(row["val_metric"])}))


def tune_encoder(
    dataset: str,
    encoder: str,
    out: str | Path,
    *,
    config: TrainConfig,
    trials: int = 20,
    space: Space | None = None,
    dataset_kwargs: dict[str, Any] | None = None,
    root: str | None = None,
    cpus_per_trial: float = 1,
    gpus_per_trial: float = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """Search hyperparameters of ``encoder`` on ``dataset``; write the best to ``out/hparams.csv``.

    Args:
        dataset: dataset registry name.
        encoder: encoder registry name.
        out: output folder (Ray Tune's trial folders go to ``out/ray_results``).
        config: the base training config (its ``epochs`` is ASHA's maximum budget per trial).
        trials: number of trials.
        space: the search space (default :func:`default_space`).
        dataset_kwargs: loader kwargs.
        root: folder with downloaded data.
        cpus_per_trial: CPUs each trial declares.
        gpus_per_trial: GPUs each trial declares.
        seed: seeds the search algorithm.

    Returns:
        ``{"params", "val_metric", "searcher", "table"}`` of the best trial.
    """
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    out = Path(out).resolve()
    space = space if space is not None else default_space(encoder)
    base = config.replace(encoder=encoder, seed=seed, n_boot=min(config.n_boot, 20), geobias=False)
    try:
        from ray.tune.search.optuna import OptunaSearch

        searcher: Any = OptunaSearch(seed=seed)
        searcher_name = "optuna"
    except ImportError:
        searcher, searcher_name = None, "random"
    if not ray.is_initialized():
        from engine.training.executors import PROJECT_ROOT

        ray.init(
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": str(PROJECT_ROOT)}},
        )
    fn = tune.with_parameters(
        _trainable, dataset=dataset, dataset_kwargs=dict(dataset_kwargs or {}), root=root, base=base.to_dict()
    )
    tuner = tune.Tuner(
        tune.with_resources(fn, {"cpu": cpus_per_trial, "gpu": gpus_per_trial}),
        param_space=to_tune(space),
        tune_config=tune.TuneConfig(
            metric="val_metric",
            mode="max",
            num_samples=trials,
            search_alg=searcher,
            scheduler=ASHAScheduler(max_t=base.epochs, grace_period=1, reduction_factor=2),
        ),
        run_config=tune.RunConfig(
            storage_path=str(out / "ray_results"), name=f"{dataset}-{encoder}", verbose=0
        ),
    )
    results = tuner.fit()
    best = results.get_best_result(metric="val_metric", mode="max", scope="all")
    val = float(best.metrics_dataframe["val_metric"].max())
    results.get_dataframe().to_csv(out / f"trials_{dataset}_{encoder}.csv", index=False)
    table = write_best(
        out / "hparams.csv", dataset, encoder, trial_config(base, best.config), val, searcher_name
    )
    return {"params": best.config, "val_metric": val, "searcher": searcher_name, "table": str(table)}


def write_best(
    path: Path, dataset: str, encoder: str, config: TrainConfig, val_metric: float, searcher: str
) -> Path:
    """Add or replace the (encoder, dataset) row of the table ``path``, incrementing its ``version``."""
    table = pd.read_csv(path, dtype={"rbf_or_rff": str, "activation": str}) if path.is_file() else None
    version = 1
    if table is not None:
        same = (table["encoder"] == encoder) & (table["dataset"] == dataset)
        if same.any():
            version = int(table.loc[same, "version"].max()) + 1
        table = table[~same]
    row: dict[str, Any] = {
        "encoder": encoder,
        "dataset": dataset,
        "lr": config.lr,
        "batch_size": config.batch_size,
    }
    row.update({k: v for k, v in config.encoder_kwargs.items() if k in TABLE_COLUMNS})
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    row.update(val_metric=val_metric, version=version, source=f"tune:{searcher}+asha {stamp}")
    new = pd.DataFrame([row], columns=list(TABLE_COLUMNS))
    merged = new if table is None or table.empty else pd.concat([table, new], ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    merged.to_csv(path, index=False)
    return path
