"""The decode roofline plot: tokens/s against context length, estimate vs HBM bound (PNG).

x: context length (log2 axis); y: decode tokens/s.  The roofline of each estimate is the peak
HBM bandwidth over its bytes per token at that context; horizontal lines mark published
figures (AccLLM 164, FlightLLM 55 tokens/s on the U280).

Drawn with matplotlib's object API on the Agg canvas: no pyplot, so no global backend state and
no display is needed (the estimate pass draws inside accllm-opt, on machines without one).
"""

from __future__ import annotations

import math
from pathlib import Path

# (label, tokens/s, dash pattern): two dash patterns so that the legend tells the lines apart.
PUBLISHED = (
    ("AccLLM (U280), 164 tokens/s", 164.0, (0, (6, 4))),
    ("FlightLLM (U280), 55 tokens/s", 55.0, (0, (1.5, 2.5))),
)
# matplotlib's default cycle ("tab:" colours): blue, red, green, purple; the roofline is black.
COLORS = ("tab:blue", "tab:red", "tab:green", "tab:purple")
PUBLISHED_COLOR = "tab:orange"
FIGSIZE = (9.0, 5.6)  # inches; at DPI the page-width image of docs/performance.md
DPI = 120
FONT_SIZE = 11


def draw_roofline(
    report: dict, path: Path, extra: list[tuple[str, dict]] = (), label: str = "estimate"
) -> None:
    """Write the roofline figure of `report` (see `roofline_figure`) to `path` as PNG."""
    roofline_figure(report, extra, label).savefig(Path(path), format="png")


def roofline_figure(report: dict, extra: list[tuple[str, dict]] = (), label: str = "estimate"):
    """A matplotlib Figure of the first workload of `report` (and of each (label, report) in
    `extra`); the roofline is that of `report`'s bytes per token."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, NullLocator

    bw = report["hbm_bandwidth_gbps"] * 1e9
    series = [(label, report)] + list(extra)
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # attaches the Agg canvas savefig renders with
    ax = fig.add_subplot()
    contexts: list[int] = []
    top = max(v for _, v, _ in PUBLISHED)
    for i, (name, rep) in enumerate(series):
        dec = rep["workloads"][0]["decode"]
        xs = [d["context"] for d in dec]
        ys = [d["tokens_per_s"] for d in dec]
        contexts += xs
        top = max(top, *ys)
        color = COLORS[i % len(COLORS)]
        ax.plot(xs, ys, color=color, marker="s", markersize=5, linewidth=2, label=name)
        if i == 0:
            roof = [bw / d["hbm_bytes_per_token"] for d in dec]
            top = max(top, *roof)
            ax.plot(
                xs, roof, color="black", linestyle="--", marker="s", markersize=5,
                linewidth=2, label="HBM roofline",
            )  # fmt: skip
    for name, value, dashes in PUBLISHED:
        ax.axhline(value, color=PUBLISHED_COLOR, linestyle=dashes, linewidth=1.5, label=name)
    ax.set_xscale("log", base=2)
    # One tick per power of two, written out (1, 2, ..., 4096), not as 2^k.
    lo, hi = int(math.log2(min(contexts))), int(math.ceil(math.log2(max(contexts))))
    ticks = [2**e for e in range(lo, hi + 1)]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([str(t) for t in ticks], fontsize=FONT_SIZE - 1)
    ax.set_xlim(ticks[0], ticks[-1])
    ax.set_ylim(0, 50 * math.ceil(top * 1.1 / 50))  # headroom, rounded up to 50 tokens/s
    ax.tick_params(axis="y", labelsize=FONT_SIZE - 1)
    ax.grid(True, color="0.85")
    ax.set_xlabel("context length (tokens)", fontsize=FONT_SIZE + 1)
    ax.set_ylabel("decode tokens/s", fontsize=FONT_SIZE + 1)
    ax.set_title(
        f"Decode throughput, {report['target']}, {report['hbm_bandwidth_gbps']:.0f} GB/s HBM",
        fontsize=FONT_SIZE + 2,
    )
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=FONT_SIZE - 1)
    return fig
