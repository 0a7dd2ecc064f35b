"""The whole tiny model on the emitted accelerator, bit-exact with the integer golden model.

`accllm compile` stages model/reference/import/compress give the compressed IR (@forward, a
12-token prefill, Λ sink 2 + window 6) and the reference run; here the driver's lower stage
derives the one-token @decode (the `accllm-derive-step` pass), lowers both to the accel
level and the netlist, emits Verilog, and the simulation (behavioural HBM at the sim target's
latency / bandwidth) runs the prefill and 3 x (S + W) = 24 greedy decode steps in which the
bench takes the argmax of the simulated logits. Checked: every prefill logit, every decoded
token and every decode logit equals the golden model's (`numerics.reference_run`). The
simulation itself runs once per suite, through the driver, in
test/tools/test_compile_simulate.py (the flow fails on the first difference, reported by
`compile_flow.first_difference`, which is tested here).

The host writes only the token ids (the prompt, then each argmax): the embedding unit gathers
the rows from the table image in HBM (`contract.embedding_int8`; docs/hardware.md).
"""

from __future__ import annotations

import pytest

from accllm.tools import compile_flow as cf

P, SINK, WINDOW = 12, 2, 6
STEPS = 3 * (SINK + WINDOW)


def _args(out, target="sim"):
    """The flow's arguments as `accllm compile` parses them (every option at its default)."""
    from accllm.tools.accllm_driver import build_arg_parser

    argv = ["compile", "-o", str(out), "--target", target, "--prompt-len", str(P)]
    argv += ["--chunk", "8", "--decode-steps", str(STEPS), "--sink", str(SINK)]
    return build_arg_parser().parse_args([*argv, "--window", str(WINDOW)])


@pytest.fixture(scope="module")
def lowered(tmp_path_factory):
    out = tmp_path_factory.mktemp("accel_top_model")
    state = cf.FlowState(args=_args(out), out=out)
    for stage in cf.STAGES[:6]:  # model .. emit
        stage.run(state)
    return state


def test_both_programs_have_the_lm_head_and_the_embedding_unit(lowered):
    from accllm.dialects import accel
    from accllm.interpreter.runner import load_module

    module = load_module(lowered.artefacts["accel_ir"])
    scheds = {o.sym_name.data: o for o in module.ops if isinstance(o, accel.ScheduleOp)}
    # the design's two programs: an 8-token prefill chunk and the decode step
    assert set(scheds) == {"chunk_gemm", "decode_gemv"}
    for name, tokens in (("chunk_gemm", 8), ("decode_gemv", 1)):
        heads = [
            o
            for o in scheds[name].body.block.ops
            if isinstance(o, accel.LinearOp) and o.precision.data == "int8"
        ]
        assert [(h.n.value.data, h.tokens.value.data) for h in heads] == [(256, tokens)]
    hw = load_module(lowered.artefacts["hw_ir"])
    ids = {k: v.data for k, v in hw.attributes["accel.token_ids"].data.items()}
    assert {k: v["tokens"].value.data for k, v in ids.items()} == {
        "chunk_gemm": 8,
        "decode_gemv": 1,
    }
    assert "accel.host_embedding" not in hw.attributes
    verilog = lowered.artefacts["verilog"]
    assert (verilog / "linear_desc.hex").exists()
    # one embedding descriptor per program, executed by embedding_unit in the top
    assert len((verilog / "emb_desc.hex").read_text().split()) == 2
    assert "embedding_unit" in "".join(p.read_text() for p in verilog.glob("*.sv"))


def test_first_difference_names_step_and_index(lowered):
    """The driver's report of a mismatch (what --simulate prints) on a perturbed run."""
    from accllm.backend.sim.model_run import ModelRun

    ref = lowered.artefacts["reference"]
    run = ModelRun(
        ref.prefill_logits.copy(), ref.tokens.copy(), ref.decode_logits.copy(), [1], {}, [], []
    )
    assert cf.first_difference(run, ref) is None
    run.decode_logits[5, 17] += 1
    assert cf.first_difference(run, ref).startswith("decode step 5, logit 17:")
    run.tokens[3] = (run.tokens[3] + 1) % 256
    assert cf.first_difference(run, ref).startswith("decode step 3: token")
    run.prefill_logits[2, 9] -= 1
    assert cf.first_difference(run, ref).startswith("prefill token 2, logit 9:")


def test_emitted_model_top_lints_clean(lowered):
    """The emitted top of the whole model passes Verilator's strictest lint (its Yosys synthesis
    takes minutes and is the benchmark `python -m accllm.bench.synth_top`)."""
    from accllm.rtl_lib import sim

    verilog = lowered.artefacts["verilog"]
    files = [str(verilog / f) for f in (verilog / "filelist.f").read_text().split()]
    sim.lint(files, "accllm_top")
