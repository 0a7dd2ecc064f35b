"""The Vitis RTL kernel's interface, derived from the top's port list (`hw.module` of
accel-to-hw; never a hard-coded list: the top's ports change with the engine).

- `ap_clk` / `ap_rst_n` drive the top's `clk` / `rst` (active high);
- every top port named `hbm<c>_<signal>` belongs to the AXI4 master `m_axi_hbm<c>` (HBM
  pseudo-channel c), every `tbl_<signal>` to `m_axi_tbl` (the table port: the pseudo-channel
  `accel.top` names as `table_channel`); the kernel adds a 64-bit buffer base address (a
  pointer argument) to the top's channel-local addresses;
- `start` / `done` / `busy` are the `ap_ctrl_hs` handshake (register 0x00);
- every other top input is a scalar argument register (wider than 32 bits: several registers,
  least significant word first); a 1-bit input named `*_we` is a write strobe: writing 1 to its
  register pulses it for one cycle (the host port and the RoPE table port write a word per
  pulse, so a held strobe would write half-updated address/data combinations);
- every other top output is a read-only status register.

Register map (32-bit registers, byte offsets): 0x00 control (bit 0 ap_start, 1 ap_done
(clear on read), 2 ap_idle, 3 ap_ready (clear on read), 7 auto_restart), 0x04 global interrupt
enable, 0x08 IP interrupt enable (bit 0 done, bit 1 ready), 0x0C IP interrupt status (toggle on
write); from 0x10 the arguments in kernel.xml order, 8 bytes apart (scalar inputs, then one
64-bit pointer per master); then the read-only status registers, 4 bytes apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xdsl.dialects import hw
from xdsl.dialects.builtin import IntegerType, ModuleOp

CONTROL_PORTS = {"clk", "rst", "start", "done", "busy"}
MASTER_RE = re.compile(r"^(hbm(\d+)|tbl)_([a-z]+)$")
READ_SIGNALS = ("arvalid", "arready", "araddr", "arlen", "arsize", "arburst")
READ_SIGNALS += ("rvalid", "rready", "rdata", "rresp", "rlast")
WRITE_SIGNALS = ("awvalid", "awready", "awaddr", "awlen", "awsize", "awburst")
WRITE_SIGNALS += ("wvalid", "wready", "wdata", "wstrb", "wlast", "bvalid", "bready", "bresp")
# direction of each AXI4 signal seen from the master (the kernel)
MASTER_INPUTS = {"arready", "rvalid", "rdata", "rresp", "rlast", "awready", "wready", "bvalid"}
MASTER_INPUTS |= {"bresp"}
ADDR_BITS = 64
CTRL_ADDR_BITS = 12  # the s_axi_control window: 4 KiB


class KernelError(ValueError):
    """The top cannot be wrapped as described (the message names the port)."""


@dataclass(frozen=True)
class Port:
    name: str
    direction: str  # "in" | "out" (of the top)
    width: int


@dataclass(frozen=True)
class Register:
    name: str  # register name (a top port, `<port>_<i>` for a word of a wide one, `<m>_ptr`)
    offset: int
    port: str  # the top port it drives or reads ("" for a pointer)
    lsb: int  # first bit of the port in this register
    width: int  # bits of the port in this register (<= 32)
    access: str  # "rw" | "pulse" | "ro"
    master: str = ""  # pointer registers: the m_axi interface whose base address it holds


@dataclass
class Master:
    prefix: str  # the top's port prefix without "_": hbm<c> or tbl
    channel: int  # the HBM pseudo-channel it maps to
    signals: dict[str, Port] = field(default_factory=dict)  # AXI signal -> top port

    @property
    def name(self) -> str:
        return f"m_axi_{self.prefix}"

    @property
    def pointer(self) -> str:
        """Its base-address argument register."""
        return f"{self.prefix}_ptr"

    @property
    def data_width(self) -> int:
        port = self.signals.get("rdata") or self.signals.get("wdata")
        return port.width

    @property
    def has_write(self) -> bool:
        return "awvalid" in self.signals


@dataclass
class KernelSpec:
    top: str
    ports: list[Port]
    masters: list[Master]
    args: list[Register]  # kernel.xml arguments: scalar registers, then pointers (8-byte slots)
    status: list[Register]  # read-only registers after the arguments

    @property
    def registers(self) -> list[Register]:
        return self.args + self.status


def top_ports(module: ModuleOp, top: str | None = None) -> tuple[str, list[Port]]:
    """(name, ports) of the netlist's top module (`accel.top` names it)."""
    if top is None:
        attr = module.attributes.get("accel.top")
        if attr is None:
            raise KernelError("not an accel-to-hw netlist (no 'accel.top' attribute)")
        top = attr.data["name"].data
    for op in module.walk():
        if isinstance(op, hw.HWModuleOp) and op.sym_name.data == top:
            ports = []
            for p in op.module_type.ports.data:
                t = p.type
                width = t.width.data if isinstance(t, IntegerType) else 1  # !seq.clock
                direction = "in" if p.dir.data == hw.Direction.INPUT else "out"
                ports.append(Port(p.port_name.data, direction, width))
            return top, ports
    raise KernelError(f"no hw.module @{top} in the netlist")


