"""Host-side sampling (accllm.runtime.sampling): greedy, temperature, top-k, top-p, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from accllm.numerics.contract import NUMERICS
from accllm.runtime.errors import SessionError
from accllm.runtime.sampling import Sampler, Sampling

ONE = 1 << NUMERICS.logit_frac  # integer logit of 1.0


def test_greedy_is_argmax_lowest_id_on_ties():
    logits = np.array([3, 9, 9, 1]) * ONE
    assert Sampler(Sampling())(logits) == 1
    assert Sampling().greedy and Sampling().describe() == "greedy"


def test_top_k_1_and_tiny_top_p_are_greedy_at_any_temperature():
    rng = np.random.default_rng(0)
    for seed in range(20):
        logits = rng.integers(-5 * ONE, 5 * ONE, 50)
        best = int(np.argmax(logits))
        assert Sampler(Sampling(temperature=3.0, top_k=1, seed=seed))(logits) == best
        assert Sampler(Sampling(temperature=3.0, top_p=1e-9, seed=seed))(logits) == best


def test_frequencies_follow_the_tempered_softmax():
    logits = np.array([0, ONE, 2 * ONE, -40 * ONE])
    t = 2.0
    p = np.exp(np.array([0.0, 1.0, 2.0, -40.0]) / t)
    p /= p.sum()
    sampler = Sampler(Sampling(temperature=t, seed=11))
    counts = np.bincount([sampler(logits) for _ in range(20000)], minlength=4) / 20000
    np.testing.assert_allclose(counts, p, atol=0.015)


def test_top_k_and_top_p_restrict_the_support():
    logits = np.array([4, 3, 2, 1, 0]) * ONE
    k2 = Sampler(Sampling(temperature=5.0, top_k=2, seed=1))
    assert {k2(logits) for _ in range(500)} == {0, 1}
    # softmax(x / 1) of 4..0: 0.636, 0.234, 0.086, ...: top-p 0.8 keeps the first two
    p8 = Sampler(Sampling(temperature=1.0, top_p=0.8, seed=2))
    assert {p8(logits) for _ in range(500)} == {0, 1}


def test_a_seed_replays_the_same_draws_and_another_differs():
    logits = np.random.default_rng(3).integers(-3 * ONE, 3 * ONE, 256)

    def draws(seed):
        s = Sampler(Sampling(temperature=1.0, top_k=50, top_p=0.9, seed=seed))
        return [s(logits) for _ in range(50)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"temperature": -0.5}, "temperature must be >= 0"),
        ({"temperature": float("nan")}, "temperature must be a finite number"),
        ({"top_k": -1}, "top_k must be an integer >= 0"),
        ({"top_k": 2.5}, "top_k must be an integer >= 0"),
        ({"top_p": 0.0}, r"top_p must be in \(0, 1\]"),
        ({"top_p": 1.5}, r"top_p must be in \(0, 1\]"),
        ({"seed": -3}, "seed must be an integer >= 0"),
    ],
)
def test_bad_sampling_values_are_refused(kwargs, message):
    with pytest.raises(SessionError, match=message):
        Sampling(**kwargs)
