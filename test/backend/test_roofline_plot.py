"""The roofline plot (backend/perf/roofline_plot.py): what a reader of the figure needs is there
(axis labels, a legend entry per curve and published figure, log2 context ticks written out),
and the file written is a PNG of the figure's size."""

from __future__ import annotations

import struct

from accllm.backend.perf.roofline_plot import DPI, FIGSIZE, draw_roofline, roofline_figure

CONTEXTS = (1, 64, 128, 4096)


def _report(tokens_per_s: float) -> dict:
    decode = [
        {"context": c, "tokens_per_s": tokens_per_s / (1 + c / 1024), "hbm_bytes_per_token": 2e9}
        for c in CONTEXTS
    ]
    return {"target": "u280", "hbm_bandwidth_gbps": 460.0, "workloads": [{"decode": decode}]}


def test_figure_has_labelled_axes_and_a_legend_entry_per_line():
    fig = roofline_figure(_report(20.0), extra=[("all options", _report(170.0))], label="as is")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "context length (tokens)"
    assert ax.get_ylabel() == "decode tokens/s"
    assert "u280" in ax.get_title() and "460 GB/s" in ax.get_title()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "as is",
        "HBM roofline",
        "all options",
        "AccLLM (U280), 164 tokens/s",
        "FlightLLM (U280), 55 tokens/s",
    ]
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(2**e) for e in range(13)]
    # The roofline (460 GB/s over 2 GB per token = 230 tokens/s) is inside the y range.
    assert ax.get_ylim() == (0, 300)


def test_png_written_at_the_figure_size(tmp_path):
    path = tmp_path / "r.png"
    draw_roofline(_report(20.0), path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert (width, height) == (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI))
