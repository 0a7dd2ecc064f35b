"""The Vitis RTL kernel packaging (backend/vitis): what can be checked without Vitis.

On the tiny model's emitted top (test/conftest.py's build) and on a small netlist whose top has
an HBM write channel (the stream engine's tops have them): the kernel lints clean with
Verilator -Wall, kernel.xml is well-formed and its arguments are the register map's, and the
SystemVerilog, kernel.xml, package_xo Tcl and link cfg name every interface and port.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from accllm.backend.vitis.package import write_kernel
from accllm.backend.vitis.regmap import KernelError, kernel_spec
from accllm.backend.vitis.wrapper import KERNEL, kernel_ports
from accllm.interpreter.runner import load_module

WRITE_TOP = """
hw.module @accllm_top(in %clk: !seq.clock, in %rst: i1, in %start: i1, in %pos: i32,
    in %host_we: i1, in %host_wdata: i64,
    in %hbm2_arready: i1, in %hbm2_rvalid: i1, in %hbm2_rdata: i512, in %hbm2_rresp: i2,
    in %hbm2_rlast: i1, in %hbm2_awready: i1, in %hbm2_wready: i1, in %hbm2_bvalid: i1,
    in %hbm2_bresp: i2,
    out hbm2_arvalid: i1, out hbm2_araddr: i28, out hbm2_arlen: i8, out hbm2_arsize: i3,
    out hbm2_arburst: i2, out hbm2_rready: i1, out hbm2_awvalid: i1, out hbm2_awaddr: i28,
    out hbm2_awlen: i8, out hbm2_awsize: i3, out hbm2_awburst: i2, out hbm2_wvalid: i1,
    out hbm2_wdata: i512, out hbm2_wstrb: i64, out hbm2_wlast: i1, out hbm2_bready: i1,
    out done: i1, out busy: i1, out host_rdata: i40) {
  %f = hw.constant 0 : i1
  %a = hw.constant 0 : i28
  %l = hw.constant 0 : i8
  %s = hw.constant 0 : i3
  %b = hw.constant 0 : i2
  %d = hw.constant 0 : i512
  %m = hw.constant 0 : i64
  %r = hw.constant 0 : i40
  hw.output %f, %a, %l, %s, %b, %f, %f, %a, %l, %s, %b, %f, %d, %m, %f, %f, %f, %f, %r :
    i1, i28, i8, i3, i2, i1, i1, i28, i8, i3, i2, i1, i512, i64, i1, i1, i1, i1, i40
}
"""


def _stub_top(spec) -> str:
    """A top with the netlist's ports whose outputs are 0 (to lint the kernel around it)."""
    lines = ["/* verilator lint_off UNUSED */", f"module {spec.top} ("]
    decls = []
    for p in spec.ports:
        width = "" if p.width == 1 else f"[{p.width - 1}:0] "
        decls.append(f"  {'input' if p.direction == 'in' else 'output'} logic {width}{p.name}")
    lines.append(",\n".join(decls) + "\n);")
    for p in spec.ports:
        if p.direction == "out":
            lines.append(f"  assign {p.name} = '0;")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def check_package(kdir: Path, spec, sources: list[str], clock_hz: int) -> None:
    # kernel.xml: well-formed, its arguments are the register map's
    root = ET.parse(kdir / "kernel.xml").getroot()
    kernel = root.find("kernel")
    assert kernel.get("name") == KERNEL and kernel.get("hwControlProtocol") == "ap_ctrl_hs"
    ports = {p.get("name"): p for p in kernel.iter("port")}
    masters = {m.name for m in spec.masters}
    assert set(ports) == {"s_axi_control"} | masters
    for m in spec.masters:
        assert ports[m.name].get("dataWidth") == str(m.data_width)
    regmap = json.loads((kdir / "regmap.json").read_text())["registers"]
    by_name = {r["name"]: r for r in regmap}
    args = list(kernel.iter("arg"))
    assert [a.get("name") for a in args] == [r.name for r in spec.args]
    for a in args:
        reg = by_name[a.get("name")]
        assert int(a.get("offset"), 16) == reg["offset"]
        assert a.get("port") == reg.get("master", "s_axi_control")
        assert a.get("addressQualifier") == ("1" if "master" in reg else "0")
    offsets = [r["offset"] for r in regmap]
    assert len(set(offsets)) == len(offsets), "two registers share an offset"
    assert all(o % 4 == 0 for o in offsets) and max(offsets) < 4096
    # every top port is connected to the kernel, every kernel port is declared
    sv = (kdir / f"{KERNEL}.sv").read_text()
    for p in spec.ports:
        assert f".{p.name}(" in sv, p.name
    declared = re.findall(r"^\s+(?:input|output)\s+logic\s+(?:\[\d+:0\]\s+)?(\w+)", sv, re.M)
    assert declared == [name for _, name, _ in kernel_ports(spec)]
    for m in masters:
        for sig in ("arvalid", "araddr", "rdata", "awvalid", "wdata", "bready"):
            assert f"{m}_{sig}" in declared
    # package_xo Tcl: balanced, every source, every interface on ap_clk, the kernel.xml
    tcl = (kdir / "package_xo.tcl").read_text()
    assert tcl.count("[") == tcl.count("]") and tcl.count("{") == tcl.count("}")
    for f in [*sources, f"{KERNEL}.sv"]:
        assert f"$here/{f} \\" in tcl and (kdir / f).is_file(), f
    for busif in ["s_axi_control", *sorted(masters)]:
        assert f"-busif {busif} -clock ap_clk" in tcl
    assert "-kernel_xml $here/kernel.xml" in tcl and f"-kernel_name {KERNEL}" in tcl
    # v++ link cfg: one sp= per master to its channel's HBM bank, the clock
    cfg = (kdir / "link.cfg").read_text().splitlines()
    sps = sorted(line for line in cfg if line.startswith("sp="))
    want = sorted(f"sp={KERNEL}_1.{m.name}:HBM[{m.channel}]" for m in spec.masters)
    assert sps == want
    assert f"freqHz={clock_hz}:{KERNEL}_1" in cfg and f"nk={KERNEL}:1:{KERNEL}_1" in cfg
    assert (kdir / "build.sh").stat().st_mode & 0o100


