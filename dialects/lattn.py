"""`lattn`: Λ-shaped attention and its bounded KV cache.

Attention is kept whole (never a decomposed softmax).  Layout: queries, keys and values are
`[..., T, heads * head_dim]` (heads concatenated, the output of the q/k/v projections).
Grouped-query attention: query head h reads KV head `h // (num_heads / num_kv_heads)` (HF's
`repeat_kv`).  The Λ rule (contract `lambda_visible`): the query at position i sees the key at
position j iff j <= i and (j < sink or j > i - window), i.e. the first `sink` tokens plus the
`window` most recent ones including itself.  Positions of a prefill start at 0.

Float form: builtin float tensors, scores q.k / sqrt(head_dim), softmax over the visible keys,
output sum_j p_j v_j.  Quantized form: residual-format (`si32, frac=16`) tensors and a KV4
cache, integer semantics of contract `attention_lambda`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import I64, IntAttr, IntegerAttr, IntegerType, Signedness, UnitAttr
from xdsl.ir import Attribute, Dialect, Operation, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    VarConstraint,
    base,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from accllm.dialects.quant_types import FLOAT_TYPES, shape_str
from accllm.dialects.smla import (
    FLOAT,
    REQUANT_ACC_BITS,
    form_of,
    require_residual,
    require_same_float,
    require_shape,
    shape_of,
    type_str,
)
from accllm.numerics.contract import NUMERICS

# Keys one softmax row may see: the denominator Z <= keys * 2^exp2_frac must stay below
# 2^recip_bits so that the reciprocal R = floor(2^recip_bits / Z) is non-zero.
MAX_ATTENDED_KEYS = 1 << (NUMERICS.recip_bits - NUMERICS.exp2_frac)


def kv4_max_head_dim() -> int:
    """Largest head_dim whose KV4 score dot product (|q| <= act_qmax, |code - z| <= 2^kv_bits
    - 1, summed over head_dim) fits the requantizer's signed 32-bit input."""
    per_term = NUMERICS.act_qmax * ((1 << NUMERICS.kv_bits) - 1)
    return ((1 << (REQUANT_ACC_BITS - 1)) - 1) // per_term


def verify_lambda(sink: int, window: int) -> None:
    if sink < 0:
        raise VerifyException(f"sink must be >= 0, got {sink}")
    if window < 1:
        raise VerifyException(f"window must be >= 1 (the current token), got {window}")
    if sink + window > MAX_ATTENDED_KEYS:
        raise VerifyException(
            f"sink + window = {sink + window} exceeds {MAX_ATTENDED_KEYS} keys (softmax "
            "denominator bound)"
        )


def verify_quant_head_dim(head_dim: int) -> None:
    if head_dim > kv4_max_head_dim():
        raise VerifyException(
            f"head_dim {head_dim} can overflow the 32-bit KV4 score accumulator (max "
            f"{kv4_max_head_dim()})"
        )


