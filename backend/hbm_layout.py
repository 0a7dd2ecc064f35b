"""The HBM layout of an accel-level module: every region, where it sits and how it is encoded.

The hardware depends on the weights' shapes, not their values, so a design is emitted from a
config alone and the weights become data packed later (`accllm pack-weights`).  This module is
the contract between the two: `layout_items` walks the module's schedules once and describes
every HBM region (name, kind, channel(s), byte offset, size) with its format and the format's
parameters (a linear's row split and stream layout, a table's rows, a norm's length), grouped
into items (a linear's regions on all its channels are one item: one tensor, one encoding).
`layout_json` is the `hbm_layout.json` document (docs/hardware.md) and `encode_item` turns one
item's integer components (the compressed form the passes write: `codes`, `meta`, ...) into the
words of each of its regions -- the one encoder both the simulator's HBM image builder
(`backend/sim/hbm_image.py`, components from the compressed archive) and `accllm pack-weights`
(`backend/weight_packer.py`, components compressed from a float checkpoint) use.

The RMSNorm gain shift is the design's one weight-dependent value (contract.rmsnorm_params:
the largest shift that fits max |gamma|): it sits in the norm descriptors' `gain_shift` field
(`norm_desc.hex`), not in HBM.  The layout names that ROM and the field, keyed by the
descriptor's `gain_base`, so the packer can write the checkpoint's shifts into it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from accllm.backend import accel_program, tiling
from accllm.backend import accel_program_vector as apv
from accllm.dialects import accel
from accllm.numerics import contract as ct
from accllm.numerics.words import WORD_BYTES
from accllm.rtl_lib import descriptors

LAYOUT_FILE = "hbm_layout.json"
LAYOUT_FORMAT = "accllm-hbm-layout"
LAYOUT_VERSION = 1
IMAGE_FILE = "hbm_c{}.bin"  # one raw little-endian image per channel, byte 0 = channel byte 0
NORM_DESC_ROM = "verilog/norm_desc.hex"  # accel_to_hw.NORM_DESC_IMAGE in the emit directory

# Region formats and the integer components each encoder reads (as the compression passes
# name them in their archives).
FORMAT_COMPONENTS = {
    "w2_2_4_stream": ("codes", "meta", "zero_point", "scale_mant", "scale_exp"),
    "int8_stream": ("codes", "scale_mant", "scale_exp"),
    "embedding_rows": ("values", "exp"),
    "norm_gain": ("values",),
}


class LayoutError(ValueError):
    """A layout file that cannot be read or a region whose format has no encoder."""


@dataclass
class LayoutItem:
    """One tensor's regions and their encoding: `format`, its `params`, the source tensor
    (`file`, `tensor`: the safetensors key; `shape`: its float shape in the checkpoint)."""

    format: str
    regions: list[accel.HBMRegionOp | dict]
    file: str
    tensor: str
    shape: tuple[int, ...]
    params: dict = field(default_factory=dict)


def _i(op, name: str) -> int:
    return op.properties[name].value.data


def _region_json(r: accel.HBMRegionOp) -> dict:
    out = {
        "name": r.sym_name.data,
        "kind": r.kind.data,
        "channel": _i(r, "channel"),
        "stripes": len(r.channels()),
        "offset": _i(r, "offset"),
        "bytes": _i(r, "bytes"),
    }
    return out


def layout_items(module: ModuleOp) -> tuple[list[LayoutItem], list[accel.HBMRegionOp]]:
    """The model-data items of `module` (first use in schedule order) and every region."""
    regions = {o.sym_name.data: o for o in module.ops if isinstance(o, accel.HBMRegionOp)}
    engine = next(o for o in module.ops if isinstance(o, accel.EngineOp))
    items: list[LayoutItem] = []
    seen: set[str] = set()

    def source(region) -> tuple[str, str]:
        if region.source is None:
            raise LayoutError(f"region @{region.sym_name.data} holds model data but no source")
        file, key = region.source.data.rsplit(":", 1)
        return file, key

    for sched in (o for o in module.ops if isinstance(o, accel.ScheduleOp)):
        for op in sched.body.block.ops:
            if isinstance(op, accel.VectorOp) and op.kind.data in ("rmsnorm", "embedding"):
                region = regions[op.table.root_reference.data]
                if region.sym_name.data in seen or region.source is None:
                    continue
                seen.add(region.sym_name.data)
                file, key = source(region)
                length = op.length.value.data
                if op.kind.data == "rmsnorm":
                    params = {"length": length, "gain_shift": op.gain_shift.value.data}
                    params["eps_q"] = op.eps_q.value.data
                    items.append(LayoutItem("norm_gain", [region], file, key, (length,), params))
                else:
                    vocab = (
                        _i(region, "bytes") // WORD_BYTES // tiling.int8_words_per_row(length + 1)
                    )
                    items.append(
                        LayoutItem(
                            "embedding_rows",
                            [region],
                            file,
                            key,
                            (vocab, length),
                            {"vocab": vocab, "hidden": length},
                        )
                    )
            elif isinstance(op, accel.LinearOp):
                parts = [regions[r.root_reference.data] for r in op.weights.data]
                if parts[0].sym_name.data in seen:
                    continue
                seen.update(p.sym_name.data for p in parts)
                file, key = source(parts[0])
                n, k = op.n.value.data, op.k.value.data
                int8 = op.precision.data == "int8"
                params = {
                    "n": n,
                    "k": k,
                    "group": op.group.value.data,
                    "precision": op.precision.data,
                    "rows_per_channel": op.rows_per_channel.value.data,
                    "lanes_per_channel": engine.get("lanes_per_channel"),
                    "words_per_beat": engine.get("words_per_beat"),
                }
                if op.bias is not None:  # its Q15.16 values ride in the rows' entries
                    params["bias"] = op.bias.data
                fmt = "int8_stream" if int8 else "w2_2_4_stream"
                items.append(LayoutItem(fmt, parts, file, key, (n, k), params))
    return items, list(regions.values())


def stream_layout_of(params: dict) -> tiling.StreamLayout:
    """The channel stream layout of a linear item (fetch_program.linear_layout's arithmetic)."""
    return tiling.linear_stream_layout(
        params["n"],
        params["k"],
        params["group"],
        params["precision"],
        params["rows_per_channel"],
        params["lanes_per_channel"],
        params["words_per_beat"],
        bool(params.get("bias")),
    )


def w2_linear(comps: dict[str, np.ndarray], n: int, k: int, group: int) -> ct.W2Linear:
    """The packed contract form of 2:4 W2 components of an [n, k] weight (meta: pattern codes
    [n, k/4], or the two kept indices per block [n, k/2])."""
    meta = np.asarray(comps["meta"], dtype=np.int64)
    if meta.shape == (n, k // 2):  # index metadata (two kept positions per block) -> patterns
        mask = np.zeros((n, k // 4, 4), dtype=bool)
        np.put_along_axis(mask, meta.reshape(n, k // 4, 2), True, axis=-1)
        meta = ct.mask_to_patterns(mask.reshape(n, k))
    codes = np.asarray(comps["codes"], dtype=np.int64)
    return ct.W2Linear(
        packed=ct.pack_2_4_w2(codes.reshape(n, k // 4, 2), meta.reshape(n, k // 4)),
        zp=np.asarray(comps["zero_point"], dtype=np.int64),
        scale_mant=np.asarray(comps["scale_mant"], dtype=np.int64),
        scale_exp=np.asarray(comps["scale_exp"], dtype=np.int64),
        in_features=k,
        out_features=n,
        group=group,
    )


def embedding_table_image(values, exps) -> list[int]:
    """The embedding table region (lower-to-accel sizes it `int8_words_per_row(hidden + 1)` per
    row): row r's int8 values as bytes 0..hidden-1, then its pow2 exponent byte
    (`contract.embedding_int8`), each row word-aligned."""
    values, exps = np.asarray(values), np.asarray(exps, dtype=np.int64)
    pairs = zip(values, exps, strict=True)  # row by row: no int64 copy of the whole table
    return [w for v, e in pairs for w in accel_program.int8_row_words(np.append(v, e))]


def encode_item(item: LayoutItem, get: Callable[[str], np.ndarray]) -> list[list[int]]:
    """The words of each of `item.regions` (in order), from its components (`get(name)`)."""
    p = item.params
    if item.format == "w2_2_4_stream":
        comps = {c: get(c) for c in FORMAT_COMPONENTS["w2_2_4_stream"]}
        lin = w2_linear(comps, p["n"], p["k"], p["group"])
        if p.get("bias"):  # component "bias": the Q15.16 values of the linear's bias parameter
            lin = dataclasses.replace(lin, bias=np.asarray(get("bias")).reshape(p["n"]))
        return accel_program.w2_stream_image(lin, stream_layout_of(p))
    if item.format == "int8_stream":
        n, k = p["n"], p["k"]
        return accel_program.int8_stream_image(
            np.asarray(get("codes")).reshape(n, k),
            np.asarray(get("scale_mant"), dtype=np.int64).reshape(n),
            np.asarray(get("scale_exp"), dtype=np.int64).reshape(n),
            stream_layout_of(p),
        )
    if item.format == "embedding_rows":
        return [embedding_table_image(get("values"), get("exp"))]
    if item.format == "norm_gain":
        gain = np.asarray(get("values"), dtype=np.int64).reshape(-1)[: p["length"]]
        return [apv.norm_gain_image(gain)]
    raise LayoutError(f"no HBM image encoder for the format '{item.format}'")


def norm_shift_field() -> dict:
    """Where the gain shift and its key (`gain_base`) sit in a norm descriptor word."""
    out, lsb = {}, 0
    for name, bits in descriptors.NORM_FIELDS:
        if name in ("gain_shift", "gain_base"):
            out[name] = {"lsb": lsb, "bits": bits}
        lsb += bits
    return out


def channel_extents(module: ModuleOp) -> dict[int, int]:
    """Bytes each HBM channel's image (a host's buffer) must hold: the end of its last region,
    KV rings included (which start as zeros), per channel any region occupies."""
    ends: dict[int, int] = {}
    for op in module.ops:
        if isinstance(op, accel.HBMRegionOp):
            for c in op.channels():
                ends[c] = max(ends.get(c, 0), _i(op, "offset") + _i(op, "bytes"))
    return ends


def layout_json(module: ModuleOp) -> dict:
    """The hbm_layout.json document of an accel module (format: docs/hardware.md)."""
    engine = next(o for o in module.ops if isinstance(o, accel.EngineOp))
    items, regions = layout_items(module)
    by_name = {}
    for item in items:
        for part, r in enumerate(item.regions):
            by_name[r.sym_name.data] = {
                "format": item.format,
                "file": item.file,
                "tensor": item.tensor,
                "shape": list(item.shape),
                "part": part,
                "parts": len(item.regions),
                **item.params,
            }
    out_regions = []
    for r in regions:
        entry = _region_json(r)
        if r.sym_name.data in by_name:
            entry |= by_name[r.sym_name.data]
        elif r.kind.data == "kv":
            entry["format"] = "kv4_rings"  # written by the accelerator; starts as zeros
        else:
            raise LayoutError(
                f"region @{r.sym_name.data} ({r.kind.data}) has no layout format: no encoder"
            )
        out_regions.append(entry)
    channels = engine.get("channels")
    extents = channel_extents(module)
    ends = [extents.get(c, 0) for c in range(channels)]
    return {
        "format": LAYOUT_FORMAT,
        "version": LAYOUT_VERSION,
        "target": engine.target.data,
        "word_bytes": WORD_BYTES,
        "channels": channels,
        "channel_bytes": engine.get("channel_bytes"),
        "images": {"file": IMAGE_FILE, "bytes": ends},
        "compression": "magnitude 2:4 + RTN W2 (group adapted per layer), int8 LM head, "
        "A8 pow2 embedding rows, 16-bit RMSNorm gains (numerics/contract.py)",
        "norm_descriptors": {"rom": NORM_DESC_ROM, "fields": norm_shift_field()},
        "regions": out_regions,
    }
