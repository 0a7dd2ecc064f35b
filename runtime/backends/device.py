"""The `device` backend: the emitted kernel on an Alveo card, driven through its registers.

Thin on purpose: everything but the transport is shared with the `sim` backend. The build's
programs, HBM images, RoPE tables and register map come from `kernel_design.load_kernel_design`;
the register protocol (buffer pointers, RoPE tables, token ids through the host port, `ap_start`
/ `ap_done`, logits rows back, the error registers) is `backend/kernel_host.KernelHost`, the same
code the simulated kernel's bench runs against the Verilated kernel. What is the card's own:

- the binding: **pynq** (<= 3.0.1, the last release that supports Alveo), whose `Overlay` loads
  the xclbin and whose IP objects read and write the kernel's AXI4-Lite registers. XRT's own
  `pyxrt` is not enough: its Python binding has no register read/write (`xrt::kernel::
  read_register` / `write_register` and `xrt::ip` are not bound), and this kernel's host port
  is registers, not kernel arguments;
- one buffer per HBM pseudo-channel the kernel's masters use, allocated in the bank `link.cfg`
  maps the master to (`sp=...:HBM[c]`), filled with the channel's image (weights, tables; the
  KV rings start zero), synced to the card once, its device address written to the master's
  pointer register;
- time: a program's duration is wall-clock seconds (there are no cycles to count), so runs
  report no cycles and the session reports tokens/s from wall time.

It cannot be run on the machines accllm is developed on (no card, no XRT): it says what is
missing, in the order a user meets it: the binding, the kernel binary
(`BUILD_DIR/vitis/accllm.xclbin`, built by `BUILD_DIR/vitis/build.sh` with Vitis), a card.
`test/runtime/test_device_backend.py` checks the transport against a stand-in for pynq.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time

import numpy as np

from accllm.runtime.backends import StepResult
from accllm.runtime.errors import SessionError

XCLBIN = "vitis/accllm.xclbin"
PROGRAM_TIMEOUT_S = 60.0  # a decode step takes milliseconds; a minute means the kernel hung


def xrt_bindings() -> str | None:
    """The name of an importable XRT binding ('pynq' or 'pyxrt'), or None."""
    for name in ("pynq", "pyxrt"):
        if importlib.util.find_spec(name) is not None:
            return name
    return None


class MmioBus:
    """`KernelHost`'s register bus over a pynq IP object (blocking accesses)."""

    def __init__(self, ip):
        self.ip = ip

    async def write(self, offset: int, value: int) -> None:
        self.ip.write(offset, value)

    async def read(self, offset: int) -> int:
        return int(self.ip.read(offset))

    def now(self) -> float:
        return time.perf_counter()


def channel_image(words: dict[int, int], nbytes: int) -> np.ndarray:
    """A channel's buffer contents: 256-bit words at their word addresses, little-endian (the
    AXI byte lanes: byte i of a word is bits 8i..8i+7), zero elsewhere."""
    image = np.zeros(nbytes, dtype=np.uint8)
    for addr, word in words.items():
        image[addr * 32 : addr * 32 + 32] = np.frombuffer(word.to_bytes(32, "little"), np.uint8)
    return image


class DeviceBackend:
    name = "device"

    def __init__(self, build):
        from accllm.backend.kernel_host import KernelHost
        from accllm.backend.vitis.wrapper import KERNEL
        from accllm.runtime.backends.kernel_design import load_kernel_design

        binding = xrt_bindings()
        if binding != "pynq":
            found = "; pyxrt is installed but binds no register access" if binding else ""
            raise SessionError(
                "the device backend needs pynq (pip install 'accllm[device]': pynq 3.0.1, with "
                f"XRT: source /opt/xilinx/xrt/setup.sh) to reach the kernel's registers{found}"
            )
        xclbin = build.path / XCLBIN
        if not xclbin.is_file():
            how = (
                f"build it with {build.path / 'vitis' / 'build.sh'} (needs Vitis)"
                if (build.path / "vitis" / "build.sh").is_file()
                else "compile for a card (accllm compile --target u280), then run its "
                "vitis/build.sh (needs Vitis)"
            )
            raise SessionError(f"{xclbin}: no kernel binary: {how}")
        design = load_kernel_design(build)
        self._map = design.map
        self.vocab = design.map.vocab
        self.max_positions = design.max_positions
        self.clock_mhz = None  # no cycle counts on a card: tokens/s from wall time
        import pynq

        try:
            overlay = pynq.Overlay(str(xclbin))
        except Exception as err:  # pynq raises whatever XRT reports (no card, wrong shell)
            raise SessionError(f"{xclbin}: pynq could not load it on a card: {err}") from err
        ip = getattr(overlay, f"{KERNEL}_1", None)
        if ip is None:
            raise SessionError(f"{xclbin}: no compute unit {KERNEL}_1 (link.cfg's nk= names it)")
        self._buffers, pointers = {}, {}
        for master in design.spec.masters:
            c = master.channel
            if c not in self._buffers:
                bank = getattr(overlay, f"HBM{c}", None)
                if bank is None:
                    raise SessionError(
                        f"{xclbin}: the card's memory has no bank HBM[{c}] for {master.name} "
                        f"(banks: {', '.join(sorted(getattr(overlay, 'mem_dict', {})))})"
                    )
                image = channel_image(design.job.hbm.get(c, {}), design.extents.get(c, 32))
                buf = pynq.allocate(image.shape, dtype=np.uint8, target=bank)
                buf[:] = image
                buf.sync_to_device()
                self._buffers[c] = buf
            pointers[master.pointer] = int(self._buffers[c].device_address)
        job = design.job
        self._host = KernelHost(
            MmioBus(ip), job.regmap, job.rope_tables, job.fetch_bases, PROGRAM_TIMEOUT_S
        )
        self._run(self._host.setup(pointers))

    def _run(self, coroutine):
        from accllm.backend.kernel_host import KernelFault

        try:
            return asyncio.run(coroutine)
        except KernelFault as err:
            raise SessionError(f"the kernel on the card: {err}") from err

    def run(self, ids: np.ndarray, start: int) -> StepResult:
        from accllm.backend.kernel_host import step_runner

        d, host = self._map, self._host
        plan, step_in, step_reads = d.steps(ids, start)
        run_steps = step_runner(host.load, host.run_program, host.read)
        seconds: list[float] = []
        step_act: list[dict[int, int]] = []
        programs = [d.bases[s] for s, _, _ in plan]
        positions = [p for _, p, _ in plan]
        self._run(run_steps(programs, positions, step_in, step_reads, seconds, step_act))
        return StepResult(logits=d.logits_rows(plan, step_act), programs=[s for s, _, _ in plan])

    def reset(self) -> None:
        pass  # as on `sim`: positions restart at 0 and the rings are overwritten before use

    def close(self) -> None:
        for buf in self._buffers.values():
            buf.freebuffer()
        self._buffers = {}
