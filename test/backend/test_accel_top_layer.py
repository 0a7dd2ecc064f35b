# ruff: noqa: B023  (the IR-writing closures are called only within their own loop iteration)
"""One whole decoder layer of the tiny model on the emitted accelerator, bit-exact.

The tiny default model (GQA: hidden 64, 4 query heads on 2 KV heads of 16) is compressed by
`numerics.compress.compress_model` (the golden model's parameters); its layer 0 is written as
compressed IR (one op per unit, the quantized forms of the smla/lattn dialects, parameters in a
safetensors archive under the component names the types define) with two functions: @prefill
(12 tokens, longer than sink 2 + window 6, RoPE at the constant positions 0..11) and @decode (one
token, RoPE and attention at the runtime position). Both run the whole layer:

  RMSNorm -> A8 -> Q/K/V -> RoPE(q, k) -> append + Λ attention -> A8 -> O -> residual add
  -> RMSNorm -> A8 -> gate/up -> SwiGLU -> A8 -> down -> residual add

No embedding or LM head: the input is the residual stream h (Q15.16) of `contract.embedding_int8`
of a prompt, loaded by the host into the activation buffer.

The IR goes through `lower-to-accel{target=sim}`, `accel-to-hw`, `--emit-verilog`; checked:
- every unit has its dispatches (mac, attn, norm, act, rope, vec) and the emitted design
  lints clean (`verilator --lint-only -Wall`);
- (slow) simulation with the HBM model at the sim target's timing (the linears' channel
  streams and the norm gain tables from `hbm_images`; RoPE tables written through the
  `rope_tbl_*` ports from the theta / max_positions accel-to-hw records): the prefill, then
  decode steps at positions 12 and 13. After each program every word of the layer's output
  residual equals `golden.attention_block` + `golden.mlp_block` on the same parameters and a
  `LambdaKVCache` carried across the programs, and at the end the KV rings in HBM hold exactly
  the golden cache's bytes (and nothing else in HBM was written).
"""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save_file

from accllm.numerics import contract as ct
from accllm.rtl_lib import sim

TOP = "accllm_top"
ARCHIVE = "layer.safetensors"
T, SINK, WINDOW = 12, 2, 6
DECODE_POS = (T, T + 1)
LINEARS = ("q", "k", "v", "o", "gate", "up", "down")


def _res(t: int, f: int) -> str:
    return f"!smla.qtensor<{t}x{f}xsi32, frac=16>"


def _a8(t: int, f: int) -> str:
    return f"!smla.qtensor<{t}x{f}xsi8, per_token>"


def archive(cm) -> dict[str, np.ndarray]:
    from accllm.numerics.compress import W2Components

    layer = cm.layers[0]
    t = {
        "attn_norm.values": layer.attn_norm.gain.astype(np.int16),
        "mlp_norm.values": layer.mlp_norm.gain.astype(np.int16),
    }
    for name in LINEARS:
        for comp, arr in W2Components.from_linear(getattr(layer, name)).arrays().items():
            t[f"{name}.{comp}"] = arr
    return {k: np.ascontiguousarray(v) for k, v in t.items()}


