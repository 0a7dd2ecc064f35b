"""Second-order compression with calibration data: SparseGPT 2:4 pruning and GPTQ W2.

Both methods minimise the layer's output error ||X W^T - X Q^T||^2 on calibration inputs X
(Frantar & Alistarh 2022 "Optimal Brain Compression", 2023 "SparseGPT"; Frantar et al. 2023
"GPTQ"): with H = X^T X, columns are compressed left to right, and the error of column j is
spread over the columns not yet compressed through the upper Cholesky factor U of H^-1
(W[:, j+1:] -= (w_j - q_j) / U[j, j] * U[j, j+1:]).

* ``sparsegpt_2_4``: per aligned block of G columns, the 2:4 mask keeps the 2 of every 4
  weights with the largest SparseGPT saliency w^2 / U[j, j]^2 (``contract.prune_2_4_mask`` on
  that score: block selection and ties as the contract's), then the pruned weights are set to
  zero one column at a time and their error compensated into the kept ones. Float out (the
  model level's materialised zeros).
* ``gptq_w2``: W2 group quantization of a weight with a fixed keep mask (2:4, or all-kept for
  dense W2). At the start of each group its scale and zero point are chosen by the contract's
  grid search (``contract.quantize_w2_groups``) on the group's current (compensated) kept
  weights; each weight is then coded with ``contract.w2_codes`` at the dyadic scale that is
  stored, and pruned positions quantize to exactly 0. The output is the contract's storage
  (``compress.W2Components``): the golden model, interpreter, HLS and RTL read it unchanged.

The per-channel scale exponent e[o] is fixed before the sweep from the round-to-nearest
quantization of the input weight (the contract's rule), so each group's mantissa
S = ``contract.w2_scale_mantissas`` is known when its columns are coded and the stored integers
are exactly the values the error compensation assumed.
"""

from __future__ import annotations

import numpy as np

from accllm.numerics import contract as ct
from accllm.numerics.compress import W2Components

DAMP = 0.01  # dampening: H + DAMP * mean(diag H) * I (GPTQ's default), keeps H^-1 well posed


def hessian(x) -> np.ndarray:
    """H = X^T X (float64 [K, K]) of calibration inputs x [..., K] (rows = tokens)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1, np.shape(x)[-1])
    return x.T @ x


def _inverse_cholesky(h: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(U, w'): the upper Cholesky factor of (H + damp)^-1, and w with the columns of dead
    inputs (never non-zero in calibration, H[k, k] = 0) zeroed: they cannot affect the output
    error, so they get weight 0 and H[k, k] = 1."""
    h = np.array(h, dtype=np.float64)
    w = np.array(w, dtype=np.float64)
    dead = np.diag(h) == 0
    h[dead, dead] = 1.0
    w[:, dead] = 0.0
    damp = DAMP * float(np.mean(np.diag(h)))
    h[np.diag_indices_from(h)] += damp
    hinv = np.linalg.inv(h)
    u = np.linalg.cholesky(hinv).T  # upper: H^-1 = U^T U
    return u, w


def _compensate(w: np.ndarray, j: int, q: np.ndarray, u: np.ndarray, stop: int) -> np.ndarray:
    """Set column j to q and spread its error over columns j+1..stop-1; returns the scaled
    error (w_j - q_j) / U[j, j] for the lazy update of the columns after ``stop``."""
    err = (w[:, j] - q) / u[j, j]
    w[:, j + 1 : stop] -= err[:, None] * u[j, j + 1 : stop][None, :]
    w[:, j] = q
    return err


def sparsegpt_block(k: int) -> int:
    """Columns whose 2:4 mask SparseGPT chooses at once in a layer with K inputs: the layer's
    default W2 group (contract.group_size_for of the padded K at the default group, 128)."""
    return ct.group_size_for(ct.padded_k(k), ct.NUMERICS.default_group)


def sparsegpt_2_4(w, h, group: int) -> np.ndarray:
    """SparseGPT 2:4 pruning of a float weight [N, K] with Hessian h [K, K]: returns the pruned
    float weight (two zeros in every aligned block of 4 along K, kept weights compensated).
    ``group`` is the column block the mask is chosen for at once (the W2 group)."""
    n, k = np.shape(w)
    u, w = _inverse_cholesky(h, w)
    for b0 in range(0, k, group):
        b1 = min(k, b0 + group)
        d = np.diag(u)[b0:b1]
        keep = ct.prune_2_4_mask((w[:, b0:b1] / d[None, :]) ** 2)
        errs = np.zeros((n, b1 - b0))
        for j in range(b0, b1):
            q = np.where(keep[:, j - b0], w[:, j], 0.0)
            errs[:, j - b0] = _compensate(w, j, q, u, b1)
        w[:, b1:] -= errs @ u[b0:b1, b1:]
    return w


