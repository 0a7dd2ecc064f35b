"""The decode power plot: a stacked bar of the estimate's watts by part beside the published
U280 figures, with tokens per joule over each bar (PNG).

The estimate's bar carries its low-high range as an error bar and the title says it is a
pre-silicon estimate.  Drawn on the Agg canvas with matplotlib's object API (no pyplot, no
display), like `roofline_plot`.
"""

from __future__ import annotations

from pathlib import Path

from accllm.backend.perf.power import LIMITS

FIGSIZE = (9.0, 5.6)
DPI = 120
FONT_SIZE = 11
# Parts grouped for the bar (the report keeps every unit).
GROUPS = (
    ("device static", ("device_static",)),
    ("HBM (static + per bit)", ("hbm_static", "hbm_dynamic")),
    ("stream_linear_unit", ("unit stream_linear_unit",)),
    ("stream_attention_unit", ("unit stream_attention_unit",)),
    ("prefetchers + demuxes", ("unit stream_prefetcher + stream_demux",)),
    ("on-chip buffers", ("memory ",)),
    ("row units, sequencer, masters", ("unit ",)),
)
COLORS = (
    "tab:gray",
    "tab:orange",
    "tab:blue",
    "tab:red",
    "tab:green",
    "tab:purple",
    "tab:brown",
)


def grouped(parts: dict[str, float]) -> dict[str, float]:
    """The breakdown folded into GROUPS (each part in the first group whose key prefixes it)."""
    out = dict.fromkeys((g for g, _ in GROUPS), 0.0)
    for part, w in parts.items():
        for group, keys in GROUPS:
            if any(part == k or (k.endswith(" ") and part.startswith(k)) for k in keys):
                out[group] += w
                break
        else:
            raise KeyError(f"power part '{part}' is in no group of the plot")
    return out


def draw_power(power: dict, path: Path, label: str = "estimate") -> None:
    """Write the figure of a report's power section (`power.estimate`) to `path` as PNG."""
    power_figure(power, label).savefig(Path(path), format="png")


def power_figure(power: dict, label: str = "estimate"):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dec = power["decode"]
    parts = grouped(dec["breakdown_w"])
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bottom = 0.0
    for (group, w), color in zip(parts.items(), COLORS, strict=True):
        ax.bar(0, w, bottom=bottom, color=color, label=f"{group}: {w:.1f} W", width=0.6)
        bottom += w
    lo, hi = dec["watts_range"]
    ax.errorbar(0, bottom, yerr=[[bottom - lo], [hi - bottom]], color="black", capsize=8)
    tlo, thi = dec["tokens_per_joule_range"]
    ax.text(
        0, hi * 1.02, f"{dec['tokens_per_joule']:.2f} tok/J\n({tlo:.2f}-{thi:.2f})",
        ha="center", va="bottom", fontsize=FONT_SIZE - 1,
    )  # fmt: skip
    names = [f"{label}\n{dec['tokens_per_s']:.0f} tok/s"]
    for i, (name, pub) in enumerate(power["published"].items(), start=1):
        ax.bar(i, pub["watts"], color="0.75", edgecolor="black", hatch="//", width=0.6)
        ax.text(
            i, pub["watts"] * 1.02, f"{pub['tokens_per_joule']:.2f} tok/J",
            ha="center", va="bottom", fontsize=FONT_SIZE - 1,
        )  # fmt: skip
        names.append(f"{name.replace(' (', chr(10) + '(')}\n{pub['tokens_per_s']:.0f} tok/s")
    ax.set_xticks(range(len(names)), names, fontsize=FONT_SIZE - 1)
    ax.set_ylim(0, max(hi, *(p["watts"] for p in power["published"].values())) * 1.2)
    ax.set_ylabel("watts", fontsize=FONT_SIZE + 1)
    ax.set_title(f"Decode power and tokens per joule\n({LIMITS})", fontsize=FONT_SIZE + 1)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=FONT_SIZE - 1)
    ax.grid(True, axis="y", color="0.85")
    return fig
