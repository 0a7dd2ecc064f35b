"""`accllm generate BUILD_DIR --prompt TEXT`: text from a compiled model on a runtime backend.

    accllm generate BUILD_DIR --prompt TEXT [--max-new-tokens N] [--backend sim|golden|device]
                    [--temperature T] [--top-k K] [--top-p P] [--seed S] [--json OUT]

The prompt is tokenized with the checkpoint's tokenizer (`accllm.runtime.tokenizer`); the prompt
and then the generated text go to standard output as each token is chosen (control characters
other than newline and tab shown as escapes; `--json` keeps the raw text); what ran and the
speed (tokens/s of the backend's wall time and, for `sim`, the simulated cycles per token as
tokens/s at the target's clock) go to standard error.  Every user error is one line
`accllm: error: ...` with exit code 1 (2: not implemented, e.g. `--backend device`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from accllm.tools.cli_types import int_at_least
from accllm.tools.errors import CommandError


def _float_in(lo: float, hi: float, lo_open: bool, what: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        if not math.isfinite(value) or value > hi or value < lo or (lo_open and value == lo):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value

    parse.__name__ = what
    return parse


def register(sub) -> None:
    from accllm.runtime.backends import BACKENDS

    p = sub.add_parser(
        "generate",
        help="generate text with a compiled model (simulated accelerator, golden model, card)",
        description="Tokenize the prompt with the checkpoint's tokenizer, prefill it and "
        "generate on the chosen backend, streaming the text.",
    )
    p.add_argument("build_dir", help="output directory of `accllm compile -o DIR`")
    p.add_argument("--prompt", required=True, help="the prompt text")
    p.add_argument(
        "--max-new-tokens", type=int_at_least(1), default=32, help="at most this many (32)"
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="sim",
        help="sim: the emitted accelerator under Verilator (default); golden: the integer "
        "golden model (same tokens, fast); device: an Alveo card through XRT",
    )
    p.add_argument(
        "--temperature",
        type=_float_in(0.0, math.inf, False, "a finite number >= 0"),
        default=0.0,
        help="0 (default): greedy",
    )
    p.add_argument("--top-k", type=int_at_least(0), default=0, help="0 (default): no limit")
    p.add_argument(
        "--top-p",
        type=_float_in(0.0, 1.0, True, "in (0, 1]"),
        default=1.0,
        help="1 (default): no limit",
    )
    p.add_argument("--seed", type=int_at_least(0), default=0, help="seed of the sampler")
    p.add_argument("--json", type=Path, default=None, help="also write ids, text and speed here")
    p.add_argument(
        "--log-file",
        type=Path,
        default=None,
        help="simulator output (sim; default BUILD_DIR/runtime-sim.log)",
    )
    p.set_defaults(func=run_generate)
    p.error = _one_line_error(p.prog)  # a bad option is one line, not the usage text


def _one_line_error(prog: str):
    def error(message: str):
        sys.stderr.write(f"{prog}: error: {message}\n")
        raise SystemExit(2)

    return error


def printable(text: str) -> str:
    """`text` as it is shown on the terminal: control characters other than newline and tab
    (an untrained model's bytes include ESC, which would drive the terminal) as escapes."""
    return "".join(
        c if c.isprintable() or c in "\n\t" else c.encode("unicode_escape").decode() for c in text
    )


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def run_generate(args: argparse.Namespace) -> int:
    import accllm.runtime as rt
    from accllm.runtime.tokenizer import load_tokenizer

    try:
        sampling = rt.Sampling(args.temperature, args.top_k, args.top_p, args.seed)
        build = rt.BuildDir.open(args.build_dir)
        config = build.config()
        tok = load_tokenizer(build.checkpoint, config, int(config["vocab_size"]))
        prompt = tok.encode(args.prompt)
        if not prompt:
            raise rt.SessionError("the prompt is empty after tokenization (0 tokens)")
        limit = int(config["max_position_embeddings"])
        if len(prompt) + args.max_new_tokens > limit:  # before the backend opens
            raise rt.SessionError(
                f"{len(prompt)} prompt tokens + {args.max_new_tokens} new tokens are past the "
                f"model's {limit} positions (max_position_embeddings): ask for fewer tokens"
            )
        if args.backend == "sim":
            _err(
                f"accllm: starting the simulation of {build.path / 'verilog'} (Verilator; the "
                "first run builds it, then it is cached); simulator output: "
                f"{args.log_file or build.path / 'runtime-sim.log'}"
            )
        with rt.open(build.path, args.backend, sampling, log_file=args.log_file) as session:
            _err(
                f"accllm: {args.backend} backend, Λ S={build.sinks} W={build.window}, "
                f"{len(prompt)} prompt tokens ({tok.name}), {sampling.describe()}"
            )
            session.check_room(len(prompt) + args.max_new_tokens)  # before any output
            stream = tok.stream()
            sys.stdout.write(printable(args.prompt))
            sys.stdout.flush()
            pieces: list[str] = []

            def emit(token: int) -> None:
                text = stream.push(token)
                if text:
                    pieces.append(text)
                    sys.stdout.write(printable(text))
                    sys.stdout.flush()

            tokens = session.generate(
                prompt, args.max_new_tokens, stop_ids=tok.stop_ids, on_token=emit
            )
            tail = stream.flush()
            pieces.append(tail)
            sys.stdout.write(printable(tail) + "\n")
            sys.stdout.flush()
            stats = session.stats
    except rt.SessionError as err:
        raise CommandError(str(err), err.exit_code) from err
    report = _report(args.backend, tokens, stats)
    for line in report["lines"]:
        _err(f"accllm: {line}")
    if args.json is not None:
        from accllm.tools.atomic_io import atomic_write_text

        data = {
            "backend": args.backend,
            "prompt_ids": [int(t) for t in prompt],
            "tokens": tokens,
            "text": "".join(pieces),
            "speed": report["speed"],
        }
        atomic_write_text(args.json, json.dumps(data, indent=2) + "\n")
    return 0


def _report(backend: str, tokens: list[int], st) -> dict:
    """The closing lines and the figures behind them."""
    speed = {
        "prefill_tokens": st.prefill_tokens,
        "prefill_seconds": round(st.prefill_seconds, 4),
        "decode_tokens": st.decode_tokens,
        "decode_seconds": round(st.decode_seconds, 4),
        "wall_tokens_per_second": st.wall_tokens_per_second(),
    }
    wall = speed["wall_tokens_per_second"]
    lines = [
        f"{len(tokens)} tokens generated; {backend} backend: prefill {st.prefill_tokens} tokens "
        f"in {st.prefill_seconds:.2f} s, decode {st.decode_tokens} tokens in "
        f"{st.decode_seconds:.2f} s" + (f" = {wall:.2f} tokens/s (wall time)" if wall else "")
    ]
    target = st.target_tokens_per_second()
    if st.clock_mhz and (st.decode_cycles or st.prefill_cycles):
        speed.update(
            clock_mhz=st.clock_mhz,
            prefill_cycles=sum(st.prefill_cycles),
            decode_cycles=st.decode_cycles,
            target_tokens_per_second=target,
            target_prefill_tokens_per_second=st.target_prefill_tokens_per_second(),
        )
        decode = (
            f"decode {st.cycles_per_token():.0f} cycles/token = {target:.1f} tokens/s"
            if target
            else "no decode step"
        )
        lines.append(
            f"simulated accelerator at the target's {st.clock_mhz:g} MHz: {decode}; prefill "
            f"{sum(st.prefill_cycles)} cycles for {st.prefill_tokens} tokens = "
            f"{st.target_prefill_tokens_per_second():.1f} tokens/s"
        )
    return {"lines": lines, "speed": speed}
