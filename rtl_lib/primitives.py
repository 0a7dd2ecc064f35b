"""The one registry of rtl_lib primitives.

Lint (`accllm.rtl_lib.sim.lint`), synthesis (`accllm.rtl_lib.synth`), the resource baseline,
docs/rtl_lib.md and the backend's structural emitter all read this table, so a primitive exists
for the tool flow exactly when it is listed here.

To add a primitive: put its Verilog in `rtl_lib/<file>.sv` (one top module, parameters for widths
and lanes, SystemVerilog subset read by both Verilator 5 and `yosys read_verilog -sv`), add a
`Primitive(...)` entry to `PRIMITIVES` below, write `rtl_lib/tests/test_<name>.py`, and run
`python -m accllm.rtl_lib.synth --update` to record its resources in the baseline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from accllm.rtl_lib.sv_header import Header, read_header

RTL_DIR = Path(__file__).resolve().parent
"""Directory holding the primitives' Verilog sources (this package's folder)."""


@dataclass(frozen=True)
class Primitive:
    """One synthesizable primitive of the accelerator.

    Attributes:
        name: registry key, also the name of its cocotb test (`tests/test_<name>.py`).
        top: name of the top Verilog module.
        sources: Verilog file names relative to `rtl_lib/`, dependencies first, top file last.
        params: the default parameters; lint and the resource baseline use exactly these, and
            they must equal the module's own parameter defaults (the lint test checks that the
            design elaborates with them; `synth` applies them with `chparam`).
        summary: one line saying what the primitive computes (used in docs and reports).
    """

    name: str
    top: str
    sources: tuple[str, ...]
    params: Mapping[str, int] = field(default_factory=dict)
    summary: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def source_paths(self) -> list[Path]:
        """Absolute paths of the Verilog sources, in compile order."""
        return [RTL_DIR / s for s in self.sources]

    def header(self) -> Header:
        """The top module's parameters and ports, read from its source (declared once)."""
        return read_header(self.source_paths()[-1], self.top)

    def ports(self, params: Mapping[str, int | str]) -> list[tuple[str, bool, int]]:
        """(name, is_input, width) of every port of the top module with `params` applied
        (defaults for the others), in declaration order."""
        h = self.header()
        env = h.env(params)
        return [(p.name, p.is_input, p.width(env)) for p in h.ports]


def _registry(*prims: Primitive) -> Mapping[str, Primitive]:
    table: dict[str, Primitive] = {}
    for p in prims:
        if p.name in table:
            raise ValueError(f"rtl_lib primitive {p.name!r} registered twice")
        table[p.name] = p
    return MappingProxyType(table)