@irdl_attr_definition
class KVCacheType(ParametrizedAttribute, TypeAttribute):
    """The KV cache of one attention layer and one sequence, bounded by the Λ rule.

    `heads` KV heads of `head_dim` each; `sink + window` slots per head for K and for V, plus
    the count n of tokens appended so far and each slot's absolute position (-1 = empty).  The
    token at position p lives in slot `lambda_slot(p)` = p if p < sink, else
    sink + (p - sink) mod window (a ring buffer): sinks are kept forever, the window slots are
    overwritten circularly.

    Element: a float type (values stored as given), or `ui4` = KV4 (contract `kv4_quantize`):
    per (token, head) 4-bit asymmetric codes 0..15, a zero point in [0, 15] and a power-of-two
    exponent e in [kv_exp_min, kv_exp_max]; value = (code - z) * 2^-e.

    Syntax: `!lattn.kv_cache<heads=8, head_dim=64, sink=4, window=1020, ui4>`.
    """

    name = "lattn.kv_cache"

    heads: IntAttr
    head_dim: IntAttr
    sink: IntAttr
    window: IntAttr
    element_type: Attribute

    FIELDS: ClassVar[tuple[str, ...]] = ("heads", "head_dim", "sink", "window")

    def __init__(self, heads: int, head_dim: int, sink: int, window: int, element: Attribute):
        super().__init__(IntAttr(heads), IntAttr(head_dim), IntAttr(sink), IntAttr(window), element)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        values: list[Attribute] = []
        with parser.in_angle_brackets():
            for field in cls.FIELDS:
                parser.parse_keyword(field)
                parser.parse_punctuation("=")
                values.append(IntAttr(parser.parse_integer(allow_boolean=False)))
                parser.parse_punctuation(",")
            values.append(parser.parse_type())
        return values

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string("<")
        for field in self.FIELDS:
            printer.print_string(f"{field}={getattr(self, field).data}, ")
        printer.print_attribute(self.element_type)
        printer.print_string(">")

    def is_kv4(self) -> bool:
        return isinstance(self.element_type, IntegerType)

    @property
    def slots(self) -> int:
        return self.sink.data + self.window.data

    def verify(self) -> None:
        if self.heads.data < 1 or self.head_dim.data < 1:
            raise VerifyException(
                f"KV cache needs heads >= 1 and head_dim >= 1, got {self.heads.data}, "
                f"{self.head_dim.data}"
            )
        verify_lambda(self.sink.data, self.window.data)
        e = self.element_type
        if isinstance(e, FLOAT_TYPES):
            return
        kv = IntegerType(NUMERICS.kv_bits, Signedness.UNSIGNED)
        if e != kv:
            raise VerifyException(
                f"KV cache element must be a float type or ui{NUMERICS.kv_bits} (KV4), got "
                f"{type_str(e)}"
            )
        if self.head_dim.data % 2:
            raise VerifyException(
                f"KV4 packs two codes per byte: head_dim must be even, got {self.head_dim.data}"
            )
        verify_quant_head_dim(self.head_dim.data)


def _single_sequence(name: str, shape: tuple[int, ...]) -> None:
    """A KV cache holds one sequence: every dim before tokens must be 1."""
    if len(shape) < 2 or any(d != 1 for d in shape[:-2]):
        raise VerifyException(
            f"{name} must be [..., T, features] with leading dims of size 1 (one sequence), got "
            f"{shape_str(shape)}"
        )


def _verify_kv_operands(op: Operation, cache: KVCacheType, k, v) -> None:
    form = form_of(op, k.type, v.type)
    ks = shape_of(k.type)
    _single_sequence("keys", ks)
    require_shape("values", shape_of(v.type), ks)
    feats = cache.heads.data * cache.head_dim.data
    if ks[-1] != feats:
        raise VerifyException(
            f"keys have {ks[-1]} features, the cache holds {cache.heads.data} heads x "
            f"{cache.head_dim.data} = {feats}"
        )
    if form == FLOAT:
        if cache.is_kv4():
            raise VerifyException("float keys/values need a float cache (quantize them first)")
        require_same_float({"keys": k.type, "values": v.type})
        if k.type.element_type != cache.element_type:
            raise VerifyException(
                f"keys of element {k.type.element_type} do not match the cache element "
                f"{cache.element_type}"
            )
    else:
        if not cache.is_kv4():
            raise VerifyException("quantized keys/values need a KV4 (ui4) cache")
        require_residual({"keys": k.type, "values": v.type})


_CACHE = VarConstraint("CACHE", base(KVCacheType))


@irdl_op_definition
class EmptyOp(IRDLOperation):
    """A KV cache with no token: n = 0, every slot empty."""

    name = "lattn.empty"

    result = result_def(KVCacheType)

    traits = traits_def(Pure())
    assembly_format = "attr-dict `:` type($result)"

    def __init__(self, cache_type: KVCacheType):
        super().__init__(result_types=[cache_type])


