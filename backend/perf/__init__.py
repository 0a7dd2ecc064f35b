"""Performance and resource model of the generated accelerator (docs/performance.md)."""