PRIMITIVES: Mapping[str, Primitive] = _registry(
    # ---- AXI read master (misc channel; inside every stream_prefetcher) ----------------------
    Primitive(
        name="axi_read_master",
        top="axi_read_master",
        sources=("axi_read_master.sv",),
        params={
            "ADDR_W": 34,
            "DATA_W": 256,
            "LEN_W": 24,
            "MAX_BURST": 64,
            "MAX_OUTSTANDING": 4,
            "PIPELINE": 0,
        },
        summary="AXI4 read master for one HBM channel: bursts -> AXI-stream of words",
    ),
    # ---- streaming memory system (engine rebuild, issue #13) -----------------------------------
    Primitive(
        name="stream_fifo",
        top="stream_fifo",
        sources=("stream_fifo.sv",),
        params={"WIDTH": 512, "DEPTH": 2048, "URAM": 0},
        summary="deep stream FIFO: block RAM + 2-entry output buffer, one entry per cycle",
    ),
    Primitive(
        name="stream_prefetcher",
        top="stream_prefetcher",
        sources=("axi_read_master.sv", "stream_fifo.sv", "stream_prefetcher.sv"),
        params={
            "ADDR_W": 34,
            "DATA_W": 512,
            "TAG_W": 4,
            "DEPTH": 2048,
            "PC_W": 10,
            "POS_W": 32,
            "MAX_BURST": 64,
            "MAX_OUTSTANDING": 8,
            "URAM": 0,
        },
        summary="HBM channel prefetcher: fetch program (RANGE/RING/END) -> credited bursts -> "
        "FIFO of tagged beats",
    ),
    Primitive(
        name="stream_demux",
        top="stream_demux",
        sources=("stream_demux.sv",),
        params={"NU": 4, "DATA_W": 512, "TAG_W": 4},
        summary="one channel's tagged stream -> NU unit stream ports by tag (shared data bus)",
    ),
    Primitive(
        name="axi_write_master",
        top="axi_write_master",
        sources=("axi_write_master.sv",),
        params={"ADDR_W": 34, "DATA_W": 512, "LEN_W": 16, "MAX_BURST": 64, "MAX_OUTSTANDING": 4},
        summary="AXI4 write master (KV appends): command + strobed beats -> AW/W bursts, busy "
        "until every B",
    ),
    # ---- nonlinear units, sequencer ----------------------------------------------------------
    Primitive(
        name="sequencer",
        top="sequencer",
        sources=("sequencer.sv",),
        params={"NUM_UNITS": 8, "PC_W": 10, "LOOP_DEPTH": 4, "OUTST_W": 4},
        summary="runs a docs/isa.md instruction stream: dispatch to units, loops, barriers",
    ),
    Primitive(
        name="silu_unit",
        top="silu_unit",
        sources=("pipe_valid.sv", "sigmoid_rom.sv", "silu_unit.sv"),
        params={"LANES": 2},
        summary="SiLU x * sigmoid(x) in Q15.16: sigmoid LUT with linear interpolation",
    ),
    Primitive(
        name="rmsnorm_unit",
        top="rmsnorm_unit",
        sources=("rsqrt_rom.sv", "rmsnorm_unit.sv"),
        params={"MAX_H": 4096},
        summary="row RMSNorm in Q15.16: per-row shift, rsqrt LUT + 2 Newton steps, gain",
    ),
    Primitive(
        name="rope_unit",
        top="rope_unit",
        sources=("pipe_valid.sv", "rope_unit.sv"),
        params={"HALF": 64, "MAX_POS": 4096, "POS_W": 32},
        summary="RoPE of one (x[i], x[i+hd/2]) pair per beat: cos/sin tables, angle addition",
    ),
    # ---- engine glue (accel-to-hw) --------------------------------------------------------------
    Primitive(
        name="lane_fifo",
        top="lane_fifo",
        sources=("lane_fifo.sv",),
        params={"W": 256, "DEPTH": 4},
        summary="per-lane word buffer: small FIFO with a combinational head (distributed RAM)",
    ),
    Primitive(
        name="tile_mac_array",
        top="tile_mac_array",
        sources=("tile_mac_array.sv",),
        params={
            "LANES": 4,
            "BLOCKS": 4,
            "P8": 4,
            "TOK": 4,
            "PSUM_W": 20,
            "SCALE_W": 16,
            "ACC_W": 48,
        },
        summary="GEMM-tile MAC: W2 2:4 or int8 beats applied per token of a tile, per-token "
        "group sums and 48-bit accumulators",
    ),
    Primitive(
        name="stream_linear_unit",
        top="stream_linear_unit",
        sources=("lane_fifo.sv", "tile_mac_array.sv", "stream_linear_unit.sv"),
        params={
            "CH": 2,
            "LANES": 4,
            "BLOCKS": 4,
            "P8": 4,
            "DW": 256,
            "TOK": 4,
            "MAX_K": 256,
            "WFD": 4,
            "MFD": 8,
            "ACT_AW": 12,
            "DESC_AW": 8,
            "BIAS": 0,
        },
        summary="stream-fed MAC unit: W2A8 and int8 linears from per-channel weight streams "
        "(metadata in the stream), GEMM tiles, Q15.16 rows",
    ),
    Primitive(
        name="stream_attn_pipe",
        top="stream_attn_pipe",
        sources=("exp2_rom.sv", "stream_attn_pipe.sv"),
        params={
            "SINK": 2,
            "WINDOW": 6,
            "HEAD_DIM": 16,
            "DW": 256,
            "REP_MAX": 2,
            "TMAX": 4,
            "STG_DEPTH": 4,
            "EXPU": 4,
            "POS_W": 32,
            "QW": 2,
        },
        summary="one head pipeline of the stream attention unit (a K/V slot per cycle): QK, "
        "softmax with 4 exp units, PV on the fly",
    ),
    Primitive(
        name="stream_attention_unit",
        top="stream_attention_unit",
        sources=("mod_const.sv", "exp2_rom.sv", "stream_attn_pipe.sv", "stream_attention_unit.sv"),
        params={
            "PIPES": 2,
            "SINK": 2,
            "WINDOW": 6,
            "HEAD_DIM": 16,
            "DW": 256,
            "KV_HEADS": 2,
            "REP_MAX": 2,
            "TMAX": 4,
            "EXPU": 4,
            "ACT_AW": 10,
            "DESC_AW": 8,
            "POS_W": 32,
        },
        summary="stream attention unit: KV4 append (leading-zero exponent) + Λ attention over "
        "HBM-streamed rings, one pipeline per KV channel, KV writes with byte strobes",
    ),
    Primitive(
        name="vector_unit",
        top="vector_unit",
        sources=("pipe_valid.sv", "sigmoid_rom.sv", "silu_unit.sv", "vector_unit.sv"),
        params={"MAX_H": 4096, "ACT_AW": 12, "DESC_AW": 8},
        summary="vector units vec (A8 requantize, residual add) and act (SwiGLU) descriptors",
    ),
    Primitive(
        name="norm_unit",
        top="norm_unit",
        sources=("rsqrt_rom.sv", "rmsnorm_unit.sv", "norm_unit.sv"),
        params={"MAX_H": 4096, "ADDR_W": 34, "ACT_AW": 12, "DESC_AW": 8},
        summary="norm unit: RMSNorm descriptors, gain table from HBM, rows in the act buffer",
    ),
    Primitive(
        name="embedding_unit",
        top="embedding_unit",
        sources=("embedding_unit.sv",),
        params={"MAX_H": 4096, "ADDR_W": 34, "ACT_AW": 12, "DESC_AW": 8},
        summary="embedding unit: token ids from the act buffer, int8 rows + exponent from HBM",
    ),
    Primitive(
        name="rope_cmd_unit",
        top="rope_cmd_unit",
        sources=("pipe_valid.sv", "rope_unit.sv", "rope_cmd_unit.sv"),
        params={"HALF": 64, "MAX_POS": 4096, "POS_W": 32, "ACT_AW": 12, "DESC_AW": 8},
        summary="rope unit: RoPE descriptors over the act buffer, tables through a write port",
    ),
    Primitive(
        name="rom",
        top="rom",
        sources=("rom.sv",),
        params={"WIDTH": 64, "DEPTH": 256},
        summary="$readmemh-initialised ROM (program, descriptors), one-cycle read",
    ),
    Primitive(
        name="act_ram",
        top="act_ram",
        sources=("act_ram.sv",),
        params={"WORDS": 4096},
        summary="two-port 256-bit activation buffer with 32-bit lane writes",
    ),
)


def get(name: str) -> Primitive:
    """The registered primitive `name`; raises KeyError listing the known names otherwise."""
    try:
        return PRIMITIVES[name]
    except KeyError:
        raise KeyError(
            f"unknown rtl_lib primitive {name!r}; registered: {', '.join(sorted(PRIMITIVES))}"
        ) from None
