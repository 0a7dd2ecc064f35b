"""The `device` backend: an Alveo card through XRT (pyxrt, or pynq on top of it).

Kept thin on purpose and honest about what is missing, in the order a user meets it:

1. XRT's Python bindings: `pyxrt` (from an XRT install: `source /opt/xilinx/xrt/setup.sh`) or
   `pynq` (`pip install pynq`, which needs XRT too); neither is importable here, and the error
   says so;
2. a kernel to load: `BUILD_DIR/vitis/accllm.xclbin`, which needs the Vitis RTL kernel packaging
   of the top (issue #17 item 1: an AXI4-Lite control slave, kernel.xml, package_xo, v++ link)
   — not generated yet, so this backend stops there with exit code 2 (not implemented).

Everything else a card session needs (HBM images, token-id words, logits rows, sampling,
positions, timing) is the `sim` backend's and the session's, and will be shared once the kernel
exists.
"""

from __future__ import annotations

import importlib.util

from accllm.runtime.errors import SessionError

XCLBIN = "vitis/accllm.xclbin"


def xrt_bindings() -> str | None:
    """The name of an importable XRT binding ('pyxrt' or 'pynq'), or None."""
    for name in ("pyxrt", "pynq"):
        if importlib.util.find_spec(name) is not None:
            return name
    return None


class DeviceBackend:
    name = "device"

    def __init__(self, build):
        binding = xrt_bindings()
        if binding is None:
            raise SessionError(
                "the device backend needs XRT's Python bindings: neither 'pyxrt' (XRT install: "
                "source /opt/xilinx/xrt/setup.sh) nor 'pynq' (pip install pynq) is importable"
            )
        xclbin = build.path / XCLBIN
        if not xclbin.is_file():
            raise SessionError(
                f"{xclbin}: no kernel binary: the Vitis RTL kernel packaging of the top "
                "(AXI4-Lite control, kernel.xml, v++ link) is not implemented yet [#17 item 1]",
                exit_code=2,
            )
        raise SessionError(
            f"{xclbin}: running a kernel through {binding} is not implemented yet [#17 item 1]",
            exit_code=2,
        )
