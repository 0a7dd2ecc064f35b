"""A whole compressed model on the emitted accelerator: prefill of a prompt, then greedy decode.

`simulate_model` takes the accel-level IR (lower-to-accel of the prefill function and the
derived one-token decode function, the `accllm-derive-step` pass), the netlist IR
(accel-to-hw) and the emitted design directory, and runs under the behavioural HBM model:

1. the host writes the RoPE tables and the prompt's token ids (`apv.embedding_ids_words` at the
   word the netlist records in `accel.token_ids`); the prefill program runs, its embedding
   unit gathering the rows from the table image in HBM (`contract.embedding_int8`);
2. the bench reads the logits (the last int8 `accel.linear`'s output), takes the argmax of the
   last row, writes that token's id, runs the decode program at the next position (the `pos`
   port), and repeats (`AccelJob.greedy`).

Returns the simulated prefill logits, the greedily chosen tokens, their logits and the cycles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accllm.backend import accel_program_vector as apv
from accllm.backend.sim.accelerator import accel_job, run_accelerator
from accllm.backend.sim.hbm_image import hbm_images
from accllm.dialects import accel

PREFILL, DECODE = "forward_gemm", "decode_gemv"


@dataclass
class ModelRun:
    prefill_logits: np.ndarray  # [P, vocab]
    tokens: np.ndarray  # [N] fed at decode steps 0..N-1 (argmax of the previous logits)
    decode_logits: np.ndarray  # [N, vocab]
    cycles: list[int]  # prefill, then one per decode step
    words_read: dict[int, int]


def _logits_buffer(sched: accel.ScheduleOp, buffers: dict[str, int]) -> tuple[int, int]:
    """(first word, vocab) of the schedule's logits: the output of its int8 linear (LM head)."""
    heads = [
        o
        for o in sched.body.block.ops
        if isinstance(o, accel.LinearOp) and o.precision.data == "int8"
    ]
    if len(heads) != 1:
        raise ValueError(f"schedule @{sched.sym_name.data} has {len(heads)} int8 LM heads")
    return buffers[heads[0].output.root_reference.data], heads[0].n.value.data


def _rows(words: dict[int, int], base: int, tokens: int, length: int) -> np.ndarray:
    out = np.zeros((tokens, length), dtype=np.int64)
    for t in range(tokens):
        for i in range(length):
            v = words[base + (t * length + i) // 8] >> (32 * (i % 8)) & 0xFFFFFFFF
            out[t, i] = v - (1 << 32) if v >> 31 else v
    return out


def simulate_model(
    accel_module, hw_module, design_dir: Path, base_dir: Path, prompt, steps: int, target: str
) -> ModelRun:
    """Prefill `prompt`, then `steps` greedy decode steps (see module doc)."""
    buffers = {
        o.sym_name.data: o.offset.value.data // 32
        for o in accel_module.ops
        if isinstance(o, accel.BufferOp)
    }
    scheds = {o.sym_name.data: o for o in accel_module.ops if isinstance(o, accel.ScheduleOp)}
    bases = {k: v.value.data for k, v in hw_module.attributes["accel.programs"].data.items()}
    top = hw_module.attributes["accel.top"].data
    ids = {k: v.data for k, v in hw_module.attributes["accel.token_ids"].data.items()}
    channels = [c.value.data for c in top["channels"].data]
    hbm = hbm_images(accel_module, base_dir)
    prompt = np.asarray(prompt, dtype=np.int64)
    p_len = len(prompt)

    def attr(d, key: str) -> int:
        return d[key].value.data

    pi, di = ids[PREFILL], ids[DECODE]
    if attr(pi, "tokens") != p_len or attr(di, "tokens") != 1:
        raise ValueError(
            f"the programs embed {attr(pi, 'tokens')} / {attr(di, 'tokens')} tokens, "
            f"the prompt has {p_len} (decode 1)"
        )
    id_words = apv.embedding_ids_words(prompt)
    lp, vocab = _logits_buffer(scheds[PREFILL], buffers)
    ld, _ = _logits_buffer(scheds[DECODE], buffers)
    row_words = vocab // 8
    rope = apv.rope_table_writes(
        top["rope_theta"].value.data, attr(top, "rope_head_dim"), attr(top, "rope_max_pos")
    )
    job = accel_job(
        target,
        channels,
        hbm,
        {},
        [bases[PREFILL]],
        [],
        positions=[0],
        step_in=[{attr(pi, "ids_word") + i: w for i, w in enumerate(id_words)}],
        step_reads=[[(lp, p_len * row_words)]],
        rope_tables=rope,
        greedy={
            "program": bases[DECODE],
            "pos0": p_len,
            "steps": steps,
            "vocab": vocab,
            "first_logits_word": lp + (p_len - 1) * row_words,
            "logits_word": ld,
            "ids_word": attr(di, "ids_word"),
        },
        max_cycles=5_000_000,
    )
    run = run_accelerator(design_dir, str(top["name"].data), job)
    return ModelRun(
        prefill_logits=_rows(run.step_act[0], lp, p_len, vocab),
        tokens=np.array(run.tokens, dtype=np.int64),
        decode_logits=np.array(run.logits, dtype=np.int64).reshape(steps, vocab),
        cycles=run.cycles,
        words_read=run.words_read,
    )
