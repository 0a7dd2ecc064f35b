"""Choosing the next token from the accelerator's integer logits, on the host.

The logits are the contract's integers (value = logit * 2^-logit_frac, docs/numerics.md), the same
bits from every backend; sampling is a pure function of them and of a seeded numpy generator, so
the same seed gives the same tokens on `golden`, `sim` and `device`.

- greedy (temperature 0): argmax of the integers, the lowest id on a tie (numpy's argmax, as the
  golden model's greedy decode);
- otherwise: logits / temperature in float64, then top-k (the k largest; ties at the k-th value
  are broken towards the lower id by a stable sort), then top-p (the smallest prefix of the
  tokens sorted by probability whose mass reaches p), renormalised; one uniform draw from the
  generator picks the token by inverse CDF.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accllm.numerics.contract import NUMERICS
from accllm.runtime.errors import SessionError


@dataclass(frozen=True)
class Sampling:
    """temperature 0 = greedy; top_k 0 = no limit; top_p 1 = no limit; seed for the draws."""

    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        check_sampling(self.temperature, self.top_k, self.top_p, self.seed)

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def describe(self) -> str:
        if self.greedy:
            return "greedy"
        parts = [f"temperature {self.temperature:g}"]
        if self.top_k:
            parts.append(f"top-k {self.top_k}")
        if self.top_p < 1.0:
            parts.append(f"top-p {self.top_p:g}")
        return ", ".join(parts) + f", seed {self.seed}"


def check_sampling(temperature, top_k, top_p, seed) -> None:
    """Raise SessionError naming the first bad sampling value."""
    if not isinstance(temperature, int | float) or not math.isfinite(temperature):
        raise SessionError(f"temperature must be a finite number >= 0, got {temperature!r}")
    if temperature < 0:
        raise SessionError(f"temperature must be >= 0 (0 = greedy), got {temperature}")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise SessionError(f"top_k must be an integer >= 0 (0 = no limit), got {top_k!r}")
    if not isinstance(top_p, int | float) or not (0.0 < top_p <= 1.0):
        raise SessionError(f"top_p must be in (0, 1] (1 = no limit), got {top_p!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SessionError(f"seed must be an integer >= 0, got {seed!r}")


class Sampler:
    """Draws tokens for one generation (its generator is seeded once, at construction)."""

    def __init__(self, sampling: Sampling):
        self.sampling = sampling
        self._rng = np.random.default_rng(sampling.seed)

    def __call__(self, logits) -> int:
        logits = np.asarray(logits)
        if logits.ndim != 1 or logits.size == 0:
            raise SessionError(f"sampling needs one row of logits, got shape {logits.shape}")
        s = self.sampling
        if s.greedy:
            return int(np.argmax(logits))
        x = logits.astype(np.float64) * 2.0**-NUMERICS.logit_frac / s.temperature
        order = np.argsort(-x, kind="stable")  # descending, lower id first on ties
        if s.top_k:
            order = order[: s.top_k]
        z = x[order] - x[order[0]]
        p = np.exp(z)
        p /= p.sum()
        if s.top_p < 1.0:
            keep = int(np.searchsorted(np.cumsum(p), s.top_p, side="left")) + 1
            order, p = order[:keep], p[:keep] / p[:keep].sum()
        u = self._rng.random()
        i = min(int(np.searchsorted(np.cumsum(p), u, side="right")), len(p) - 1)
        return int(order[i])
