"""Deterministic calibration tokens for data-aware compression (Wanda pruning).

No data set ships with the project and nothing may be downloaded, so the calibration batch is
generated: SplitMix64 (Steele et al. 2014), written out here in numpy uint64 arithmetic, so the
ids depend only on (vocab, shape, seed) — not on numpy's generator versions. For the random
default models any token distribution is as representative as another; for a trained model,
pass real token ids to the pass's Python API instead.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def splitmix64(seed: int, n: int) -> np.ndarray:
    """The first ``n`` outputs of SplitMix64 seeded with ``seed`` (uint64)."""
    with np.errstate(over="ignore"):  # the generator relies on wrap-around multiplication
        z = np.uint64(seed) + _GOLDEN * np.arange(1, n + 1, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def calibration_ids(vocab: int, seq_len: int, n_seqs: int = 4, seed: int = 0) -> np.ndarray:
    """``n_seqs`` sequences of ``seq_len`` token ids in [0, vocab): int64 [n_seqs, seq_len]."""
    if vocab < 1 or seq_len < 1 or n_seqs < 1:
        raise ValueError("calibration needs vocab, seq_len and n_seqs >= 1")
    raw = splitmix64(seed, n_seqs * seq_len)
    return (raw % np.uint64(vocab)).astype(np.int64).reshape(n_seqs, seq_len)
