"""Prefetch streams of the decoupled engine (docs/engine.md), as the estimator sees them.

Every HBM channel has a prefetcher that starts with the program and streams the channel's fetch
program into a FIFO of `fifo_beats` beats at `rate` beats per cycle, the first beat `latency`
cycles after the start, whatever the units are doing, until the FIFO is full. Units consume
their beats in program order while they compute. So a step that needs `D` beats of a channel,
starts at `s` and computes for `T` cycles when its data is there, ends at

    e = max(s + T, s + wait + (D - f) / rate + tail)

where `f` is what the FIFO held at `s` (it filled while earlier steps computed, up to its
capacity), `wait` the time until the first beat if the stream has not begun and `tail` the
unit's work after its last beat (the unit rule's, backend/perf/cost.py). This is a fluid
model (beats as a continuous quantity): it follows the prefetcher's rule (stream_prefetcher.sv:
bursts issued while the FIFO has room, one beat per cycle at most) and the consumers' order,
and is validated against Verilator with the whole accelerator (docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChannelStream:
    """One channel's prefetcher: beats per cycle, cycles to the first beat, FIFO capacity."""

    rate: float
    latency: float
    fifo_beats: float

    def __post_init__(self) -> None:
        if not (self.rate > 0 and self.latency >= 0 and self.fifo_beats >= 1):
            raise ValueError(f"invalid channel stream {self}")


@dataclass
class _Fill:
    time: float  # supply accounted up to this cycle
    held: float  # beats in the FIFO at `time`
    left: float  # beats of the fetch program not yet supplied


@dataclass
class StreamState:
    """The channels' FIFOs during one program run, started at cycle `start`."""

    channels: dict[int, ChannelStream]
    totals: dict[int, float]  # beats each channel's fetch program delivers in the run
    start: float = 0.0
    fills: dict[int, _Fill] = field(init=False)

    def __post_init__(self) -> None:
        self.fills = {
            c: _Fill(self.start + ch.latency, 0.0, self.totals.get(c, 0.0))
            for c, ch in self.channels.items()
        }

    def _advance(self, c: int, t: float) -> None:
        """Supply of channel c up to cycle t (nothing before its first beat)."""
        ch, f = self.channels[c], self.fills[c]
        if t <= f.time:
            return
        beats = min(ch.rate * (t - f.time), ch.fifo_beats - f.held, f.left)
        f.held += beats
        f.left -= beats
        f.time = t

    def step(
        self, start: float, cycles: float, demand: dict[int, float], tail: float = 0.0
    ) -> float:
        """End of a step that starts at `start`, computes `cycles` when its data is there,
        consumes `demand[c]` beats of channel c and still works `tail` cycles after its last
        beat has arrived; updates the FIFOs."""
        end = start + cycles
        for c, need in demand.items():
            if need <= 0:
                continue
            if c not in self.channels:
                raise KeyError(f"step reads channel {c}, which has no stream")
            ch, f = self.channels[c], self.fills[c]
            if need > f.held + f.left + 1e-9:
                raise ValueError(
                    f"step consumes {need} beats of channel {c}, the fetch program has "
                    f"{f.held + f.left} left"
                )
            self._advance(c, start)
            first = max(start, f.time)  # the stream may not have begun
            end = max(end, first + max(0.0, need - f.held) / ch.rate + tail)
        for c, need in demand.items():
            if need <= 0:
                continue
            ch, f = self.channels[c], self.fills[c]
            # Fluid: the FIFO gives `held`, the rest streams in while the step drains it (the
            # consumption frees room, so the supply is capped by capacity + what is taken).
            t0 = max(start, f.time)
            supply = min(ch.rate * max(0.0, end - t0), f.left, ch.fifo_beats - f.held + need)
            f.held = max(0.0, f.held + supply - need)
            f.left -= supply
            f.time = max(end, f.time)
        return end

    def peek(self, c: int, t: float) -> tuple[float, float]:
        """Channel c at cycle t: (beats its FIFO holds, cycles from t until its stream delivers
        again: the first beat's latency if it has not begun, else 0)."""
        self._advance(c, t)
        f = self.fills[c]
        return f.held, max(0.0, f.time - t)

    def idle_until(self, t: float) -> None:
        """Let every stream run on (compute-only work, barriers) up to cycle t."""
        for c in self.channels:
            self._advance(c, t)
