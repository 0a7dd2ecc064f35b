"""Target descriptions (FPGA board + HBM) and the engine configuration derived from them.

A target is a JSON file in `backend/targets/<name>.json` (or any path) with the clock, the HBM
(channels, capacity and bandwidth per channel, AXI data width, read latency) and the resource
budget (LUT, FF, DSP, 36 Kb BRAM, URAM).  `load_target` validates every field and names the bad
one.  `derive_engine` turns a target into the engine configuration the lowering uses (array
lanes, buffer sizes, channel assignment); docs/hardware.md explains the rules.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from accllm.numerics.contract import NUMERICS

TARGETS_DIR = Path(__file__).resolve().parent / "targets"
BASELINE_PATH = Path(__file__).resolve().parent.parent / "rtl_lib" / "resource_baseline.json"

BRAM36_BYTES = 36 * 1024 // 8  # one RAMB36 holds 36 Kb (32 Kb data + parity, data counted)
URAM_BYTES = 288 * 1024 // 8  # one URAM288 holds 288 Kb
WORD_BYTES = NUMERICS.word_bits // 8  # packed weight stream word (contract pack_2_4_w2)


class TargetError(ValueError):
    """A target description that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class HBMDesc:
    """The board's high-bandwidth memory, as the accelerator sees it through AXI ports.

    channels: independent pseudo-channels, one AXI read master each.
    channel_bytes: capacity of one channel.
    channel_bandwidth_gbps: peak bandwidth of one channel in GB/s (10^9 bytes per second).
    axi_data_bits: width of one AXI data beat (a multiple of the 256-bit stream word).
    latency_cycles: read latency in accelerator cycles (address accepted -> first beat), used
        by the behavioural memory model of simulations and by the schedule's prefetch distance.
    """

    channels: int
    channel_bytes: int
    channel_bandwidth_gbps: float
    axi_data_bits: int
    latency_cycles: int


@dataclass(frozen=True)
class ResourceDesc:
    """The device's logic budget (whole device; `TargetDesc.utilisation_limit` caps use)."""

    lut: int
    ff: int
    dsp: int
    bram36: int
    uram: int


@dataclass(frozen=True)
class TargetDesc:
    """One FPGA target: name, clock, HBM and resources (see `load_target`)."""

    name: str
    description: str
    family: str
    clock_mhz: float
    hbm: HBMDesc
    resources: ResourceDesc
    utilisation_limit: float

    @property
    def hbm_bandwidth_gbps(self) -> float:
        """Peak HBM bandwidth of the whole board."""
        return self.hbm.channels * self.hbm.channel_bandwidth_gbps


def _check_number(where: str, value: Any, kind: type, positive: bool = True) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise TargetError(f"{where}: expected {kind.__name__}, got {value!r}")
    if positive and value <= 0:
        raise TargetError(f"{where}: must be > 0, got {value!r}")
    if not positive and value < 0:
        raise TargetError(f"{where}: must be >= 0, got {value!r}")
    return kind(value)


def _section(where: str, raw: Any, cls: type, nonneg: tuple[str, ...] = ()) -> Any:
    if not isinstance(raw, dict):
        raise TargetError(f"{where}: expected an object, got {raw!r}")
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise TargetError(f"{where}: unknown field(s) {unknown}; known: {names}")
    values = {}
    for f in fields(cls):
        if f.name not in raw:
            raise TargetError(f"{where}.{f.name}: missing")
        kind = float if f.type in (float, "float") else int
        values[f.name] = _check_number(
            f"{where}.{f.name}", raw[f.name], kind, positive=f.name not in nonneg
        )
    return cls(**values)


