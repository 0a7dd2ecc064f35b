"""Descriptors of the stream attention unit (`rtl_lib/stream_attention_unit.sv`):
accel.attention (append + attend) and accel.kv_append (append only), and the HBM image of its
Λ rings.

One 256-bit word per instruction, held in the descriptor ROM like `accel_program`'s linear
descriptors; the sequencer's DISPATCH to unit `attn` or `kv` carries its index. `flags` says what
the command does: bit 0 attend, bit 1 append the tokens' K/V (after the attends), bit 2 add the
runtime position register to `pos_base`.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

from accllm.backend import tiling
from accllm.backend.accel_program import EncodingError, pack_fields
from accllm.numerics import contract as ct

FLAG_ATTEND, FLAG_APPEND, FLAG_POS_REG = 1, 2, 4


def _check_geometry(heads: int, kv_heads: int, head_dim: int) -> None:
    if head_dim % 8:
        raise EncodingError(f"the attention unit needs head_dim % 8 == 0, got {head_dim}")
    if kv_heads < 1 or heads % kv_heads:
        raise EncodingError(f"{heads} query heads are not a multiple of {kv_heads} KV heads")


def q15_row_words(tokens: int, heads: int, head_dim: int) -> int:
    """Activation-buffer words of `tokens` Q15.16 rows of heads * head_dim values."""
    return tokens * tiling.act_row_words(heads * head_dim, ct.NUMERICS.res_bits)


# ---- stream_attention_unit (KV cache in HBM, head-parallel pipelines) ---------------------------
# (field, bits), least significant first: the layout `stream_attention_unit.sv` unpacks.
STREAM_ATTN_FIELDS: tuple[tuple[str, int], ...] = (
    ("q_base", 24),  # activation-buffer word of token 0's Q15.16 query row (heads * hd)
    ("k_base", 24),  # ... of token 0's K row (kv_heads * hd, after RoPE)
    ("v_base", 24),  # ... of token 0's V row
    ("o_base", 24),  # ... of token 0's Q15.16 output row (heads * hd)
    ("kv_addr", 32),  # byte address of the layer's first ring on every KV channel
    ("pos_base", 32),  # absolute position of token 0 (plus the position register if flag 2)
    ("tokens", 16),
    ("heads", 8),
    ("kv_heads", 8),
    ("score_mult", 16),  # contract.attention_score_scale(hd): M
    ("score_shift", 8),  # ... and its shift sh
    ("flags", 8),  # FLAG_ATTEND, FLAG_APPEND, FLAG_POS_REG
    ("rep", 8),  # heads / kv_heads (GQA group)
    ("reserved", 24),
)
assert sum(b for _, b in STREAM_ATTN_FIELDS) == ct.NUMERICS.word_bits


@dataclass(frozen=True)
class StreamAttnDescriptor:
    """One command of stream_attention_unit: `tokens` new tokens at positions pos_base.. (plus
    the position register with FLAG_POS_REG); the layer's Λ rings hold the positions before.
    FLAG_APPEND KV4-quantizes the new K/V rows and writes them to their slots after the
    attends; FLAG_ATTEND runs Λ attention of every new query over the rings plus the new
    tokens up to itself."""

    q_base: int
    k_base: int
    v_base: int
    o_base: int
    kv_addr: int
    pos_base: int
    tokens: int
    heads: int
    kv_heads: int
    score_mult: int
    score_shift: int
    flags: int
    rep: int
    reserved: int = 0

    def pack(self) -> int:
        """The 256-bit descriptor word; raises EncodingError naming a field that does not fit."""
        return pack_fields(STREAM_ATTN_FIELDS, astuple(self))


assert [f.name for f in fields(StreamAttnDescriptor)] == [n for n, _ in STREAM_ATTN_FIELDS]


@dataclass(frozen=True)
class StreamAttnLimits:
    """The stream_attention_unit parameters a descriptor must fit (its Verilog parameters)."""

    kv_heads: int  # KV_HEADS
    rep: int  # REP_MAX
    tokens: int  # TMAX


def stream_attention_descriptor(
    *,
    q_base: int,
    k_base: int,
    v_base: int,
    o_base: int,
    kv_addr: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    tokens: int,
    position: int | None,
    limits: StreamAttnLimits,
    attend: bool = True,
) -> StreamAttnDescriptor:
    """A command of stream_attention_unit: append `tokens` K/V rows and (with `attend`) attend
    with their queries. `position`: absolute position of the first token, or None for the
    runtime position register (decode). `kv_addr`: tiling.kv_layer_addr of the layer."""
    _check_geometry(heads, kv_heads, head_dim)
    if head_dim & (head_dim - 1) or head_dim < 8:
        raise EncodingError(f"stream_attention_unit needs a power-of-two head_dim, got {head_dim}")
    rep = heads // kv_heads
    for name, value, most in (
        ("tokens", tokens, limits.tokens),
        ("kv_heads", kv_heads, limits.kv_heads),
        ("rep", rep, limits.rep),
    ):
        if not 1 <= value <= most:
            raise EncodingError(f"stream attention: {name}={value} outside the unit's 1..{most}")
    mult, sh = ct.attention_score_scale(head_dim)
    flags = FLAG_APPEND | (FLAG_ATTEND if attend else 0)
    return StreamAttnDescriptor(
        q_base=q_base,
        k_base=k_base,
        v_base=v_base,
        o_base=o_base,
        kv_addr=kv_addr,
        pos_base=position or 0,
        tokens=tokens,
        heads=heads,
        kv_heads=kv_heads,
        score_mult=mult,
        score_shift=sh,
        flags=flags | (FLAG_POS_REG if position is None else 0),
        rep=rep,
    )


def kv_ring_bytes(cache, layer: int, layer_addr: int, pipes: int) -> dict[int, dict[int, int]]:
    """The HBM bytes of one layer's Λ rings (`tiling.kv_ring`, stream_attention_unit's layout)
    for the filled slots of a `golden.LambdaKVCache`: channel -> {byte address: value}. Per KV
    head g (on channel g mod pipes): slot s's K codes (contract kv4_pack) at k_codes + s * cb,
    its zero point and exponent (two's complement) at k_scales + 2 s, 2 s + 1; V alike."""
    kv_heads, slots, cb = cache.k_packed.shape[1:]
    ring = tiling.kv_ring(2 * cb, cache.sinks, cache.window)
    out: dict[int, dict[int, int]] = {}
    for g in range(kv_heads):
        mem = out.setdefault(tiling.kv_channel(g, pipes), {})
        base = tiling.kv_head_addr(layer_addr, g, pipes, ring)
        for s in range(slots):
            if cache.pos[layer, s] < 0:
                continue
            for codes, zp, ex, co, so in (
                (cache.k_packed, cache.k_zp, cache.k_exp, ring.k_codes, ring.k_scales),
                (cache.v_packed, cache.v_zp, cache.v_exp, ring.v_codes, ring.v_scales),
            ):
                for i, b in enumerate(bytes(codes[layer, g, s])):
                    mem[base + co + s * cb + i] = b
                mem[base + so + 2 * s] = int(zp[layer, g, s])
                mem[base + so + 2 * s + 1] = int(ex[layer, g, s]) & 0xFF
    return out