@pytest.mark.rtl
def test_kernel_of_the_emitted_top(tiny_build, tmp_path):
    from accllm.rtl_lib import sim

    kdir = tmp_path / "vitis"
    spec = write_kernel(load_module(tiny_build / "model.hw.mlir"), tiny_build / "verilog", kdir,
                        225.0)  # fmt: skip
    sources = (tiny_build / "verilog" / "filelist.f").read_text().split()
    check_package(kdir, spec, sources, 225_000_000)
    # every channel streams (hbm0..3), the tables come through m_axi_tbl on the misc channel
    assert [(m.name, m.channel) for m in spec.masters] == [
        *[(f"m_axi_hbm{c}", c) for c in range(4)],
        ("m_axi_tbl", 3),
    ]
    # the KV write channels exist on the attention pipelines' channels (4 KV heads: all four)
    assert [m.has_write for m in spec.masters] == [True] * 4 + [False]
    regs = {r.name: r for r in spec.registers}
    assert regs["host_we"].access == "pulse" and regs["pos"].access == "rw"
    assert [regs[f"host_wdata_{i}"].lsb for i in range(8)] == list(range(0, 256, 32))
    assert regs["err_code"].access == "ro"
    sim.lint([kdir / f for f in sources] + [kdir / f"{KERNEL}.sv"], KERNEL)


@pytest.mark.rtl
def test_a_top_with_a_write_channel_gets_it_wired(tmp_path):
    from accllm.rtl_lib import sim

    src = tmp_path / "top.mlir"
    src.write_text(WRITE_TOP)
    module = load_module(src)
    spec = kernel_spec(module, "accllm_top")
    (m,) = spec.masters
    assert m.name == "m_axi_hbm2" and m.has_write and m.data_width == 512
    vdir = tmp_path / "verilog"
    vdir.mkdir()
    (vdir / "accllm_top.sv").write_text(_stub_top(spec))
    (vdir / "filelist.f").write_text("accllm_top.sv\n")
    kdir = tmp_path / "vitis"
    write_kernel(module, vdir, kdir, 300.0, top="accllm_top")
    check_package(kdir, spec, ["accllm_top.sv"], 300_000_000)
    sv = (kdir / f"{KERNEL}.sv").read_text()
    assert "assign m_axi_hbm2_awaddr = r_hbm2_ptr + 64'(t_hbm2_awaddr);" in sv
    assert "assign t_hbm2_bvalid = m_axi_hbm2_bvalid;" in sv
    assert "idle one" not in sv
    regs = {r.name: r for r in spec.registers}
    assert [regs["host_wdata_0"].width, regs["host_wdata_1"].width] == [32, 32]
    assert regs["host_rdata_1"].width == 8 and regs["host_rdata_1"].lsb == 32
    sim.lint([kdir / "accllm_top.sv", kdir / f"{KERNEL}.sv"], KERNEL)


def test_a_top_without_the_handshake_is_refused(tmp_path):
    src = tmp_path / "top.mlir"
    text = WRITE_TOP.replace("out done: i1, ", "").replace("%f, %f, %f, %r", "%f, %f, %r")
    src.write_text(text.replace("i1, i1, i1, i40", "i1, i1, i40"))
    with pytest.raises(KernelError, match="no 'done' port"):
        kernel_spec(load_module(src), "accllm_top")
