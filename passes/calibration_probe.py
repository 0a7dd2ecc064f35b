"""Calibration statistics of the float IR's linears, for the data-aware compression options.

Wanda (`accllm-prune-2-4{method=wanda}`) needs ||X[:, k]||^2 of each linear's input X, SparseGPT
(`method=sparsegpt`) and GPTQ (`accllm-quantize{method=gptq}`) the Hessian H = X^T X. Both come
from running the float IR itself with the interpreter on a probe clone whose function returns
the linears' inputs (the interpreter's public `run_function` is all that is needed).

Calibration tokens: `calibration_text` names a file whose bytes are the token ids (byte-level
vocabularies, 256 entries), cut into windows of the function's token shape; otherwise the
deterministic SplitMix64 ids of `numerics.calibration` (fine for random test models, not
representative for a trained one). Relative paths resolve against the IR file's directory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import FunctionType, IntegerType, ModuleOp, TensorType
from xdsl.ir import SSAValue

from accllm.dialects.smla import LinearOp
from accllm.interpreter.runner import run_function
from accllm.interpreter.values import InterpretError
from accllm.ir.diagnostics import error_at
from accllm.numerics.calibration import calibration_ids
from accllm.passes.param_archive import ParamReader


def linear_input_hessians(
    module: ModuleOp,
    linears: list[LinearOp],
    n_seqs: int,
    seed: int,
    text: str = "",
    method: str = "",
) -> list[np.ndarray]:
    """Per linear of ``linears`` (ops of ``module``), H = X^T X (float64 [K, K]) of its input
    over the calibration tokens. ``method`` names the option in diagnostics."""
    all_ops = [op for op in module.walk() if isinstance(op, LinearOp)]
    index = {op: i for i, op in enumerate(all_ops)}
    probe = module.clone()
    probe_ops = [op for op in probe.walk() if isinstance(op, LinearOp)]
    mine_ops = [probe_ops[index[op]] for op in linears]
    out: list[np.ndarray | None] = [None] * len(linears)
    base = ParamReader(module).base_dir
    for fn in {op.parent_op() for op in mine_ops}:
        if not isinstance(fn, func.FuncOp):
            raise error_at(next(iter(fn.walk())), f"{method}: linears must be inside a func.func")
        mine = [i for i, op in enumerate(mine_ops) if op.parent_op() is fn]
        values: list[SSAValue] = []
        for i in mine:
            if mine_ops[i].input not in values:
                values.append(mine_ops[i].input)
        args = fn.function_type.inputs.data
        if len(args) != 1 or not (
            isinstance(args[0], TensorType) and isinstance(args[0].element_type, IntegerType)
        ):
            raise error_at(
                fn,
                f"method={method} runs the model on calibration tokens: the function must take "
                "exactly one token-id tensor",
            )
        ret = fn.body.blocks[-1].last_op
        if not isinstance(ret, func.ReturnOp):
            raise error_at(fn, f"{method}: the function must end with func.return")
        ret.operands = values
        fn.function_type = FunctionType.from_lists(list(args), [v.type for v in values])
        shape = tuple(args[0].get_shape())
        ids = _calibration(fn, shape, n_seqs, seed, text, base, method)
        acc = [np.zeros((v.type.get_shape()[-1],) * 2) for v in values]
        for seq in ids:
            try:
                outs = run_function(probe, fn.sym_name.data, [seq.reshape(shape)], base_dir=base)
            except InterpretError as err:
                raise error_at(
                    err.op or fn, f"{method} calibration run failed: {err.message}"
                ) from err
            for j, x in enumerate(outs):
                x = np.asarray(x, dtype=np.float64).reshape(-1, acc[j].shape[0])
                acc[j] += x.T @ x
        for i in mine:
            out[i] = acc[values.index(mine_ops[i].input)]
    return out


def _calibration(fn, shape, n_seqs, seed, text, base: Path, method) -> np.ndarray:
    tokens = int(np.prod(shape))
    vocab = _vocab_of(fn, method)
    if not text:
        return calibration_ids(vocab, tokens, n_seqs, seed)
    path = Path(text)
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise error_at(fn, f"{method}: calibration_text file '{text}' not found")
    if vocab != 256:
        raise error_at(
            fn,
            f"{method}: calibration_text gives byte ids, but the vocabulary has {vocab} "
            "entries (byte-level models only)",
        )
    data = np.frombuffer(path.read_bytes(), dtype=np.uint8).astype(np.int64)
    n = min(n_seqs, len(data) // tokens)
    if n < 1:
        raise error_at(fn, f"{method}: calibration_text has fewer than {tokens} bytes")
    return data[: n * tokens].reshape(n, tokens)


def _vocab_of(fn: func.FuncOp, method: str) -> int:
    from accllm.dialects.smla import EmbeddingOp

    for op in fn.walk():
        if isinstance(op, EmbeddingOp):
            return op.table.type.get_shape()[0]
    raise error_at(fn, f"{method}: no smla.embedding found, cannot tell the vocabulary size")
