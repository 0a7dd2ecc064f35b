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
from accllm.numerics.words import WORD_BYTES

TARGETS_DIR = Path(__file__).resolve().parent / "targets"
BASELINE_PATH = Path(__file__).resolve().parent.parent / "rtl_lib" / "resource_baseline.json"

BRAM36_BYTES = 36 * 1024 // 8  # one RAMB36 holds 36 Kb (32 Kb data + parity, data counted)
URAM_BYTES = 288 * 1024 // 8  # one URAM288 holds 288 Kb


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
# tile_mac_array closes groups on beat boundaries) nor a word (stream_linear_unit's feeder slices
# a beat from its lane FIFO's head word), so a lane's blocks per beat divide both 36 and the
# blocks of the smallest group (G = 32: 8).
BLOCKS_PER_WORD = NUMERICS.blocks_per_word
_GROUP_BLOCKS = math.gcd(BLOCKS_PER_WORD, min(NUMERICS.group_sizes) // 4)
_BLOCK_DIVISORS = [d for d in range(1, _GROUP_BLOCKS + 1) if _GROUP_BLOCKS % d == 0]


@dataclass(frozen=True)
class EngineConfig:
    """What the lowering and the netlist need to know about the engine of one target
    (docs/engine.md: the decoupled access / execute engine).

    Channels: every one of the `channels` HBM pseudo-channels streams weights (`weight_channels`
    = `channels`: a prefetcher per channel walks the program's fetch program into a FIFO of
    `fifo_beats` beats); `misc_channel` also holds the small tables (norm gains, embedding rows),
    read through a second AXI port of the top; `kv_channels` channels may each hold KV heads'
    Λ rings and run one attention pipeline (lower-to-accel uses min(kv_channels, KV heads)).

    mac_blocks: 2:4 blocks per lane per MAC beat (tile_mac_array BLOCKS).
    lanes_per_channel: MAC lanes of each channel in stream_linear_unit (LANES); `mac_lanes` in all.
    words_per_beat: 256-bit stream words per AXI beat (the unit's DW / 256).
    tile_tokens: tokens of one GEMM tile (stream_linear_unit TOK): a prefill linear of more
        tokens runs tile by tile, streaming its weights once per tile.
    fifo_beats: depth of each channel's prefetch FIFO (stream_prefetcher DEPTH).
    attn_lanes: KV4 elements per beat of the attention MAC (`ATTN_LANES`).
    act_buffer_bytes: on-chip int8 activation buffer (GEMM tiles of prefill read it).
    kv_buffer_bytes: on-chip staging of one head's visible KV4 rows for decode.
    gemm_tokens: the most tokens one program may carry (rows of the widest activation that fit
        in the activation buffer).
    words_per_cycle: stream words one channel delivers per cycle (bandwidth and AXI width bound).
    bound: the budget that limited `lanes_per_channel` ("overprovision" if none did).
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
    words_per_beat: int
    tile_tokens: int
    fifo_beats: int
    attn_lanes: int
    act_buffer_bytes: int
    kv_buffer_bytes: int
    gemm_tokens: int
    bound: str
    estimate: dict[str, int]

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
# KV4 elements per beat of the attention MAC, the estimator's `Machine.attn_lanes` default
# (backend/perf/cost.py, accel.engine's `attn_lanes`). It was the LANES of the old engine's
# attn_mac, deleted with the old units (issue #13); the emitted stream_attention_unit takes a
# K/V slot per cycle per pipeline instead; the figure only feeds the estimator's attention
# what-if and resource rules (backend/perf/cost.py, resources.py).
ATTN_LANES = 8
# Share of the on-chip memory for the channels' prefetch FIFOs, and their depth bounds (beats):
# deep enough to absorb a layer's bubbles on u280 (docs/engine.md's budget), at least a few
# bursts everywhere.
FIFO_SHARE = 1 / 8
MIN_FIFO_BEATS = 64
MAX_FIFO_BEATS = 4096


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

    1. Channels: every channel streams weights through its prefetcher and may hold KV rings
       (KV head h on channel h mod kv_channels, an attention pipeline each); the last channel
       also holds the small tables.
    2. Each channel delivers `words_per_cycle = min(axi_data_bits / 256, bandwidth / (32 B *
       clock))` stream words per cycle, `words_per_beat = axi_data_bits / 256` per AXI beat.
       `mac_blocks` is the largest common divisor of 36 and of the smallest group's 8 blocks
       (at most 4), so no MAC beat straddles a group.
    3. stream_linear_unit: `lanes_per_channel` lanes per channel consume `STREAM_OVERPROVISION`
       x the channel's blocks per cycle (at least one lane per word of a beat), capped by
       `STREAM_BUDGET_SHARE` of the LUT and DSP budgets (`stream_unit_resources`, from the Yosys
       baseline); `bound` records the cap; GEMM tiles of `STREAM_TILE_TOKENS` tokens.
    4. On-chip memory (BRAM + URAM, times the limit): half for the activation buffer, a quarter
       for KV staging, `FIFO_SHARE` for the prefetch FIFOs (`fifo_beats`: the largest power of
       two of beats per channel that fits, at most `MAX_FIFO_BEATS`); `gemm_tokens` = how many
       rows of `max_features` int8 activations fit in the activation buffer (at least 1).
    """
    res, hbm = target.resources, target.hbm
    kv_ch = hbm.channels
    misc = hbm.channels - 1
    clock_hz = target.clock_mhz * 1e6
    wpc = min(
        hbm.axi_data_bits / NUMERICS.word_bits,
        hbm.channel_bandwidth_gbps * 1e9 / (WORD_BYTES * clock_hz),
    )
    blocks_per_channel = BLOCKS_PER_WORD * wpc
    mac_blocks = max(d for d in _BLOCK_DIVISORS if d <= max(1.0, blocks_per_channel))
    lim = target.utilisation_limit
    base = _baseline()

    wpb = hbm.axi_data_bits // NUMERICS.word_bits
    lanes = max(wpb, math.ceil(STREAM_OVERPROVISION * blocks_per_channel / mac_blocks))
    bound = "overprovision"
    for cat, total in (("LUT", res.lut), ("DSP", res.dsp)):
        while (
            lanes > wpb
            and stream_unit_resources(base, hbm.channels, lanes)[cat]
            > STREAM_BUDGET_SHARE * total * lim
        ):
            lanes, bound = lanes - 1, cat
    for cat, total in (("LUT", res.lut), ("DSP", res.dsp)):
        need = stream_unit_resources(base, hbm.channels, lanes)[cat]
        if need > STREAM_BUDGET_SHARE * total * lim:
            raise TargetError(
                f"{target.name}: resources: the {cat} budget cannot hold the MAC unit's least "
                f"{lanes} lane(s) per channel (one per word of a beat) on {hbm.channels} "
                f"channels: it needs {need:.0f}, {STREAM_BUDGET_SHARE * total * lim:.0f} allowed"
            )

    onchip = (res.bram36 * BRAM36_BYTES + res.uram * URAM_BYTES) * lim
    act_bytes = int(onchip // 2)
    kv_bytes = int(onchip // 4)
    beat_bytes = hbm.axi_data_bits // 8
    fifo_room = onchip * FIFO_SHARE / (hbm.channels * beat_bytes)
    if fifo_room < MIN_FIFO_BEATS:
        raise TargetError(
            f"{target.name}: resources: on-chip memory holds {fifo_room:.0f} beats of prefetch "
            f"FIFO per channel, the engine needs at least {MIN_FIFO_BEATS}"
        )
    fifo_beats = min(MAX_FIFO_BEATS, 1 << int(math.log2(fifo_room)))
    gemm_tokens = max(1, act_bytes // max_features)
    est = stream_unit_resources(base, hbm.channels, lanes)
    return EngineConfig(
        target=target.name,
        clock_mhz=target.clock_mhz,
        channels=hbm.channels,
        weight_channels=hbm.channels,
        kv_channels=kv_ch,
        misc_channel=misc,
        words_per_cycle=round(wpc, 4),
        mac_blocks=mac_blocks,
        mac_lanes=lanes * hbm.channels,
        lanes_per_channel=lanes,
        words_per_beat=wpb,
        tile_tokens=STREAM_TILE_TOKENS,
        fifo_beats=fifo_beats,
        attn_lanes=ATTN_LANES,
        act_buffer_bytes=act_bytes,
        kv_buffer_bytes=kv_bytes,
        gemm_tokens=gemm_tokens,
        bound=bound,
        estimate={
            **{c: int(v) for c, v in est.items()},
            "onchip_bytes": act_bytes + kv_bytes + fifo_beats * beat_bytes * hbm.channels,
        },
    )
