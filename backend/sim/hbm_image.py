"""The HBM contents of an accel-level module: what the host loads before the accelerator runs.

Every `accel.hbm_region` with model data names its parameter (`source = "file:key"`); this reads
the parameter's integer components (`key.codes`, `key.meta`, ... as the compression passes
write them, resolved like `#smla.param`: relative to the IR file's directory) and lays them out
with `accllm.backend.accel_program` at the region's channel and offset:

- the channel streams of an `accel.linear` (one region per weight channel in use: the
  `tiling.stream_layout` of the linear's row split, `w2_stream_image` for W2 weights,
  `int8_stream_image` for the int8 LM head from `key.codes`, `key.scale_mant`, `key.scale_exp`;
  a biased linear's Q15.16 bias (`accel.linear`'s `bias` parameter, `key.values`) in its rows'
  entries);
- KV regions start empty (all zero words: nothing is visible before the first append);
- the embedding table (`key.values` int8 rows, `key.exp` exponents) as
  `embedding_table_image`, the rows `rtl_lib/embedding_unit.sv` reads;
- the gain table of an RMSNorm `accel.vector` (`key.values`, the int16 gain mantissas of
  `contract.rmsnorm_params`) as `accel_program_vector.norm_gain_image`.

A region whose layout has no encoder yet is an
error naming it, so a simulation never runs on silently missing data.  The result maps a channel
to {word address: 256-bit int} (absent words are zero), the form `backend/sim/hbm.py` serves.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from accllm.backend import accel_program, fetch_program, tiling
from accllm.backend import accel_program_vector as apv
from accllm.dialects import accel
from accllm.interpreter.params import ParamStore, ir_base_dir
from accllm.interpreter.values import InterpretError
from accllm.ir.diagnostics import error_at
from accllm.numerics import contract as ct
from accllm.numerics.words import WORD_BYTES

# Component names of a 2:4 W2 weight in a parameter archive (QWeightType.components()).
_W2_COMPONENTS = ("codes", "meta", "zero_point", "scale_mant", "scale_exp")


def load_w2_linear(store: ParamStore, source: str, n: int, k: int, group: int) -> ct.W2Linear:
    """The packed contract form of the 2:4 W2 weight `source` ("file:key") of shape [n, k]."""
    file, key = source.rsplit(":", 1)
    comps = {c: np.asarray(store.get(file, f"{key}.{c}"), dtype=np.int64) for c in _W2_COMPONENTS}
    meta = comps["meta"]
    if meta.shape == (n, k // 2):  # index metadata (two kept positions per block) -> patterns
        mask = np.zeros((n, k // 4, 4), dtype=bool)
        np.put_along_axis(mask, meta.reshape(n, k // 4, 2), True, axis=-1)
        meta = ct.mask_to_patterns(mask.reshape(n, k))
    return ct.W2Linear(
        packed=ct.pack_2_4_w2(comps["codes"].reshape(n, k // 4, 2), meta.reshape(n, k // 4)),
        zp=comps["zero_point"],
        scale_mant=comps["scale_mant"],
        scale_exp=comps["scale_exp"],
        in_features=k,
        out_features=n,
        group=group,
    )


def _int8_stream(store: ParamStore, source: str, n: int, k: int, layout: tiling.StreamLayout):
    """Per channel, the stream of an int8 [n, k] linear (the LM head: `key.codes`, the per-row
    dyadic scale `key.scale_mant` * 2^-`key.scale_exp`)."""
    file, key = source.rsplit(":", 1)

    def get(comp: str) -> np.ndarray:
        return np.asarray(store.get(file, f"{key}.{comp}"), dtype=np.int64)

    return accel_program.int8_stream_image(
        get("codes").reshape(n, k), get("scale_mant").reshape(n), get("scale_exp").reshape(n),
        layout,
    )  # fmt: skip


def embedding_table_image(values, exps) -> list[int]:
    """The embedding table region (lower-to-accel sizes it `int8_words_per_row(hidden + 1)` per
    row): row r's int8 values as bytes 0..hidden-1, then its pow2 exponent byte
    (`contract.embedding_int8`), each row word-aligned."""
    values, exps = np.asarray(values, dtype=np.int64), np.asarray(exps, dtype=np.int64)
    rows = [np.append(v, e) for v, e in zip(values, exps, strict=True)]
    return [w for r in rows for w in accel_program.int8_row_words(r)]


def _put(image: dict[int, dict[int, int]], channel: int, offset: int, words: list[int]) -> None:
    base = offset // WORD_BYTES
    image.setdefault(channel, {}).update(
        {base + i: w for i, w in enumerate(words) if w}  # absent = zero
    )


def hbm_images(module: ModuleOp, base_dir: Path | None = None) -> dict[int, dict[int, int]]:
    """Channel -> {word address: word} of every region of an accel module (see module doc)."""
    store = ParamStore(base_dir if base_dir is not None else ir_base_dir(module))
    regions = {o.sym_name.data: o for o in module.ops if isinstance(o, accel.HBMRegionOp)}
    engine = next(o for o in module.ops if isinstance(o, accel.EngineOp))
    filled: set[str] = set()
    image: dict[int, dict[int, int]] = {}
    for sched in (o for o in module.ops if isinstance(o, accel.ScheduleOp)):
        for op in sched.body.block.ops:
            if isinstance(op, accel.VectorOp) and op.kind.data == "rmsnorm" and op.table:
                region = regions[op.table.root_reference.data]
                if region.sym_name.data in filled or region.source is None:
                    continue
                file, key = region.source.data.rsplit(":", 1)
                try:
                    gain = np.asarray(store.get(file, f"{key}.values"), dtype=np.int64)
                    words = apv.norm_gain_image(gain.reshape(-1)[: op.length.value.data])
                except (InterpretError, ValueError, accel_program.EncodingError) as err:
                    raise error_at(op, f"cannot read the gains of this RMSNorm: {err}") from err
                _put(image, region.channel.value.data, region.offset.value.data, words)
                filled.add(region.sym_name.data)
                continue
            if isinstance(op, accel.VectorOp) and op.kind.data == "embedding" and op.table:
                region = regions[op.table.root_reference.data]
                if region.sym_name.data in filled or region.source is None:
                    continue
                file, key = region.source.data.rsplit(":", 1)
                try:
                    values = np.asarray(store.get(file, f"{key}.values"), dtype=np.int64)
                    exps = np.asarray(store.get(file, f"{key}.exp"), dtype=np.int64)
                    words = embedding_table_image(values, exps)
                except (InterpretError, ValueError) as err:
                    raise error_at(op, f"cannot read this embedding table: {err}") from err
                _put(image, region.channel.value.data, region.offset.value.data, words)
                filled.add(region.sym_name.data)
                continue
            if not isinstance(op, accel.LinearOp):
                continue
            weights = [regions[r.root_reference.data] for r in op.weights.data]
            if weights[0].sym_name.data in filled:
                continue
            n, k = op.n.value.data, op.k.value.data
            layout = fetch_program.linear_layout(op, engine)
            source = weights[0].source.data
            try:
                if op.precision.data == "int8":
                    streams = _int8_stream(store, source, n, k, layout)
                else:
                    lin = load_w2_linear(store, source, n, k, op.group.value.data)
                    if op.bias is not None:  # its Q15.16 values ride in the rows' entries
                        bfile, bkey = op.bias.data.rsplit(":", 1)
                        bias = np.asarray(store.get(bfile, f"{bkey}.values"), dtype=np.int64)
                        lin = dataclasses.replace(lin, bias=bias.reshape(n))
                    streams = accel_program.w2_stream_image(lin, layout)
            except (InterpretError, ValueError) as err:
                raise error_at(op, f"cannot read the weights of this linear: {err}") from err
            for region, words in zip(weights, streams, strict=True):
                _put(image, region.channel.value.data, region.offset.value.data, words)
                filled.add(region.sym_name.data)
    for name, region in regions.items():
        if name in filled or region.kind.data == "kv":
            continue
        raise error_at(
            region,
            f"no HBM image encoder for the '{region.kind.data}' region @{name} "
            f"(source {region.source.data if region.source else 'none'}) yet",
        )
    return image


def channel_extents(module: ModuleOp) -> dict[int, int]:
    """Bytes each HBM channel's buffer must hold: the end of its last region (KV rings
    included, which the image leaves zero), per channel any region occupies."""
    ends: dict[int, int] = {}
    for op in module.ops:
        if isinstance(op, accel.HBMRegionOp):
            end = op.offset.value.data + op.bytes.value.data
            for c in op.channels():
                ends[c] = max(ends.get(c, 0), end)
    return ends
