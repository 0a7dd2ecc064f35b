"""Descriptors of the vector units: accel.vector requantize and add (sequencer unit `vec`) and
swiglu (unit `act`) on `rtl_lib/vector_unit.sv`, rmsnorm (unit `norm`) on `rtl_lib/norm_unit.sv`,
plus the HBM image of a norm's gain table (`norm_gain_image`).

One 256-bit word per instruction, held in the descriptor ROM like `accel_program`'s linear
descriptors; the sequencer's DISPATCH to unit `vec` or `act` carries its index. All kinds share
one layout (`VECTOR_FIELDS`); `op` says what the unit computes. Activation layouts are those of
`tiling.act_words`: Q15.16 rows of `tiling.act_row_words(length, 32)` words, A8 rows of
`tiling.act_row_words(length, 8)` words followed by the per-token exponent bytes.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

from accllm.backend import tiling
from accllm.backend.accel_program import EncodingError, pack_fields
from accllm.numerics import contract as ct
from accllm.rtl_lib.descriptors import EMBEDDING_FIELDS, NORM_FIELDS, ROPE_FIELDS, VECTOR_FIELDS

OP_REQUANTIZE, OP_ADD, OP_SWIGLU = 0, 1, 2
# accel.vector kind -> (op, sequencer unit name).
KIND_OPS = {
    "requantize": (OP_REQUANTIZE, "vec"),
    "add": (OP_ADD, "vec"),
    "swiglu": (OP_SWIGLU, "act"),
}

RES_BITS = ct.NUMERICS.res_bits


@dataclass(frozen=True)
class VectorDescriptor:
    op: int
    x_base: int
    y_base: int
    o_base: int
    fo_base: int
    tokens: int
    x_row_words: int
    o_row_words: int
    reserved: int = 0

    def pack(self) -> int:
        """The 256-bit descriptor word; raises EncodingError naming a field that does not fit."""
        return pack_fields(VECTOR_FIELDS, astuple(self))


assert [f.name for f in fields(VectorDescriptor)] == [n for n, _ in VECTOR_FIELDS]


def _check_length(kind: str, length: int) -> None:
    # Q15.16 rows are whole words of 8 lanes; the unit never splits a word between tokens.
    if length <= 0 or length % 8:
        raise EncodingError(f"vector {kind} needs length % 8 == 0, got {length}")


def vector_descriptor(
    kind: str,
    *,
    inputs: list[int],
    o_base: int,
    length: int,
    tokens: int,
) -> VectorDescriptor:
    """The descriptor of an accel.vector of `kind` (requantize, add, swiglu) whose input
    buffers start at activation-buffer words `inputs` and whose output starts at `o_base`.
    requantize writes the A8 layout of `tiling.act_words(tokens, length, 8, per_token=True)`."""
    if kind not in KIND_OPS:
        raise EncodingError(f"the vector unit does not execute kind {kind!r}")
    op, _ = KIND_OPS[kind]
    _check_length(kind, length)
    want = 1 if op == OP_REQUANTIZE else 2
    if len(inputs) != want:
        raise EncodingError(f"vector {kind} takes {want} input buffer(s), got {len(inputs)}")
    xrw = tiling.act_row_words(length, RES_BITS)
    if op == OP_REQUANTIZE:
        orw = tiling.act_row_words(length, 8)
        fo_base = o_base + tokens * orw
    else:
        orw, fo_base = xrw, 0
    return VectorDescriptor(
        op=op,
        x_base=inputs[0],
        y_base=inputs[1] if want == 2 else 0,
        o_base=o_base,
        fo_base=fo_base,
        tokens=tokens,
        x_row_words=xrw,
        o_row_words=orw,
    )


def unit_of(kind: str) -> str:
    """Sequencer unit name (`vec` / `act`) executing accel.vector `kind` on this unit."""
    if kind not in KIND_OPS:
        raise EncodingError(f"the vector unit does not execute kind {kind!r}")
    return KIND_OPS[kind][1]


# ---- RMSNorm (`rtl_lib/norm_unit.sv`, sequencer unit `norm`) ----------------------------------


GAIN_BITS = ct.NUMERICS.norm_gain_bits
GAINS_PER_WORD = tiling.WORD_BITS // GAIN_BITS


@dataclass(frozen=True)
class NormDescriptor:
    x_base: int
    o_base: int
    tokens: int
    x_row_words: int
    gain_base: int
    gain_words: int
    gain_shift: int
    eps_q: int
    reserved: int = 0

    def pack(self) -> int:
        """The 256-bit descriptor word; raises EncodingError naming a field that does not fit."""
        return pack_fields(NORM_FIELDS, astuple(self))


assert [f.name for f in fields(NormDescriptor)] == [n for n, _ in NORM_FIELDS]


def norm_gain_words(length: int) -> int:
    """HBM words of one layer's gain table: `length` 16-bit mantissas, 16 to a word."""
    return tiling.ceil_div(length, GAINS_PER_WORD)


