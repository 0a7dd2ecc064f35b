"""Fetch programs: every HBM read of an `accel.schedule`, per channel, in consumption order.

The engine is decoupled access / execute (docs/engine.md): each channel's `stream_prefetcher`
walks its fetch program from the start of the accelerator program and streams the words into its
FIFO; the stream units pop them in the order of their commands. So a channel's fetch program is
the projection of the schedule onto the channel: for each instruction, in program order, the
reads it makes there.

- `accel.linear`: one RANGE (tag `mac`) of the whole channel stream region per GEMM tile
  (`tiling.linear_tiles`: stream_linear_unit runs at most `tile_tokens` tokens per command and
  streams the weights once per command), on every channel the linear uses;
- `accel.attention` (tag `attn`): on each KV channel, per new token and per KV head on the
  channel, the cached part of the head's ring -- K scales, K codes, V scales, V codes
  (`tiling.kv_stream_rings`): RING entries (min(pos, S + W) slots, pos = the position
  register) when the position is the run-time one, RANGEs of the slots cached at a
  compile-time position otherwise (none at position 0);
- `accel.kv_append` reads nothing (its writes go through the KV write masters).

`instruction_reads` is the one definition; `accel-to-hw` encodes `schedule_programs` into the
fetch ROMs and the estimator prices the same reads (`backend/perf`).
"""

from __future__ import annotations

from accllm.backend import tiling
from accllm.dialects import accel
from accllm.rtl_lib import fetch_isa

# Unit tags of the channel streams: stream_demux output i feeds the unit tagged i.
STREAM_TAGS = {"mac": 0, "attn": 1}


def _int(op, name: str) -> int:
    return op.properties[name].value.data


def linear_layout(op: accel.LinearOp, engine: accel.EngineOp) -> tiling.StreamLayout:
    """The channel stream layout of a lowered linear (its regions hold this stream)."""
    return tiling.linear_stream_layout(
        _int(op, "n"),
        _int(op, "k"),
        _int(op, "group"),
        op.precision.data,
        _int(op, "rows_per_channel"),
        engine.get("lanes_per_channel"),
        engine.get("words_per_beat"),
        op.bias is not None,
    )


def instruction_reads(
    op: accel.InstructionOp,
    engine: accel.EngineOp,
    regions: dict[str, accel.HBMRegionOp],
) -> dict[int, list[fetch_isa.Entry]]:
    """Channel -> the fetch entries of one instruction, in the order its unit consumes them."""
    if isinstance(op, accel.AttentionOp):
        return _attention_reads(op, engine, regions)
    if not isinstance(op, accel.LinearOp):
        return {}
    layout = linear_layout(op, engine)
    tiles = tiling.linear_tiles(_int(op, "tokens"), engine.get("tile_tokens"))
    out: dict[int, list[fetch_isa.Entry]] = {}
    for ref in op.weights.data:
        r = regions[ref.root_reference.data]
        entry = fetch_isa.Range(STREAM_TAGS["mac"], _int(r, "offset"), layout.beats)
        out.setdefault(_int(r, "channel"), []).extend([entry] * len(tiles))
    return out


def schedule_programs(
    module, sched: accel.ScheduleOp, engine: accel.EngineOp
) -> dict[int, list[fetch_isa.Entry]]:
    """Channel -> the fetch program of `sched` on it (END-terminated), for every channel of the
    engine that streams (channels the schedule does not read get a lone END)."""
    regions = {o.sym_name.data: o for o in module.ops if isinstance(o, accel.HBMRegionOp)}
    progs: dict[int, list[fetch_isa.Entry]] = {c: [] for c in range(engine.get("weight_channels"))}
    for op in sched.body.block.ops:
        if isinstance(op, accel.InstructionOp):
            for c, entries in instruction_reads(op, engine, regions).items():
                progs[c] += entries
    return {c: [*p, fetch_isa.End()] for c, p in progs.items()}


def _attention_reads(
    op: accel.AttentionOp, engine: accel.EngineOp, regions: dict[str, accel.HBMRegionOp]
) -> dict[int, list[fetch_isa.Entry]]:
    region = regions[op.kv.root_reference.data]
    pipes = len(region.channels())
    ring = tiling.kv_ring(_int(op, "head_dim"), _int(op, "sink"), _int(op, "window"))
    tag = STREAM_TAGS["attn"]
    data_bits = engine.get("words_per_beat") * tiling.WORD_BITS
    position = op.position.value.data if op.position is not None else None
    out: dict[int, list[fetch_isa.Entry]] = {}
    for c in range(pipes):
        rings = tiling.kv_stream_rings(
            _int(region, "offset"), _int(op, "kv_heads"), _int(op, "tokens"), c, pipes, ring
        )
        entries: list[fetch_isa.Entry] = []
        for addr, slot_bytes, cap in rings:
            if position is None:
                entries.append(fetch_isa.Ring(tag, addr, slot_bytes, cap))
            elif beats := fetch_isa.ring_beats(position, cap, slot_bytes, data_bits):
                entries.append(fetch_isa.Range(tag, addr, beats))
        if entries:
            out[c] = entries
    return out
