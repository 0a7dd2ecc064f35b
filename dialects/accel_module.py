"""Verifiers of the accel dialect's module attributes (xDSL verifies ops, not a module's
discardable attributes, so the tools call these after the op verifiers)."""

from __future__ import annotations

import re

from xdsl.dialects.builtin import DictionaryAttr, ModuleOp, StringAttr
from xdsl.utils.exceptions import VerifyException

MEM_IMAGES_ATTR = "accel.mem_images"
# Memory images are written beside the emitted top: plain `.hex` names, so an image can neither
# leave the output directory nor overwrite an rtl_lib source, `filelist.f` or the top (.sv, .f).
MEM_IMAGE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.hex")


def verify_mem_images(module: ModuleOp) -> None:
    """`accel.mem_images` (file name -> $readmemh text): names must be plain `.hex` names."""
    attr = module.attributes.get(MEM_IMAGES_ATTR)
    if attr is None:
        return
    if not isinstance(attr, DictionaryAttr):
        raise VerifyException(f"'{MEM_IMAGES_ATTR}' must be a dictionary of file name -> text")
    for name, text in attr.data.items():
        if not MEM_IMAGE_NAME.fullmatch(name):
            raise VerifyException(
                f"memory image name '{name}' must be a plain file name ending in .hex "
                "(no directories; not a source, file list or top)"
            )
        if not isinstance(text, StringAttr):
            raise VerifyException(f"memory image '{name}' must be a string ($readmemh text)")


def verify_module_attributes(module: ModuleOp) -> None:
    verify_mem_images(module)
