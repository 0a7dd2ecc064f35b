"""The emitted accelerator top with the attention unit: Q/K/V W2 linears + Λ GQA attention.

A hand-written compressed IR on the tiny model's attention dimensions (hidden 64, 4 query heads
on 2 KV heads of 16, W2 G = 64; Λ sink 2, window 6) with two functions: @prefill (12 tokens,
longer than sink + window, so window slots are reused during the prompt) and @decode (one token
on the same cache: `lattn.append` + `lattn.decode`). No RMSNorm / RoPE / requantize: the
vector units have no RTL yet, so the A8 input comes from the host and the Q/K/V rows go to the
attention unit unrotated (and o_proj, which needs the A8 requantization of the attention output,
is left out). Random 2:4 W2 weights (`numerics.compress.w2_components`) in a parameter archive.

The IR goes through `lower-to-accel{target=sim}`, `accel-to-hw`, `--emit-verilog`; checked:
- the program: the linears tile by tile on unit mac, a barrier, then one attention command that
  appends its tokens itself (decode too: the lattn.append is fused), the decode position read
  from the `pos` port (descriptor flag 2); the fetch programs: per tile a RANGE of each linear's
  stream, then the attention's RINGs on the KV channels (2 KV heads: channels 0 and 1);
- the directory passes `verilator --lint-only -Wall`;
- (slow) simulation, HBM served by the behavioural model at the sim target's timing: the
  prefill program, then two decode steps at positions 12 and 13 (`pos` port). Every word of
  every buffer the programs write (Q, K, V rows of `contract.linear_w2a8`, attention output of
  `golden.lambda_attention_step` on a `golden.LambdaKVCache`) matches bit for bit after each
  program, and at the end the KV rings in HBM hold exactly the golden cache's bytes
  (`accel_program_attn.kv_ring_bytes`) and the design wrote nothing else to HBM.
"""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save_file

from accllm.backend.sim.stream_linear_unit_run import act_words
from accllm.numerics import contract as ct
from accllm.numerics.compress import w2_components
from accllm.rtl_lib import sim

TOP = "accllm_top"
T, H, NH, NKV, HD, SINK, WINDOW, G = 12, 64, 4, 2, 16, 2, 6, 64
LIN = {"q": NH * HD, "k": NKV * HD, "v": NKV * HD}
DECODE_POS = (T, T + 1)
# Weight std and A8 input exponents (inputs of magnitude 1..2) that give Q/K rows of about
# unit size, so base-2 logits spread over a few units: softmax rows are neither flat nor
# one-hot, and a wrong visible set or position changes the output.
WEIGHT_STD = 0.25
F_X = (6, 8)


def _res(t: int, f: int) -> str:
    return f"!smla.qtensor<{t}x{f}xsi32, frac=16>"


def _a8(t: int, f: int) -> str:
    return f"!smla.qtensor<{t}x{f}xsi8, per_token>"


def attention_ir() -> str:
    cache = f"!lattn.kv_cache<heads={NKV}, head_dim={HD}, sink={SINK}, window={WINDOW}, ui4>"
    funcs = []
    for fn, t in (("prefill", T), ("decode", 1)):
        lines = []
        for name, n in LIN.items():
            qw = f"!smla.qweight<{n}x{H}, ui2, group={G}, sparse=2:4>"
            lines.append(
                f'  %w_{name} = smla.weight #smla.param<"attn.safetensors", "{name}"> : {qw}'
            )
            lines.append(
                f"  %{name} = smla.linear %x, %w_{name} {{acc_bits = 48}} : {_a8(t, H)}, {qw} "
                f"-> {_res(t, n)}"
            )
        kv_t = _res(t, NKV * HD)
        lines.append(f"  %c1 = lattn.append %c0, %k, %v : {cache}, {kv_t}, {kv_t}")
        if fn == "prefill":
            lines.append(
                f"  %o = lattn.prefill %q, %k, %v {{num_heads = {NH}, num_kv_heads = {NKV}, "
                f"causal, sink = {SINK}, window = {WINDOW}}} : {_res(t, NH * HD)}, {kv_t}, "
                f"{kv_t} -> {_res(t, NH * HD)}"
            )
        else:
            lines.append(
                f"  %o = lattn.decode %q, %c1 {{num_heads = {NH}}} : {_res(t, NH * HD)}, "
                f"{cache} -> {_res(t, NH * HD)}"
            )
        lines.append(f"  func.return %o, %c1 : {_res(t, NH * HD)}, {cache}")
        funcs.append(
            f"func.func @{fn}(%x: {_a8(t, H)}, %c0: {cache}) -> ({_res(t, NH * HD)}, "
            f"{cache}) {{\n" + "\n".join(lines) + "\n}\n"
        )
    return "builtin.module {\n" + "\n".join(funcs) + "}\n"


