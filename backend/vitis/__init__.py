"""Vitis RTL kernel packaging of the emitted accelerator top (docs/vitis.md)."""
