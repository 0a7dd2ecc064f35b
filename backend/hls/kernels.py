"""One HLS kernel per op, by single dispatch on the op's class.

Each kernel is a C++ function whose loop nest follows the op's contract function and whose
`#pragma HLS` lines come only from the op's `hls.*` attributes (see dialects/hls.py): PIPELINE
on the op's streaming loop, UNROLL on its lane loop, ARRAY_PARTITION on its input buffer. The
arithmetic is delegated to contract.h, the C++ twin of accllm.numerics.contract.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import singledispatch

from xdsl.ir import Operation, SSAValue

from accllm.dialects import lattn, smla
from accllm.dialects.hls import ARRAY_PARTITION, PIPELINE, UNROLL
from accllm.dialects.quant_types import QTensorType, QWeightType
from accllm.ir.diagnostics import error_at
from accllm.numerics import contract as ct

N = ct.NUMERICS
IND = "  "  # one indentation level


# --- values as C++ buffers -------------------------------------------------------------------


@dataclass
class Fixed:
    """A fixed-point qtensor [rows][cols] of `ap_int<bits>` with `frac` fraction bits."""

    name: str
    rows: int
    cols: int
    bits: int
    frac: int

    @property
    def ctype(self) -> str:
        return "res_t" if self.bits == N.res_bits else f"ap_int<{self.bits}>"

    def decl(self, const: bool = False) -> str:
        return f"{'const ' if const else ''}{self.ctype} {self.name}[{self.rows}][{self.cols}]"


@dataclass
class A8:
    """A per-token A8 qtensor: codes [rows][cols] and one exponent per row."""

    name: str
    rows: int
    cols: int

    def decls(self, const: bool = False) -> list[str]:
        c = "const " if const else ""
        return [
            f"{c}act_t {self.name}_q[{self.rows}][{self.cols}]",
            f"{c}act_exp_t {self.name}_f[{self.rows}]",
        ]

    def names(self) -> list[str]:
        return [f"{self.name}_q", f"{self.name}_f"]


@dataclass
class Ints:
    """An integer tensor argument (token ids, positions), flattened."""

    name: str
    count: int
    ctype: str


@dataclass
class Weight:
    """A quantized weight: its top-level ports (name by component key)."""

    ports: dict  # key -> Port
    type: object


@dataclass
class Cache:
    """A KV cache value: the HBM storage it lives in (updated in place by lattn.append)."""

    ports: object  # CachePorts
    type: lattn.KVCacheType


@dataclass
class Kernel:
    name: str
    params: list[str]
    args: list[str]
    body: list[str]
    op: Operation = field(repr=False, default=None)

    def definition(self) -> str:
        params = ",\n".join(" " * (len(self.name) + 13) + p for p in self.params).lstrip()
        return f"static void {self.name}({params}) {{\n" + "\n".join(self.body) + "\n}\n"

    def call(self) -> str:
        return f"{self.name}({', '.join(self.args)});"


class Context:
    """What kernels need from the function being emitted: the buffers of SSA values, fresh
    kernel names and module-level constant tables."""

    def __init__(self, values: dict[SSAValue, object], tables: dict[str, str], function: str):
        self.values = values
        self.tables = tables
        self.function = function
        self.index = 0

    def buf(self, op: Operation, value: SSAValue, kind: type, what: str):
        b = self.values.get(value)
        if not isinstance(b, kind):
            raise error_at(op, f"{what} is not available as a {kind.__name__} buffer in HLS C++")
        return b

    def kernel_name(self, op: Operation) -> str:
        return f"{self.function}_k{self.index}_{op.name.replace('.', '_')}"


# --- pragmas from attributes -----------------------------------------------------------------


def pipeline(op: Operation) -> list[str]:
    a = op.attributes.get(PIPELINE)
    return [a.pragma()] if a is not None else []


def unroll(op: Operation) -> list[str]:
    a = op.attributes.get(UNROLL)
    return [a.pragma()] if a is not None else []


def partition(op: Operation, variable: str) -> list[str]:
    a = op.attributes.get(ARRAY_PARTITION)
    return [a.pragma(variable)] if a is not None else []


def loop(label: str, var: str, n: int | str, body: list[str], pragmas=()) -> list[str]:
    """A labelled counted loop; pragmas go first inside the body (Vitis convention)."""
    inner = [IND + p for p in pragmas] + [IND + line for line in body]
    return [f"{label}: for (int {var} = 0; {var} < {n}; ++{var}) {{", *inner, "}"]


def indent(lines: list[str], n: int = 1) -> list[str]:
    return [IND * n + line for line in lines]


# --- dispatch --------------------------------------------------------------------------------


@singledispatch
def kernel(op: Operation, ctx: Context, result: object) -> Kernel:
    """The kernel computing `op` into the buffer `result` (None for ops without a value)."""
    raise error_at(op, "is not supported by the HLS C++ backend")


def _fixed_result(op: Operation, ctx: Context) -> Fixed:
    return ctx.values[op.results[0]]


@kernel.register
def _(op: smla.EmbeddingOp, ctx: Context, y: Fixed) -> Kernel:
    ids = ctx.buf(op, op.ids, Ints, "ids")
    table = ctx.buf(op, op.table, Weight, "embedding table")
    h = y.cols
    elem = [
        f"{y.name}[t][i] = round_shift(i64({table.ports['q'].name}[id * {h} + i]), f - {y.frac});"
    ]
    body = [
        f"const int id = {ids.name}[t].to_int();",
        f"const int f = {table.ports['f'].name}[id].to_int();",
        *loop("L_elem", "i", h, elem, pipeline(op)),
    ]
    return Kernel(
        ctx.kernel_name(op),
        [
            f"const {ids.ctype} {ids.name}[{ids.count}]",
            table.ports["q"].decl(),
            table.ports["f"].decl(),
            y.decl(),
        ],
        [ids.name, table.ports["q"].name, table.ports["f"].name, y.name],
        indent(loop("L_tok", "t", y.rows, body)),
    )


@kernel.register
def _(op: smla.RMSNormOp, ctx: Context, y: Fixed) -> Kernel:
    x = ctx.buf(op, op.input, Fixed, "input")
    g = ctx.buf(op, op.gamma, Weight, "gamma")
    gp = g.ports["v"]
    h = x.cols
    eps_q = int(ct.round_half_up(op.epsilon.value.data * 2.0**N.eps_frac))
    gain_shift = g.type.frac.data
    body = [
        "i64 max_abs = 0;",
        *loop(
            "L_max",
            "i",
            h,
            [
                f"const i64 a = {x.name}[t][i] < 0 ? i64(-i64({x.name}[t][i])) "
                f": i64({x.name}[t][i]);",
                "if (a > max_abs) max_abs = a;",
            ],
            pipeline(op),
        ),
        "const int sh = rmsnorm_shift(max_abs);",
        f"i64 v = round_shift(i64({eps_q}LL) * {h}, 2 * sh);",
        *loop(
            "L_sq",
            "i",
            h,
            [f"const i64 xs = round_shift({x.name}[t][i], sh);", "v += xs * xs;"],
            pipeline(op),
        ),
        "if (v < 1) v = 1;",
        "i64 r;",
        "int k;",
        "rsqrt_int(v, r, k);",
        *loop(
            "L_out",
            "i",
            h,
            [
                f"{y.name}[t][i] = rmsnorm_out(round_shift({x.name}[t][i], sh), "
                f"r, k, {gp.name}[i], {gain_shift});"
            ],
            pipeline(op),
        ),
    ]
    return Kernel(
        ctx.kernel_name(op),
        [x.decl(const=True), gp.decl(), y.decl()],
        [x.name, gp.name, y.name],
        indent(loop("L_tok", "t", x.rows, body)),
    )


@kernel.register
def _(op: smla.RequantizeOp, ctx: Context, y) -> Kernel:
    name = ctx.kernel_name(op)
    if isinstance(y, A8):
        x = ctx.buf(op, op.input, Fixed, "input")
        body = [
            f"i64 hi = {x.name}[t][0], lo = {x.name}[t][0];",
            *loop(
                "L_max",
                "i",
                x.cols,
                [f"const i64 v = {x.name}[t][i];", "if (v > hi) hi = v;", "if (v < lo) lo = v;"],
                pipeline(op),
            ),
            f"const int f = act_exponent(hi, lo, {x.frac});",
            f"{y.name}_f[t] = f;",
            *loop(
                "L_q",
                "i",
                x.cols,
                [f"{y.name}_q[t][i] = round_shift({x.name}[t][i], {x.frac} - f);"],
                pipeline(op),
            ),
        ]
        return Kernel(
            name,
            [x.decl(const=True), *y.decls()],
            [x.name, *y.names()],
            indent(loop("L_tok", "t", x.rows, body)),
        )
    src = ctx.values.get(op.input)
    if isinstance(src, A8):
        expr = f"round_shift(i64({src.name}_q[t][i]), {src.name}_f[t].to_int() - {y.frac})"
        params, args = [*src.decls(const=True), y.decl()], [*src.names(), y.name]
    else:
        x = ctx.buf(op, op.input, Fixed, "input")
        expr = f"round_shift(i64({x.name}[t][i]), {x.frac - y.frac})"
        params, args = [x.decl(const=True), y.decl()], [x.name, y.name]
    inner = loop(
        "L_elem", "i", y.cols, [f"{y.name}[t][i] = saturate<{y.bits}>({expr});"], pipeline(op)
    )
    return Kernel(name, params, args, indent(loop("L_tok", "t", y.rows, inner)))


def _elementwise(op: Operation, ctx: Context, y: Fixed, operands, expr: Callable) -> Kernel:
    xs = [ctx.buf(op, v, Fixed, f"operand #{i}") for i, v in enumerate(operands)]
    refs = [f"{x.name}[t][i]" for x in xs]
    inner = loop(
        "L_elem", "i", y.cols, [f"{y.name}[t][i] = {expr(xs, refs)};"], pipeline(op) + unroll(op)
    )
    unique = list(dict.fromkeys(x.name for x in xs))
    decls = [next(x for x in xs if x.name == n).decl(const=True) for n in unique]
    return Kernel(
        ctx.kernel_name(op),
        [*decls, y.decl()],
        [*unique, y.name],
        indent(loop("L_tok", "t", y.rows, inner)),
    )


@kernel.register
def _(op: smla.AddOp, ctx: Context, y: Fixed) -> Kernel:
    return _elementwise(
        op, ctx, y, [op.lhs, op.rhs], lambda xs, r: f"saturate<{y.bits}>(i64({r[0]}) + i64({r[1]}))"
    )


@kernel.register
def _(op: smla.MulOp, ctx: Context, y: Fixed) -> Kernel:
    def expr(xs, r):
        shift = xs[0].frac + xs[1].frac - y.frac
        return f"saturate<{y.bits}>(round_shift(i64({r[0]}) * i64({r[1]}), {shift}))"

    return _elementwise(op, ctx, y, [op.lhs, op.rhs], expr)


@kernel.register
def _(op: smla.SiLUOp, ctx: Context, y: Fixed) -> Kernel:
    return _elementwise(op, ctx, y, [op.input], lambda xs, r: f"silu({r[0]})")


@kernel.register
def _(op: smla.SwiGLUOp, ctx: Context, y: Fixed) -> Kernel:
    return _elementwise(op, ctx, y, [op.gate, op.up], lambda xs, r: f"swiglu({r[0]}, {r[1]})")


def _rope_table_names(op: smla.RoPEOp, ctx: Context) -> str:
    """Module-level Q1.14 cos/sin tables of contract.rope_tables for this op's frequencies
    (`smla.rope` frequencies(): its inv_freq, or theta^(-2i/head_dim)), shared by ops with
    equal parameters."""
    hd = op.head_dim.value.data
    inv_freq = op.frequencies()
    maxp = op.max_positions.value.data
    key = f"rope_{len(ctx.tables)}"
    sig = f"{hd}/{','.join(repr(float(w)) for w in inv_freq)}/{maxp}"
    for name, text in ctx.tables.items():
        if text.startswith(f"// rope {sig}\n"):
            return name
    tables = ct.rope_tables(inv_freq, maxp)
    lines = [f"// rope {sig}"]
    for part in ("cos_lo", "sin_lo", "cos_hi", "sin_hi"):
        arr = getattr(tables, part)
        rows = ", ".join("{" + ", ".join(str(int(v)) for v in row) + "}" for row in arr)
        lines.append(
            f"static const rope_t {key}_{part}[{arr.shape[0]}][{arr.shape[1]}] = {{{rows}}};"
        )
    ctx.tables[key] = "\n".join(lines) + "\n"
    return key


@kernel.register
def _(op: smla.RoPEOp, ctx: Context, y: Fixed) -> Kernel:
    x = ctx.buf(op, op.input, Fixed, "input")
    pos = ctx.buf(op, op.positions, Ints, "positions")
    hd = op.head_dim.value.data
    half = hd // 2
    tab = _rope_table_names(op, ctx)
    split = N.rope_split_bits
    inner = [
        "i64 c, s, y1, y2;",
        f"rope_cos_sin({tab}_cos_lo[lo][i], {tab}_sin_lo[lo][i], {tab}_cos_hi[hi][i], "
        f"{tab}_sin_hi[hi][i], c, s);",
        f"rope_rotate({x.name}[t][h * {hd} + i], {x.name}[t][h * {hd} + i + {half}], c, s, y1, "
        "y2);",
        f"{y.name}[t][h * {hd} + i] = y1;",
        f"{y.name}[t][h * {hd} + i + {half}] = y2;",
    ]
    body = [
        f"const int p = {pos.name}[t].to_int();",
        f"const int lo = p & {(1 << split) - 1}, hi = p >> {split};",
        *loop("L_head", "h", x.cols // hd, loop("L_pair", "i", half, inner, pipeline(op))),
    ]
    return Kernel(
        ctx.kernel_name(op),
        [x.decl(const=True), f"const {pos.ctype} {pos.name}[{pos.count}]", y.decl()],
        [x.name, pos.name, y.name],
        indent(loop("L_tok", "t", x.rows, body)),
    )


def _linear_w2(
    op: Operation, ctx: Context, x: A8, w: Weight, y: Fixed, bias: Weight | None = None
) -> Kernel:
    wt: QWeightType = w.type
    n, k = wt.get_shape()
    g = wt.group_size()
    wpr = ct.words_per_row(k)
    ng = k // g
    p = {key: port.name for key, port in w.ports.items()}

    def xq(i: str) -> str:  # inputs beyond x's K are the zero padding (contract padded_k)
        v = f"i64({x.name}_q[t][{i}])"
        return v if x.cols == k else f"({i} < {x.cols} ? {v} : i64(0))"

    lane = [
        "const int blk = w * BLOCKS_PER_WORD + b;",
        f"if (blk < {k // 4}) {{",
        f"{IND}const int g = blk / {g // 4};",
        f"{IND}const int z = {p['zp']}[o * {ng} + g].to_int();",
        f"{IND}int p0, p1, c0, c1;",
        f"{IND}decode_block(word_block(row[w], b), p0, p1, c0, c1);",
        f"{IND}part += {xq('4 * blk + p0')} * (c0 - z) + {xq('4 * blk + p1')} * (c1 - z);",
        f"{IND}if ((blk + 1) % {g // 4} == 0) {{",
        f"{IND}{IND}acc += part * i64({p['sm']}[o * {ng} + g]);",
        f"{IND}{IND}part = 0;",
        f"{IND}}}",
        "}",
    ]
    tok = [
        "i64 acc = 0, part = 0;",
        *loop(
            "L_word",
            "w",
            wpr,
            loop("L_lane", "b", "BLOCKS_PER_WORD", lane, unroll(op)),
            pipeline(op),
        ),
        f"const i64 y = requantize_pow2<RES_BITS>(acc, {x.name}_f[t].to_int() + "
        f"{p['se']}[o].to_int() - {y.frac});",
        # contract.linear_bias_add: saturate(y + b, 32) after the shift
        f"{y.name}[t][o] = saturate<RES_BITS>(y + i64({bias.ports['v'].name}[o]));"
        if bias is not None
        else f"{y.name}[t][o] = y;",
    ]
    row = [
        *loop("L_load", "w", wpr, [f"row[w] = {p['words']}[o * {wpr} + w];"], pipeline(op)),
        *loop("L_tok", "t", x.rows, tok),
    ]
    body = [
        *partition(op, f"{x.name}_q"),
        f"word_t row[{wpr}];",
        *loop("L_out", "o", n, row),
    ]
    ports = [w.ports[key] for key in ("words", "zp", "sm", "se")]
    if bias is not None:
        ports.append(bias.ports["v"])
    return Kernel(
        ctx.kernel_name(op),
        [*x.decls(const=True), *(q.decl() for q in ports), y.decl()],
        [*x.names(), *(q.name for q in ports), y.name],
        indent(body),
    )


def _linear_int8(op: Operation, ctx: Context, x: A8, w: Weight, y: Fixed) -> Kernel:
    n, k = w.type.get_shape()
    p = {key: port.name for key, port in w.ports.items()}
    tok = [
        "i64 acc = 0;",
        *loop(
            "L_k",
            "i",
            k,
            [f"acc += i64({x.name}_q[t][i]) * i64({p['q']}[o * {k} + i]);"],
            pipeline(op) + unroll(op),
        ),
        f"{y.name}[t][o] = requantize<RES_BITS>(acc, {p['m']}[o], {x.name}_f[t].to_int() + "
        f"{p['e']}[o].to_int() - {y.frac});",
    ]
    body = [*partition(op, f"{x.name}_q"), *loop("L_out", "o", n, loop("L_tok", "t", x.rows, tok))]
    ports = [w.ports[key] for key in ("q", "m", "e")]
    return Kernel(
        ctx.kernel_name(op),
        [*x.decls(const=True), *(q.decl() for q in ports), y.decl()],
        [*x.names(), *(q.name for q in ports), y.name],
        indent(body),
    )


def _linear(op: Operation, ctx: Context, y: Fixed) -> Kernel:
    x = ctx.buf(op, op.input, A8, "input (A8)")
    w = ctx.buf(op, op.weight, Weight, "weight")
    bias = None
    if getattr(op, "bias", None) is not None:
        bias = ctx.buf(op, op.bias, Weight, "bias")
        if not w.type.is_w2() or y.frac != N.res_frac:
            raise error_at(op, "a linear bias is defined for W2 linears with a Q15.16 output")
    if y.bits != N.res_bits:
        raise error_at(op, f"HLS linear kernels produce si{N.res_bits}, got si{y.bits}")
    if w.type.is_w2():
        return _linear_w2(op, ctx, x, w, y, bias)
    return _linear_int8(op, ctx, x, w, y)


kernel.register(smla.LinearOp)(_linear)
kernel.register(smla.LMHeadOp)(_linear)


# --- attention -------------------------------------------------------------------------------


def _kv4_quantize(
    src: str, dst_codes: str, dst_z: str, dst_e: str, hd: int, op, tag: str
) -> list[str]:
    """Lines quantizing the Q15.16 row `src[d]` (d < hd) per contract.kv4_quantize into
    dst_codes[d] (lvalue pattern with {d}), dst_z, dst_e; `tag` keeps loop labels unique."""
    return [
        "{",
        f"{IND}i64 hi = 0, lo = 0;",
        *indent(
            loop(
                f"L_{tag}max",
                "d",
                hd,
                [
                    f"const i64 v = {src.format(d='d')};",
                    "if (v > hi) hi = v;",
                    "if (v < lo) lo = v;",
                ],
                pipeline(op),
            )
        ),
        f"{IND}const int e = kv4_exponent(hi, lo, RES_FRAC);",
        f"{IND}const i64 z = -round_shift(lo, RES_FRAC - e);",
        f"{IND}{dst_z} = z;",
        f"{IND}{dst_e} = e;",
        *indent(
            loop(
                f"L_{tag}q",
                "d",
                hd,
                [
                    f"{dst_codes.format(d='d')} = "
                    f"round_shift({src.format(d='d')}, RES_FRAC - e) + z;"
                ],
                pipeline(op),
            )
        ),
        "}",
    ]


def _attention_rows(
    op,
    q: Fixed,
    nh: int,
    rep: int,
    hd: int,
    nkeys: int,
    q_pos: str,
    key: dict[str, str],
    out: Fixed,
) -> list[str]:
    """Λ attention of every query row over `nkeys` KV4 keys (contract.attention_lambda).
    `key` gives C expressions of the j-th key of KV head `kh`: code(d), z, e, vcode(d), vz, ve,
    pos, plus `sinks` and `window`."""
    m, sh = ct.attention_score_scale(hd)
    score = [
        f"const int kp = {key['pos']};",
        f"vis[j] = lambda_visible(qp, kp, {key['sinks']}, {key['window']});",
        "i64 dot = 0;",
        *loop("L_dot", "d", hd, [f"dot += i64(qq[d]) * ({key['code']} - {key['z']});"], unroll(op)),
        f"s[j] = requantize<RES_BITS>(dot, {m}, fq + {key['e']} + {sh} - SM_FRAC);",
        "if (vis[j] && (!any || s[j] > mx)) {",
        f"{IND}mx = s[j];",
        f"{IND}any = true;",
        "}",
    ]
    pv = [
        "const i64 pr = softmax_prob(ex[j], r);",
        *loop(
            "L_pvd",
            "d",
            hd,
            [f"acc[d] += pr * kv4_dequantize({key['vcode']}, {key['vz']}, {key['ve']});"],
            unroll(op),
        ),
    ]
    head = [
        "const int kh = h / " + str(rep) + ";",
        "i64 hi = " + f"{q.name}[t][h * {hd}], lo = {q.name}[t][h * {hd}];",
        *loop(
            "L_qmax",
            "d",
            hd,
            [
                f"const i64 v = {q.name}[t][h * {hd} + d];",
                "if (v > hi) hi = v;",
                "if (v < lo) lo = v;",
            ],
        ),
        f"const int fq = act_exponent(hi, lo, {q.frac});",
        f"act_t qq[{hd}];",
        *loop("L_qq", "d", hd, [f"qq[d] = round_shift({q.name}[t][h * {hd} + d], {q.frac} - fq);"]),
        f"i64 s[{nkeys}], ex[{nkeys}], acc[{hd}];",
        f"bool vis[{nkeys}];",
        "i64 mx = 0, z = 0;",
        "bool any = false;",
        *loop("L_score", "j", nkeys, score, pipeline(op)),
        *loop(
            "L_exp",
            "j",
            nkeys,
            ["ex[j] = vis[j] ? exp2_neg(mx - s[j]) : i64(0);", "z += ex[j];"],
            pipeline(op),
        ),
        "const i64 r = softmax_recip(z);",
        *loop("L_acc0", "d", hd, ["acc[d] = 0;"]),
        *loop("L_pv", "j", nkeys, pv, pipeline(op)),
        *loop(
            "L_o",
            "d",
            hd,
            [f"{out.name}[t][h * {hd} + d] = saturate<RES_BITS>(round_shift(acc[d], PROB_FRAC));"],
        ),
    ]
    return loop("L_q", "t", q.rows, [f"const int qp = {q_pos};", *loop("L_head", "h", nh, head)])


@kernel.register
def _(op: lattn.PrefillOp, ctx: Context, y: Fixed) -> Kernel:
    q = ctx.buf(op, op.query, Fixed, "query")
    k = ctx.buf(op, op.keys, Fixed, "keys")
    v = ctx.buf(op, op.values, Fixed, "values")
    nh, nkv = op.num_heads.value.data, op.num_kv_heads.value.data
    hd = q.cols // nh
    t = q.rows
    sinks = op.sink.value.data if op.sink is not None else 0
    window = op.window.value.data if op.window is not None else t  # plain causal
    local = [
        f"kv_t kc[{nkv}][{t}][{hd}], vc[{nkv}][{t}][{hd}], kz[{nkv}][{t}], vz[{nkv}][{t}];",
        f"kv_exp_t ke[{nkv}][{t}], ve[{nkv}][{t}];",
        *loop(
            "L_kvt",
            "t",
            t,
            loop(
                "L_kvh",
                "h",
                nkv,
                [
                    *_kv4_quantize(
                        f"{k.name}[t][h * {hd} + {{d}}]",
                        "kc[h][t][{d}]",
                        "kz[h][t]",
                        "ke[h][t]",
                        hd,
                        op,
                        "k",
                    ),
                    *_kv4_quantize(
                        f"{v.name}[t][h * {hd} + {{d}}]",
                        "vc[h][t][{d}]",
                        "vz[h][t]",
                        "ve[h][t]",
                        hd,
                        op,
                        "v",
                    ),
                ],
            ),
        ),
    ]
    key = {
        "code": "kc[kh][j][d].to_int()",
        "z": "kz[kh][j].to_int()",
        "e": "ke[kh][j].to_int()",
        "vcode": "vc[kh][j][d].to_int()",
        "vz": "vz[kh][j].to_int()",
        "ve": "ve[kh][j].to_int()",
        "pos": "j",
        "sinks": str(sinks),
        "window": str(window),
    }
    body = local + _attention_rows(op, q, nh, nh // nkv, hd, t, "t", key, y)
    return Kernel(
        ctx.kernel_name(op),
        [q.decl(True), k.decl(True), v.decl(True), y.decl()],
        [q.name, k.name, v.name, y.name],
        indent(body),
    )


def _cache_args(c: Cache) -> tuple[list[str], list[str]]:
    ports = list(c.ports.ports.values())
    return [p.decl() for p in ports], [p.name for p in ports]


@kernel.register
def _(op: lattn.AppendOp, ctx: Context, result: Cache) -> Kernel:
    c = ctx.buf(op, op.cache, Cache, "cache")
    k = ctx.buf(op, op.keys, Fixed, "keys")
    v = ctx.buf(op, op.values, Fixed, "values")
    ct_ = c.type
    hd, slots = ct_.head_dim.data, ct_.slots
    n = c.ports.name

    def pack(dst: str, src: str) -> list[str]:
        """KV4-quantize one (token, head) row and store it packed two codes per byte."""
        return [
            f"kv_t codes[{hd}];",
            *_kv4_quantize(
                src, "codes[{d}]", f"{n(dst + 'z')}[base]", f"{n(dst + 'e')}[base]", hd, op, dst
            ),
            *loop(
                f"L_{dst}pack",
                "d",
                hd // 2,
                [f"{n(dst)}[base * {hd // 2} + d] = (codes[2 * d + 1], codes[2 * d]);"],
                pipeline(op),
            ),
        ]

    head = [
        f"const int base = h * {slots} + slot;",
        "{",
        *indent(pack("k", f"{k.name}[t][h * {hd} + {{d}}]")),
        "}",
        "{",
        *indent(pack("v", f"{v.name}[t][h * {hd} + {{d}}]")),
        "}",
    ]
    tok = [
        "const int p = n0 + t;",
        f"const int slot = lambda_slot(p, {ct_.sink.data}, {ct_.window.data});",
        *loop("L_head", "h", ct_.heads.data, head),
        f"{n('pos')}[slot] = p;",
    ]
    body = [
        f"const int n0 = {n('count')}[0].to_int();",
        *loop("L_tok", "t", k.rows, tok),
        f"{n('count')}[0] = n0 + {k.rows};",
    ]
    decls, args = _cache_args(c)
    ctx.values[op.result] = c
    return Kernel(
        ctx.kernel_name(op),
        [*decls, k.decl(True), v.decl(True)],
        [*args, k.name, v.name],
        indent(body),
    )


@kernel.register
def _(op: lattn.DecodeOp, ctx: Context, y: Fixed) -> Kernel:
    q = ctx.buf(op, op.query, Fixed, "query")
    c = ctx.buf(op, op.cache, Cache, "cache")
    ct_ = c.type
    nh = op.num_heads.value.data
    hd, slots, nkv = ct_.head_dim.data, ct_.slots, ct_.heads.data
    n = c.ports.name
    b = f"(kh * {slots} + j)"
    nib = "(({arr}[{b} * {half} + d / 2] >> (4 * (d % 2))) & 15).to_int()".format
    key = {
        "code": nib(arr=n("k"), b=b, half=hd // 2),
        "z": f"{n('kz')}[{b}].to_int()",
        "e": f"{n('ke')}[{b}].to_int()",
        "vcode": nib(arr=n("v"), b=b, half=hd // 2),
        "vz": f"{n('vz')}[{b}].to_int()",
        "ve": f"{n('ve')}[{b}].to_int()",
        "pos": f"{n('pos')}[j].to_int()",
        "sinks": str(ct_.sink.data),
        "window": str(ct_.window.data),
    }
    # The query is the newest token, the last one appended (position count - 1).
    body = _attention_rows(op, q, nh, nh // nkv, hd, slots, f"{n('count')}[0].to_int() - 1", key, y)
    decls, args = _cache_args(c)
    return Kernel(
        ctx.kernel_name(op), [q.decl(True), *decls, y.decl()], [q.name, *args, y.name], indent(body)
    )


def fixed_of(name: str, t: QTensorType) -> Fixed | A8:
    """The buffer of a qtensor value."""
    shape = t.get_shape()
    rows = math.prod(shape[:-1])
    if t.is_per_token():
        return A8(name, rows, shape[-1])
    return Fixed(name, rows, shape[-1], t.bits, t.frac.data)
