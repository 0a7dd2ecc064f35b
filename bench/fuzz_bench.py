"""Fuzzing the tools with mutated IR: every input must end, quickly, in output or a clean error.

    python -m accllm.bench.fuzz_bench [--inputs 2000] [--seed 1]

The corpus is the project's own test IR (`test/**/*.mlir`, split at `// -----`, RUN/CHECK lines
dropped).  Each input is one chunk with one to three seeded mutations (integers replaced by
boundary values, floats by inf/nan/1e309, symbols and SSA names swapped, types replaced, lines
deleted, duplicated or swapped, text truncated, a stray punctuation character or quote inserted),
pushed in-process through `accllm-opt` (verify, and the project's pipelines) or `accllm-translate`
(every emitter), with `-o` into a scratch directory.  Each run is classified:

- accepted: exit 0;
- clean error: exit 1 and every line of standard error is a located diagnostic
  (`file:LINE:COL: error: ...` with LINE > 0) or a tool's one-line `tool: error: ...`;
- anything else (a traceback, an internal error, an unlocated diagnostic, a time-out, another
  exit code): reported with the input, and must be 0.

Results go to results/fuzz_bench.json; docs/reliability.md quotes them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import re
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS_DIRS = ("test/Dialect", "test/Passes", "test/Tools", "test/Backend", "test/Conversion")

# (tool, arguments after the input file): verification alone, the project's pipelines, emitters.
RUNS: list[tuple[str, list[str]]] = [
    ("opt", []),
    ("opt", ["-p", "accllm-compress"]),
    ("opt", ["-p", "accllm-prune-2-4,accllm-quantize"]),
    ("opt", ["-p", "lower-to-accel"]),
    ("opt", ["-p", "accel-to-hw"]),
    ("opt", ["-p", "hls-annotate"]),
    ("translate", ["--emit-report"]),
    ("translate", ["--emit-hls"]),
    ("translate", ["--emit-verilog"]),
]

INTERESTING_INTS = [
    "0",
    "-1",
    "1",
    "2",
    "3",
    "7",
    "2147483647",
    "2147483648",
    "4294967296",
    "-2147483649",
    "9223372036854775807",
    "100000",
    "65536",
    "1048576",
]
INTERESTING_FLOATS = ["1.0e+309", "0x7FF8000000000000", "-0.0", "1.0e-320", "3.0e+38", "70000.0"]
TYPES = [
    "i1",
    "i8",
    "i32",
    "i64",
    "f16",
    "f32",
    "f64",
    "index",
    "si8",
    "ui4",
    "tensor<0xf32>",
    "tensor<2147483648xf32>",
    "none",
]
PUNCT = list('"{}<>()[]%@#!,:=^')

_INT = re.compile(r"(?<![\w.#%@])-?\d+(?![\w.])")
_FLOAT = re.compile(r"-?\d+\.\d+(?:e[+-]?\d+)?")
_SYM = re.compile(r"[@%][A-Za-z_][\w.$-]*|%\d+")
_TYPE = re.compile(r"\b(?:i1|i8|i16|i32|i64|f16|f32|f64|index)\b")
_LOCATED = re.compile(r"^.+:(\d+):\d+: (error|warning|note|remark): ")
_TOOL_ERROR = re.compile(r"^accllm(-opt|-translate)?: error: ")


def corpus() -> list[str]:
    """Every chunk of the project's test IR, without the lit/FileCheck lines."""
    chunks = []
    for d in CORPUS_DIRS:
        for f in sorted((REPO / d).rglob("*.mlir")):
            if "Output" in f.parts or "Inputs" in f.parts:
                continue
            text = f.read_text(encoding="utf-8", errors="replace")
            for piece in re.split(r"^// -----.*$", text, flags=re.MULTILINE):
                lines = [ln for ln in piece.splitlines() if not re.match(r"\s*//", ln)]
                body = "\n".join(lines).strip()
                if body:
                    chunks.append(body + "\n")
    return chunks


def _sub_one(rng: random.Random, pattern: re.Pattern, text: str, choices) -> str | None:
    hits = list(pattern.finditer(text))
    if not hits:
        return None
    m = rng.choice(hits)
    new = choices(m.group()) if callable(choices) else rng.choice(choices)
    return text[: m.start()] + new + text[m.end() :]


