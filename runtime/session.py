"""A runtime session: one model on one backend, with its Λ KV cache, its position and a sampler.

    with accllm.runtime.open("build/default", backend="sim") as s:
        logits = s.prefill([1, 2, 3])        # integer logits of the last prompt token
        tok = s.decode()                     # sample from them, run the token: its logits next
        s.reset()                            # forget the cache, back to position 0
        ids = s.generate([1, 2, 3], 16, Sampling(temperature=0.8, top_k=40, seed=7))

`prefill` runs tokens at the next positions (the first call of a sequence starts at 0; a later
one continues it, as a chat turn would); `decode(token=None)` picks the next token from the
current logits with the session's sampling (or takes the one given), runs it and returns it.
`generate` is reset + prefill + up to N decode steps, stopping after a stop id; it calls
`on_token(id)` as each token is chosen, so text can be streamed.  The sampler is seeded when the
session opens, on `reset` and by `generate`, so a seed replays the same tokens.

Positions are bounded by the model's `max_position_embeddings` (and the RoPE tables of the
design): a run past them is an error that says so (the Λ cache itself never fills).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from accllm.runtime.build_dir import BuildDir
from accllm.runtime.errors import SessionError
from accllm.runtime.sampling import Sampler, Sampling


@dataclass
class Stats:
    """Work since the last reset: tokens, host wall time and (sim) accelerator cycles."""

    clock_mhz: float | None
    prefill_tokens: int = 0
    prefill_seconds: float = 0.0
    prefill_cycles: list[int] = field(default_factory=list)
    decode_tokens: int = 0
    decode_seconds: float = 0.0
    decode_cycles: list[int] = field(default_factory=list)

    def wall_tokens_per_second(self) -> float | None:
        """Decode tokens per second of wall time of the backend (host + simulator)."""
        if not self.decode_tokens or self.decode_seconds <= 0:
            return None
        return self.decode_tokens / self.decode_seconds

    def cycles_per_token(self) -> float | None:
        if not self.decode_cycles or not self.clock_mhz:
            return None
        return sum(self.decode_cycles) / self.decode_tokens

    def target_tokens_per_second(self) -> float | None:
        """Decode tokens per second the simulated cycles give at the target's clock."""
        cpt = self.cycles_per_token()
        return None if cpt is None else self.clock_mhz * 1e6 / cpt

    def target_prefill_tokens_per_second(self) -> float | None:
        if not self.prefill_cycles or not self.clock_mhz:
            return None
        return self.clock_mhz * 1e6 * self.prefill_tokens / sum(self.prefill_cycles)


class Session:
    def __init__(self, build: BuildDir, backend, sampling: Sampling | None = None):
        self.build = build
        self.backend = backend
        self.sampling = sampling or Sampling()
        self.vocab = backend.vocab
        self.max_positions = backend.max_positions
        self._sampler = Sampler(self.sampling)
        self._position = 0
        self._logits: np.ndarray | None = None
        self.stats = Stats(backend.clock_mhz)

    @property
    def position(self) -> int:
        """The position the next token will run at (= tokens in the current sequence)."""
        return self._position

    @property
    def logits(self) -> np.ndarray | None:
        """Integer logits [vocab] after the last token run (None before the first)."""
        return self._logits

    def _check_ids(self, ids) -> np.ndarray:
        try:
            arr = np.asarray(list(ids))
        except TypeError:
            raise SessionError(f"token ids must be a sequence of integers, got {ids!r}") from None
        if arr.size == 0:
            raise SessionError("no token ids to run (an empty prompt)")
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise SessionError("token ids must be a flat sequence of integers")
        bad = arr[(arr < 0) | (arr >= self.vocab)]
        if bad.size:
            raise SessionError(
                f"token id {int(bad[0])} is outside the vocabulary 0..{self.vocab - 1}"
            )
        return arr.astype(np.int64)

    def check_room(self, n: int) -> None:
        """Raise SessionError if `n` more tokens would run past the model's positions."""
        if self._position + n > self.max_positions:
            raise SessionError(
                f"the sequence would reach position {self._position + n - 1}, past the "
                f"model's {self.max_positions} positions (max_position_embeddings / RoPE "
                "tables): reset the session (a new sequence) or ask for fewer tokens"
            )

    def _run(self, ids: np.ndarray, phase: str) -> np.ndarray:
        self.check_room(len(ids))
        t0 = time.perf_counter()
        result = self.backend.run(ids, self._position)
        seconds = time.perf_counter() - t0
        self._position += len(ids)
        self._logits = result.logits[-1]
        st = self.stats
        if phase == "prefill":
            st.prefill_tokens += len(ids)
            st.prefill_seconds += seconds
            st.prefill_cycles += result.cycles or []
        else:
            st.decode_tokens += len(ids)
            st.decode_seconds += seconds
            st.decode_cycles += result.cycles or []
        return result.logits

    def prefill(self, token_ids) -> np.ndarray:
        """Run `token_ids` at the next positions; the integer logits of the last one."""
        self._run(self._check_ids(token_ids), "prefill")
        return self._logits

    def sample(self) -> int:
        """The next token chosen from the current logits with the session's sampling."""
        if self._logits is None:
            raise SessionError("nothing to sample from: prefill a prompt first")
        return self._sampler(self._logits)

    def decode(self, token: int | None = None) -> int:
        """Run one token (the sampled next one if None) at the next position; returns it."""
        tok = self.sample() if token is None else int(self._check_ids([token])[0])
        self._run(np.array([tok], dtype=np.int64), "decode")
        return tok

    def reset(self) -> None:
        """Forget the KV cache and the logits, reseed the sampler, clear the statistics."""
        self.backend.reset()
        self._position = 0
        self._logits = None
        self._sampler = Sampler(self.sampling)
        self.stats = Stats(self.backend.clock_mhz)

    def generate(
        self,
        prompt_ids,
        max_new_tokens: int,
        sampling: Sampling | None = None,
        stop_ids: Iterable[int] = (),
        on_token: Callable[[int], None] | None = None,
    ) -> list[int]:
        """A new sequence: prefill `prompt_ids`, then choose and run up to `max_new_tokens`
        tokens (fewer if one of `stop_ids` is chosen: it is returned but not run)."""
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int):
            raise SessionError(f"max_new_tokens must be an integer, got {max_new_tokens!r}")
        if max_new_tokens < 1:
            raise SessionError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        prompt = self._check_ids(prompt_ids)
        if sampling is not None:
            self.sampling = sampling
        self.reset()
        self.check_room(len(prompt) + max_new_tokens)  # refuse before any work
        stops = {int(t) for t in stop_ids}
        self.prefill(prompt)
        out: list[int] = []
        for _ in range(max_new_tokens):
            tok = self.sample()
            out.append(tok)
            if on_token is not None:
                on_token(tok)
            if tok in stops:
                break
            self.decode(tok)
        return out

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
