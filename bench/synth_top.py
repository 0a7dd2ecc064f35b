"""Yosys synthesis of the accelerator the README's main job emits (whole tiny model, sim target).

Run: ``python -m accllm.bench.synth_top [--out-dir build/synth_top]``. It compiles the built-in
default model up to the `emit` stage, synthesises the emitted `accllm_top` with `synth_xilinx`
(UltraScale+ family, flattened) and prints and writes LUT/FF/DSP/BRAM/CARRY figures to
`results/synth_top.json`. A benchmark, not a test: it takes minutes (5.5 min on the development
machine); the test suite synthesises the smaller two-linear top instead.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from accllm.bench._common import write_results
from accllm.rtl_lib import synth
from accllm.tools import accllm_driver

TOP = "accllm_top"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default="build/synth_top")
    args = ap.parse_args(argv)
    out = Path(args.out_dir)
    flow = ["compile", "-o", str(out), "--sink", "2", "--window", "6", "--prompt-len", "12"]
    if accllm_driver.main([*flow, "--stop-after", "emit"]) != 0:
        raise SystemExit("the compile flow failed (see above)")
    verilog = out / "verilog"
    files = (verilog / "filelist.f").read_text().split()
    t0 = time.perf_counter()
    figures = synth.synthesize_files(verilog, files, TOP)
    seconds = time.perf_counter() - t0
    print(f"{TOP} (tiny model, sim target) on {synth.FAMILY}: {figures} in {seconds:.0f} s")
    write_results(
        "synth_top",
        {
            "top": TOP,
            "family": synth.FAMILY,
            "figures": figures,
            "synthesis_seconds": round(seconds, 1),
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
