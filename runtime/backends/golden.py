"""The `golden` backend: the integer golden model (`accllm.numerics.golden`), the numerics
contract the accelerator is bit-exact with, built from the build directory's checkpoint with the
Λ S and W the design was compiled for."""

from __future__ import annotations

import numpy as np

from accllm.runtime.backends import StepResult
from accllm.runtime.errors import SessionError


class GoldenBackend:
    name = "golden"
    clock_mhz = None

    def __init__(self, build):
        from transformers.utils import logging as hf_logging

        from accllm.models.checkpoint import CheckpointError, load_checkpoint
        from accllm.numerics.compress import compress_model
        from accllm.numerics.golden import GoldenModel

        hf_logging.disable_progress_bar()
        try:
            model = load_checkpoint(build.checkpoint)
        except CheckpointError as err:
            raise SessionError(str(err)) from err
        self._golden = GoldenModel(compress_model(model), build.sinks, build.window)
        self.vocab = self._golden.cm.vocab
        self.max_positions = int(model.config.max_position_embeddings)
        self._cache = self._golden.new_cache()

    def run(self, ids: np.ndarray, start: int) -> StepResult:
        return StepResult(logits=self._golden.forward(ids, start, self._cache))

    def reset(self) -> None:
        self._cache = self._golden.new_cache()

    def close(self) -> None:
        pass
