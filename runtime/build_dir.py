"""A build directory of `accllm compile -o DIR`, as the runtime reads it.

What each backend needs from it:
- every backend: `summary.json` (the Λ S and W the design was compiled for, the target) and the
  checkpoint (`DIR/model/` for the built-in model; a user checkpoint is read from where
  `accllm compile` found it, recorded in `summary.json` as `checkpoint`) with its config and,
  if it has one, its tokenizer;
- `sim`: the lowered design (`model.accel.mlir`, `model.hw.mlir`, `verilog/` of the emit stage).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from accllm.runtime.errors import SessionError

STAGE_ORDER = ["model", "reference", "import", "compress", "lower", "emit", "simulate"]


@dataclass(frozen=True)
class BuildDir:
    path: Path
    summary: dict

    @classmethod
    def open(cls, path: str | Path) -> BuildDir:
        path = Path(path)
        if not path.is_dir():
            raise SessionError(f"{path}: no such build directory (run `accllm compile -o {path}`)")
        summary_file = path / "summary.json"
        if not summary_file.is_file():
            raise SessionError(
                f"{path}: not an accllm build directory (no summary.json): run "
                f"`accllm compile -o {path}` first"
            )
        try:
            summary = json.loads(summary_file.read_text())
            summary["lambda"]["sinks"], summary["lambda"]["window"]  # noqa: B018
        except (ValueError, KeyError, TypeError) as err:
            raise SessionError(f"{summary_file}: unreadable build summary ({err})") from None
        return cls(path, summary)

    @property
    def sinks(self) -> int:
        return int(self.summary["lambda"]["sinks"])

    @property
    def window(self) -> int:
        return int(self.summary["lambda"]["window"])

    @property
    def target(self) -> str:
        return self.summary.get("lower", {}).get("target", "sim")

    def has_stage(self, stage: str) -> bool:
        last = self.summary.get("stopped_after", "")
        return last in STAGE_ORDER and STAGE_ORDER.index(last) >= STAGE_ORDER.index(stage)

    @property
    def checkpoint(self) -> Path:
        """The checkpoint directory the build was compiled from."""
        own = self.path / "model"
        if (own / "config.json").is_file():
            return own
        recorded = self.summary.get("checkpoint") or self.summary.get("model")
        if recorded and (Path(recorded) / "config.json").is_file():
            return Path(recorded)
        raise SessionError(
            f"{self.path}: the checkpoint it was compiled from is gone "
            f"({recorded or 'not recorded in summary.json'}): recompile it"
        )

    def config(self) -> dict:
        path = self.checkpoint / "config.json"
        try:
            config = json.loads(path.read_text())
            int(config["vocab_size"]), int(config["max_position_embeddings"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise SessionError(f"{path}: unreadable model config ({err})") from None
        return config

    def require_design(self) -> None:
        """The lowered and emitted design must be there (the `sim` and `device` backends)."""
        if not self.has_stage("emit"):
            raise SessionError(
                f"{self.path}: the build stopped after '{self.summary.get('stopped_after')}': "
                "the design is emitted by the 'emit' stage (recompile without --stop-after, "
                "or use --backend golden)"
            )
        for name in ("model.accel.mlir", "model.hw.mlir", "verilog/filelist.f"):
            if not (self.path / name).is_file():
                raise SessionError(f"{self.path}: {name} is missing: recompile the build")
