"""Low-dimensional linear-Gaussian data for the coordinated-dropout autoencoder demo (Fig. 3).

D latent factors z ~ N(0, I) → M observations x = A z + ε, A ~ N(0, 1), ε ~ N(0, noise_sd²).
Dims ``sample`` × ``channel``; ``x`` (noisy), ``x_clean`` (noise-free), ``split``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from neurodyn import __version__


@dataclass(frozen=True)
class LinearSpec:
    """Generator parameters (defaults: the paper's)."""

    n_factors: int = 5
    n_obs: int = 40
    n_train: int = 1000
    n_valid: int = 200
    noise_sd: float = 1.0


def make_linear_dataset(spec: LinearSpec, seed: int, attrs: dict | None = None) -> xr.Dataset:
    """Synthetic linear data as an xarray dataset (``synthetic`` = "true")."""
    rng = np.random.default_rng(seed)
    n = spec.n_train + spec.n_valid
    loading = rng.normal(0.0, 1.0, (spec.n_factors, spec.n_obs))
    clean = rng.normal(0.0, 1.0, (n, spec.n_factors)) @ loading
    noisy = clean + rng.normal(0.0, spec.noise_sd, clean.shape)
    split = np.array(["train"] * spec.n_train + ["valid"] * spec.n_valid, dtype=object)
    ds = xr.Dataset(
        {"x": (("sample", "channel"), noisy.astype(np.float32)),
         "x_clean": (("sample", "channel"), clean.astype(np.float32)),
         "split": ("sample", split)},
        coords={"sample": np.arange(n, dtype=np.int32),
                "channel": np.arange(spec.n_obs, dtype=np.int32)},
    )
    ds.attrs.update(schema="neurodyn-linear/1", dataset="SyntheticLinear", synthetic="true",
                    title="Low-dimensional linear-Gaussian data (CD autoencoder demo)",
                    generator=repr(spec), generator_seed=int(seed),
                    references="Keshtkaran & Pandarinath 2019, Fig. 3",
                    neurodyn_version=__version__)
    ds.attrs.update({k: str(v) for k, v in (attrs or {}).items()})
    return ds
