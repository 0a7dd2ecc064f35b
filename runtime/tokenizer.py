"""Text <-> token ids for `accllm generate`: the checkpoint's own tokenizer, local files only.

- `tokenizer.json` in the checkpoint directory (the `tokenizers` library's format, which
  `save_pretrained` of every fast HF tokenizer writes): encoded with its post-processor (a BOS
  where the tokenizer adds one), decoded without special tokens; the config's `eos_token_id`
  ends a generation;
- no tokenizer file and a vocabulary of exactly 256: byte-level (UTF-8 bytes are the ids, as the
  built-in tiny model is); no stop id;
- anything else is an error naming the checkpoint (nothing is downloaded).

Streaming: `StreamDecoder.push(id)` returns the text that became final with that token (a UTF-8
sequence split over byte tokens, or a BPE piece that is only a part of a character, waits for
the rest).
"""

from __future__ import annotations

import codecs
from pathlib import Path

from accllm.runtime.errors import SessionError

TOKENIZER_FILE = "tokenizer.json"
BYTE_VOCAB = 256


class ByteTokenizer:
    name = "byte-level (UTF-8 bytes, no tokenizer file)"
    stop_ids: tuple[int, ...] = ()

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def stream(self) -> ByteStream:
        return ByteStream()


class ByteStream:
    def __init__(self) -> None:
        self._dec = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def push(self, token: int) -> str:
        return self._dec.decode(bytes([token]))

    def flush(self) -> str:
        return self._dec.decode(b"", final=True)


class FileTokenizer:
    def __init__(self, path: Path, stop_ids: tuple[int, ...]):
        from tokenizers import Tokenizer

        try:
            self._tok = Tokenizer.from_file(str(path))
        except Exception as err:  # the library raises plain Exceptions for a bad file
            raise SessionError(f"{path}: not a readable tokenizers file ({err})") from None
        self.name = str(path)
        self.stop_ids = stop_ids

    @property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> list[int]:
        return list(self._tok.encode(text).ids)

    def decode(self, ids: list[int]) -> str:
        return self._tok.decode(ids, skip_special_tokens=True)

    def stream(self) -> FileStream:
        return FileStream(self)


class FileStream:
    """Decodes the whole generated sequence each time and returns what is new (the only
    decoding that is right for every decoder: byte-fallback, metaspace, byte-level BPE)."""

    def __init__(self, tok: FileTokenizer):
        self._tok, self._ids, self._done = tok, [], ""

    def push(self, token: int) -> str:
        self._ids.append(token)
        text = self._tok.decode(self._ids)
        if text.endswith("\ufffd") or not text.startswith(self._done):
            return ""  # an incomplete character (or a piece that rewrites the tail): wait
        new, self._done = text[len(self._done) :], text
        return new

    def flush(self) -> str:
        text = self._tok.decode(self._ids)
        new = text[len(self._done) :] if text.startswith(self._done) else ""
        self._done = text
        return new


def _eos_ids(config: dict) -> tuple[int, ...]:
    eos = config.get("eos_token_id")
    if eos is None:
        return ()
    return tuple(int(e) for e in eos) if isinstance(eos, list) else (int(eos),)


def load_tokenizer(checkpoint: Path, config: dict, vocab: int):
    """The tokenizer of `checkpoint` for a model of `vocab` ids (module doc)."""
    path = checkpoint / TOKENIZER_FILE
    if path.is_file():
        tok = FileTokenizer(path, _eos_ids(config))
        if tok.vocab_size > vocab:
            raise SessionError(
                f"{path}: the tokenizer has {tok.vocab_size} ids, more than the model's "
                f"vocabulary of {vocab}"
            )
        return tok
    if vocab == BYTE_VOCAB:
        return ByteTokenizer()
    others = sorted(
        p.name
        for p in checkpoint.glob("*")
        if p.name in ("tokenizer.model", "vocab.json", "merges.txt", "tokenizer_config.json")
    )
    found = f" (found {', '.join(others)}; only {TOKENIZER_FILE} is read)" if others else ""
    raise SessionError(
        f"{checkpoint}: no {TOKENIZER_FILE}{found}, and the model's vocabulary ({vocab}) is not "
        f"byte-level ({BYTE_VOCAB}): save the tokenizer with save_pretrained into the checkpoint"
    )
