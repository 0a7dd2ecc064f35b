"""The accllm numerics contract (contract.py), compression, golden and fake-quant models."""