def norm_gain_image(gain) -> list[int]:
    """The gain table region: G_i (contract.rmsnorm_params, signed 16 bit) little-endian, element
    i at bits 16 (i mod 16) of word i / 16 (the 2-byte-per-element region the lowering sizes)."""
    words = [0] * norm_gain_words(len(gain))
    for i, g in enumerate(gain):
        g = int(g)
        if not -(1 << (GAIN_BITS - 1)) <= g < 1 << (GAIN_BITS - 1):
            raise EncodingError(f"gain mantissa {g} does not fit {GAIN_BITS} bits")
        words[i // GAINS_PER_WORD] |= (g & 0xFFFF) << (GAIN_BITS * (i % GAINS_PER_WORD))
    return words


def norm_descriptor(
    *,
    x_base: int,
    o_base: int,
    length: int,
    tokens: int,
    gain_base_bytes: int,
    gain_shift: int,
    eps_q: int,
) -> NormDescriptor:
    """accel.vector rmsnorm: Q15.16 rows at `x_base` -> Q15.16 rows at `o_base`, gains from the
    table region at HBM byte offset `gain_base_bytes` (laid out by `norm_gain_image`).
    `gain_shift` and `eps_q` are the layer's `NormParams.shift` / `.eps_q` (the IR op does not
    carry them: the emitter takes them from the compressed model)."""
    _check_length("rmsnorm", length)
    if not 0 <= gain_shift <= ct.NUMERICS.shift_max:
        raise EncodingError(f"rmsnorm gain_shift {gain_shift} outside [0, 47]")
    if gain_base_bytes % tiling.WORD_BYTES:
        raise EncodingError(f"gain table at byte {gain_base_bytes} is not word aligned")
    return NormDescriptor(
        x_base=x_base,
        o_base=o_base,
        tokens=tokens,
        x_row_words=tiling.act_row_words(length, RES_BITS),
        gain_base=gain_base_bytes // tiling.WORD_BYTES,
        gain_words=norm_gain_words(length),
        gain_shift=gain_shift,
        eps_q=eps_q,
    )


# ---- RoPE (`rtl_lib/rope_cmd_unit.sv`, sequencer unit `rope`) ----------------------------------


ROPE_FLAG_POS_REG = 1


@dataclass(frozen=True)
class RopeDescriptor:
    x_base: int
    o_base: int
    tokens: int
    heads: int
    half: int
    row_words: int
    pos_base: int
    flags: int
    reserved: int = 0

    def pack(self) -> int:
        """The 256-bit descriptor word; raises EncodingError naming a field that does not fit."""
        return pack_fields(ROPE_FIELDS, astuple(self))


assert [f.name for f in fields(RopeDescriptor)] == [n for n, _ in ROPE_FIELDS]


def rope_descriptor(
    *,
    x_base: int,
    o_base: int,
    length: int,
    head_dim: int,
    tokens: int,
    position: int | None,
) -> RopeDescriptor:
    """accel.vector rope over `length` = heads * head_dim values per token; `position` is the
    first token's absolute position, or None for the runtime position register (decode).
    `head_dim` is not an attribute of the IR op: the emitter takes it from the layer's
    accel.attention (q: its heads, k: its kv_heads, times head_dim = length)."""
    if head_dim % 16 or length % head_dim:
        raise EncodingError(
            f"the rope unit needs head_dim % 16 == 0 dividing length, got {head_dim}, {length}"
        )
    return RopeDescriptor(
        x_base=x_base,
        o_base=o_base,
        tokens=tokens,
        heads=length // head_dim,
        half=head_dim // 2,
        row_words=tiling.act_row_words(length, RES_BITS),
        pos_base=position or 0,
        flags=ROPE_FLAG_POS_REG if position is None else 0,
    )


def rope_table_writes(inv_freq, max_positions: int) -> list[tuple[int, int, int]]:
    """What the loader writes through rope_cmd_unit's table port before the first command:
    (tbl_sel, tbl_addr, Q1.14 value) of `contract.rope_tables(inv_freq, max_positions)`, sel 0
    cos_lo, 1 sin_lo, 2 cos_hi, 3 sin_hi, row r element i at r * head_dim / 2 + i (the
    accelerator top's `rope_tbl_*` ports; the frequencies and max_positions are the IR rope
    op's, recorded by accel-to-hw in `accel.top`: a scaled RoPE's own, else theta's)."""
    half = len(inv_freq)
    t = ct.rope_tables(inv_freq, max_positions)
    return [
        (sel, r * half + i, int(v))
        for sel, table in enumerate((t.cos_lo, t.sin_lo, t.cos_hi, t.sin_hi))
        for r, row in enumerate(table)
        for i, v in enumerate(row)
    ]


# ---- embedding (`rtl_lib/embedding_unit.sv`, sequencer unit `vec`) ----------------------------


@dataclass(frozen=True)
class EmbeddingDescriptor:
    ids_base: int
    o_base: int
    tokens: int
    x_row_words: int
    table_base: int
    row_words: int
    hidden: int
    reserved: int = 0

    def pack(self) -> int:
        """The 256-bit descriptor word; raises EncodingError naming a field that does not fit."""
        return pack_fields(EMBEDDING_FIELDS, astuple(self))


assert [f.name for f in fields(EmbeddingDescriptor)] == [n for n, _ in EMBEDDING_FIELDS]


def embedding_ids_words(ids) -> list[int]:
    """The activation words of a token-id buffer: id t as the uint32 lane t mod 8 of word t / 8."""
    ids = [int(i) for i in ids]
    if any(not 0 <= i < 1 << 32 for i in ids):
        raise EncodingError(f"token ids must be uint32, got {ids}")
    return [
        sum(i << (32 * lane) for lane, i in enumerate(ids[w : w + 8]))
        for w in range(0, len(ids), 8)
    ]


def embedding_descriptor(
    *, ids_base: int, o_base: int, hidden: int, tokens: int, table_base_bytes: int
) -> EmbeddingDescriptor:
    """accel.vector embedding: the ids at `ids_base` (`embedding_ids_words`) -> Q15.16 rows
    (`contract.embedding_int8`) at `o_base`, rows of the table region at HBM byte offset
    `table_base_bytes` (`hbm_image.embedding_table_image`)."""
    _check_length("embedding", hidden)
    if table_base_bytes % tiling.WORD_BYTES:
        raise EncodingError(f"embedding table at byte {table_base_bytes} is not word aligned")
    return EmbeddingDescriptor(
        ids_base=ids_base,
        o_base=o_base,
        tokens=tokens,
        x_row_words=tiling.act_row_words(hidden, RES_BITS),
        table_base=table_base_bytes // tiling.WORD_BYTES,
        row_words=tiling.int8_words_per_row(hidden + 1),
        hidden=hidden,
    )