def parse_target(raw: Any, source: str = "<target>") -> TargetDesc:
    """Validate a decoded JSON object and build the `TargetDesc`; TargetError names the field."""
    if not isinstance(raw, dict):
        raise TargetError(f"{source}: a target description is a JSON object")
    known = [f.name for f in fields(TargetDesc)]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise TargetError(f"{source}: unknown field(s) {unknown}; known: {known}")
    for key in known:
        if key not in raw:
            raise TargetError(f"{source}: {key}: missing")
    for key in ("name", "description", "family"):
        if not isinstance(raw[key], str) or not raw[key]:
            raise TargetError(f"{source}: {key}: expected a non-empty string, got {raw[key]!r}")
    hbm = _section(f"{source}: hbm", raw["hbm"], HBMDesc)
    if hbm.axi_data_bits % NUMERICS.word_bits:
        raise TargetError(
            f"{source}: hbm.axi_data_bits: must be a multiple of the {NUMERICS.word_bits}-bit "
            f"stream word, got {hbm.axi_data_bits}"
        )
    if hbm.channels < 3:
        raise TargetError(
            f"{source}: hbm.channels: need >= 3 (weights, KV cache, activations/program), "
            f"got {hbm.channels}"
        )
    res = _section(f"{source}: resources", raw["resources"], ResourceDesc, nonneg=("uram",))
    limit = _check_number(f"{source}: utilisation_limit", raw["utilisation_limit"], float)
    if limit > 1.0:
        raise TargetError(f"{source}: utilisation_limit: must be in (0, 1], got {limit}")
    return TargetDesc(
        name=raw["name"],
        description=raw["description"],
        family=raw["family"],
        clock_mhz=_check_number(f"{source}: clock_mhz", raw["clock_mhz"], float),
        hbm=hbm,
        resources=res,
        utilisation_limit=limit,
    )


def available_targets() -> list[str]:
    """Names of the targets shipped in `backend/targets/`."""
    return sorted(p.stem for p in TARGETS_DIR.glob("*.json"))


def load_target(name_or_path: str | Path) -> TargetDesc:
    """A shipped target by name (`u280`, `sim`) or a JSON file by path; TargetError otherwise."""
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = TARGETS_DIR / f"{name_or_path}.json"
        if not path.exists():
            raise TargetError(
                f"unknown target {str(name_or_path)!r}; shipped: {', '.join(available_targets())}"
            )
    try:
        raw = json.loads(path.read_text())
    except OSError as err:
        raise TargetError(f"{path}: cannot read: {err.strerror}") from err
    except json.JSONDecodeError as err:
        raise TargetError(f"{path}: not valid JSON: {err}") from err
    return parse_target(raw, str(path))


# --------------------------------------------------------------------------------------------
# Engine configuration
# --------------------------------------------------------------------------------------------

