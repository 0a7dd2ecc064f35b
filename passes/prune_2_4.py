"""accllm-prune-2-4: 2:4 semi-structured pruning of every `smla.linear` weight (model level).

Each float weight [N, K] of an `smla.linear` is replaced by a weight of type
`tensor<NxKxf32, #smla.sparsity<2:4>>` whose pruned entries are zero: in every aligned block of 4
inputs the 2 entries with the largest score are kept (`contract.prune_2_4_mask`).

* `method=magnitude`: score |W| (the contract's default; no data needed);
* `method=wanda`: score |W[o,k]| * ||X[:,k]||_2 (`compress.wanda_mask_2_4`), X the linear's
  input on the calibration tokens, captured by running the float IR itself with the
  interpreter (`passes/calibration_probe.py`);
* `method=sparsegpt`: SparseGPT (`numerics.gptq.sparsegpt_2_4`): the mask by the saliency
  w^2 / [H^-1]_kk per block of the layer's default W2 group (`gptq.sparsegpt_block`), and the
  pruning error compensated into the kept weights through H = X^T X of the same calibration
  inputs (second order, column by column).

Calibration tokens (wanda, sparsegpt): `calibration_text` (a file whose bytes are the ids of a
byte-level model) or, by default, `calibration_seqs` deterministic SplitMix64 sequences.

The LM head (`smla.lm_head`) stays dense (8-bit, quality-critical, per AccLLM).  Inline weights
stay inline; parameter weights are streamed into a new archive (option `archive`, default
`<source stem>.pruned.safetensors` beside the source), one tensor at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseIntOrFPElementsAttr,
    Float16Type,
    Float32Type,
    Float64Type,
    ModuleOp,
    TensorType,
)
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

from accllm.dialects.quant_types import ParamAttr, SparsityAttr, is_float_tensor
from accllm.dialects.smla import LinearOp, WeightOp
from accllm.ir.diagnostics import error_at
from accllm.numerics import contract as ct
from accllm.numerics.compress import wanda_mask_2_4
from accllm.numerics.gptq import sparsegpt_2_4, sparsegpt_block
from accllm.passes.calibration_probe import linear_input_hessians
from accllm.passes.param_archive import ArchiveWriter, ParamReader, default_archive

METHODS = ("magnitude", "wanda", "sparsegpt")
_NP_FLOAT = {Float16Type: np.float16, Float32Type: np.float32, Float64Type: np.float64}


def _np_dtype(t: TensorType) -> np.dtype:
    for cls, dt in _NP_FLOAT.items():
        if isinstance(t.element_type, cls):
            return np.dtype(dt)
    raise PassFailedException(f"accllm-prune-2-4: element type {t.element_type} is not supported")


def prunable_linears(module: ModuleOp) -> list[LinearOp]:
    """`smla.linear` ops in walk order whose float weight is not pruned yet."""
    out = []
    for op in module.walk():
        if isinstance(op, LinearOp) and is_float_tensor(op.weight.type):
            if not isinstance(op.weight.type.encoding, SparsityAttr):
                out.append(op)
    return out


@dataclass(frozen=True)
class Prune24(ModulePass):
    """2:4-prune every smla.linear weight (magnitude or Wanda scores); the LM head stays dense."""

    name = "accllm-prune-2-4"

    method: str = "magnitude"
    # Calibration (wanda, sparsegpt): sequences of the function's token shape, the seed of
    # the generated ids, or a text file whose bytes are the ids (byte-level models).
    calibration_seqs: int = 4
    calibration_seed: int = 0
    calibration_text: str = ""
    # Output safetensors file for parameter-backed weights, relative to the IR directory;
    # default: `<first source file stem>.pruned.safetensors` beside it.
    archive: str = ""
    # Shapes only (a config-only compile, no weight data): retype the weights as 2:4 and keep
    # their references; `accllm pack-weights` prunes the checkpoint's tensors later with the
    # same contract function (magnitude only: the other methods need the weights here).
    shapes_only: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.method not in METHODS:
            raise PassFailedException(
                f"accllm-prune-2-4: unknown method '{self.method}' (one of {', '.join(METHODS)})"
            )
        linears = prunable_linears(op)
        for lin in linears:
            k = lin.weight.type.get_shape()[-1]
            if k % 4:
                raise error_at(
                    lin,
                    f"2:4 pruning needs the input size K divisible by 4, got K={k}; pad the "
                    "layer's inputs to a multiple of 4 or leave it out of the pipeline",
                )
            if not isinstance(lin.weight.owner, WeightOp):
                raise error_at(lin, "the weight must be an smla.weight to be pruned offline")
        if self.shapes_only:
            if self.method != "magnitude":
                raise PassFailedException(
                    f"accllm-prune-2-4: shapes_only prunes by magnitude only (method "
                    f"'{self.method}' needs the weights and calibration data)"
                )
            retyped: dict[WeightOp, SSAValue] = {}
            for lin in linears:
                wop = lin.weight.owner
                if wop not in retyped:
                    retyped[wop] = _retype(wop)
                lin.operands[1] = retyped[wop]
            for wop in retyped:
                if not wop.result.uses:
                    wop.detach()
                    wop.erase()
            return
        hs = None
        if self.method != "magnitude" and linears:
            hs = linear_input_hessians(
                op,
                linears,
                self.calibration_seqs,
                self.calibration_seed,
                self.calibration_text,
                self.method,
            )
        _Pruner(op, self.archive, self.method).run(linears, hs)


def _retype(wop: WeightOp) -> SSAValue:
    """`wop` typed 2:4-sparse with the same (unread) value: the shapes-only form."""
    t: TensorType = wop.result.type
    new = WeightOp(wop.value, TensorType(t.element_type, t.get_shape(), SparsityAttr()))
    new.location = wop.location
    new.result.name_hint = wop.result.name_hint
    wop.parent_block().insert_op_after(new, wop)
    return new.result


class _Pruner:
    def __init__(self, module: ModuleOp, archive: str, method: str):
        self.reader = ParamReader(module)
        self.archive = archive
        self.method = method
        self.writer: ArchiveWriter | None = None
        self.archive_name = ""

    def run(self, linears: list[LinearOp], hs: list[np.ndarray] | None) -> None:
        # Group by weight op: a weight shared by several linears is pruned once, with the
        # activation statistics (Hessians) of all its users.
        groups: dict[WeightOp, list[int]] = {}
        for i, lin in enumerate(linears):
            groups.setdefault(lin.weight.owner, []).append(i)
        ok = False
        try:
            for wop, users in groups.items():
                stats = None if hs is None else sum(hs[i] for i in users)
                new = self.prune(wop, stats)
                for i in users:
                    linears[i].operands[1] = new
            ok = True
        finally:
            if self.writer is not None:
                self.writer.close() if ok else self.writer.abort()
        for wop in groups:
            if not wop.result.uses:
                wop.detach()
                wop.erase()

    def prune(self, wop: WeightOp, stats: np.ndarray | None) -> SSAValue:
        t: TensorType = wop.result.type
        dt = _np_dtype(t)
        src = wop.value
        if isinstance(src, DenseIntOrFPElementsAttr):
            w = np.asarray(src.get_values(), dtype=dt).reshape(t.get_shape())
        elif isinstance(src, ParamAttr):
            w = np.asarray(self.reader.get(wop, src), dtype=dt)
        else:
            raise error_at(wop, "float weights must be dense<...> or #smla.param to be pruned")
        if self.method == "sparsegpt":
            pruned = sparsegpt_2_4(w, stats, sparsegpt_block(w.shape[1])).astype(dt)
        else:
            mask = ct.prune_2_4_mask(w) if stats is None else wanda_mask_2_4(w, np.diag(stats))
            pruned = np.where(mask, w, 0).astype(dt)
        st = TensorType(t.element_type, t.get_shape(), SparsityAttr())
        if isinstance(src, ParamAttr):
            if self.writer is None:
                self.archive_name = self.archive or default_archive(src.file.data, "pruned")
                path = Path(self.archive_name)
                if not path.is_absolute():
                    path = self.reader.base_dir / path
                self.writer = ArchiveWriter(path)
            self.writer.add(src.key.data, pruned)
            value = ParamAttr(self.archive_name, src.key.data)
        else:
            dense_t = TensorType(t.element_type, t.get_shape())
            value = DenseIntOrFPElementsAttr(
                dense_t, BytesAttr(pruned.astype(dt.newbyteorder("<")).tobytes())
            )
        new = WeightOp(value, st)
        new.location = wop.location
        new.result.name_hint = wop.result.name_hint
        wop.parent_block().insert_op_after(new, wop)
        return new.result