def mutate(rng: random.Random, text: str) -> str:
    """One seeded mutation (the input is returned unchanged only if nothing applies)."""
    lines = text.splitlines(keepends=True)
    kind = rng.randrange(10)
    out = None
    if kind == 0:
        out = _sub_one(rng, _INT, text, INTERESTING_INTS)
    elif kind == 1:
        out = _sub_one(rng, _FLOAT, text, INTERESTING_FLOATS)
    elif kind == 2:
        syms = [m.group() for m in _SYM.finditer(text)]
        if syms:
            out = _sub_one(rng, _SYM, text, lambda s: rng.choice([t for t in syms if t[0] == s[0]]))
    elif kind == 3:
        out = _sub_one(rng, _TYPE, text, TYPES)
    elif kind == 4 and len(lines) > 1:
        del lines[rng.randrange(len(lines))]
        out = "".join(lines)
    elif kind == 5 and lines:
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        out = "".join(lines)
    elif kind == 6 and len(lines) > 1:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        out = "".join(lines)
    elif kind == 7:
        out = text[: rng.randrange(len(text) + 1)]
    elif kind == 8:
        i = rng.randrange(len(text) + 1)
        out = text[:i] + rng.choice(PUNCT) + text[i:]
    else:
        out = _sub_one(rng, _INT, text, lambda s: str(-int(s) if s != "0" else -1))
    return out if out is not None else text


class _Timeout(Exception):
    pass


def _alarm(_sig, _frame):
    raise _Timeout


@dataclass
class Outcome:
    kind: str  # accepted | clean | other
    detail: str = ""


@dataclass
class Campaign:
    tried: int = 0
    accepted: int = 0
    clean: int = 0
    other: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    slowest: float = 0.0


def run_one(tool: str, extra: list[str], text: str, work: Path, limit_s: int) -> Outcome:
    """Run one tool in-process on `text`; classify the result."""
    from accllm.tools import accllm_opt, accllm_translate

    src = work / "in.mlir"
    src.write_text(text, encoding="utf-8")
    out_dir = work / "out"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir()
    out = out_dir / ("top.sv" if "--emit-verilog" in extra else "out.txt")
    argv = [str(src), *extra, "-o", str(out)]
    if "--emit-hls" in extra:
        argv += ["--hls-testbench-dir", str(work / "tb")]
    err = io.StringIO()
    main = accllm_opt.main if tool == "opt" else accllm_translate.main
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit_s)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
    except _Timeout:
        return Outcome("other", f"no result within {limit_s} s")
    except SystemExit as e:
        code = e.code
    except BaseException as e:  # noqa: BLE001 (a traceback is what the fuzzer looks for)
        return Outcome("other", f"traceback: {type(e).__name__}: {e}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
    if code == 0:
        return Outcome("accepted")
    bad = [
        ln
        for ln in lines
        if "internal error" in ln
        or not ((m := _LOCATED.match(ln)) and int(m.group(1)) > 0 or _TOOL_ERROR.match(ln))
    ]
    if code == 1 and lines and not bad:
        return Outcome("clean")
    return Outcome("other", f"exit {code}: {(bad or lines or ['(no message)'])[0][:300]}")


def campaign(inputs: int, seed: int, limit_s: int = 20, progress: bool = False) -> Campaign:
    chunks = corpus()
    rng = random.Random(seed)
    result = Campaign()
    t0 = time.perf_counter()
    iterator = range(inputs)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc="fuzz", unit="input")
    with tempfile.TemporaryDirectory(prefix="accllm-fuzz-") as tmp:
        work = Path(tmp)
        for i in iterator:
            text = rng.choice(chunks)
            for _ in range(rng.randint(1, 3)):
                text = mutate(rng, text)
            tool, extra = rng.choice(RUNS)
            t = time.perf_counter()
            outcome = run_one(tool, extra, text, work, limit_s)
            result.slowest = max(result.slowest, time.perf_counter() - t)
            result.tried += 1
            if outcome.kind == "accepted":
                result.accepted += 1
            elif outcome.kind == "clean":
                result.clean += 1
            else:
                result.other.append(
                    {
                        "input": i,
                        "tool": tool,
                        "args": extra,
                        "detail": outcome.detail,
                        "text": text[:2000],
                    }
                )
    result.seconds = time.perf_counter() - t0
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--inputs", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    from accllm.bench._common import write_results

    r = campaign(args.inputs, args.seed, progress=True)
    print(
        f"fuzz: {r.tried} inputs (seed {args.seed}) in {r.seconds:.0f} s (slowest "
        f"{r.slowest:.1f} s): {r.clean} clean errors, {r.accepted} accepted, "
        f"{len(r.other)} anything else"
    )
    for o in r.other[:20]:
        print(f"  input {o['input']} ({o['tool']} {' '.join(o['args'])}): {o['detail']}")
    write_results(
        "fuzz_bench",
        {
            "seed": args.seed,
            "inputs_tried": r.tried,
            "clean_errors": r.clean,
            "accepted": r.accepted,
            "anything_else": len(r.other),
            "seconds": round(r.seconds, 1),
            "slowest_input_seconds": round(r.slowest, 2),
            "corpus_chunks": len(corpus()),
            "runs": [f"accllm-{t} {' '.join(a)}".strip() for t, a in RUNS],
            "failures": r.other[:50],
        },
    )
    return 0 if not r.other else 1


if __name__ == "__main__":
    raise SystemExit(main())