def layer_ir(cm, theta: float) -> str:
    """@prefill and @decode of layer 0 (see module doc)."""
    layer, hd = cm.layers[0], cm.head_dim
    h, qf, kvf = cm.hidden, cm.n_heads * hd, cm.n_kv_heads * hd
    cache = (
        f"!lattn.kv_cache<heads={cm.n_kv_heads}, head_dim={hd}, sink={SINK}, window={WINDOW}, ui4>"
    )
    funcs = []
    for fname, t in (("prefill", T), ("decode", 1)):
        lines: list[str] = []
        n = [0]

        def emit(text: str) -> str:
            n[0] += 1
            lines.append(f"  %v{n[0]} = {text}")
            return f"%v{n[0]}"

        def weight(key: str, typ: str) -> str:
            return emit(f'smla.weight #smla.param<"{ARCHIVE}", "{key}"> : {typ}')

        def norm(x: str, key: str, p) -> str:
            gt = f"!smla.qtensor<{h}xsi16, frac={p.shift}>"
            g = weight(key, gt)
            return emit(
                f"smla.rmsnorm {x}, {g} epsilon = {cm.rms_eps:.17e} : {_res(t, h)}, {gt} -> "
                f"{_res(t, h)}"
            )

        def a8(x: str, f: int) -> str:
            return emit(f"smla.requantize {x} : {_res(t, f)} -> {_a8(t, f)}")

        def linear(x: str, key: str) -> str:
            lin = getattr(layer, key)
            nn, k, g = lin.out_features, lin.in_features, lin.group
            wt = f"!smla.qweight<{nn}x{k}, ui2, group={g}, sparse=2:4>"
            w = weight(key, wt)
            return emit(
                f"smla.linear {x}, {w} {{acc_bits = {ct.NUMERICS.acc_bits}}} : {_a8(t, k)}, "
                f"{wt} -> {_res(t, nn)}"
            )

        def rope(x: str, f: int) -> str:
            return emit(
                f"smla.rope {x}, %pos {{head_dim = {hd}, theta = {theta:.17e}, max_positions = "
                f"{cm.max_positions}}} : {_res(t, f)}, tensor<{t}xi64> -> {_res(t, f)}"
            )

        if fname == "prefill":
            ps = ", ".join(str(p) for p in range(T))
            lines.append(f"  %pos = arith.constant dense<[{ps}]> : tensor<{T}xi64>")
        a = a8(norm("%h", "attn_norm", layer.attn_norm), h)
        q = rope(linear(a, "q"), qf)
        k = rope(linear(a, "k"), kvf)
        v = linear(a, "v")
        c = emit(f"lattn.append %c0, {k}, {v} : {cache}, {_res(t, kvf)}, {_res(t, kvf)}")
        if fname == "prefill":
            att = emit(
                f"lattn.prefill {q}, {k}, {v} {{num_heads = {cm.n_heads}, num_kv_heads = "
                f"{cm.n_kv_heads}, causal, sink = {SINK}, window = {WINDOW}}} : {_res(t, qf)}, "
                f"{_res(t, kvf)}, {_res(t, kvf)} -> {_res(t, qf)}"
            )
        else:
            att = emit(
                f"lattn.decode {q}, {c} {{num_heads = {cm.n_heads}}} : {_res(t, qf)}, {cache} "
                f"-> {_res(t, qf)}"
            )
        o = linear(a8(att, qf), "o")
        x = emit(f"smla.add %h, {o} : {_res(t, h)}, {_res(t, h)} -> {_res(t, h)}")
        a = a8(norm(x, "mlp_norm", layer.mlp_norm), h)
        ffn = layer.gate.out_features
        sw = emit(
            f"smla.swiglu {linear(a, 'gate')}, {linear(a, 'up')} : {_res(t, ffn)}, "
            f"{_res(t, ffn)} -> {_res(t, ffn)}"
        )
        d = linear(a8(sw, ffn), "down")
        y = emit(f"smla.add {x}, {d} : {_res(t, h)}, {_res(t, h)} -> {_res(t, h)}")
        args = [f"%h: {_res(t, h)}", f"%c0: {cache}"]
        if fname == "decode":
            args.append(f"%pos: tensor<{t}xi64>")
        funcs.append(
            f"func.func @{fname}({', '.join(args)}) -> ({_res(t, h)}, {cache}) {{\n"
            + "\n".join(lines)
            + f"\n  func.return {y}, {c} : {_res(t, h)}, {cache}\n}}\n"
        )
    return "builtin.module {\n" + "\n".join(funcs) + "}\n"


@pytest.fixture(scope="module")
def tiny():
    from accllm.models.default import build_model, default_config
    from accllm.numerics.compress import compress_model

    model = build_model(default_config(gqa=True), seed=0)
    return compress_model(model), float(model.config.rope_parameters["rope_theta"])