@pytest.fixture(scope="module")
def design(tmp_path_factory, emit_accelerator):
    """IR -> accel -> hw -> Verilog; returns (work dir, design dir, accel IR path)."""
    work = tmp_path_factory.mktemp("accel_top_attn")
    rng = np.random.default_rng(5)
    tensors = {}
    for name, n in LIN.items():
        w = WEIGHT_STD * rng.standard_normal((n, H))
        for c, arr in w2_components(w, name, G).arrays().items():
            tensors[f"{name}.{c}"] = np.ascontiguousarray(arr)
    save_file(tensors, str(work / "attn.safetensors"))
    (work / "attn.mlir").write_text(attention_ir())
    out, accel_ir = emit_accelerator(work / "attn.mlir", work, TOP)
    return work, out, accel_ir


def test_program_and_descriptors(design):
    from accllm.backend import accel_program_attn as apa

    _, out, _ = design
    words = [int(w, 16) for w in (out / "program.hex").read_text().split()]
    # (opcode, unit, payload) per instruction; barrier payload = unit mask
    prog = [(w >> 60, w >> 56 & 0xF, w & ((1 << 56) - 1)) for w in words]
    dispatch, barrier, halt = 1, 4, 5
    mac, attn = 0, 1
    tiles = -(-T // 4)  # the sim engine's GEMM tile is 4 tokens
    one = [(dispatch, mac, i) for i in range(3 * tiles)]
    one += [(barrier, 0, 1 << mac), (dispatch, attn, 0), (halt, 0, 0)]
    two = [(dispatch, mac, 3 * tiles + i) for i in range(3)]
    two += [(barrier, 0, 1 << mac), (dispatch, attn, 1), (halt, 0, 0)]
    assert prog == one + two
    desc = [
        apa.StreamAttnDescriptor(*_fields(int(w, 16), apa.STREAM_ATTN_FIELDS))
        for w in (out / "attn_desc.hex").read_text().split()
    ]
    assert [d.flags for d in desc] == [
        apa.FLAG_APPEND | apa.FLAG_ATTEND,  # prefill from position 0
        apa.FLAG_APPEND | apa.FLAG_ATTEND | apa.FLAG_POS_REG,  # decode at the position register
    ]
    assert [(d.tokens, d.pos_base, d.heads, d.kv_heads) for d in desc] == [
        (T, 0, NH, NKV),
        (1, 0, NH, NKV),
    ]
    # Fetch programs: channels 0 and 1 hold one KV head each; 2 and 3 only weights.
    from accllm.rtl_lib import fetch_isa

    progs = {
        c: fetch_isa.decode_program(
            int(w, 16) for w in (out / f"fetch_c{c}.hex").read_text().split()
        )
        for c in range(4)
    }
    for c, prog_c in progs.items():
        kinds = [type(e).__name__ for e in prog_c]
        # prefill: 3 linears x tiles RANGEs (tag mac); the prefill attention at compile-time
        # position 0 reads no cache; END; decode: 3 RANGEs, then (KV channels) 4 RINGs, END.
        assert kinds[: 3 * tiles + 1] == ["Range"] * (3 * tiles) + ["End"], (c, kinds)
        rest = kinds[3 * tiles + 1 :]
        assert rest == ["Range"] * 3 + (["Ring"] * 4 if c < NKV else []) + ["End"], (c, kinds)


def _fields(word: int, table) -> list[int]:
    out, shift = [], 0
    for _, bits in table:
        out.append(word >> shift & ((1 << bits) - 1))
        shift += bits
    return out


def test_emitted_top_lints_clean(design):
    _, out, _ = design
    files = [out / f for f in (out / "filelist.f").read_text().split()]
    sim.lint(files, TOP)


def _q15_words(base: int, rows) -> dict[int, int]:
    """Q15.16 rows -> activation words (8 int32 lanes, lane 0 lowest) from word `base`."""
    flat = np.asarray(rows, dtype=np.int64).reshape(-1)
    return {
        base + w: sum(
            (int(v) & 0xFFFFFFFF) << (32 * i) for i, v in enumerate(flat[8 * w : 8 * w + 8])
        )
        for w in range(len(flat) // 8)
    }


@pytest.mark.slow
def test_simulated_top_matches_the_golden_model(design):
    from accllm.backend.sim.accelerator import accel_job, run_accelerator, top_job_fields
    from accllm.backend.sim.hbm_image import hbm_images, load_w2_linear
    from accllm.dialects import accel
    from accllm.interpreter.params import ParamStore
    from accllm.interpreter.runner import load_module as parse_file
    from accllm.numerics import golden

    work, out, accel_ir = design
    module = parse_file(accel_ir)
    words = {
        o.sym_name.data: o.offset.value.data // 32
        for o in module.ops
        if isinstance(o, accel.BufferOp)
    }
    hw = parse_file(work / "hw.mlir")
    bases = {k: v.value.data for k, v in hw.attributes["accel.programs"].data.items()}
    top = hw.attributes["accel.top"].data
    channels = [c.value.data for c in top["channels"].data]
    store = ParamStore(work)
    lins = {n: load_w2_linear(store, f"attn.safetensors:{n}", LIN[n], H, G) for n in LIN}
    cache = golden.LambdaKVCache(1, NKV, HD, SINK, WINDOW)
    rng = np.random.default_rng(17)

    def step(sched: accel.ScheduleOp, t: int, pos: np.ndarray):
        """Inputs of one program and every word it must leave in its buffers, in program
        order (a later write to reused bytes replaces an earlier one)."""
        ops = list(sched.body.block.ops)
        lin_ops = [o for o in ops if isinstance(o, accel.LinearOp)]
        (att,) = [o for o in ops if isinstance(o, accel.AttentionOp)]
        x_q = rng.integers(-127, 128, size=(t, H))
        f_x = rng.integers(*F_X, size=t)
        rows = {n: ct.linear_w2a8(x_q, f_x, lins[n]) for n in LIN}
        want: dict[int, int] = {}
        for op, n in zip(lin_ops, LIN, strict=True):
            want |= _q15_words(words[op.output.root_reference.data], rows[n])
        o = golden.lambda_attention_step(
            rows["q"].reshape(t, NH, HD),
            rows["k"].reshape(t, NKV, HD),
            rows["v"].reshape(t, NKV, HD),
            pos,
            cache,
            0,
        )
        want |= _q15_words(words[att.output.root_reference.data], o)
        x_base = words[lin_ops[0].input.root_reference.data]
        x_in = {x_base + i: w for i, w in enumerate(act_words(x_q, f_x))}
        return x_in, want

    scheds = {o.sym_name.data: o for o in module.ops if isinstance(o, accel.ScheduleOp)}
    steps = [step(scheds["prefill_gemm"], T, np.arange(T))]
    steps += [step(scheds["decode_gemv"], 1, np.array([p])) for p in DECODE_POS]
    job = accel_job(
        "sim",
        channels,
        hbm_images(module, work),
        {},
        [bases["prefill_gemm"]] + [bases["decode_gemv"]] * len(DECODE_POS),
        [],
        positions=[0, *DECODE_POS],
        step_in=[x for x, _ in steps],
        step_reads=[[(a, 1) for a in sorted(w)] for _, w in steps],
        **top_job_fields(hw),
    )
    run = run_accelerator(out, TOP, job)
    print(
        f"attention design: prefill ({T} tokens) {run.cycles[0]} cycles, decode steps "
        f"{run.cycles[1:]} cycles; HBM words read per channel {run.words_read}"
    )
    for i, (_, want) in enumerate(steps):
        got = run.step_act[i]
        bad = [(a, hex(got.get(a, -1)), hex(w)) for a, w in want.items() if got.get(a) != w]
        assert not bad, f"program {i}: {len(bad)} of {len(want)} words differ, first {bad[:3]}"
    slots = SINK + WINDOW
    assert all(cache.pos[0, s] >= 0 for s in range(slots))  # the prompt filled the cache
    run.check_kv_rings(module, cache, top["kv_pipes"].value.data)