def gptq_w2(w, h, group: int, keep=None) -> W2Components:
    """GPTQ W2 quantization of a float weight [N, K] with Hessian h [K, K] and keep mask
    ``keep`` [N, K] (2:4: exactly 2 of every 4 kept, stored sparse; None: dense W2). Returns
    the contract's components; weight[o, k] = S[o,g] 2^-e[o] (code - z[o,g]) at kept k."""
    w = np.asarray(w, dtype=np.float64)
    n, k = w.shape
    sparse = keep is not None
    keep = np.ones_like(w, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    ng, per = k // group, (group // 2 if sparse else group)
    # e[o] from round-to-nearest of the input weight: fixed before the sweep (module docstring).
    kept0 = w[keep].reshape(n, ng, per)
    e = ct.quantize_w2_groups(kept0)[3]
    u, w = _inverse_cholesky(h, np.where(keep, w, 0.0))
    codes = np.zeros((n, k), dtype=np.float64)
    zp = np.zeros((n, ng), dtype=np.int64)
    mant = np.zeros((n, ng), dtype=np.int64)
    for g in range(ng):
        b0, b1 = g * group, (g + 1) * group
        kg = keep[:, b0:b1]
        _, z, s_mant, s_exp = ct.quantize_w2_groups(w[:, b0:b1][kg].reshape(n, 1, per))
        s = s_mant[:, 0] * np.exp2(-s_exp.astype(np.float64))
        mant[:, g] = ct.w2_scale_mantissas(s[:, None], e)[:, 0]
        zp[:, g] = z[:, 0]
        s_dy = mant[:, g] * np.exp2(-e.astype(np.float64))
        errs = np.zeros((n, group))
        for j in range(b0, b1):
            c = ct.w2_codes(w[:, j], s_dy, zp[:, g])
            codes[:, j] = c
            q = np.where(keep[:, j], s_dy * (c - zp[:, g]), 0.0)
            errs[:, j - b0] = _compensate(w, j, q, u, b1)
        w[:, b1:] -= errs @ u[b0:b1, b1:]
    kept_codes = codes[keep].reshape(n, -1)
    meta = ct.mask_to_patterns(keep).astype(np.uint8) if sparse else None
    return W2Components(
        codes=kept_codes.astype(np.uint8),
        meta=meta,
        zero_point=zp.astype(np.uint8),
        scale_mant=mant.astype(np.uint16),
        scale_exp=e.astype(np.int8),
        group=group,
    )


def output_error(w, q, h) -> float:
    """Relative output error tr((W-Q) H (W-Q)^T) / tr(W H W^T) on the calibration inputs."""
    w = np.asarray(w, dtype=np.float64)
    d = w - np.asarray(q, dtype=np.float64)
    return float(np.einsum("ok,kl,ol->", d, h, d) / np.einsum("ok,kl,ol->", w, h, w))


def to_linear(comp: W2Components, n: int, k: int) -> ct.W2Linear:
    """The packed HBM form of 2:4 W2 components of an [N, K] weight (contract.pack_2_4_w2)."""
    return ct.W2Linear(
        packed=ct.pack_2_4_w2(comp.codes.reshape(n, k // 4, 2), comp.meta),
        zp=comp.zero_point,
        scale_mant=comp.scale_mant,
        scale_exp=comp.scale_exp,
        in_features=k,
        out_features=n,
        group=comp.group,
    )


def gptq_components(w, h, name: str, group: int, sparse: bool = True) -> W2Components:
    """``compress.w2_components`` with GPTQ instead of round-to-nearest: K zero-padded to
    contract.padded_k(K) as there (the padded inputs are dead: H gets zero rows and columns),
    the group size from contract.group_size_for (raising naming ``name``), the 2:4 keep mask
    from contract.prune_2_4_mask (on an already pruned weight: exactly its non-zeros)."""
    w = np.asarray(w, dtype=np.float64)
    k = w.shape[1]
    if k % 4 and sparse:
        raise ValueError(f"{name}: 2:4 pruning needs an input size K divisible by 4, got {k}")
    pad = ct.padded_k(k) - k
    w = np.pad(w, [(0, 0), (0, pad)])
    h = np.pad(np.asarray(h, dtype=np.float64), [(0, pad), (0, pad)])
    g = ct.group_size_for(w.shape[1], group, name)
    keep = ct.prune_2_4_mask(w) if sparse else None
    return gptq_w2(w, h, g, keep)
