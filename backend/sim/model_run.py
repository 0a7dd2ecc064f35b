"""A whole compressed model on the emitted accelerator: prefill of a prompt, then greedy decode.

`simulate_model` takes the accel-level IR (lower-to-accel of the two step functions the
`accllm-derive-step` pass clones from the imported one: `@chunk`, C tokens at a run-time
position, and `@decode`, one token), the netlist IR (accel-to-hw) and the emitted design
directory, and runs under the behavioural HBM model:

1. the host writes the RoPE tables; a prompt of any length n runs as n // C chunk programs at
   positions 0, C, 2C, ... and then n % C one-token decode programs (the `pos` port holds each
   program's first position; the host writes its token ids, `apv.embedding_ids_words` at the
   word the netlist records in `accel.token_ids`, and reads its logits rows back). Chunks and
   single steps compute exactly what a whole-prompt prefill does (per-token quantization, the
   same Λ cache rule), so every prompt row is checked against the golden prefill;
2. the bench takes the argmax of the last logits row, writes that token's id, runs the decode
   program at the next position and repeats (`AccelJob.greedy`).

Returns the simulated prompt logits, the greedily chosen tokens, their logits and the cycles
(one per program: the prompt's programs, then one per decode step).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accllm.backend import accel_program_vector as apv
from accllm.backend.sim.accelerator import accel_job, run_accelerator, top_job_fields
from accllm.backend.sim.hbm_image import hbm_images
from accllm.dialects import accel

CHUNK, DECODE = "chunk_gemm", "decode_gemv"


@dataclass
class ModelRun:
    prefill_logits: np.ndarray  # [P, vocab]
    tokens: np.ndarray  # [N] fed at decode steps 0..N-1 (argmax of the previous logits)
    decode_logits: np.ndarray  # [N, vocab]
    cycles: list[int]  # the prompt's programs (chunks, then single steps), then each decode step
    words_read: dict[int, int]
    prompt_programs: list[str]  # schedule of each of the prompt's programs, in order
    positions: list[int]  # first position of each program run (prompt, then decode steps)


def prompt_plan(n: int, chunk: int) -> list[tuple[str, int, int]]:
    """(schedule, first position, tokens) of the programs that prefill an n-token prompt on
    a design with `chunk`-token chunk programs: n // chunk chunks, then n % chunk steps."""
    if n < 1 or chunk < 2:
        raise ValueError(f"a prompt needs >= 1 token and chunks >= 2 tokens (got {n}, {chunk})")
    full = n // chunk
    return [(CHUNK, i * chunk, chunk) for i in range(full)] + [
        (DECODE, p, 1) for p in range(full * chunk, n)
    ]


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

    missing = {CHUNK, DECODE} - set(ids)
    if missing:
        raise ValueError(
            f"the design has no program(s) {sorted(missing)}: derive @chunk and @decode with "
            "accllm-derive-step before lowering"
        )
    chunk = attr(ids[CHUNK], "tokens")
    if attr(ids[DECODE], "tokens") != 1:
        raise ValueError(f"@decode embeds {attr(ids[DECODE], 'tokens')} tokens, expected 1")
    plan = prompt_plan(p_len, chunk)
    logits = {s: _logits_buffer(scheds[s], buffers) for s in (CHUNK, DECODE)}
    vocab = logits[DECODE][1]
    row_words = vocab // 8
    rope = apv.rope_table_writes(
        top["rope_theta"].value.data, attr(top, "rope_head_dim"), attr(top, "rope_max_pos")
    )
    step_in, step_reads = [], []
    for sched, pos, n in plan:
        id_words = apv.embedding_ids_words(prompt[pos : pos + n])
        step_in.append({attr(ids[sched], "ids_word") + i: w for i, w in enumerate(id_words)})
        step_reads.append([(logits[sched][0], n * row_words)])
    last_sched, _, last_n = plan[-1]
    job = accel_job(
        target,
        channels,
        hbm,
        {},
        [bases[s] for s, _, _ in plan],
        [],
        positions=[p for _, p, _ in plan],
        step_in=step_in,
        step_reads=step_reads,
        rope_tables=rope,
        greedy={
            "program": bases[DECODE],
            "pos0": p_len,
            "steps": steps,
            "vocab": vocab,
            "first_logits_word": logits[last_sched][0] + (last_n - 1) * row_words,
            "logits_word": logits[DECODE][0],
            "ids_word": attr(ids[DECODE], "ids_word"),
        },
        max_cycles=5_000_000,
        **top_job_fields(hw_module),
    )
    run = run_accelerator(design_dir, str(top["name"].data), job)
    rows = [_rows(run.step_act[i], logits[s][0], n, vocab) for i, (s, _, n) in enumerate(plan)]
    return ModelRun(
        prefill_logits=np.concatenate(rows),
        tokens=np.array(run.tokens, dtype=np.int64),
        decode_logits=np.array(run.logits, dtype=np.int64).reshape(steps, vocab),
        cycles=run.cycles,
        words_read=run.words_read,
        prompt_programs=[s for s, _, _ in plan],
        positions=[p for _, p, _ in plan] + list(range(p_len, p_len + steps)),
    )
