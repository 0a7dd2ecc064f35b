"""A bounded, seeded fuzz run of the tools (issue #18): mutated project test IR through
accllm-opt's pipelines and accllm-translate's emitters must end within the time limit in output or
clean located errors; no traceback, no internal error, no unlocated diagnostic, no hang.
`python -m accllm.bench.fuzz_bench` is the long run (docs/reliability.md)."""

from __future__ import annotations

from accllm.bench.fuzz_bench import campaign


def test_mutated_ir_ends_in_output_or_a_clean_error():
    result = campaign(inputs=200, seed=2026, limit_s=20)
    assert result.tried == 200
    assert result.clean > 100  # the mutations do reach the verifiers and passes
    report = "\n".join(
        f"input {o['input']} ({o['tool']} {' '.join(o['args'])}): {o['detail']}\n{o['text']}"
        for o in result.other[:5]
    )
    assert not result.other, f"{len(result.other)} inputs ended otherwise:\n{report}"
