"""MLIR `--pass-pipeline` syntax to xDSL's `-p` syntax.

mlir-opt takes `builtin.module(pass-a{opt=1},pass-b)`; xDSL takes `pass-a{opt=1},pass-b` and runs
every pass on the whole module.  So the only anchor accllm-opt can honour is the top-level
`builtin.module`; a nested anchor (`builtin.module(func.func(canonicalize))`) is an error rather
than a pipeline that silently runs at a different granularity.  Named pipelines are expanded here.
"""

from __future__ import annotations

from accllm.passes.registry import NAMED_PIPELINES


class PipelineSyntaxError(Exception):
    """An error in a pipeline string, with the 1-based column where it was found."""

    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.column = column


def _split_top_level(body: str, base_col: int) -> list[tuple[str, int]]:
    """Split on commas outside braces/parentheses; return (element, column) pairs."""
    items, depth_brace, depth_paren, start = [], 0, 0, 0
    for i, ch in enumerate(body):
        if ch == "{":
            depth_brace += 1
        elif ch == "}":
            depth_brace -= 1
        elif ch == "(" and depth_brace == 0:
            depth_paren += 1
        elif ch == ")" and depth_brace == 0:
            depth_paren -= 1
            if depth_paren < 0:
                raise PipelineSyntaxError("unbalanced ')'", base_col + i)
        elif ch == "," and depth_brace == 0 and depth_paren == 0:
            items.append((body[start:i], base_col + start))
            start = i + 1
        if depth_brace < 0:
            raise PipelineSyntaxError("unbalanced '}'", base_col + i)
    if depth_brace or depth_paren:
        raise PipelineSyntaxError("unbalanced brackets", base_col + len(body))
    items.append((body[start:], base_col + start))
    return items


def mlir_to_xdsl(spec: str) -> str:
    """Translate `builtin.module(a{x=1},b)` into `a{x=1},b` (named pipelines expanded)."""
    text = spec.strip()
    lead = len(spec) - len(spec.lstrip())
    anchor = "builtin.module("
    if not text.startswith(anchor):
        head = text.split("(")[0] or text
        raise PipelineSyntaxError(
            f"the pipeline must be anchored on 'builtin.module(...)', got '{head}' "
            "(use -p for xDSL's unanchored syntax)",
            lead + 1,
        )
    if not text.endswith(")"):
        raise PipelineSyntaxError("expected ')' at the end of the pipeline", lead + len(text))
    body = text[len(anchor) : -1]
    elements = []
    for element, col in _split_top_level(body, lead + len(anchor) + 1):
        name = element.strip()
        if not name:
            if body.strip():
                raise PipelineSyntaxError("empty pass name in pipeline", col)
            continue
        if "(" in name.split("{")[0]:
            nested = name.split("(")[0]
            raise PipelineSyntaxError(
                f"cannot honour the nested anchor '{nested}': accllm-opt runs every pass on the "
                "whole builtin.module; list the passes directly inside builtin.module(...)",
                col,
            )
        elements.append(expand_named(name))
    return ",".join(elements)


def expand_named(element: str) -> str:
    """Replace a named pipeline by its passes; other elements pass through."""
    name = element.split("{")[0].strip()
    if name in NAMED_PIPELINES:
        if "{" in element:
            raise PipelineSyntaxError(
                f"the named pipeline '{name}' takes no options; spell out its passes instead: "
                f"{NAMED_PIPELINES[name][1]}",
                1,
            )
        return NAMED_PIPELINES[name][1]
    return element


def expand_xdsl(spec: str) -> str:
    """Expand named pipelines inside an xDSL `-p` string."""
    return ",".join(expand_named(e) for e, _ in _split_top_level(spec, 1) if e.strip())
