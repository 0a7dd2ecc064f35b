"""The estimator's prefetch-stream model (backend/perf/stream.py) on cases with known answers."""

from __future__ import annotations

import pytest

from accllm.backend.perf.stream import ChannelStream, StreamState


def state(rate=1.0, latency=10.0, fifo=100.0, total=1000.0, channels=(0,)):
    ch = ChannelStream(rate, latency, fifo)
    return StreamState({c: ch for c in channels}, {c: total for c in channels})


def test_supply_bound_step_ends_when_its_beats_have_arrived():
    st = state(rate=0.5, latency=10, total=400)
    # compute would take 100 cycles, but 400 beats at 0.5 per cycle take 800 after the latency
    assert st.step(0, 100, {0: 400}) == pytest.approx(10 + 800)


def test_compute_bound_step_ends_after_its_compute():
    st = state(rate=1.0, latency=0, fifo=1000, total=100)
    st.idle_until(200)  # the FIFO filled while nothing consumed
    assert st.step(200, 300, {0: 100}) == pytest.approx(500)


def test_a_compute_bubble_is_hidden_by_a_deep_fifo():
    """Two streaming steps with a compute-only step between: the stream runs on through the
    bubble, so the total is the streaming time, not streaming + bubble."""
    st = state(rate=1.0, latency=0, fifo=1000, total=2000)
    e1 = st.step(0, 500, {0: 1000})  # supply bound: 1000 cycles
    assert e1 == pytest.approx(1000)
    e2 = st.step(e1, 400, {})  # norm / softmax: no stream
    st.idle_until(e2)
    # the next step's 1000 beats: 400 arrived during the bubble; compute at 2 beats per cycle
    e3 = st.step(e2, 500, {0: 1000})
    assert e3 == pytest.approx(2000)


def test_a_shallow_fifo_exposes_the_bubble():
    st = state(rate=1.0, latency=0, fifo=100, total=2000)
    e1 = st.step(0, 500, {0: 1000})
    st.idle_until(e1 + 400)
    e3 = st.step(e1 + 400, 500, {0: 1000})
    # only 100 beats could wait in the FIFO: 900 more stream after the bubble
    assert e3 == pytest.approx(1000 + 400 + 900)


def test_channels_are_independent_and_the_slowest_decides():
    ch = {0: ChannelStream(1.0, 0, 64), 1: ChannelStream(0.25, 0, 64)}
    st = StreamState(ch, {0: 100, 1: 100})
    assert st.step(0, 10, {0: 100, 1: 100}) == pytest.approx(400)


def test_a_step_cannot_take_more_than_the_fetch_program_holds():
    st = state(total=10)
    with pytest.raises(ValueError, match="fetch program has 10"):
        st.step(0, 1, {0: 11})
    with pytest.raises(KeyError, match="channel 3"):
        st.step(0, 1, {3: 1})
