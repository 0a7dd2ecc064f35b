"""accllm: PyTorch LLMs to 2:4-sparse W2A8KV4 FPGA accelerators."""

__version__ = "0.1.0"