@irdl_op_definition
class AppendOp(IRDLOperation):
    """Append T tokens to a KV cache with the Λ rule; returns the new cache (value semantics).

    keys, values [..., T, heads * head_dim] (leading dims 1), the tokens at positions
    n .. n+T-1 (n = tokens already appended; keys already rotated by RoPE).  Token t goes to
    slot `lambda_slot(n + t, sink, window)` of every head, in order, overwriting the oldest
    window entry once the window is full; sinks are never overwritten.  KV4 cache: each
    (token, head) of the residual-format keys/values is quantized by contract `kv4_quantize`.
    """

    name = "lattn.append"

    cache = operand_def(_CACHE)
    keys = operand_def()
    values = operand_def()
    result = result_def(_CACHE)

    traits = traits_def(Pure())
    assembly_format = (
        "$cache `,` $keys `,` $values attr-dict `:` type($cache) `,` type($keys) `,` type($values)"
    )

    def __init__(self, cache, keys, values):
        super().__init__(operands=[cache, keys, values], result_types=[cache.type])

    def verify_(self) -> None:
        _verify_kv_operands(self, self.cache.type, self.keys, self.values)


def _verify_gqa(num_heads: int, num_kv_heads: int) -> None:
    if num_heads < 1 or num_kv_heads < 1:
        raise VerifyException(
            f"head counts must be >= 1, got num_heads={num_heads}, num_kv_heads={num_kv_heads}"
        )
    if num_heads % num_kv_heads:
        raise VerifyException(f"num_kv_heads={num_kv_heads} does not divide num_heads={num_heads}")


def _head_dim(q_features: int, num_heads: int) -> int:
    if q_features % num_heads:
        raise VerifyException(
            f"query features {q_features} are not a multiple of num_heads={num_heads}"
        )
    return q_features // num_heads


@irdl_op_definition
class PrefillOp(IRDLOperation):
    """Attention of T tokens over themselves (prompt processing, or a whole model-level
    forward pass): one op per attention layer, from the projections' outputs.

    q [..., T, num_heads * hd], k, v [..., T, num_kv_heads * hd], result like q; positions
    0..T-1.  `causal`: the query at i sees keys j <= i; without it every key is visible.
    `sink`/`window` (both or neither, causal only) restrict visibility by the Λ rule.  Float:
    softmax(q.k / sqrt(hd) over visible keys) @ v per head.  Quantized (causal required):
    q, k, v and result residual; k and v are KV4-quantized per (token, head) with
    `kv4_quantize` exactly as `lattn.append` stores them, then `attention_lambda` with
    q_pos = k_pos = 0..T-1 (no sink/window: plain causal, i.e. window = T).
    """

    name = "lattn.prefill"

    query = operand_def()
    keys = operand_def()
    values = operand_def()
    result = result_def()
    num_heads = prop_def(IntegerAttr[I64])
    num_kv_heads = prop_def(IntegerAttr[I64])
    causal = opt_prop_def(UnitAttr)
    sink = opt_prop_def(IntegerAttr[I64])
    window = opt_prop_def(IntegerAttr[I64])

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$query `,` $keys `,` $values attr-dict `:` type($query) `,` type($keys) `,` "
        "type($values) `->` type($result)"
    )

    def __init__(
        self,
        q,
        k,
        v,
        num_heads: int,
        num_kv_heads: int,
        causal: bool = True,
        sink: int | None = None,
        window: int | None = None,
        result_type=None,
    ):
        props: dict[str, Attribute] = {
            "num_heads": IntegerAttr(num_heads, 64),
            "num_kv_heads": IntegerAttr(num_kv_heads, 64),
        }
        if causal:
            props["causal"] = UnitAttr()
        if sink is not None:
            props["sink"] = IntegerAttr(sink, 64)
        if window is not None:
            props["window"] = IntegerAttr(window, 64)
        super().__init__(operands=[q, k, v], result_types=[result_type or q.type], properties=props)

    def verify_(self) -> None:
        qt, kt, vt, ot = self.query.type, self.keys.type, self.values.type, self.result.type
        form = form_of(self, qt, kt, vt, ot)
        nh, nkv = self.num_heads.value.data, self.num_kv_heads.value.data
        _verify_gqa(nh, nkv)
        qs = shape_of(qt)
        if len(qs) < 2:
            raise VerifyException(f"query must be [..., T, features], got {shape_str(qs)}")
        hd = _head_dim(qs[-1], nh)
        require_shape("keys", shape_of(kt), (*qs[:-1], nkv * hd))
        require_shape("values", shape_of(vt), (*qs[:-1], nkv * hd))
        require_shape("result", shape_of(ot), qs)
        if (self.sink is None) != (self.window is None):
            raise VerifyException("sink and window must be given together")
        if self.sink is not None:
            if self.causal is None:
                raise VerifyException("the Λ mask (sink, window) needs causal attention")
            verify_lambda(self.sink.value.data, self.window.value.data)
        if form == FLOAT:
            require_same_float({"query": qt, "keys": kt, "values": vt, "result": ot})
            return
        require_residual({"query": qt, "keys": kt, "values": vt, "result": ot})
        if self.causal is None:
            raise VerifyException("quantized attention is causal: add 'causal'")
        verify_quant_head_dim(hd)
        if qs[-2] > MAX_ATTENDED_KEYS:
            raise VerifyException(
                f"{qs[-2]} tokens exceed {MAX_ATTENDED_KEYS} keys (softmax denominator bound)"
            )