# Blocks (4 weights, 7 bits) per stream word.  A MAC beat must never straddle a W2 group (the
# sparse_mac_array closes groups on beat boundaries) nor a word (the unpacker emits whole words),
# so a lane's blocks per beat divide both 36 and the blocks of the smallest group (G = 32: 8).
BLOCKS_PER_WORD = NUMERICS.blocks_per_word
_GROUP_BLOCKS = math.gcd(BLOCKS_PER_WORD, min(NUMERICS.group_sizes) // 4)
_BLOCK_DIVISORS = [d for d in range(1, _GROUP_BLOCKS + 1) if _GROUP_BLOCKS % d == 0]


@dataclass(frozen=True)
class EngineConfig:
    """What the lowering and the netlist need to know about the engine of one target.

    Channel assignment: `weight_channels` stream packed weights (one AXI master + unpacker each),
    `kv_channels` hold the Λ KV cache, channel `misc_channel` holds the program, activation
    spills, scales/zero points, the embedding table and the int8 LM head.

    mac_blocks: 2:4 blocks per lane per beat (sparse_mac_array BLOCKS = w2_unpacker OUT_BLOCKS).
    mac_lanes: output channels per beat of the whole array (sparse_mac_array LANES), split
        evenly over the weight channels (`lanes_per_channel`).
    attn_lanes: KV4 elements per beat of the attention MAC (attn_mac LANES).
    act_buffer_bytes: on-chip int8 activation buffer (GEMM tiles of prefill read it).
    kv_buffer_bytes: on-chip staging of one head's visible KV4 rows for decode.
    gemm_tokens: tokens per prefill tile (GEMM mode); decode is GEMV (one token).
    words_per_cycle: stream words one channel delivers per cycle (bandwidth and AXI width bound).
    bound: the budget that limited `mac_lanes` ("bandwidth" if none did).
    """

    target: str
    clock_mhz: float
    channels: int
    weight_channels: int
    kv_channels: int
    misc_channel: int
    words_per_cycle: float
    mac_blocks: int
    mac_lanes: int
    lanes_per_channel: int
    attn_lanes: int
    act_buffer_bytes: int
    kv_buffer_bytes: int
    gemm_tokens: int
    bound: str
    estimate: dict[str, int]
    # The stream-fed MAC unit (rtl_lib/stream_linear_unit.sv, issue 13), derived beside the
    # engine above until the top switches over (`derive_engine` rule 5).
    stream_channels: int = 0
    stream_words_per_beat: int = 1
    stream_lanes: int = 0
    stream_tile_tokens: int = 1
    stream_bound: str = ""
    stream_estimate: dict[str, int] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _baseline() -> dict[str, dict[str, int]]:
    return json.loads(BASELINE_PATH.read_text())["primitives"]


# The stream unit's lanes consume this many times a channel's words (compute over-provisioned
# against the stream, so the MAC drains the backlog a bubble leaves: docs/engine.md), and its
# GEMM tile height (tokens per weight pass in prefill; 2 already makes prefill compute bound).
STREAM_OVERPROVISION = 1.2
STREAM_TILE_TOKENS = 4
# Share of the device's budget (after `utilisation_limit`) the stream unit may take: the rest is
# for attention, the row units, the prefetchers and the sequencer.
STREAM_BUDGET_SHARE = 0.75
# Lane metadata FIFO depth of the u280-sized unit (stream_linear_unit MFD): a row's entries
# plus a partial word must fit (K = 11008 at G = 128: 88 entries, 7 words + 1).
STREAM_META_FIFO_WORDS = 16


def stream_unit_resources(base: dict, channels: int, lanes: int) -> dict[str, float]:
    """LUT (logic + distributed RAM) / FF / DSP of stream_linear_unit with `channels` x `lanes`,
    scaled from the Yosys baseline: per lane the tile_mac_array share and two lane FIFOs, per
    channel the rest of the unit at its default parameters (router, feeder, writer).  Not
    scaled: the activation store (TOK x MAX_K bytes per channel, block RAM at 7B sizes)."""
    mac, fifo, unit = base["tile_mac_array"], base["lane_fifo"], base["stream_linear_unit"]
    up = unit["params"]

    def get(fig: dict, cat: str) -> float:
        return fig[cat] + (fig.get("LUTRAM", 0) if cat == "LUT" else 0)

    out = {}
    for cat in ("LUT", "FF", "DSP"):
        lane = get(mac, cat) / mac["params"]["LANES"] + 2 * get(fifo, cat)
        chan = (get(unit, cat) - up["CH"] * up["LANES"] * lane) / up["CH"]
        out[cat] = channels * (max(chan, 0.0) + lanes * lane)
    return out


def derive_engine(target: TargetDesc, max_features: int = 4096) -> EngineConfig:
    """The engine configuration of `target` (one function; docs/hardware.md states the rules).

    1. Channels: 1/8 of the channels (>= 1) hold the KV cache, the last channel holds the
       program, activations and small tables, the rest stream weights.
    2. Each weight channel delivers `words_per_cycle = min(axi_data_bits / 256,
       bandwidth / (32 B * clock))` stream words per cycle; decode (GEMV) is bandwidth bound, so
       the array is sized to consume exactly that: `36 * words_per_cycle` blocks per cycle per
       channel, as `lanes_per_channel` lanes of `mac_blocks` blocks (`mac_blocks` the largest
       common divisor of 36 and of the smallest group's 8 blocks, i.e. at most 4, so no beat
       straddles a group; the lanes of a channel take interleaved rows, `tiling.split_rows`).
    3. The lanes are capped by the DSP and LUT budgets (times `utilisation_limit`), with the cost
       per lane/block taken from the synthesised rtl_lib baseline (sparse_mac_array: one DSP per
       lane, LUTs proportional to lanes x blocks).  `bound` records a cap.
    4. On-chip memory (BRAM + URAM, times the limit): half for the activation buffer, a quarter
       for KV staging; `gemm_tokens` = how many rows of `max_features` int8 activations fit in
       the activation buffer (at least 1), i.e. the prefill tile height.
    5. The stream unit (`stream_*`, rtl_lib/stream_linear_unit.sv): all channels stream
       weights, `axi_data_bits / 256` words per beat; `stream_lanes` lanes per channel consume
       `STREAM_OVERPROVISION` x the channel's blocks per cycle, capped by
       `STREAM_BUDGET_SHARE` of the LUT and DSP budgets (`stream_unit_resources`, from the
       Yosys baseline); GEMM tiles of `STREAM_TILE_TOKENS` tokens.
    """
    res, hbm = target.resources, target.hbm
    kv_ch = max(1, hbm.channels // 8)
    misc = hbm.channels - 1
    w_ch = hbm.channels - kv_ch - 1
    clock_hz = target.clock_mhz * 1e6
    wpc = min(
        hbm.axi_data_bits / NUMERICS.word_bits,
        hbm.channel_bandwidth_gbps * 1e9 / (WORD_BYTES * clock_hz),
    )
    blocks_per_channel = BLOCKS_PER_WORD * wpc
    mac_blocks = max(d for d in _BLOCK_DIVISORS if d <= max(1.0, blocks_per_channel))
    lanes_per_ch = max(1, math.ceil(blocks_per_channel / mac_blocks))

    base = _baseline()
    mac = base["sparse_mac_array"]
    p = mac["params"]
    lut_per_block = mac["LUT"] / (p["LANES"] * p["BLOCKS"])
    dsp_per_lane = mac["DSP"] / p["LANES"]
    # Units beside the MAC array: one AXI master + unpacker per weight channel, the attention MAC,
    # the requantizer; their cost is taken off the budget first.
    fixed_lut = w_ch * (base["axi_read_master"]["LUT"] + base["w2_unpacker"]["LUT"])
    fixed_lut += base["attn_mac"]["LUT"] + base["requantizer"]["LUT"]
    fixed_dsp = base["attn_mac"]["DSP"] + base["requantizer"]["DSP"]
    lim = target.utilisation_limit
    lut_room = res.lut * lim - fixed_lut
    dsp_room = res.dsp * lim - fixed_dsp
    bound = "bandwidth"
    max_by_lut = int(lut_room // (lut_per_block * mac_blocks * w_ch))
    max_by_dsp = int(dsp_room // (dsp_per_lane * w_ch)) if dsp_per_lane else lanes_per_ch
    if max_by_dsp < lanes_per_ch:
        lanes_per_ch, bound = max_by_dsp, "DSP"
    if max_by_lut < lanes_per_ch:
        lanes_per_ch, bound = max_by_lut, "LUT"
    if lanes_per_ch < 1:
        raise TargetError(
            f"{target.name}: resources: the budget cannot hold one MAC lane per weight channel "
            f"({w_ch} channels, {mac_blocks} blocks per lane)"
        )
    lanes = lanes_per_ch * w_ch

    onchip = (res.bram36 * BRAM36_BYTES + res.uram * URAM_BYTES) * lim
    act_bytes = int(onchip // 2)
    kv_bytes = int(onchip // 4)
    gemm_tokens = max(1, act_bytes // max_features)
    estimate = {
        "LUT": int(fixed_lut + lut_per_block * mac_blocks * lanes),
        "DSP": int(fixed_dsp + dsp_per_lane * lanes),
        "onchip_bytes": act_bytes + kv_bytes,
    }

    # 5. The stream unit: every channel streams weights; lanes of `mac_blocks` blocks consume
    #    STREAM_OVERPROVISION x the channel's blocks per cycle (at least one lane per word of a
    #    beat), capped by STREAM_BUDGET_SHARE of the LUT and DSP budgets.
    wpb = hbm.axi_data_bits // NUMERICS.word_bits
    st_lanes = max(wpb, math.ceil(STREAM_OVERPROVISION * blocks_per_channel / mac_blocks))
    st_bound = "overprovision"
    for cat, total in (("LUT", res.lut), ("DSP", res.dsp)):
        while (
            st_lanes > wpb
            and stream_unit_resources(base, hbm.channels, st_lanes)[cat]
            > STREAM_BUDGET_SHARE * total * lim
        ):
            st_lanes, st_bound = st_lanes - 1, cat
    st_est = stream_unit_resources(base, hbm.channels, st_lanes)
    return EngineConfig(
        target=target.name,
        clock_mhz=target.clock_mhz,
        channels=hbm.channels,
        weight_channels=w_ch,
        kv_channels=kv_ch,
        misc_channel=misc,
        words_per_cycle=round(wpc, 4),
        mac_blocks=mac_blocks,
        mac_lanes=lanes,
        lanes_per_channel=lanes_per_ch,
        attn_lanes=base["attn_mac"]["params"]["LANES"],
        act_buffer_bytes=act_bytes,
        kv_buffer_bytes=kv_bytes,
        gemm_tokens=gemm_tokens,
        bound=bound,
        estimate=estimate,
        stream_channels=hbm.channels,
        stream_words_per_beat=wpb,
        stream_lanes=st_lanes,
        stream_tile_tokens=STREAM_TILE_TOKENS,
        stream_bound=st_bound,
        stream_estimate={c: int(v) for c, v in st_est.items()},
    )
