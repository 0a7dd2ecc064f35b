"""The decode roofline plot: tokens/s against context length, estimate vs HBM bound (PNG).

x: context length (log2 axis); y: decode tokens/s.  The roofline of each estimate is the peak
HBM bandwidth over its bytes per token at that context; horizontal lines mark published
figures (AccLLM 164, FlightLLM 55 tokens/s on the U280).
"""

from __future__ import annotations

import math
from pathlib import Path

from accllm.backend.plot_png import Canvas

PUBLISHED = (("ACCLLM 164", 164.0), ("FLIGHTLLM 55", 55.0))
COLORS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189)]
W, H, L, R, T, B = 900, 560, 80, 200, 40, 60


def draw_roofline(
    report: dict, path: Path, extra: list[tuple[str, dict]] = (), label: str = "ESTIMATE"
) -> None:
    """Draw the first workload of `report` (and of each (label, report) in `extra`); the
    roofline is that of `report`'s bytes per token."""
    bw = report["hbm_bandwidth_gbps"] * 1e9
    series = [(label, report)] + list(extra)
    curves = []
    for i, (label, rep) in enumerate(series):
        dec = rep["workloads"][0]["decode"]
        pts = [(d["context"], d["tokens_per_s"]) for d in dec]
        roof = [(d["context"], bw / d["hbm_bytes_per_token"]) for d in dec]
        curves.append((label, pts, COLORS[i % len(COLORS)]))
        if i == 0:
            curves.append(("HBM ROOFLINE", roof, (0, 0, 0)))
    xs = [x for _, pts, _ in curves for x, _ in pts]
    ymax = max([y for _, pts, _ in curves for _, y in pts] + [v for _, v in PUBLISHED]) * 1.1
    ymax = 50 * math.ceil(ymax / 50)
    lx0, lx1 = math.log2(min(xs)), math.log2(max(xs))

    def px(x: float, y: float) -> tuple[float, float]:
        fx = (math.log2(x) - lx0) / max(1e-9, lx1 - lx0)
        return L + fx * (W - L - R), H - B - y / ymax * (H - T - B)

    c = Canvas(W, H)
    grey = (200, 200, 200)
    for k in range(0, int(ymax) + 1, 50):
        _, y = px(min(xs), k)
        c.line(L, y, W - R, y, grey)
        c.text(L - 8 - 6 * len(str(k)) * 1, int(y) - 3, str(k))
    for e in range(int(lx0), int(lx1) + 1):
        x, _ = px(2**e, 0)
        c.line(x, T, x, H - B, grey)
        c.text(int(x) - 3 * len(str(2**e)), H - B + 8, str(2**e))
    c.line(L, H - B, W - R, H - B, (0, 0, 0), 2)
    c.line(L, T, L, H - B, (0, 0, 0), 2)
    c.text(L + 150, H - 22, "CONTEXT LENGTH (TOKENS)", scale=2)
    c.text(
        8,
        12,
        f"DECODE TOKENS/S, {report['target']}, {report['hbm_bandwidth_gbps']:.0f} GB/S HBM",
        scale=2,
    )
    for label, v in PUBLISHED:
        _, y = px(min(xs), v)
        c.line(L, y, W - R, y, (255, 127, 14), 1, dash=6)
        c.text(W - R + 6, int(y) - 3, label, (255, 127, 14))
    for j, (label, pts, col) in enumerate(curves):
        for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
            c.line(*px(x0, y0), *px(x1, y1), col, 2, dash=8 if label == "HBM ROOFLINE" else 0)
        for x, y in pts:
            X, Y = px(x, y)
            c.rect(int(X) - 3, int(Y) - 3, int(X) + 3, int(Y) + 3, col)
        c.rect(W - R + 6, T + 14 * j + 2, W - R + 16, T + 14 * j + 6, col)
        c.text(W - R + 20, T + 14 * j, label[:28], col)
    c.save(path)
