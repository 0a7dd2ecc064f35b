"""Resource estimate of the engine: instances of rtl_lib primitives x their Yosys baseline.

Each primitive's baseline (`rtl_lib/resource_baseline.json`, default parameters) is scaled
linearly in the parameter that replicates its datapath (`SCALE`): the MAC array in LANES x
BLOCKS (DSP in LANES: one group-scale DSP per lane), the attention MAC and the unpacker in their
lanes/blocks.  On-chip buffers (activation, KV staging, weight staging) go to URAM first, then
BRAM36.  The figures rank designs and check fit; they are Yosys counts, not Vivado placement.
"""

from __future__ import annotations

import json
import math

from accllm.backend.perf.cost import Machine, weight_words_per_row
from accllm.backend.target_desc import BASELINE_PATH, BRAM36_BYTES, URAM_BYTES
from accllm.numerics.words import WORD_BYTES

CATEGORIES = ("LUT", "FF", "DSP", "BRAM36", "URAM")


def _baseline() -> dict[str, dict]:
    return json.loads(BASELINE_PATH.read_text())["primitives"]


def instances(m: Machine) -> dict[str, tuple[int, float, float]]:
    """primitive -> (count, scale of LUT/FF/BRAM, scale of DSP) relative to its baseline."""
    eng, opt = m.engine, m.options
    base = _baseline()
    mac_p = base["sparse_mac_array"]["params"]
    lanes_blocks = eng.mac_lanes * eng.mac_blocks / (mac_p["LANES"] * mac_p["BLOCKS"])
    attn = m.attn_lanes / base["attn_mac"]["params"]["LANES"]
    unpack = eng.mac_blocks / base["w2_unpacker"]["params"]["OUT_BLOCKS"]
    # One unpacker per lane: each lane streams its own row's blocks.
    return {
        "axi_read_master": (eng.channels, 1.0, 1.0),
        "w2_unpacker": (eng.weight_channels * eng.lanes_per_channel, unpack, unpack),
        "sparse_mac_array": (1, lanes_blocks, eng.mac_lanes / mac_p["LANES"]),
        "attn_mac": (1, attn, attn),
        "softmax_unit": (opt.softmax_units, 1.0, 1.0),
        "kv_cache_ctrl": (1, 1.0, 1.0),
        "rmsnorm_unit": (opt.vector_lanes, 1.0, 1.0),
        "rope_unit": (opt.vector_lanes, 1.0, 1.0),
        "silu_unit": (opt.vector_lanes, 1.0, 1.0),
        "requantizer": (opt.vector_lanes, 1.0, 1.0),
        "sequencer": (1, 1.0, 1.0),
    }


def buffer_bytes(m: Machine, max_k: int) -> dict[str, int]:
    """On-chip buffers: the engine's activation and KV staging, plus weight staging (rows of a
    pass held for the GEMM tile; twice with double buffering)."""
    eng = m.engine
    rows = eng.lanes_per_channel * weight_words_per_row(max_k, "w2", m.options.encoding)
    copies = 2 if m.options.double_buffer else 1
    return {
        "activations": eng.act_buffer_bytes if m.options.act_onchip else 0,
        "kv_staging": eng.kv_buffer_bytes,
        "weight_staging": eng.weight_channels * copies * rows * WORD_BYTES,
    }


def estimate(m: Machine, max_k: int) -> dict:
    """Use per category, the device budget, utilisation and whether it fits."""
    base = _baseline()
    use = dict.fromkeys(CATEGORIES, 0.0)
    for name, (count, scale, dsp_scale) in instances(m).items():
        b = base[name]
        use["LUT"] += count * scale * (b["LUT"] + b["LUTRAM"])
        use["FF"] += count * scale * b["FF"]
        use["DSP"] += count * math.ceil(dsp_scale * b["DSP"])
        use["BRAM36"] += count * math.ceil(scale * b["BRAM"]) / 2  # baseline counts RAMB18
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
        "buffers_bytes": bufs,
        "instances": {k: v[0] for k, v in instances(m).items()},
    }
