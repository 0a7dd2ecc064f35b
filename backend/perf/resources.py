"""Resource estimate of the emitted stream engine: rtl_lib instances x their Yosys baseline.

Each primitive's baseline (`rtl_lib/resource_baseline.json`, Yosys `synth_xilinx` at its default
parameters) is scaled linearly in what replicates its datapath:

* `stream_linear_unit`: `target_desc.stream_unit_resources` (the rule `derive_engine` sizes the
  lanes by: per lane the tile_mac_array share and two lane FIFOs, per channel the rest);
* `stream_attention_unit`: the unit's fixed part (the baseline unit less its PIPES pipelines)
  plus one `stream_attn_pipe` per pipeline (min(kv_channels, KV heads)), each scaled by its lanes
  (HEAD_DIM / the baseline's 16): an extrapolation, Yosys has not finished a u280-sized
  pipeline (docs/rtl_lib.md);
* per channel a `stream_prefetcher` (its FIFO counted below as on-chip memory) and a
  `stream_demux`; per KV pipeline an `axi_write_master`; the row units, the sequencer and the
  table port's `axi_read_master` once.

On-chip memory (activation buffer, the prefetch FIFOs, the stream unit's activation stores) goes
to URAM first, up to the utilisation limit, then BRAM36.  The figures rank designs and check fit;
they are Yosys counts, not Vivado placement.
"""

from __future__ import annotations

import json
import math

from accllm.backend.perf.cost import Machine
from accllm.backend.target_desc import (
    BASELINE_PATH,
    BRAM36_BYTES,
    URAM_BYTES,
    stream_unit_resources,
)

CATEGORIES = ("LUT", "FF", "DSP", "BRAM36", "URAM")
# Primitives instantiated once, whatever the engine's size (their RTL is not replicated).
SINGLE_UNITS = (
    "norm_unit",
    "vector_unit",
    "rope_cmd_unit",
    "embedding_unit",
    "sequencer",
    "axi_read_master",
)


def _baseline() -> dict[str, dict]:
    return json.loads(BASELINE_PATH.read_text())["primitives"]


def _fig(b: dict, cat: str) -> float:
    if cat == "LUT":
        return b["LUT"] + b.get("LUTRAM", 0)
    if cat == "BRAM36":
        return b["BRAM"] / 2  # the baseline counts RAMB18
    return b[cat]


def unit_use(m: Machine, head_dim: int, kv_heads: int) -> dict[str, dict[str, float]]:
    """primitive (or group) -> LUT / FF / DSP / BRAM36 of the engine's instances."""
    eng = m.engine
    base = _baseline()
    out: dict[str, dict[str, float]] = {}
    lin = stream_unit_resources(base, eng.weight_channels, eng.lanes_per_channel)
    out["stream_linear_unit"] = {**lin, "BRAM36": 0.0}
    unit, pipe = base["stream_attention_unit"], base["stream_attn_pipe"]
    pipes = unit["params"]["PIPES"]
    scale = head_dim / pipe["params"]["HEAD_DIM"] if head_dim else 1.0
    ours = m.kv_pipes(kv_heads) if kv_heads else 0
    out["stream_attention_unit"] = {
        c: max(0.0, _fig(unit, c) - pipes * _fig(pipe, c)) + ours * scale * _fig(pipe, c)
        for c in ("LUT", "FF", "DSP", "BRAM36")
    }
    pf = base["stream_prefetcher"]
    per_ch = {c: _fig(pf, c) + _fig(base["stream_demux"], c) for c in ("LUT", "FF", "DSP")}
    out["stream_prefetcher + stream_demux"] = {
        **{c: eng.channels * v for c, v in per_ch.items()},
        "BRAM36": 0.0,  # the FIFO: on-chip memory below
    }
    aw = base["axi_write_master"]
    out["axi_write_master"] = {c: ours * _fig(aw, c) for c in ("LUT", "FF", "DSP", "BRAM36")}
    for name in SINGLE_UNITS:
        out[name] = {c: _fig(base[name], c) for c in ("LUT", "FF", "DSP", "BRAM36")}
    return out


def buffer_bytes(m: Machine, max_k: int) -> dict[str, int]:
    """On-chip memories: the activation buffer, every channel's prefetch FIFO (`fifo_beats`
    beats of DW bits + the unit tag), the stream unit's per-channel activation store (a GEMM
    tile of `max_k` int8 inputs)."""
    eng = m.engine
    beat = m.dw // 8
    return {
        "activations": eng.act_buffer_bytes,
        "prefetch_fifos": eng.channels * eng.fifo_beats * beat,
        "linear_act_stores": eng.weight_channels * eng.tile_tokens * max_k,
    }


def estimate(m: Machine, max_k: int, head_dim: int = 0, kv_heads: int = 0) -> dict:
    """Use per category, the device budget, utilisation and whether it fits."""
    use = dict.fromkeys(CATEGORIES, 0.0)
    units = unit_use(m, head_dim, kv_heads)
    for fig in units.values():
        for c in ("LUT", "FF", "DSP", "BRAM36"):
            use[c] += fig[c]
    bufs = buffer_bytes(m, max_k)
    res = m.target.resources
    need = sum(bufs.values())
    # URAM up to the utilisation limit, the rest in BRAM36.
    uram = min(int(res.uram * m.target.utilisation_limit), math.ceil(need / URAM_BYTES))
    use["URAM"] = uram
    use["BRAM36"] += math.ceil(max(0, need - uram * URAM_BYTES) / BRAM36_BYTES)
    budget = {"LUT": res.lut, "FF": res.ff, "DSP": res.dsp, "BRAM36": res.bram36, "URAM": res.uram}
    util = {
        c: (use[c] / budget[c] if budget[c] else (0.0 if not use[c] else math.inf))
        for c in CATEGORIES
    }
    limit = m.target.utilisation_limit
    return {
        "use": {c: round(use[c]) for c in CATEGORIES},
        "device": budget,
        "utilisation": {c: round(u, 4) for c, u in util.items()},
        "limit": limit,
        "fits": all(u <= limit for u in util.values()),
        "over": sorted(c for c, u in util.items() if u > limit),
        "buffers_bytes": bufs,
        "units": {k: {c: round(v) for c, v in fig.items()} for k, fig in units.items()},
        "attention_pipe_scaled_from_head_dim": _baseline()["stream_attn_pipe"]["params"][
            "HEAD_DIM"
        ],
    }