@irdl_op_definition
class DecodeOp(IRDLOperation):
    """Attention of the newest token over a Λ KV cache (generation, one token per step).

    query [..., 1, num_heads * head_dim] (leading dims 1) is the token at position n - 1, the
    last one appended to `cache` (append first, then decode); result like query.  It attends
    to every occupied slot (the cache holds exactly the Λ-visible keys: sinks and the last
    `window` tokens); GQA maps query head h to KV head h // (num_heads / cache heads).  Float
    cache: softmax(q.k / sqrt(head_dim)) @ v.  KV4 cache: query and result residual, contract
    `attention_lambda` with q_pos = [n - 1] and the slots' positions as k_pos.
    """

    name = "lattn.decode"

    query = operand_def()
    cache = operand_def(KVCacheType)
    result = result_def()
    num_heads = prop_def(IntegerAttr[I64])

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$query `,` $cache attr-dict `:` type($query) `,` type($cache) `->` type($result)"
    )

    def __init__(self, q, cache, num_heads: int, result_type=None):
        super().__init__(
            operands=[q, cache],
            result_types=[result_type or q.type],
            properties={"num_heads": IntegerAttr(num_heads, 64)},
        )

    def verify_(self) -> None:
        qt, ot = self.query.type, self.result.type
        cache: KVCacheType = self.cache.type
        form = form_of(self, qt, ot)
        nh = self.num_heads.value.data
        _verify_gqa(nh, cache.heads.data)
        qs = shape_of(qt)
        _single_sequence("query", qs)
        if qs[-2] != 1:
            raise VerifyException(f"decode takes one query token, got {qs[-2]}")
        if qs[-1] != nh * cache.head_dim.data:
            raise VerifyException(
                f"query has {qs[-1]} features, expected num_heads x cache head_dim = "
                f"{nh} x {cache.head_dim.data}"
            )
        require_shape("result", shape_of(ot), qs)
        if form == FLOAT:
            if cache.is_kv4():
                raise VerifyException("a float query needs a float cache")
            require_same_float({"query": qt, "result": ot})
            if qt.element_type != cache.element_type:
                raise VerifyException(
                    f"query element {qt.element_type} does not match the cache element "
                    f"{cache.element_type}"
                )
        else:
            if not cache.is_kv4():
                raise VerifyException("a quantized query needs a KV4 (ui4) cache")
            require_residual({"query": qt, "result": ot})


LATTN = Dialect("lattn", [EmptyOp, AppendOp, PrefillOp, DecodeOp], [KVCacheType])
