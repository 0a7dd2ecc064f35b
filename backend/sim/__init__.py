"""Simulation harnesses of generated accelerators (cocotb models of what surrounds them)."""
