"""The HBM contents of an accel-level module: what the host loads before the accelerator runs.

Every `accel.hbm_region` with model data names its parameter (`source = "file:key"`); this reads
the parameter's integer components (`key.codes`, `key.meta`, ... as the compression passes
write them, resolved like `#smla.param`: relative to the IR file's directory) and lays them out
with `accllm.backend.hbm_layout.encode_item` (the encoder `accllm pack-weights` uses too) at
the region's channel and offset:

- the channel streams of an `accel.linear` (one region per weight channel in use: the
  `tiling.stream_layout` of the linear's row split, `w2_stream_image` for W2 weights,
  `int8_stream_image` for the int8 LM head from `key.codes`, `key.scale_mant`, `key.scale_exp`);
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

from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from accllm.backend import accel_program
from accllm.backend.hbm_layout import (
    FORMAT_COMPONENTS,
    LayoutError,
    encode_item,
    layout_items,
    w2_linear,
)
from accllm.backend.hbm_layout import embedding_table_image as embedding_table_image
from accllm.interpreter.params import ParamStore, ir_base_dir
from accllm.interpreter.values import InterpretError
from accllm.ir.diagnostics import error_at
from accllm.numerics import contract as ct
from accllm.numerics.words import WORD_BYTES


def load_w2_linear(store: ParamStore, source: str, n: int, k: int, group: int) -> ct.W2Linear:
    """The packed contract form of the 2:4 W2 weight `source` ("file:key") of shape [n, k]."""
    file, key = source.rsplit(":", 1)
    comps = {c: store.get(file, f"{key}.{c}") for c in FORMAT_COMPONENTS["w2_2_4_stream"]}
    return w2_linear(comps, n, k, group)


def put_words(image: dict[int, dict[int, int]], channel: int, offset: int, words) -> None:
    """Words at byte `offset` of `channel` in the {channel: {word: int}} form (absent = 0)."""
    base = offset // WORD_BYTES
    image.setdefault(channel, {}).update({base + i: w for i, w in enumerate(words) if w})


def hbm_images(module: ModuleOp, base_dir: Path | None = None) -> dict[int, dict[int, int]]:
    """Channel -> {word address: word} of every region of an accel module (see module doc)."""
    store = ParamStore(base_dir if base_dir is not None else ir_base_dir(module))
    try:
        items, regions = layout_items(module)
    except LayoutError as err:
        raise error_at(module, str(err)) from err
    image: dict[int, dict[int, int]] = {}
    filled: set[str] = set()
    for item in items:

        def get(comp: str, item=item) -> np.ndarray:
            if comp == "bias":  # a biased linear's bias: its own parameter ("file:key")
                file, key = item.params["bias"].rsplit(":", 1)
                return np.asarray(store.get(file, f"{key}.values"), dtype=np.int64)
            return np.asarray(store.get(item.file, f"{item.tensor}.{comp}"), dtype=np.int64)

        try:
            streams = encode_item(item, get)
        except (InterpretError, ValueError, accel_program.EncodingError) as err:
            raise error_at(
                item.regions[0], f"cannot read the {item.format} data of this region: {err}"
            ) from err
        for region, words in zip(item.regions, streams, strict=True):
            put_words(image, region.channel.value.data, region.offset.value.data, words)
            filled.add(region.sym_name.data)
    for region in regions:
        name = region.sym_name.data
        if name in filled or region.kind.data == "kv":
            continue
        raise error_at(
            region,
            f"no HBM image encoder for the '{region.kind.data}' region @{name} "
            f"(source {region.source.data if region.source else 'none'}) yet",
        )
    return image
