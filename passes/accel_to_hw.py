"""accel-to-hw: the accel level -> a structural hw/comb/seq netlist of rtl_lib modules.

The module's `accel.engine`, regions, buffers and schedules become one top `hw.module`
(`accllm_top` by default) that instantiates `hw.module.extern`s of rtl_lib primitives (port lists
read from their headers) with parameters taken from the engine: the decoupled access / execute
engine of docs/engine.md.

- `sequencer` + a program `rom`: every `accel.schedule` is one program (its instructions as
  `isa.Dispatch` / `isa.Barrier`, then `isa.Halt`, encoded by `isa.encode_program`); programs
  sit back to back in one ROM, the top's `prog_base` input is added to the sequencer's fetch
  address, and the module attribute `accel.programs` maps schedule names to their base;
- access: per HBM channel a `stream_prefetcher` with its fetch-program ROM (`fetch_c<c>.hex`:
  every schedule's reads on the channel, `backend/fetch_program.py`, at the same base in every
  ROM, attribute `accel.fetch_programs`; the top's `fetch_base` input starts them with the
  program) on AXI port `hbm<c>_*`, and a `stream_demux` routing the beats by unit tag;
- execute: `stream_linear_unit` (unit `mac`: one `StreamLinearDescriptor` per GEMM tile of each
  `accel.linear`), `stream_attention_unit` (units `attn` and `kv`: one `StreamAttnDescriptor` per
  `accel.attention` -- which appends its tokens -- or `accel.kv_append`; KV rings in HBM, written
  through one `axi_write_master` per attention pipeline on the write channels of
  `hbm0_*` ..), and the vector units (`vector_unit`, `norm_unit`, `rope_cmd_unit`,
  `embedding_unit`: an `accel.vector` embedding is a DISPATCH to unit `vec` with payload bit
  `EMB_SELECT_BIT`; its token ids sit after every activation buffer, the word recorded per
  schedule in the module attribute `accel.token_ids`, where the host writes them before the
  program); norm gains and embedding rows come through one `axi_read_master` on AXI port
  `tbl_*` (the misc channel);
- `act_ram`, port b to the engine units, port a to the host (`host_*` ports: load inputs,
  read outputs while the engine is idle). No unit can stall on port b, so the program must
  never run two engine instances at once: the schedule's barriers (`accel-insert-barriers`)
  ensure it, this pass checks them (`missing_barrier`), and port b follows the busy unit.

Outputs `fetch_idle` (every prefetcher idle: all fetched beats consumed) and `fetch_err` (an
illegal fetch entry or unit tag) let the host check the access side. The ROM images go into the
module attribute `accel.mem_images` (file -> `$readmemh` text), read by
`backend/verilog/emit.py`. An instruction whose unit has no RTL in `rtl_lib/primitives.py` or
that this pass does not wire (vector kinds without RTL) is an error naming the op: a netlist
never silently lacks a unit. The accel ops are replaced by the netlist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects import comb, hw, seq
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    FlatSymbolRefAttr,
    Float64Type,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    NoneType,
    StringAttr,
    i32,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from accllm.backend import accel_program, accel_program_attn, fetch_program, tiling
from accllm.backend import accel_program_vector as apv
from accllm.backend.target_desc import STREAM_META_FIFO_WORDS
from accllm.dialects import accel
from accllm.ir.diagnostics import error_at
from accllm.numerics import contract as ct
from accllm.numerics.words import WORD_BYTES
from accllm.passes.accel_insert_barriers import missing_barrier
from accllm.rtl_lib import fetch_isa, isa
from accllm.rtl_lib.primitives import PRIMITIVES

PROGRAMS_ATTR = "accel.programs"
TOKEN_IDS_ATTR = "accel.token_ids"  # schedule -> where the host writes the token ids
MEM_IMAGES_ATTR = "accel.mem_images"  # read by accllm.backend.verilog.emit
PROGRAM_IMAGE = "program.hex"
LINEAR_DESC_IMAGE = "linear_desc.hex"
ATTN_DESC_IMAGE = "attn_desc.hex"
POS_W = 32  # the runtime position register (attention_unit's `pos`), a top input port
FETCH_IMAGE = "fetch_c{}.hex"  # channel c's fetch-program ROM
FETCH_PROGRAMS_ATTR = "accel.fetch_programs"  # schedule -> its base in every fetch ROM
FETCH_TAGS = len(fetch_program.STREAM_TAGS)
FETCH_TAG_W = 4  # stream_prefetcher / stream_demux TAG_W

# The rtl_lib primitive that executes each sequencer unit's commands. A unit whose primitive is
# not registered has no hardware yet: an instruction for it is an error.
UNIT_RTL: dict[str, str] = {
    "mac": "stream_linear_unit",
    "attn": "stream_attention_unit",
    "kv": "stream_attention_unit",
    "norm": "norm_unit",
    "act": "vector_unit",
    "rope": "rope_cmd_unit",
    "vec": "vector_unit",
}
# Units whose RTL this pass instantiates and wires (descriptor ROM, HBM, activation buffer).
WIRED_UNITS = frozenset(UNIT_RTL)
# accel.vector kinds with RTL: vector_unit's (apv.KIND_OPS), norm_unit's, rope_cmd_unit's and
# embedding_unit's. silu / mul have none yet.
VECTOR_RTL_KINDS = frozenset({*apv.KIND_OPS, "rmsnorm", "rope", "embedding"})
VEC_DESC_IMAGE = "vec_desc.hex"
EMB_DESC_IMAGE = "emb_desc.hex"
# embedding_unit shares sequencer unit `vec` with vector_unit: a DISPATCH to `vec` with this
# payload bit set goes to embedding_unit (the low bits index its own descriptor ROM).
EMB_SELECT_BIT = isa.PAYLOAD_BITS - 1
NORM_DESC_IMAGE = "norm_desc.hex"
ROPE_DESC_IMAGE = "rope_desc.hex"
NUM_UNITS = len(accel.UNITS)
LOOP_DEPTH = 4  # the sequencer's loop stack (programs emitted here use no loops yet)
OUTST_W = 4
AXI_LEN_W = 24  # the table master's (axi_read_master) command length width (words)
AXI_MAX_BURST = 64
AXI_MAX_OUTSTANDING = 4
AXI_DATA_W = tiling.WORD_BITS  # the table port's beat: one 256-bit word


def clog2(n: int) -> int:
    """Bits to address n items (at least 1, as the RTL's address ports are >= 1 bit)."""
    return max(1, (n - 1).bit_length())


def _int(op: Operation, name: str) -> int:
    attr = op.properties[name]
    assert isinstance(attr, IntegerAttr)
    return attr.value.data


# --------------------------------------------------------------------------------------------
# Compilation of the schedules: programs and descriptors
# --------------------------------------------------------------------------------------------


@dataclass
class KVLayout:
    """The attention unit's shape: the compile-time cache geometry every layer shares (SINK,
    WINDOW, HEAD_DIM are stream_attention_unit parameters), its largest layer (KV_HEADS,
    REP_MAX, TMAX) and its pipelines (PIPES: the KV regions' stripes, KV head h's ring on
    channel h mod pipes)."""

    sink: int
    window: int
    head_dim: int
    kv_heads: int
    rep: int
    tokens: int
    pipes: int
    heads_of: dict[str, int]  # kv region -> its KV heads

    def limits(self) -> accel_program_attn.StreamAttnLimits:
        return accel_program_attn.StreamAttnLimits(self.kv_heads, self.rep, self.tokens)


@dataclass
class Compiled:
    """What the schedules compile to: one program per schedule, descriptors per unit."""

    programs: dict[str, list[isa.Instr]] = field(default_factory=dict)
    # schedule -> channel -> its fetch program (backend/fetch_program.py)
    fetch: dict[str, dict[int, list[fetch_isa.Entry]]] = field(default_factory=dict)
    linear: list[accel_program.StreamLinearDescriptor] = field(default_factory=list)
    linear_ops: list[accel.LinearOp] = field(default_factory=list)
    units_used: set[str] = field(default_factory=set)
    attn: list[accel_program_attn.StreamAttnDescriptor] = field(default_factory=list)
    kv: KVLayout | None = None  # the attention unit's KV memory, when attention is used
    vec: list[apv.VectorDescriptor] = field(default_factory=list)  # units vec and act
    norm: list[apv.NormDescriptor] = field(default_factory=list)
    norm_max_h: int = 0  # longest normalised row (norm_unit's MAX_H)
    requant_max_h: int = 0  # longest requantized row (vector_unit's MAX_H: its row buffer)
    rope: list[apv.RopeDescriptor] = field(default_factory=list)
    # (head_dim, inverse frequencies, max_positions): the tables the host writes
    rope_table: tuple[int, tuple[float, ...], int] | None = None
    emb: list[apv.EmbeddingDescriptor] = field(default_factory=list)
    emb_max_h: int = 0  # longest embedding row (embedding_unit's MAX_H)
    # The token ids, the programs' input: written by the host (`apv.embedding_ids_words`) at
    # activation word `ids_word`, after every buffer of the module; schedule -> its tokens.
    ids_word: int = 0
    token_ids: dict[str, int] = field(default_factory=dict)


def _unit_name(inst: accel.InstructionOp) -> str:
    return accel.unit_name(inst.unit())


def _require_rtl(inst: accel.InstructionOp) -> str:
    unit = _unit_name(inst)
    prim = UNIT_RTL[unit]
    if prim not in PRIMITIVES:
        raise error_at(
            inst,
            f"'{inst.name}' runs on engine unit '{unit}', whose RTL (rtl_lib primitive "
            f"'{prim}') does not exist yet: no netlist can execute this instruction",
        )
    if unit not in WIRED_UNITS:
        raise error_at(
            inst,
            f"'{inst.name}' runs on engine unit '{unit}' (rtl_lib '{prim}'), which accel-to-hw "
            "does not instantiate and wire yet (descriptor ROM, activation-buffer port sharing)",
        )
    if isinstance(inst, accel.VectorOp) and inst.kind.data not in VECTOR_RTL_KINDS:
        raise error_at(
            inst,
            f"accel.vector kind '{inst.kind.data}' has no RTL: vector_unit executes "
            f"{sorted(apv.KIND_OPS)}, norm_unit rmsnorm, rope_cmd_unit rope",
        )
    return unit


def _linear_descriptors(
    op: accel.LinearOp, engine: accel.EngineOp, regions: dict[str, accel.HBMRegionOp], buffers
) -> list[accel_program.StreamLinearDescriptor]:
    """One stream_linear_unit descriptor per GEMM tile of `op` (`tiling.linear_tiles`)."""
    weights = [regions[r.root_reference.data] for r in op.weights.data]
    if [_int(r, "channel") for r in weights] != list(range(len(weights))):
        raise error_at(
            op,
            "weight streams must be on channels 0, 1, ... in order (stream_linear_unit's "
            "channel c computes rows [c * rows_per_channel, ...))",
        )
    layout = fetch_program.linear_layout(op, engine)
    x, y = buffers[op.input.root_reference.data], buffers[op.output.root_reference.data]
    tokens = _int(op, "tokens")
    try:
        return [
            accel_program.stream_linear_descriptor(
                layout,
                x_base=_int(x, "offset") // WORD_BYTES,
                y_base=_int(y, "offset") // WORD_BYTES,
                n=_int(op, "n"),
                k=_int(op, "k"),
                group=_int(op, "group"),
                tokens=t,
                mac_blocks=engine.get("mac_blocks"),
                max_tokens=engine.get("tile_tokens"),
                meta_fifo_words=STREAM_META_FIFO_WORDS,
                first_token=t0,
                total_tokens=tokens,
                input_k=_int(op, "input_k") if op.input_k is not None else None,
            )
            for t0, t in tiling.linear_tiles(tokens, engine.get("tile_tokens"))
        ]
    except (accel_program.EncodingError, ValueError) as err:
        raise error_at(op, str(err)) from err


def _kv_layout(
    schedules: list[accel.ScheduleOp], regions: dict[str, accel.HBMRegionOp]
) -> KVLayout | None:
    """The attention unit's shape from the attentions' geometry (a kv_append carries none: its
    cache must be read by some accel.attention)."""
    geom: dict[str, tuple[int, int, int, int]] = {}
    first: dict[str, Operation] = {}
    reps, tokens = [1], [1]
    for sched in schedules:
        for op in sched.body.block.ops:
            if isinstance(op, accel.AttentionOp | accel.KVAppendOp):
                first.setdefault(op.kv.root_reference.data, op)
                tokens.append(_int(op, "tokens"))
            if not isinstance(op, accel.AttentionOp):
                continue
            g = tuple(_int(op, n) for n in ("kv_heads", "head_dim", "sink", "window"))
            reps.append(_int(op, "heads") // _int(op, "kv_heads"))
            name = op.kv.root_reference.data
            if geom.setdefault(name, g) != g:
                raise error_at(op, f"KV cache @{name} read with geometry {g} and {geom[name]}")
    if not first:
        return None
    for name, op in first.items():
        if name not in geom:
            raise error_at(
                op,
                f"KV cache @{name} is never read by an accel.attention: its geometry (KV heads, "
                "head_dim, sink, window) is unknown, so its rings cannot be placed",
            )
    op = next(iter(first.values()))
    shared = {(hd, s, w) for _, hd, s, w in geom.values()}
    if len(shared) != 1:
        raise error_at(
            op,
            f"attention layers with different (head_dim, sink, window) {sorted(shared)}: "
            "stream_attention_unit fixes them at elaboration",
        )
    ((hd, sink, window),) = shared
    if sink < 1 or window < 2 or hd < 8 or hd & (hd - 1):
        raise error_at(
            op,
            f"stream_attention_unit needs sink >= 1, window >= 2 and a power-of-two head_dim "
            f">= 8, got sink={sink}, window={window}, head_dim={hd}",
        )
    stripes = {regions[n].channels().stop - regions[n].channels().start for n in first}
    starts = {regions[n].channels().start for n in first}
    if len(stripes) != 1 or starts != {0}:
        raise error_at(
            op,
            "every KV region must be striped over the same channels from channel 0 (one "
            f"attention pipeline per channel), got stripes {sorted(stripes)} from {sorted(starts)}",
        )
    ring = tiling.kv_ring(hd, sink, window)
    for name in first:
        kvh, region = geom[name][0], regions[name]
        need = tiling.kv_rings_per_layer(kvh, min(stripes)) * ring.ring_bytes
        if _int(region, "bytes") < need or _int(region, "offset") % tiling.KV_REGION_ALIGN:
            raise error_at(
                region,
                f"KV region of {kvh} KV heads needs {need} bytes at a "
                f"{tiling.KV_REGION_ALIGN}-byte aligned offset (the Λ rings, tiling.kv_ring)",
            )
    return KVLayout(
        sink=sink,
        window=window,
        head_dim=hd,
        kv_heads=max(g[0] for g in geom.values()),
        rep=max(reps),
        tokens=max(tokens),
        pipes=min(stripes),
        heads_of={n: g[0] for n, g in geom.items()},
    )


def _attn_descriptor(
    op: accel.AttentionOp | accel.KVAppendOp,
    kv: KVLayout,
    regions: dict[str, accel.HBMRegionOp],
    buffers,
) -> accel_program_attn.StreamAttnDescriptor:
    """The stream_attention_unit command of a kv_append (append only) or an attention with its
    tokens' k, v (append + attend). Token t is at `position` + t when the op has a compile-time
    position (a prompt from 0), else at the position register + t (a decode step, or a prefill
    chunk at a run-time position on a filled cache)."""

    def word(ref) -> int:
        return _int(buffers[ref.root_reference.data], "offset") // WORD_BYTES

    region = op.kv.root_reference.data
    position = op.position.value.data if op.position is not None else None
    if isinstance(op, accel.AttentionOp) and (op.k is None or op.v is None):
        raise error_at(
            op,
            "stream_attention_unit attends only together with the append of the new tokens: "
            "this accel.attention needs their k and v (lower-to-accel fuses the kv_append)",
        )
    if isinstance(op, accel.KVAppendOp):
        heads = kv.heads_of[region]
        q = o = op.k
    else:
        heads, q, o = _int(op, "heads"), op.q, op.output
    try:
        return accel_program_attn.stream_attention_descriptor(
            q_base=word(q),
            k_base=word(op.k),
            v_base=word(op.v),
            o_base=word(o),
            kv_addr=_int(regions[region], "offset"),
            heads=heads,
            kv_heads=kv.heads_of[region],
            head_dim=kv.head_dim,
            tokens=_int(op, "tokens"),
            position=position,
            limits=kv.limits(),
            attend=isinstance(op, accel.AttentionOp),
        )
    except accel_program.EncodingError as err:
        raise error_at(op, str(err)) from err


def _vector_descriptor(
    op: accel.VectorOp, regions: dict[str, accel.HBMRegionOp], buffers, comp: Compiled
):
    """Descriptor of an accel.vector and the list it goes to (its unit's descriptor ROM)."""

    def word(ref) -> int:
        return _int(buffers[ref.root_reference.data], "offset") // WORD_BYTES

    kind, length, tokens = op.kind.data, _int(op, "length"), _int(op, "tokens")
    ins = [word(r) for r in op.inputs.data]
    try:
        if kind == "rmsnorm":
            if op.gain_shift is None or op.eps_q is None:
                raise error_at(
                    op,
                    "rmsnorm without gain_shift / eps_q (NormParams): lower it with this "
                    "lower-to-accel, which takes them from the smla.rmsnorm gain type / epsilon",
                )
            assert op.table is not None  # the verifier requires it
            comp.norm_max_h = max(comp.norm_max_h, length)
            return comp.norm, apv.norm_descriptor(
                x_base=ins[0],
                o_base=word(op.output),
                length=length,
                tokens=tokens,
                gain_base_bytes=_int(regions[op.table.root_reference.data], "offset"),
                gain_shift=op.gain_shift.value.data,
                eps_q=op.eps_q.value.data,
            )
        if kind == "embedding":
            assert op.table is not None  # the verifier requires it
            comp.emb_max_h = max(comp.emb_max_h, length)
            return comp.emb, apv.embedding_descriptor(
                ids_base=comp.ids_word,
                o_base=word(op.output),
                hidden=length,
                tokens=tokens,
                table_base_bytes=_int(regions[op.table.root_reference.data], "offset"),
            )
        if kind == "rope":
            if op.head_dim is None or op.theta is None or op.max_positions is None:
                raise error_at(
                    op,
                    "rope without head_dim / theta / max_positions: the unit's HALF and its "
                    "tables depend on them (lower it with this lower-to-accel)",
                )
            hd = op.head_dim.value.data
            freqs = (  # a scaled RoPE's own frequencies, else theta's (the contract's)
                op.inv_freq.get_values()
                if op.inv_freq is not None
                else ct.rope_inv_freq(op.theta.value.data, hd)
            )
            geom = (hd, tuple(float(w) for w in freqs), op.max_positions.value.data)
            if comp.rope_table is not None and comp.rope_table != geom:
                raise error_at(
                    op,
                    f"rope with head_dim {hd}, max_positions {geom[2]} and inverse frequencies "
                    f"{list(geom[1])} differs from another rope's (head_dim {comp.rope_table[0]}, "
                    f"max_positions {comp.rope_table[2]}, {list(comp.rope_table[1])}): "
                    "rope_cmd_unit holds one table set and one HALF",
                )
            comp.rope_table = geom
            pos = op.position.value.data if op.position is not None else None
            return comp.rope, apv.rope_descriptor(
                x_base=ins[0],
                o_base=word(op.output),
                length=length,
                head_dim=geom[0],
                tokens=tokens,
                position=pos,
            )
        if kind == "requantize":
            comp.requant_max_h = max(comp.requant_max_h, length)
        return comp.vec, apv.vector_descriptor(
            kind, inputs=ins, o_base=word(op.output), length=length, tokens=tokens
        )
    except accel_program.EncodingError as err:
        raise error_at(op, str(err)) from err


def compile_schedules(module: ModuleOp) -> tuple[accel.EngineOp, Compiled]:
    """Programs (ISA instructions) and descriptors of every schedule of an accel module."""
    engines = [o for o in module.ops if isinstance(o, accel.EngineOp)]
    if len(engines) != 1:
        raise error_at(module, f"expected one accel.engine, found {len(engines)}")
    engine = engines[0]
    regions = {o.sym_name.data: o for o in module.ops if isinstance(o, accel.HBMRegionOp)}
    buffers = {o.sym_name.data: o for o in module.ops if isinstance(o, accel.BufferOp)}
    for b in buffers.values():
        if _int(b, "offset") % WORD_BYTES:
            raise error_at(b, "activation buffers must start on a 256-bit word")
    out = Compiled()
    schedules = [o for o in module.ops if isinstance(o, accel.ScheduleOp)]
    if not schedules:
        raise error_at(module, "no accel.schedule to compile")
    for sched in schedules:  # every instruction has RTL (checked before any layout question)
        for inst in sched.body.block.ops:
            if not isinstance(inst, accel.BarrierOp):
                assert isinstance(inst, accel.InstructionOp)
                out.units_used.add(_require_rtl(inst))
    out.kv = _kv_layout(schedules, regions)
    # The token ids go after every activation buffer (they are read by the embedding only).
    out.ids_word = max(
        (
            tiling.ceil_div(_int(b, "offset") + _int(b, "bytes"), WORD_BYTES)
            for b in buffers.values()
            if b.kind.data == "act"
        ),
        default=0,
    )
    for sched in schedules:
        prog: list[isa.Instr] = []
        # act_ram port b is shared by the engine instances without arbitration: the schedule
        # must already serialise them (accel-insert-barriers), or the netlist would be wrong.
        missing = missing_barrier(module, sched, serialize=True)
        if missing is not None:
            inst, units = missing
            raise error_at(
                inst,
                f"'{inst.name}' may overlap commands of units {sorted(units)} in flight "
                "(a data hazard or the shared activation-buffer port): run "
                "accel-insert-barriers before accel-to-hw",
            )
        for inst in sched.body.block.ops:
            if isinstance(inst, accel.BarrierOp):
                prog.append(isa.Barrier(inst.unit_set()))
                continue
            assert isinstance(inst, accel.InstructionOp)
            u = inst.unit()
            if isinstance(inst, accel.LinearOp):
                # A GEMM of more tokens than the unit's tile: one command per tile (the unit
                # takes the next once idle; the fetch program streams the weights per tile).
                for desc in _linear_descriptors(inst, engine, regions, buffers):
                    out.linear.append(desc)
                    prog.append(isa.Dispatch(u, len(out.linear) - 1))
                out.linear_ops.append(inst)
            elif isinstance(inst, accel.KVAppendOp | accel.AttentionOp):
                assert out.kv is not None
                out.attn.append(_attn_descriptor(inst, out.kv, regions, buffers))
                prog.append(isa.Dispatch(u, len(out.attn) - 1))
            elif isinstance(inst, accel.VectorOp):
                descs, d = _vector_descriptor(inst, regions, buffers, out)
                descs.append(d)
                sel = 1 << EMB_SELECT_BIT if descs is out.emb else 0
                if descs is out.emb:
                    ids = out.token_ids.setdefault(sched.sym_name.data, _int(inst, "tokens"))
                    if ids != _int(inst, "tokens"):
                        raise error_at(inst, "two embeddings of different token counts")
                prog.append(isa.Dispatch(u, sel | (len(descs) - 1)))
            else:  # unreachable: _require_rtl admits the wired units only
                raise AssertionError(f"{inst.name} on a wired unit without an encoder")
        prog.append(isa.Halt())
        try:
            isa.check_program(prog, NUM_UNITS, LOOP_DEPTH)
        except isa.IsaError as err:
            raise error_at(sched, str(err)) from err
        out.programs[sched.sym_name.data] = prog
        fetch = fetch_program.schedule_programs(module, sched, engine)
        for c, entries in fetch.items():
            try:
                fetch_isa.check_program(entries, engine.get("words_per_beat") * 256, FETCH_TAGS)
            except fetch_isa.FetchIsaError as err:
                raise error_at(sched, f"fetch program of channel {c}: {err}") from err
        out.fetch[sched.sym_name.data] = fetch
    if out.token_ids:
        act_words = engine.get("act_buffer_bytes") // WORD_BYTES
        need = out.ids_word + tiling.ceil_div(max(out.token_ids.values()), 8)
        if need > act_words:
            raise error_at(
                engine,
                f"the token ids need activation words {out.ids_word}..{need - 1} after the "
                f"buffers, the buffer has {act_words}",
            )
    return engine, out


def descriptor_readmemh(words: Sequence[int]) -> str:
    """256-bit descriptor words as a `$readmemh` file (64 hex digits per line)."""
    return "".join(f"{w:064x}\n" for w in words)


# --------------------------------------------------------------------------------------------
# A small structural netlist builder over xDSL's hw/comb/seq
# --------------------------------------------------------------------------------------------


def _t(width: int) -> IntegerType:
    return IntegerType(width)


def _port(name: str, t: Attribute, direction: hw.Direction) -> hw.ModulePort:
    return hw.ModulePort(StringAttr(name), t, hw.DirectionAttr(direction))


@dataclass
class Extern:
    """A declared rtl_lib module: its op and its ports (name -> (is_input, type))."""

    op: hw.HWModuleExternOp
    ports: dict[str, tuple[bool, Attribute]]


class Netlist:
    """Builds one hw.module: externs, instances, comb glue; inputs may be connected later
    (`connect`), since instances feed each other in cycles (sequencer <-> units)."""

    def __init__(self, name: str, inputs: list[tuple[str, Attribute]]):
        self.name = name
        self.block = Block(arg_types=[t for _, t in inputs])
        self.input_ports = inputs
        self.port: dict[str, SSAValue] = {}
        for (n, _), arg in zip(inputs, self.block.args, strict=True):
            arg.name_hint = n
            self.port[n] = arg
        self.externs: dict[str, Extern] = {}
        self.outputs: list[tuple[str, SSAValue]] = []
        self._pending: list[tuple[Operation, int, str]] = []  # (op, operand index, net)
        self.nets: dict[str, SSAValue] = {}

    def add(self, op: Operation) -> Operation:
        self.block.add_op(op)
        return op

    def extern(
        self,
        sym: str,
        verilog_name: str,
        params: dict[str, Attribute],
        ports: list[tuple[str, bool, Attribute]],
    ) -> None:
        mtype = hw.ModuleType(
            ArrayAttr(
                [
                    _port(n, t, hw.Direction.INPUT if is_in else hw.Direction.OUTPUT)
                    for n, is_in, t in ports
                ]
            )
        )
        decls = ArrayAttr([hw.ParamDeclAttr(StringAttr(k), t) for k, t in params.items()])
        op = hw.HWModuleExternOp(StringAttr(sym), mtype, decls)
        if verilog_name != sym:
            op.attributes["verilogName"] = StringAttr(verilog_name)
        self.externs[sym] = Extern(op, {n: (is_in, t) for n, is_in, t in ports})

    def declare(self, sym: str, prim_name: str, params: dict[str, int | str]) -> None:
        """Declare rtl_lib primitive `prim_name` as extern `sym` (once), its ports read from the
        primitive's header with `params` applied (rtl_lib/sv_header.py): port lists are
        declared once, with the Verilog. A port named `clk` is the clock."""
        if sym in self.externs:
            return
        prim = PRIMITIVES[prim_name]
        unknown = set(params) - {n for n, _ in prim.header().params}
        if unknown:
            raise AssertionError(f"{prim_name} has no parameters {sorted(unknown)}")
        ports = [
            (n, is_in, seq.ClockType() if n == "clk" else _t(w))
            for n, is_in, w in prim.ports(params)
        ]
        decls = {k: NoneType() if isinstance(v, str) else i32 for k, v in params.items()}
        self.extern(sym, prim.top, decls, ports)

    def const(self, value: int, width: int) -> SSAValue:
        return self.add(hw.ConstantOp(value, _t(width))).results[0]

    def instance(
        self,
        name: str,
        sym: str,
        params: dict[str, int | str],
        inputs: dict[str, SSAValue | str],
    ) -> dict[str, SSAValue]:
        """Instantiate extern `sym`; an input given as a string is the net of that name,
        connected when it is defined (`define`). Every input port must be connected."""
        ext = self.externs[sym]
        ins = [(n, t) for n, (is_in, t) in ext.ports.items() if is_in]
        outs = [(n, t) for n, (is_in, t) in ext.ports.items() if not is_in]
        missing = {n for n, _ in ins} ^ set(inputs)
        assert not missing, f"{name}: inputs {sorted(missing)} missing or unknown"
        operands = []
        for n, t in ins:
            v = inputs[n]
            if isinstance(v, str):  # a net: its value, or a placeholder until it is defined
                v = self.nets[v] if v in self.nets else self.const(0, t.width.data)
            operands.append((n, v))
        op = hw.InstanceOp(name, FlatSymbolRefAttr(sym), operands, outs)
        attrs = {
            k: (StringAttr(v) if isinstance(v, str) else IntegerAttr(v, i32))
            for k, v in params.items()
        }
        op.attributes["parameters"] = DictionaryAttr(attrs)
        self.add(op)
        for i, (n, _) in enumerate(ins):
            if isinstance(inputs[n], str) and inputs[n] not in self.nets:
                self._pending.append((op, i, inputs[n]))
        res = dict(zip([n for n, _ in outs], op.results, strict=True))
        for n, r in res.items():
            r.name_hint = f"{name}_{n}"
        return res

    def define(self, net: str, value: SSAValue) -> SSAValue:
        assert net not in self.nets, f"net {net} defined twice"
        self.nets[net] = value
        return value

    def extract(self, v: SSAValue, lo: int, width: int) -> SSAValue:
        return self.add(comb.ExtractOp(v, IntegerAttr(lo, i32), _t(width))).results[0]

    def concat(self, msb_first: Sequence[SSAValue]) -> SSAValue:
        if len(msb_first) == 1:
            return msb_first[0]
        width = sum(v.type.width.data for v in msb_first)
        return self.add(comb.ConcatOp(list(msb_first), _t(width))).results[0]

    def register(self, d: SSAValue, reset_value: int) -> SSAValue:
        rv = self.const(reset_value, d.type.width.data)
        clk = self.port["clk"]
        return self.add(seq.CompRegOp(d, clk, (self.port["rst"], rv))).results[0]

    def output(self, name: str, value: SSAValue) -> None:
        self.outputs.append((name, value))

    def finish(self) -> list[Operation]:
        """Connect pending nets, drop placeholders; returns externs + the hw.module."""
        for op, index, net in self._pending:
            if net not in self.nets:
                raise AssertionError(f"net '{net}' is read but never defined")
            old = op.operands[index]
            op.operands = [*op.operands[:index], self.nets[net], *op.operands[index + 1 :]]
            if not old.uses and isinstance(old.owner, hw.ConstantOp):
                old.owner.detach()
                old.owner.erase()
        self.add(hw.OutputOp([v for _, v in self.outputs]))
        ports = [_port(n, t, hw.Direction.INPUT) for n, t in self.input_ports]
        ports += [_port(n, v.type, hw.Direction.OUTPUT) for n, v in self.outputs]
        mod = hw.HWModuleOp(
            StringAttr(self.name), hw.ModuleType(ArrayAttr(ports)), Region(self.block)
        )
        return [e.op for e in self.externs.values()] + [mod]


# --------------------------------------------------------------------------------------------
# The accelerator top
# --------------------------------------------------------------------------------------------

_AXI_OUT = [
    ("arvalid", 1),
    ("araddr", None),
    ("arlen", 8),
    ("arsize", 3),
    ("arburst", 2),
    ("rready", 1),
]
# rdata's width is the port's: the channel's beat (DW) or AXI_DATA_W for the table port.
_AXI_IN = [("arready", 1), ("rvalid", 1), ("rdata", None), ("rresp", 2), ("rlast", 1)]
TABLE_PORT = "tbl_"  # AXI port prefix of the table master (misc channel)
_AXI_W_IN = [("awready", 1), ("wready", 1), ("bvalid", 1), ("bresp", 2)]
_AXI_W_OUT = [
    "awvalid", "awaddr", "awlen", "awsize", "awburst", "wvalid", "wdata", "wstrb", "wlast", "bready"
]  # fmt: skip
KVW_ADDR_BITS, KVW_LEN_BITS = 32, 16  # stream_attention_unit's kvw_cmd_addr / kvw_cmd_len


@dataclass(frozen=True)
class TopParams:
    """Engine-derived sizes of the top (also what the simulation harness needs to know)."""

    pc_w: int
    act_words: int
    act_aw: int
    addr_w: int
    channels: tuple[int, ...]  # HBM channels with an AXI port, ascending
    kv_pipes: int = 0  # stream_attention_unit pipelines = KV channels 0.. (0: no attention)
    # rope_cmd_unit's tables, written by the host through the rope_tbl_* ports before the first
    # program: contract.rope_tables(rope_inv_freq, max_pos) (0 / (): no rope unit)
    rope_head_dim: int = 0
    rope_inv_freq: tuple[float, ...] = ()
    rope_max_pos: int = 0
    rope_tbl_aw: int = 0
    data_bits: int = AXI_DATA_W  # beat width of the stream ports hbm<c>_
    table_channel: int = -1  # HBM channel behind the tbl_ port (-1: no table port)


def rope_tbl_aw(half: int, max_pos: int) -> int:
    """rope_cmd_unit's tbl_addr width (its port declaration, for the table rows it holds)."""
    rows = -(-max_pos // 64) if max_pos > 4096 else 64
    return clog2(rows * half)


def _act_port(unit: dict[str, SSAValue], prefix: str = "act_") -> dict[str, SSAValue]:
    return {k: unit[f"{prefix}{k}"] for k in ("addr", "we", "lane_we", "wdata")}


def _vector_units(
    net: Netlist,
    comp: Compiled,
    seq_out: dict[str, SSAValue],
    act_aw: int,
    unit_ready: dict[int, SSAValue],
    unit_done: dict[int, SSAValue],
    images: dict[str, str],
    gain_data: SSAValue | str,
    addr_w: int,
) -> tuple[list[tuple[SSAValue, dict[str, SSAValue]]], list[dict[str, SSAValue]]]:
    """vector_unit (units vec, act), embedding_unit (unit vec too), norm_unit (norm),
    rope_cmd_unit (rope), each with its descriptor ROM, for the descriptor lists that are not
    empty. Returns (idle flag, activation port) per instance and the misc-channel clients
    (norm_unit, embedding_unit): their `g_*` read-command / ready outputs and idle flag; their
    `g_cmd_ready` / `g_valid` inputs are the names `<inst>_g_cmd_ready` / `<inst>_g_valid`."""
    clk, rst = net.port["clk"], net.port["rst"]
    ports: list[tuple[SSAValue, dict[str, SSAValue]]] = []
    clients: list[dict[str, SSAValue]] = []
    vec_sel = net.extract(seq_out["cmd_payload"], EMB_SELECT_BIT, 1)
    vec_cmd = net.extract(seq_out["cmd_valid"], accel.UNITS["vec"], 1)
    emb_cmd = net.add(comb.AndOp([vec_cmd, vec_sel])).results[0]
    vec_only = net.add(
        comb.AndOp([vec_cmd, net.add(comb.XorOp([vec_sel, net.const(1, 1)])).results[0]])
    ).results[0]

    def cmd(unit: str) -> SSAValue:
        return net.extract(seq_out["cmd_valid"], accel.UNITS[unit], 1)

    def rom(name: str, image: str, descs, addr: SSAValue) -> SSAValue:
        aw = clog2(len(descs))
        images[image] = descriptor_readmemh([d.pack() for d in descs])
        out = net.instance(
            f"{name}_desc",
            f"{name}_desc_rom",
            {"WIDTH": tiling.WORD_BITS, "DEPTH": 1 << aw, "IMAGE": image},
            {"clk": clk, "addr": addr},
        )
        return out["rdata"]

    if comp.vec:
        aw = clog2(len(comp.vec))
        # MAX_H: whole A8 words of the longest requantized row (at least one)
        max_h = max(tiling.ceil_div(comp.requant_max_h, 32), 1) * 32
        params = {"MAX_H": max_h, "ACT_AW": act_aw, "DESC_AW": aw}
        assert set(params) == set(PRIMITIVES["vector_unit"].params), "vector_unit changed"
        _declare_rom(net, "vec_desc_rom", tiling.WORD_BITS, aw)
        net.declare("vector_unit", "vector_unit", params)
        vu = net.instance(
            "vec",
            "vector_unit",
            params,
            {
                "clk": clk,
                "rst": rst,
                "cmd_valid": vec_only,
                "cmd_payload": seq_out["cmd_payload"],
                "act_cmd_valid": cmd("act"),
                "act_cmd_payload": seq_out["cmd_payload"],
                "desc_data": "vec_desc_data",
                "act_rdata": "act_b_rdata",
            },
        )
        net.define("vec_desc_data", rom("vec", VEC_DESC_IMAGE, comp.vec, vu["desc_addr"]))
        unit_ready[accel.UNITS["vec"]], unit_done[accel.UNITS["vec"]] = vu["cmd_ready"], vu["done"]
        unit_ready[accel.UNITS["act"]] = vu["act_cmd_ready"]
        unit_done[accel.UNITS["act"]] = vu["act_done"]
        net.output("vec_err", vu["err"])
        ports.append((vu["act_cmd_ready"], _act_port(vu)))  # act_cmd_ready = FSM idle

    def table_unit(name: str, module: str, descs, max_h: int, align: int, image: str, cmd_v):
        """A unit that reads a table from HBM over the misc channel (`g_*` stream: norm gains,
        embedding rows): its descriptor ROM, extern, instance and misc-channel client."""
        aw = clog2(len(descs))
        params = {
            "MAX_H": tiling.ceil_div(max_h, align) * align,
            "ADDR_W": addr_w,
            "ACT_AW": act_aw,
            "DESC_AW": aw,
        }
        assert set(params) == set(PRIMITIVES[module].params), f"{module} changed"
        _declare_rom(net, f"{name}_desc_rom", tiling.WORD_BITS, aw)
        net.declare(module, module, params)
        u = net.instance(
            name,
            module,
            params,
            {
                "clk": clk,
                "rst": rst,
                "cmd_valid": cmd_v,
                "cmd_payload": seq_out["cmd_payload"],
                "desc_data": f"{name}_desc_data",
                "g_cmd_ready": f"{name}_g_cmd_ready",
                "g_valid": f"{name}_g_valid",
                "g_data": gain_data,
                "act_rdata": "act_b_rdata",
            },
        )
        net.define(f"{name}_desc_data", rom(name, image, descs, u["desc_addr"]))
        net.output(f"{name}_err", u["err"])
        ports.append((u["cmd_ready"], _act_port(u)))
        stream = {k: u[f"g_{k}"] for k in ("cmd_valid", "cmd_addr", "cmd_len", "ready")}
        clients.append({**stream, "idle": u["cmd_ready"], "name": name})
        return u

    if comp.norm:
        nu = table_unit(
            "norm", "norm_unit", comp.norm, comp.norm_max_h, 16, NORM_DESC_IMAGE, cmd("norm")
        )
        unit_ready[accel.UNITS["norm"]], unit_done[accel.UNITS["norm"]] = (
            nu["cmd_ready"],
            nu["done"],
        )
    if comp.emb:
        eu = table_unit(
            "emb", "embedding_unit", comp.emb, comp.emb_max_h, 8, EMB_DESC_IMAGE, emb_cmd
        )
        v = accel.UNITS["vec"]
        if v in unit_ready:  # unit vec is both instances: ready when both are, done when either
            unit_ready[v] = net.add(comb.AndOp([unit_ready[v], eu["cmd_ready"]])).results[0]
            unit_done[v] = net.add(comb.OrOp([unit_done[v], eu["done"]])).results[0]
        else:
            unit_ready[v], unit_done[v] = eu["cmd_ready"], eu["done"]
    if comp.rope:
        assert comp.rope_table is not None
        hd, _, max_pos = comp.rope_table
        aw = clog2(len(comp.rope))
        params = {
            "HALF": hd // 2,
            "MAX_POS": max_pos,
            "POS_W": POS_W,
            "ACT_AW": act_aw,
            "DESC_AW": aw,
        }
        assert set(params) == set(PRIMITIVES["rope_cmd_unit"].params), "rope_cmd_unit changed"
        _declare_rom(net, "rope_desc_rom", tiling.WORD_BITS, aw)
        net.declare("rope_cmd_unit", "rope_cmd_unit", params)
        ru = net.instance(
            "rope",
            "rope_cmd_unit",
            params,
            {
                "clk": clk,
                "rst": rst,
                "cmd_valid": cmd("rope"),
                "cmd_payload": seq_out["cmd_payload"],
                "pos": net.port["pos"],
                "desc_data": "rope_desc_data",
                # The tables are loaded by the host (ports of the top) before the first
                # program: the IR carries theta / max_positions, the host computes them.
                "tbl_we": net.port["rope_tbl_we"],
                "tbl_sel": net.port["rope_tbl_sel"],
                "tbl_addr": net.port["rope_tbl_addr"],
                "tbl_data": net.port["rope_tbl_data"],
                "act_rdata": "act_b_rdata",
            },
        )
        net.define("rope_desc_data", rom("rope", ROPE_DESC_IMAGE, comp.rope, ru["desc_addr"]))
        unit_ready[accel.UNITS["rope"]], unit_done[accel.UNITS["rope"]] = (
            ru["cmd_ready"],
            ru["done"],
        )
        net.output("rope_err", ru["err"])
        ports.append((ru["cmd_ready"], _act_port(ru)))
    return ports, clients


def _axi_master_params(addr_w: int) -> dict[str, int]:
    return {
        "ADDR_W": addr_w,
        "DATA_W": AXI_DATA_W,
        "LEN_W": AXI_LEN_W,
        "MAX_BURST": AXI_MAX_BURST,
        "MAX_OUTSTANDING": AXI_MAX_OUTSTANDING,
    }


def _max_burst(dw: int) -> int:
    """Beats per AXI burst of a DW-bit master: AXI_MAX_BURST, and no more than a 4 KiB page
    (a burst must not cross one)."""
    return min(AXI_MAX_BURST, 4096 // (dw // 8))


def _declare_rom(net: Netlist, sym: str, width: int, aw: int) -> None:
    net.declare(sym, "rom", {"WIDTH": width, "DEPTH": 1 << aw, "IMAGE": ""})


def _attention_unit(
    net: Netlist,
    comp: Compiled,
    kvl: KVLayout,
    seq_out: dict[str, SSAValue],
    act_aw: int,
    addr_w: int,
    dw: int,
    streams: list[dict[str, SSAValue]],
    unit_ready: dict[int, SSAValue],
    unit_done: dict[int, SSAValue],
    axi_err: list[SSAValue],
) -> tuple[dict[str, SSAValue], SSAValue, SSAValue]:
    """stream_attention_unit (units `attn` and `kv`) + its descriptor ROM, fed by the `attn`
    outputs of channels 0..pipes-1's demuxes, writing the KV rings through one
    `axi_write_master` per pipeline on those channels' AXI write ports. Returns its activation
    port, its idle flag and its stream-ready vector (pipeline c in bit c)."""
    clk, rst = net.port["clk"], net.port["rst"]
    desc_aw = clog2(len(comp.attn))
    _declare_rom(net, "attn_desc_rom", tiling.WORD_BITS, desc_aw)
    pipes = kvl.pipes
    params = {
        "PIPES": pipes,
        "SINK": kvl.sink,
        "WINDOW": kvl.window,
        "HEAD_DIM": kvl.head_dim,
        "DW": dw,
        "KV_HEADS": kvl.kv_heads,
        "REP_MAX": kvl.rep,
        "TMAX": kvl.tokens,
        "ACT_AW": act_aw,
        "DESC_AW": desc_aw,
        "POS_W": POS_W,
    }
    assert set(params) <= set(PRIMITIVES["stream_attention_unit"].params), (
        "stream_attention_unit parameters changed in rtl_lib"
    )
    net.declare("stream_attention_unit", "stream_attention_unit", params)
    wm_params = {
        "ADDR_W": addr_w,
        "DATA_W": dw,
        "LEN_W": KVW_LEN_BITS,
        "MAX_BURST": _max_burst(dw),
        "MAX_OUTSTANDING": AXI_MAX_OUTSTANDING,
    }
    net.declare("axi_write_master", "axi_write_master", wm_params)
    attn, kv = accel.UNITS["attn"], accel.UNITS["kv"]
    tag = fetch_program.STREAM_TAGS["attn"]
    cmd_attn = net.extract(seq_out["cmd_valid"], attn, 1)
    cmd_kv = net.extract(seq_out["cmd_valid"], kv, 1)
    cmd_any = net.add(comb.OrOp([cmd_attn, cmd_kv])).results[0]
    rev = streams[:pipes][::-1]
    unit = net.instance(
        "attn",
        "stream_attention_unit",
        params,
        {
            "clk": clk,
            "rst": rst,
            # One command port for both sequencer units (kv_append = an append-only command).
            "cmd_valid": cmd_any,
            "cmd_payload": seq_out["cmd_payload"],
            "pos": net.port["pos"],
            "desc_data": "attn_desc_data",
            "act_rdata": "act_b_rdata",
            "s_valid": net.concat([net.extract(d["m_valid"], tag, 1) for d in rev]),
            "s_data": net.concat([d["m_data"] for d in rev]),
            "kvw_cmd_ready": "kvw_cmd_ready",
            "kvw_ready": "kvw_ready",
            "kvw_busy": "kvw_busy",
        },
    )
    desc = net.instance(
        "attn_desc",
        "attn_desc_rom",
        {"WIDTH": tiling.WORD_BITS, "DEPTH": 1 << desc_aw, "IMAGE": ATTN_DESC_IMAGE},
        {"clk": clk, "addr": unit["desc_addr"]},
    )
    net.define("attn_desc_data", desc["rdata"])
    masters = []
    for c in range(pipes):

        def bit(v: SSAValue, width: int, c=c) -> SSAValue:
            return net.extract(v, c * width, width) if pipes > 1 else v

        ins: dict[str, SSAValue | str] = {
            "clk": clk,
            "rst": rst,
            "cmd_valid": bit(unit["kvw_cmd_valid"], 1),
            "cmd_addr": net.extract(bit(unit["kvw_cmd_addr"], KVW_ADDR_BITS), 0, addr_w),
            "cmd_len": bit(unit["kvw_cmd_len"], KVW_LEN_BITS),
            "s_valid": bit(unit["kvw_valid"], 1),
            "s_data": bit(unit["kvw_data"], dw),
            "s_strb": bit(unit["kvw_strb"], dw // 8),
        }
        ins |= {f"m_axi_{p}": net.port[f"hbm{c}_{p}"] for p, _ in _AXI_W_IN}
        wm = net.instance(f"kvw{c}", "axi_write_master", wm_params, ins)
        for p in _AXI_W_OUT:
            net.output(f"hbm{c}_{p}", wm[f"m_axi_{p}"])
        axi_err.append(wm["err"])
        masters.append(wm)
    rev_m = masters[::-1]
    net.define("kvw_cmd_ready", net.concat([m["cmd_ready"] for m in rev_m]))
    net.define("kvw_ready", net.concat([m["s_ready"] for m in rev_m]))
    net.define("kvw_busy", net.concat([m["busy"] for m in rev_m]))
    # `done` belongs to the unit whose command was accepted last (kv_append -> unit kv).
    taken = net.add(comb.AndOp([unit["cmd_ready"], cmd_any])).results[0]
    hold = net.const(0, 1)  # placeholder for the register's own output (a feedback loop)
    nxt = net.add(comb.MuxOp(taken, cmd_kv, hold))
    was = net.register(nxt.results[0], 0)
    nxt.operands = [taken, cmd_kv, was]
    hold.owner.detach()
    hold.owner.erase()
    not_kv = net.add(comb.XorOp([was, net.const(1, 1)])).results[0]
    unit_ready[attn] = unit_ready[kv] = unit["cmd_ready"]
    unit_done[attn] = net.add(comb.AndOp([unit["done"], not_kv])).results[0]
    unit_done[kv] = net.add(comb.AndOp([unit["done"], was])).results[0]
    net.output("attn_err", unit["err"])
    act = {k: unit[f"act_{k}"] for k in ("addr", "we", "lane_we", "wdata")}
    return act, unit["cmd_ready"], unit["s_ready"]


def _fetch_roms(
    comp: Compiled, channels: Sequence[int]
) -> tuple[dict[int, list[int]], dict[str, int]]:
    """Every channel's fetch ROM words and the schedules' bases in them: a schedule's programs
    start at the same entry in every ROM (shorter ones padded with END), so one `fetch_base`
    input starts them all."""
    words: dict[int, list[int]] = {c: [] for c in channels}
    bases: dict[str, int] = {}
    end = fetch_isa.encode(fetch_isa.End())
    for sched, progs in comp.fetch.items():
        base = max((len(w) for w in words.values()), default=0)
        bases[sched] = base
        for c in channels:
            words[c] += [end] * (base - len(words[c]))
            words[c] += [fetch_isa.encode(e) for e in progs[c]]
    return words, bases


def _reduce(net: Netlist, op, values: list[SSAValue]) -> SSAValue:
    return values[0] if len(values) == 1 else net.add(op(values)).results[0]


def _stream_channels(
    net: Netlist,
    channels: Sequence[int],
    dw: int,
    addr_w: int,
    fpc_w: int,
    fifo_beats: int,
    idle: list[SSAValue],
    err: list[SSAValue],
) -> list[dict[str, SSAValue]]:
    """Per channel: its fetch ROM, `stream_prefetcher` on AXI port hbm<c>_ (started with the
    program: `start`, `fetch_base`, `pos`) and `stream_demux` by unit tag. Returns the demuxes'
    outputs; the consumer defines net `dmx<c>_m_ready`."""
    clk, rst = net.port["clk"], net.port["rst"]
    pf_params = {
        "ADDR_W": addr_w,
        "DATA_W": dw,
        "TAG_W": FETCH_TAG_W,
        "DEPTH": fifo_beats,
        "PC_W": fpc_w,
        "POS_W": POS_W,
        "MAX_BURST": _max_burst(dw),
    }
    dm_params = {"NU": FETCH_TAGS, "DATA_W": dw, "TAG_W": FETCH_TAG_W}
    net.declare("stream_prefetcher", "stream_prefetcher", pf_params)
    net.declare("stream_demux", "stream_demux", dm_params)
    _declare_rom(net, "fetch_rom", fetch_isa.ENTRY_BITS, fpc_w)
    pos = net.port["pos"] if "pos" in net.port else net.const(0, POS_W)
    out = []
    for c in channels:
        ins: dict[str, SSAValue | str] = {
            "clk": clk,
            "rst": rst,
            "start": net.port["start"],
            "start_pc": net.port["fetch_base"],
            "pos": pos,
            "prog_data": f"pf{c}_prog_data",
            "m_ready": f"pf{c}_m_ready",
        }
        ins |= {f"m_axi_{p}": net.port[f"hbm{c}_{p}"] for p, _ in _AXI_IN}
        pf = net.instance(f"pf{c}", "stream_prefetcher", pf_params, ins)
        for p, _ in _AXI_OUT:
            net.output(f"hbm{c}_{p}", pf[f"m_axi_{p}"])
        rom = net.instance(
            f"fetch{c}",
            "fetch_rom",
            {"WIDTH": fetch_isa.ENTRY_BITS, "DEPTH": 1 << fpc_w, "IMAGE": FETCH_IMAGE.format(c)},
            {"clk": clk, "addr": pf["prog_addr"]},
        )
        net.define(f"pf{c}_prog_data", rom["rdata"])
        dm = net.instance(
            f"dmx{c}",
            "stream_demux",
            dm_params,
            {
                "clk": clk,
                "rst": rst,
                "s_valid": pf["m_valid"],
                "s_data": pf["m_data"],
                "s_tag": pf["m_tag"],
                "m_ready": f"dmx{c}_m_ready",
            },
        )
        net.define(f"pf{c}_m_ready", dm["s_ready"])
        idle.append(pf["idle"])
        err += [pf["err"], dm["err"]]
        out.append(dm)
    return out


def build_top(
    name: str, engine: accel.EngineOp, comp: Compiled, channel_bytes: int
) -> tuple[list[Operation], dict[str, str], dict[str, int], dict[str, int], TopParams]:
    """The netlist ops, ROM images, program bases and fetch-program bases of the compiled
    schedules."""
    words: list[int] = []
    bases: dict[str, int] = {}
    for sched, prog in comp.programs.items():
        bases[sched] = len(words)
        words += isa.encode_program(prog, NUM_UNITS, LOOP_DEPTH)
    pc_w = clog2(len(words))
    act_words = engine.get("act_buffer_bytes") // WORD_BYTES
    act_aw = clog2(act_words)
    addr_w = clog2(channel_bytes)
    images = {PROGRAM_IMAGE: isa.to_readmemh(words)}
    wch = engine.get("weight_channels")
    misc = engine.get("misc_channel")
    dw = engine.get("words_per_beat") * tiling.WORD_BITS
    uses_mac = "mac" in comp.units_used
    kvl = comp.kv
    pipes = kvl.pipes if kvl else 0
    # Every channel streams through its prefetcher (port hbm<c>_); the tables of the norm and
    # embedding units come through a second port (tbl_) to the misc channel.
    channels = tuple(range(wch)) if uses_mac or kvl else ()
    table_port = bool(comp.norm or comp.emb)
    fetch_words, fetch_bases = _fetch_roms(comp, channels)
    fpc_w = clog2(max((len(w) for w in fetch_words.values()), default=1))
    for c, w in fetch_words.items():
        images[FETCH_IMAGE.format(c)] = fetch_isa.to_readmemh(w)
    rope_aw = 0
    if comp.rope_table is not None:
        rope_aw = rope_tbl_aw(comp.rope_table[0] // 2, comp.rope_table[2])

    inputs: list[tuple[str, Attribute]] = [
        ("clk", seq.ClockType()),
        ("rst", _t(1)),
        ("start", _t(1)),
        ("prog_base", _t(pc_w)),
        ("host_addr", _t(act_aw)),
        ("host_we", _t(1)),
        ("host_lane_we", _t(8)),
        ("host_wdata", _t(AXI_DATA_W)),
    ]
    if channels:
        inputs += [("fetch_base", _t(fpc_w))]
    if kvl or comp.rope:
        # The decode position is a top input the host sets per program (a register the
        # program set would need a unit and an instruction for it; the host knows the step).
        inputs += [("pos", _t(POS_W))]
    if comp.rope:
        inputs += [
            ("rope_tbl_we", _t(1)),
            ("rope_tbl_sel", _t(2)),
            ("rope_tbl_addr", _t(rope_aw)),
            ("rope_tbl_data", _t(16)),
        ]
    for c in channels:
        inputs += [(f"hbm{c}_{p}", _t(w or dw)) for p, w in _AXI_IN]
        if c < pipes:  # the KV write master of attention pipeline c
            inputs += [(f"hbm{c}_{p}", _t(w)) for p, w in _AXI_W_IN]
    if table_port:
        inputs += [(f"{TABLE_PORT}{p}", _t(w or AXI_DATA_W)) for p, w in _AXI_IN]
    net = Netlist(name, inputs)
    clk, rst = net.port["clk"], net.port["rst"]

    # ---- sequencer + program ROM ----------------------------------------------------------
    seq_params = {
        "NUM_UNITS": NUM_UNITS,
        "PC_W": pc_w,
        "LOOP_DEPTH": LOOP_DEPTH,
        "OUTST_W": OUTST_W,
    }
    net.declare("sequencer", "sequencer", seq_params)
    _declare_rom(net, "program_rom", isa.WORD_BITS, pc_w)
    one = net.const(1, 1)
    seq_out = net.instance(
        "seq",
        "sequencer",
        seq_params,
        {
            "clk": clk,
            "rst": rst,
            "start": net.port["start"],
            "fetch_ready": one,  # the ROM takes an address every cycle
            "ins_valid": "ins_valid",
            "ins_data": "ins_data",
            "cmd_ready": "cmd_ready",
            "unit_done": "unit_done",
        },
    )
    # Programs sit back to back: the ROM address is the program's base plus the sequencer's pc.
    fetch = net.add(comb.AddOp([seq_out["fetch_addr"], net.port["prog_base"]])).results[0]
    rom = net.instance(
        "program",
        "program_rom",
        {"WIDTH": isa.WORD_BITS, "DEPTH": 1 << pc_w, "IMAGE": PROGRAM_IMAGE},
        {"clk": clk, "addr": fetch},
    )
    net.define("ins_data", rom["rdata"])
    # The ROM answers one cycle after the address: the instruction is valid then.
    net.define("ins_valid", net.register(seq_out["fetch_valid"], 0))

    # ---- engine units ---------------------------------------------------------------------
    unit_ready: dict[int, SSAValue] = {}
    unit_done: dict[int, SSAValue] = {}
    axi_err: list[SSAValue] = []
    act_b: dict[str, SSAValue] | None = None

    def read_master(prefix: str, cmd: dict[str, SSAValue | str], tready: SSAValue | str):
        """The table master: an axi_read_master on AXI port `prefix` (256-bit words)."""
        net.declare("axi_read_master", "axi_read_master", _axi_master_params(addr_w))
        inputs = {
            "clk": clk,
            "rst": rst,
            "cmd_valid": cmd["valid"],
            "cmd_addr": cmd["addr"],
            "cmd_len": cmd["len"],
            "m_axis_tready": tready,
        }
        inputs |= {f"m_axi_{p}": net.port[f"{prefix}{p}"] for p, _ in _AXI_IN}
        out = net.instance(f"{prefix}rd", "axi_read_master", _axi_master_params(addr_w), inputs)
        for p, _ in _AXI_OUT:
            net.output(f"{prefix}{p}", out[f"m_axi_{p}"])
        axi_err.append(out["err"])
        return out

    fetch_idle: list[SSAValue] = []
    fetch_err: list[SSAValue] = []
    streams = []
    if channels:
        streams = _stream_channels(
            net, channels, dw, addr_w, fpc_w, engine.get("fifo_beats"), fetch_idle, fetch_err
        )
    if uses_mac:
        mac = accel.UNITS["mac"]
        desc_aw = clog2(len(comp.linear))
        images[LINEAR_DESC_IMAGE] = descriptor_readmemh([d.pack() for d in comp.linear])
        _declare_rom(net, "linear_desc_rom", tiling.WORD_BITS, desc_aw)
        max_k = max(_int(o, "k") for o in comp.linear_ops)
        prim = PRIMITIVES["stream_linear_unit"]
        params = {
            "CH": wch,
            "LANES": engine.get("lanes_per_channel"),
            "BLOCKS": engine.get("mac_blocks"),
            "DW": dw,
            "TOK": engine.get("tile_tokens"),
            "MAX_K": tiling.ceil_div(max_k, 32) * 32,
            "MFD": STREAM_META_FIFO_WORDS,
            "ACT_AW": act_aw,
            "DESC_AW": desc_aw,
        }
        if any(o.bias is not None for o in comp.linear_ops):
            params["BIAS"] = 1  # the bias path only in designs that have a biased linear
        assert set(params) <= set(prim.params), "stream_linear_unit parameters changed"
        net.declare("stream_linear_unit", "stream_linear_unit", params)
        # Stream port c is channel c's demux output `mac` (vectors: channel c in bits [c]).
        tag = fetch_program.STREAM_TAGS["mac"]
        rev = streams[::-1]
        lin = net.instance(
            "mac",
            "stream_linear_unit",
            params,
            {
                "clk": clk,
                "rst": rst,
                "cmd_valid": net.extract(seq_out["cmd_valid"], mac, 1),
                "cmd_payload": seq_out["cmd_payload"],
                "desc_data": "mac_desc_data",
                "s_valid": net.concat([net.extract(d["m_valid"], tag, 1) for d in rev]),
                "s_data": net.concat([d["m_data"] for d in rev]),
                "act_rdata": "act_b_rdata",
            },
        )
        desc = net.instance(
            "linear_desc",
            "linear_desc_rom",
            {"WIDTH": tiling.WORD_BITS, "DEPTH": 1 << desc_aw, "IMAGE": LINEAR_DESC_IMAGE},
            {"clk": clk, "addr": lin["desc_addr"]},
        )
        net.define("mac_desc_data", desc["rdata"])
        unit_ready[mac] = lin["cmd_ready"]
        unit_done[mac] = lin["done"]
        act_b = {k: lin[f"act_{k}"] for k in ("addr", "we", "lane_we", "wdata")}

    # (idle flag, activation port) of every unit instance other than linear_unit
    others: list[tuple[SSAValue, dict[str, SSAValue]]] = []
    if kvl:
        attn_b, attn_idle, attn_ready = _attention_unit(
            net, comp, kvl, seq_out, act_aw, addr_w, dw, streams, unit_ready, unit_done, axi_err
        )
        images[ATTN_DESC_IMAGE] = descriptor_readmemh([d.pack() for d in comp.attn])
        others.append((attn_idle, attn_b))
    # Demux output i of channel c feeds the unit tagged i (a unit that does not read channel c
    # never takes its beats: a stray one stalls the channel and fails the run visibly).
    zero1 = net.const(0, 1)
    for c in channels:
        readies = [zero1] * FETCH_TAGS
        if uses_mac:
            readies[fetch_program.STREAM_TAGS["mac"]] = (
                net.extract(lin["s_ready"], c, 1) if wch > 1 else lin["s_ready"]
            )
        if c < pipes:
            readies[fetch_program.STREAM_TAGS["attn"]] = (
                net.extract(attn_ready, c, 1) if pipes > 1 else attn_ready
            )
        net.define(f"dmx{c}_m_ready", net.concat(readies[::-1]))
    vec_ports, clients = _vector_units(
        net, comp, seq_out, act_aw, unit_ready, unit_done, images, "misc_data", addr_w
    )
    others += vec_ports

    # ---- the table port (misc channel): norm gains, embedding rows -------------------------
    # One axi_read_master, shared like act_ram port b: the barriers never let norm_unit and
    # embedding_unit run at once and each consumes exactly the words it requested, so the
    # master follows the busy (not idle) client, the last one when all are idle; the handshakes
    # reach the owner only.
    if clients:
        one = net.const(1, 1)
        last = clients[-1]
        mcmd = {"valid": last["cmd_valid"], "addr": last["cmd_addr"], "len": last["cmd_len"]}
        mready = last["ready"]
        for c in clients[:-1]:

            def pick(c_v: SSAValue, other: SSAValue, idle=c["idle"]) -> SSAValue:
                return net.add(comb.MuxOp(idle, other, c_v)).results[0]

            mcmd = {
                "valid": pick(c["cmd_valid"], mcmd["valid"]),
                "addr": pick(c["cmd_addr"], mcmd["addr"]),
                "len": pick(c["cmd_len"], mcmd["len"]),
            }
            mready = pick(c["ready"], mready)
        meta = read_master(TABLE_PORT, mcmd, mready)
        net.define("misc_data", meta["m_axis_tdata"])
        for c in clients:
            busy = net.add(comb.XorOp([c["idle"], one])).results[0]
            for port, sig in (
                ("g_cmd_ready", meta["cmd_ready"]),
                ("g_valid", meta["m_axis_tvalid"]),
            ):
                net.define(f"{c['name']}_{port}", net.add(comb.AndOp([sig, busy])).results[0])

    # Units without RTL (or unused) never accept a command nor report one done.
    zero = net.const(0, 1)
    net.define(
        "cmd_ready", net.concat([unit_ready.get(u, zero) for u in reversed(range(NUM_UNITS))])
    )
    net.define(
        "unit_done", net.concat([unit_done.get(u, zero) for u in reversed(range(NUM_UNITS))])
    )

    # ---- activation buffer ----------------------------------------------------------------
    net.declare("act_ram", "act_ram", {"WORDS": act_words, "AW": act_aw})
    # Port b sharing: the program never runs two unit instances at once (BARRIERs added by
    # compile_schedules), so port b follows the instance whose FSM is not idle (each unit's
    # cmd_ready / kv_cmd_ready / act_cmd_ready is high exactly in its idle state), linear_unit
    # when all are idle: a chain of 2:1 muxes; read data goes to every unit.
    for idle, port in reversed(others):
        if act_b is None:
            act_b = port
        else:
            act_b = {k: net.add(comb.MuxOp(idle, act_b[k], port[k])).results[0] for k in act_b}
    if act_b is None:  # no engine unit: port b idle
        act_b = {
            "addr": net.const(0, act_aw),
            "we": zero,
            "lane_we": net.const(0, 8),
            "wdata": net.const(0, tiling.WORD_BITS),
        }
    ram = net.instance(
        "act",
        "act_ram",
        {"WORDS": act_words, "AW": act_aw},
        {
            "clk": clk,
            "a_addr": net.port["host_addr"],
            "a_we": net.port["host_we"],
            "a_lane_we": net.port["host_lane_we"],
            "a_wdata": net.port["host_wdata"],
            **{f"b_{k}": v for k, v in act_b.items()},
        },
    )
    net.define("act_b_rdata", ram["b_rdata"])

    for p in ("busy", "done", "error", "err_code", "err_pc"):
        net.output(p, seq_out[p])
    net.output("host_rdata", ram["a_rdata"])
    hbm_err = axi_err[0] if len(axi_err) == 1 else None
    if len(axi_err) > 1:
        hbm_err = net.add(comb.OrOp(axi_err)).results[0]
    net.output("hbm_err", hbm_err if hbm_err is not None else zero)
    if channels:
        # The prefetchers' state: all idle between programs (every fetched beat was consumed),
        # and any illegal fetch entry or unknown unit tag (sticky until the next start).
        net.output("fetch_idle", _reduce(net, comb.AndOp, fetch_idle))
        net.output("fetch_err", _reduce(net, comb.OrOp, fetch_err))
    top = TopParams(
        pc_w,
        act_words,
        act_aw,
        addr_w,
        channels,
        kv_pipes=kvl.pipes if kvl else 0,
        rope_head_dim=comp.rope_table[0] if comp.rope_table else 0,
        rope_inv_freq=comp.rope_table[1] if comp.rope_table else (),
        rope_max_pos=comp.rope_table[2] if comp.rope_table else 0,
        rope_tbl_aw=rope_aw,
        data_bits=dw,
        table_channel=misc if table_port else -1,
    )
    return net.finish(), images, bases, fetch_bases, top


def top_params(module: ModuleOp) -> TopParams:
    """The `TopParams` recorded by accel-to-hw on a netlist module."""
    attr = module.attributes.get("accel.top")
    if not isinstance(attr, DictionaryAttr):
        raise error_at(module, "not an accel-to-hw netlist (no 'accel.top' attribute)")
    d = {k: v for k, v in attr.data.items()}
    return TopParams(
        pc_w=d["pc_w"].value.data,
        act_words=d["act_words"].value.data,
        act_aw=d["act_aw"].value.data,
        addr_w=d["addr_w"].value.data,
        channels=tuple(c.value.data for c in d["channels"].data),
        kv_pipes=d["kv_pipes"].value.data,
        rope_head_dim=d["rope_head_dim"].value.data,
        rope_inv_freq=tuple(d["rope_inv_freq"].get_values()),
        rope_max_pos=d["rope_max_pos"].value.data,
        rope_tbl_aw=d["rope_tbl_aw"].value.data,
        data_bits=d["data_bits"].value.data,
        table_channel=d["table_channel"].value.data,
    )


@dataclass(frozen=True)
class AccelToHw(ModulePass):
    """Replace the accel level by the accelerator's structural netlist (`top` hw.module)."""

    name = "accel-to-hw"

    top: str = "accllm_top"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        engine, comp = compile_schedules(op)
        ops, images, bases, fetch_bases, top = build_top(
            self.top, engine, comp, engine.get("channel_bytes")
        )
        for old in list(op.ops):
            old.detach()
            old.erase(safe_erase=False)
        op.body.block.add_ops(ops)
        op.attributes[MEM_IMAGES_ATTR] = DictionaryAttr(
            {k: StringAttr(v) for k, v in images.items()}
        )
        if comp.token_ids:
            op.attributes[TOKEN_IDS_ATTR] = DictionaryAttr(
                {
                    sched: DictionaryAttr(
                        {"ids_word": IntegerAttr(comp.ids_word, i32), "tokens": IntegerAttr(t, i32)}
                    )
                    for sched, t in comp.token_ids.items()
                }
            )
        op.attributes[PROGRAMS_ATTR] = DictionaryAttr(
            {k: IntegerAttr(v, i32) for k, v in bases.items()}
        )
        if fetch_bases and top.channels:
            op.attributes[FETCH_PROGRAMS_ATTR] = DictionaryAttr(
                {k: IntegerAttr(v, i32) for k, v in fetch_bases.items()}
            )
        op.attributes["accel.top"] = DictionaryAttr(
            {
                "name": StringAttr(self.top),
                "pc_w": IntegerAttr(top.pc_w, i32),
                "act_words": IntegerAttr(top.act_words, i32),
                "act_aw": IntegerAttr(top.act_aw, i32),
                "addr_w": IntegerAttr(top.addr_w, i32),
                "channels": ArrayAttr([IntegerAttr(c, i32) for c in top.channels]),
                "kv_pipes": IntegerAttr(top.kv_pipes, i32),
                "rope_head_dim": IntegerAttr(top.rope_head_dim, i32),
                "rope_inv_freq": DenseArrayBase.from_list(Float64Type(), list(top.rope_inv_freq)),
                "rope_max_pos": IntegerAttr(top.rope_max_pos, i32),
                "rope_tbl_aw": IntegerAttr(top.rope_tbl_aw, i32),
                "data_bits": IntegerAttr(top.data_bits, i32),
                "table_channel": IntegerAttr(top.table_channel, i32),
            }
        )
