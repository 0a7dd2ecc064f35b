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


def prompt_plan(n: int, chunk: int, start: int = 0) -> list[tuple[str, int, int]]:
    """(schedule, first position, tokens) of the programs that prefill an n-token prompt
    (at positions start..start+n-1) on a design with `chunk`-token chunk programs: n // chunk
    chunks, then n % chunk steps."""
    if n < 1 or chunk < 2:
        raise ValueError(f"a prompt needs >= 1 token and chunks >= 2 tokens (got {n}, {chunk})")
    full = n // chunk
    return [(CHUNK, start + i * chunk, chunk) for i in range(full)] + [
        (DECODE, start + p, 1) for p in range(full * chunk, n)
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


@dataclass
class DesignMap:
    """What a host needs to know of an emitted design to run a model on it (read from the
    accel-level and netlist IR): the top's name and HBM channels, each program's base address,
    the word where its token ids go and where its logits rows come back, the chunk size, the
    vocabulary, the RoPE table writes and the last position the tables cover."""

    top: str
    channels: list[int]
    bases: dict[str, int]  # schedule -> program base
    ids_word: dict[str, int]  # schedule -> first word of its token ids
    logits_word: dict[str, int]  # schedule -> first word of its logits rows
    chunk: int
    vocab: int
    rope: list[tuple[int, int, int]]
    max_pos: int

    @property
    def row_words(self) -> int:
        return self.vocab // 8

    def steps(self, tokens, start: int) -> tuple[list, list[dict[int, int]], list[list]]:
        """The plan (prompt_plan) that runs `tokens` at positions start.., the token-id words
        to load before each program and the logits words to read after it."""
        tokens = np.asarray(tokens, dtype=np.int64)
        plan = prompt_plan(len(tokens), self.chunk, start)
        step_in, step_reads = [], []
        for sched, pos, n in plan:
            words = apv.embedding_ids_words(tokens[pos - start : pos - start + n])
            step_in.append({self.ids_word[sched] + i: w for i, w in enumerate(words)})
            step_reads.append([(self.logits_word[sched], n * self.row_words)])
        return plan, step_in, step_reads

    def logits_rows(self, plan, step_act: list[dict[int, int]]) -> np.ndarray:
        """The logits rows [tokens, vocab] read back after the programs of `plan`."""
        return np.concatenate(
            [
                _rows(step_act[i], self.logits_word[s], n, self.vocab)
                for i, (s, _, n) in enumerate(plan)
            ]
        )


def design_map(accel_module, hw_module) -> DesignMap:
    """The DesignMap of a design lowered from @chunk and @decode (accllm-derive-step)."""
    buffers = {
        o.sym_name.data: o.offset.value.data // 32
        for o in accel_module.ops
        if isinstance(o, accel.BufferOp)
    }
    scheds = {o.sym_name.data: o for o in accel_module.ops if isinstance(o, accel.ScheduleOp)}
    bases = {k: v.value.data for k, v in hw_module.attributes["accel.programs"].data.items()}
    top = hw_module.attributes["accel.top"].data
    ids = {k: v.data for k, v in hw_module.attributes["accel.token_ids"].data.items()}

    def attr(d, key: str) -> int:
        return d[key].value.data

    missing = {CHUNK, DECODE} - set(ids)
    if missing:
        raise ValueError(
            f"the design has no program(s) {sorted(missing)}: derive @chunk and @decode with "
            "accllm-derive-step before lowering"
        )
    if attr(ids[DECODE], "tokens") != 1:
        raise ValueError(f"@decode embeds {attr(ids[DECODE], 'tokens')} tokens, expected 1")
    logits = {s: _logits_buffer(scheds[s], buffers) for s in (CHUNK, DECODE)}
    return DesignMap(
        top=str(top["name"].data),
        channels=[c.value.data for c in top["channels"].data],
        bases={s: bases[s] for s in (CHUNK, DECODE)},
        ids_word={s: attr(ids[s], "ids_word") for s in (CHUNK, DECODE)},
        logits_word={s: logits[s][0] for s in (CHUNK, DECODE)},
        chunk=attr(ids[CHUNK], "tokens"),
        vocab=logits[DECODE][1],
        rope=apv.rope_table_writes(top["rope_inv_freq"].get_values(), attr(top, "rope_max_pos")),
        max_pos=attr(top, "rope_max_pos"),
    )


def simulate_model(
    accel_module,
    hw_module,
    design_dir: Path,
    base_dir: Path,
    prompt,
    steps: int,
    target: str,
    log_file: Path | None = None,
    progress=None,
    coverage_file: Path | None = None,
) -> ModelRun:
    """Prefill `prompt`, then `steps` greedy decode steps (see module doc).  The simulator's
    output goes to `log_file`; `progress(n)` is told how many programs have finished;
    `coverage_file` runs the toggle-coverage build and writes its counts there."""
    d = design_map(accel_module, hw_module)
    hbm = hbm_images(accel_module, base_dir)
    prompt = np.asarray(prompt, dtype=np.int64)
    p_len = len(prompt)
    plan, step_in, step_reads = d.steps(prompt, 0)
    last_sched, _, last_n = plan[-1]
    job = accel_job(
        target,
        d.channels,
        hbm,
        {},
        [d.bases[s] for s, _, _ in plan],
        [],
        positions=[p for _, p, _ in plan],
        step_in=step_in,
        step_reads=step_reads,
        rope_tables=d.rope,
        greedy={
            "program": d.bases[DECODE],
            "pos0": p_len,
            "steps": steps,
            "vocab": d.vocab,
            "first_logits_word": d.logits_word[last_sched] + (last_n - 1) * d.row_words,
            "logits_word": d.logits_word[DECODE],
            "ids_word": d.ids_word[DECODE],
        },
        max_cycles=5_000_000,
        **top_job_fields(hw_module),
    )
    run = run_accelerator(design_dir, d.top, job, log_file, progress, coverage_file)
    return ModelRun(
        prefill_logits=d.logits_rows(plan, run.step_act),
        tokens=np.array(run.tokens, dtype=np.int64),
        decode_logits=np.array(run.logits, dtype=np.int64).reshape(steps, d.vocab),
        cycles=run.cycles,
        words_read=run.words_read,
        prompt_programs=[s for s, _, _ in plan],
        positions=[p for _, p, _ in plan] + list(range(p_len, p_len + steps)),
    )
