"""Translation targets of accllm-translate.

Each target maps to the module and function that emits it, `emit(module, options) -> str`, or to
None while its issue has not landed: the tool then exits 2 with "not implemented yet" rather than
writing placeholder output.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    flag: str
    description: str
    entry: str | None  # "module:function", None = not implemented yet
    issue: str  # where the missing implementation is tracked


TARGETS: dict[str, Target] = {
    t.flag: t
    for t in (
        Target(
            "emit-verilog",
            "structural Verilog of the accelerator, its rtl_lib sources and memory images",
            "accllm.backend.verilog.emit:emit_verilog",
            "issue 8 (compressed IR to a simulated accelerator)",
        ),
        Target(
            "emit-hls",
            "Vitis-style HLS C++ with pragmas",
            "accllm.backend.hls.emit:emit",
            "issue 9 (HLS C++ backend)",
        ),
        Target(
            "emit-report",
            "compression report (JSON): sparsity, bits per weight with metadata/scales/zero "
            "points, KV bytes per token, bytes per decoded token; the performance part is "
            "issue 10 (performance model)",
            "accllm.backend.compression_report:emit",
            "issue 6 (compression report); performance part: issue 10",
        ),
    )
}