@pytest.fixture(scope="module")
def design(tmp_path_factory, tiny, emit_accelerator):
    """IR -> accel -> hw -> Verilog; returns (work dir, design dir, accel IR path)."""
    cm, theta = tiny
    work = tmp_path_factory.mktemp("accel_top_layer")
    save_file(archive(cm), str(work / ARCHIVE))
    (work / "layer.mlir").write_text(layer_ir(cm, theta))
    out, accel_ir = emit_accelerator(work / "layer.mlir", work, TOP)
    return work, out, accel_ir


def test_every_unit_is_dispatched_and_the_top_lints_clean(design):
    _, out, _ = design
    words = [int(w, 16) for w in (out / "program.hex").read_text().split()]
    dispatched = {w >> 56 & 0xF for w in words if w >> 60 == 1}
    # mac attn norm act rope vec (no kv: every append is part of its attention command)
    assert dispatched == {0, 1, 3, 4, 5, 6}
    for image in ("linear_desc.hex", "attn_desc.hex", "vec_desc.hex", "norm_desc.hex"):
        assert (out / image).exists()
    files = [out / f for f in (out / "filelist.f").read_text().split()]
    sim.lint(files, TOP)


def _q15_words(base: int, rows) -> dict[int, int]:
    flat = np.asarray(rows, dtype=np.int64).reshape(-1)
    return {
        base + w: sum(
            (int(v) & 0xFFFFFFFF) << (32 * i) for i, v in enumerate(flat[8 * w : 8 * w + 8])
        )
        for w in range(len(flat) // 8)
    }


@pytest.mark.slow
def test_simulated_layer_matches_the_golden_model(design, tiny):
    from accllm.backend import accel_program_vector as apv
    from accllm.backend.sim.accelerator import accel_job, run_accelerator, top_job_fields
    from accllm.backend.sim.hbm_image import hbm_images
    from accllm.dialects import accel
    from accllm.interpreter.runner import load_module as parse_file
    from accllm.numerics import golden

    cm, _ = tiny
    layer = cm.layers[0]
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
    rope = apv.rope_table_writes(top["rope_inv_freq"].get_values(), top["rope_max_pos"].value.data)
    cache = golden.LambdaKVCache(1, cm.n_kv_heads, cm.head_dim, SINK, WINDOW)
    rng = np.random.default_rng(3)
    ids = rng.integers(0, cm.vocab, size=T + len(DECODE_POS))

    def step(sched: accel.ScheduleOp, tok, pos: np.ndarray):
        """Input words of one program and the output residual words it must leave."""
        ops = list(sched.body.block.ops)
        norm0 = next(o for o in ops if isinstance(o, accel.VectorOp) and o.kind.data == "rmsnorm")
        last = [o for o in ops if isinstance(o, accel.VectorOp) and o.kind.data == "add"][-1]
        h = ct.embedding_int8(tok, cm.embed_q, cm.embed_exp)
        h1 = golden.attention_block(h, pos, layer, cm, cache, 0)
        y = golden.mlp_block(h1, layer)
        x_in = _q15_words(words[norm0.inputs.data[0].root_reference.data], h)
        return x_in, _q15_words(words[last.output.root_reference.data], y)

    scheds = {o.sym_name.data: o for o in module.ops if isinstance(o, accel.ScheduleOp)}
    steps = [step(scheds["prefill_gemm"], ids[:T], np.arange(T))]
    steps += [step(scheds["decode_gemv"], ids[p : p + 1], np.array([p])) for p in DECODE_POS]
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
        rope_tables=rope,
        **top_job_fields(hw),
    )
    run = run_accelerator(out, TOP, job)
    print(
        f"decoder layer: prefill ({T} tokens) {run.cycles[0]} cycles, decode steps "
        f"{run.cycles[1:]} cycles; HBM words read per channel {run.words_read}"
    )
    for i, (_, want) in enumerate(steps):
        got = run.step_act[i]
        bad = [(a, hex(got.get(a, -1)), hex(w)) for a, w in want.items() if got.get(a) != w]
        assert not bad, f"program {i}: {len(bad)} of {len(want)} words differ, first {bad[:3]}"
    assert (cache.pos[0] >= 0).all()  # the prompt filled the cache
    run.check_kv_rings(module, cache, top["kv_pipes"].value.data)
