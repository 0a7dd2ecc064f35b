"""accel-insert-barriers: the ordering of a schedule's instructions, made explicit as barriers.

The sequencer (rtl_lib/sequencer.sv) dispatches in program order and does not wait for a unit's
earlier command unless a BARRIER says so; a unit runs its own commands in order. This pass puts
an `accel.barrier` before every instruction that must not start while commands of other units
are in flight:

* data hazards: an instruction reading bytes another unit may still be writing (RAW), writing
  bytes another unit may still be reading or writing (WAR, WAW). Accesses are byte ranges of
  the activation buffer (`accel.buffer` offset/bytes, so buffers that reuse freed space alias
  correctly) and of HBM (`accel.hbm_region` channel/offset/bytes: `accel.kv_append` writes the
  KV cache that `accel.attention` reads);
* `serialize` (default on, what today's RTL needs): engine instances share the activation
  buffer's port without arbitration, so an instruction waits for every command in flight on
  another instance (`accel.UNIT_INSTANCE`; `kv` and `attn` are one instance, as are `vec` and
  `act`). Streams from HBM still overlap compute (docs/engine.md): only compute is serial.

Barriers already in the schedule are honoured, so the pass is idempotent. `missing_barrier`
is the same analysis as a check (accel-to-hw refuses a schedule that needs a barrier it lacks).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, ModuleOp, SymbolRefAttr, i64
from xdsl.passes import ModulePass

from accllm.dialects import accel
from accllm.ir.diagnostics import error_at

# (space, low byte, high byte): space "act" for the activation buffer, ("hbm", channel) for HBM.
Span = tuple[object, int, int]


@dataclass(frozen=True)
class Access:
    unit: int
    span: Span
    write: bool


def _spans(module: ModuleOp) -> dict[str, Span]:
    """Byte range of every activation buffer and HBM region, by symbol."""
    out: dict[str, Span] = {}
    for op in module.ops:
        if isinstance(op, accel.BufferOp | accel.HBMRegionOp):
            lo = op.properties["offset"].value.data
            hi = lo + op.properties["bytes"].value.data
            space = "act" if isinstance(op, accel.BufferOp) else ("hbm", op.channel.value.data)
            out[op.sym_name.data] = (space, lo, hi)
    return out


def accesses(spans: dict[str, Span], inst: accel.InstructionOp) -> tuple[list[Span], list[Span]]:
    """(reads, writes) of one instruction. Weight, metadata and table regions are read-only
    for a program's whole run, so they never order anything. The verifiers have looked every
    symbol up, so each names a buffer or region."""

    def of(refs: list[SymbolRefAttr]) -> list[Span]:
        return [spans[r.root_reference.data] for r in refs]

    match inst:
        case accel.LinearOp():
            return of([inst.input]), of([inst.output])
        case accel.AttentionOp():
            if inst.k is not None and inst.v is not None:  # it appends the tokens itself
                return of([inst.q, inst.kv, inst.k, inst.v]), of([inst.output, inst.kv])
            return of([inst.q, inst.kv]), of([inst.output])
        case accel.KVAppendOp():
            return of([inst.k, inst.v]), of([inst.kv])
        case accel.VectorOp():
            return of(list(inst.inputs.data)), of([inst.output])
    raise AssertionError(f"no access rule for {inst.name}")


def _overlap(a: Span, b: Span) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


class _Ordering:
    """Commands possibly in flight (not yet behind a barrier) and their accesses."""

    def __init__(self, module: ModuleOp, serialize: bool):
        self.spans, self.serialize = _spans(module), serialize
        self.running: set[int] = set()
        self.pending: list[Access] = []

    def barrier(self, units: set[int]) -> None:
        self.running -= units
        self.pending = [a for a in self.pending if a.unit not in units]

    def step(self, inst: accel.InstructionOp) -> set[int]:
        """The units `inst` must wait for; then `inst` is in flight behind that barrier."""
        u = inst.unit()
        reads, writes = accesses(self.spans, inst)
        wait = {
            a.unit
            for a in self.pending
            if a.unit != u
            and (
                (a.write and any(_overlap(a.span, s) for s in reads))
                or any(_overlap(a.span, s) for s in writes)
            )
        }
        if self.serialize:
            mine = accel.UNIT_INSTANCE[accel.unit_name(u)]
            wait |= {r for r in self.running if accel.UNIT_INSTANCE[accel.unit_name(r)] != mine}
        self.barrier(wait)
        self.running.add(u)
        self.pending += [Access(u, s, False) for s in reads] + [Access(u, s, True) for s in writes]
        return wait


def _barrier_op(units: set[int]) -> accel.BarrierOp:
    return accel.BarrierOp.create(
        properties={"units": ArrayAttr([IntegerAttr(u, i64) for u in sorted(units)])}
    )


def missing_barrier(
    module: ModuleOp, sched: accel.ScheduleOp, serialize: bool = True
) -> tuple[accel.InstructionOp, set[int]] | None:
    """The first instruction of `sched` that needs a barrier the schedule lacks, with the units
    it must wait for; None if the schedule is correctly ordered."""
    order = _Ordering(module, serialize)
    for inst in sched.body.block.ops:
        if isinstance(inst, accel.BarrierOp):
            order.barrier(set(inst.unit_set()))
            continue
        assert isinstance(inst, accel.InstructionOp)
        wait = order.step(inst)
        if wait:
            return inst, wait
    return None


@dataclass(frozen=True)
class AccelInsertBarriers(ModulePass):
    """Insert the barriers every accel.schedule needs (data hazards; with `serialize`, one engine
    instance computing at a time)."""

    name = "accel-insert-barriers"

    serialize: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for sched in [o for o in op.ops if isinstance(o, accel.ScheduleOp)]:
            order = _Ordering(op, self.serialize)
            for inst in list(sched.body.block.ops):
                if isinstance(inst, accel.BarrierOp):
                    order.barrier(set(inst.unit_set()))
                    continue
                if not isinstance(inst, accel.InstructionOp):
                    raise error_at(inst, "not an accel instruction")
                wait = order.step(inst)
                if wait:
                    sched.body.block.insert_op_before(_barrier_op(wait), inst)
