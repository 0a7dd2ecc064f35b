"""numpy evaluation of torch ops whose operands are all constants.

HF builds the causal mask and the RoPE cos/sin tables from constants (positions are
`arange(T)` because the import is a prefill from position 0).  The conversion evaluates those
subgraphs here and then *checks* the values: a mask must be exactly causal (or all-visible), the
tables exactly the default rotary embedding.  Only ops that occur in such subgraphs are listed;
anything else on constants is reported by the conversion, not guessed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# torch ScalarType codes (c10/core/ScalarType.h) of the dtypes these subgraphs use.
TORCH_DTYPES: dict[int, type] = {
    3: np.int32,
    4: np.int64,
    6: np.float32,
    7: np.float64,
    11: np.bool_,
}


def np_dtype(code, default=None):
    """numpy dtype of a torch ScalarType code (None -> `default`)."""
    if code is None:
        return default
    if code not in TORCH_DTYPES:
        raise ValueError(f"dtype code {code} is not supported in constant subgraphs")
    return TORCH_DTYPES[code]


def _arange(start, end, step, dtype, *_):
    default = np.int64 if all(isinstance(v, int) for v in (start, end, step)) else np.float32
    return np.arange(start, end, step, dtype=np_dtype(dtype, default))


def _scalar_like(x: np.ndarray, s):
    # A Python scalar keeps the tensor's dtype (torch's type promotion for tensor-scalar ops).
    return np.asarray(s, dtype=x.dtype) if x.dtype != np.bool_ else s


def _add(x, y, alpha=1):
    y = _scalar_like(x, y) if not isinstance(y, np.ndarray) else y
    return x + y * alpha if alpha != 1 else x + y


def _sub(x, y, alpha=1):
    y = _scalar_like(x, y) if not isinstance(y, np.ndarray) else y
    return x - y * alpha if alpha != 1 else x - y


def _mul(x, y):
    return x * (_scalar_like(x, y) if not isinstance(y, np.ndarray) else y)


def _div(x, y):
    out = x / (y if isinstance(y, np.ndarray) else np.asarray(y, dtype=np.float32))
    return out.astype(np.float32) if x.dtype != np.float64 else out


def _slice(x, dim, start, end, step):
    index = [slice(None)] * x.ndim
    index[dim] = slice(start, end, step)
    return x[tuple(index)]


def _view(x, sizes):
    return x.reshape(sizes)


def _broadcast(x, sizes):
    sizes = [x.shape[i - (len(sizes) - x.ndim)] if s == -1 else s for i, s in enumerate(sizes)]
    return np.broadcast_to(x, sizes)


def _to_dtype(x, dtype, *_):
    return x.astype(np_dtype(dtype))


def _empty(sizes, dtype, *_):
    # The values of `empty` are unspecified; zeros are as good as any.
    return np.zeros(sizes, dtype=np_dtype(dtype, np.float32))


def _full(sizes, value, dtype=None, *_):
    return np.full(sizes, value, dtype=np_dtype(dtype, np.float32))


FOLDERS: dict[str, Callable] = {
    "torch.aten.arange.start_step": _arange,
    "torch.aten.add.Scalar": _add,
    "torch.aten.add.Tensor": _add,
    "torch.aten.sub.Scalar": _sub,
    "torch.aten.sub.Tensor": _sub,
    "torch.aten.mul.Scalar": _mul,
    "torch.aten.mul.Tensor": _mul,
    "torch.aten.div.Scalar": _div,
    "torch.aten.div.Tensor": _div,
    "torch.aten.neg": lambda x: -x,
    "torch.aten.cos": lambda x: np.cos(x).astype(x.dtype),
    "torch.aten.sin": lambda x: np.sin(x).astype(x.dtype),
    "torch.aten.unsqueeze": lambda x, d: np.expand_dims(x, d if d >= 0 else x.ndim + 1 + d),
    "torch.aten.to.dtype": _to_dtype,
    "torch.aten.cat": lambda xs, d: np.concatenate(xs, axis=d),
    "torch.aten.le.Tensor": lambda x, y: x <= y,
    "torch.aten.lt.Tensor": lambda x, y: x < y,
    "torch.aten.ge.Tensor": lambda x, y: x >= y,
    "torch.aten.gt.Tensor": lambda x, y: x > y,
    "torch.aten.bitwise_and.Tensor": lambda x, y: np.logical_and(x, y),
    "torch.aten.bitwise_or.Tensor": lambda x, y: np.logical_or(x, y),
    "torch.aten.index.Tensor_hacked_twin": lambda x, idx: x[tuple(idx)],
    "torch.aten.empty.memory_format": _empty,
    "torch.aten.full": _full,
    "torch.aten.view": _view,
    "torch.aten.reshape": _view,
    "torch.aten.permute": lambda x, p: np.transpose(x, p),
    "torch.aten.expand": lambda x, s, *_: _broadcast(x, s),
    "torch.aten.broadcast_to": _broadcast,
    "torch.aten.slice.Tensor": _slice,
    "torch.aten.where.self": lambda c, x, y: np.where(c, x, y),
    "torch.aten.clone": lambda x, *_: x,
}