def kernel_spec(module: ModuleOp, top: str | None = None) -> KernelSpec:
    """The kernel interface of the netlist's top (module doc)."""
    name, ports = top_ports(module, top)
    names = {p.name for p in ports}
    for needed in ("clk", "rst", "start", "done"):
        if needed not in names:
            raise KernelError(f"top @{name} has no '{needed}' port: it cannot be ap_ctrl_hs")
    masters: dict[str, Master] = {}
    scalars: list[Port] = []
    outputs: list[Port] = []
    top_attr = module.attributes.get("accel.top")
    table_channel = -1
    if top_attr is not None and "table_channel" in top_attr.data:
        table_channel = top_attr.data["table_channel"].value.data
    for p in ports:
        m = MASTER_RE.match(p.name)
        if m and m.group(3) in READ_SIGNALS + WRITE_SIGNALS:
            sig, prefix = m.group(3), m.group(1)
            want = "in" if sig in MASTER_INPUTS else "out"
            if p.direction != want:
                raise KernelError(f"port {p.name}: an AXI master's {sig} must be an {want}put")
            if prefix not in masters:
                channel = int(m.group(2)) if m.group(2) is not None else table_channel
                if channel < 0:
                    raise KernelError(
                        f"port {p.name}: the netlist's accel.top names no table_channel for "
                        "the tbl_ master"
                    )
                masters[prefix] = Master(prefix, channel)
            masters[prefix].signals[sig] = p
        elif p.name in CONTROL_PORTS:
            continue
        elif p.direction == "in":
            scalars.append(p)
        else:
            outputs.append(p)
    for m in masters.values():
        missing = [s for s in READ_SIGNALS if s not in m.signals]
        if missing:
            raise KernelError(f"{m.name}: the top has no read channel port(s) {missing}")
        if m.has_write:
            missing = [s for s in WRITE_SIGNALS if s not in m.signals]
            if missing:
                raise KernelError(f"{m.name}: the top has no write channel port(s) {missing}")
    args: list[Register] = []
    offset = 0x10
    for p in scalars:
        pulse = p.width == 1 and p.name.endswith("_we")
        for i, lsb in enumerate(range(0, p.width, 32)):
            reg = p.name if p.width <= 32 else f"{p.name}_{i}"
            access = "pulse" if pulse else "rw"
            args.append(Register(reg, offset, p.name, lsb, min(32, p.width - lsb), access))
            offset += 8
    # hbm0, hbm1, ... by channel, then the table master
    ordered = sorted(masters.values(), key=lambda m: (m.prefix == "tbl", m.channel))
    for m in ordered:
        args.append(Register(m.pointer, offset, "", 0, 64, "rw", m.name))
        offset += 8
    status: list[Register] = []
    for p in outputs:
        for i, lsb in enumerate(range(0, p.width, 32)):
            reg = p.name if p.width <= 32 else f"{p.name}_{i}"
            status.append(Register(reg, offset, p.name, lsb, min(32, p.width - lsb), "ro"))
            offset += 4
    if offset > 1 << CTRL_ADDR_BITS:
        raise KernelError(f"{offset} bytes of registers exceed the 4 KiB control window")
    return KernelSpec(name, ports, ordered, args, status)
