"""Text normalisation: ftfy repair, NFKC, full-width folding, control characters, whitespace.

``fullwidth`` exists for recipes that turn NFKC off (NFKC also rewrites e.g. ① -> 1, ﬁ -> fi,
㎏ -> kg) but still want Chinese-keyboard ASCII (ＡＢＣ１２３，！) folded to plain ASCII.
"""

from __future__ import annotations

import re
import unicodedata

from thresher.ops.base import Batch, Mapper

__all__ = ["Normalize", "normalize_text"]

# Control and format characters except tab/newline; U+200B..U+200D and U+FEFF are zero-width
# marks that make otherwise identical texts hash differently.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
# U+FF01..U+FF5E are the full-width forms of ASCII 0x21..0x7E; U+3000 is the ideographic space.
_FULLWIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)} | {0x3000: 0x20}


def normalize_text(
    text: str,
    *,
    fix_mojibake: bool = True,
    nfkc: bool = True,
    control_chars: bool = True,
    whitespace: bool = True,
    lowercase: bool = False,
    fullwidth: bool = False,
) -> str:
    """Apply the chosen repairs in a fixed order (repair first: NFKC on mojibake is lossy)."""
    if fix_mojibake:
        import ftfy  # imported lazily: the module costs ~50 ms to load

        text = ftfy.fix_text(text, normalization="NFC")
    if nfkc:
        text = unicodedata.normalize("NFKC", text)
    if fullwidth:
        text = text.translate(_FULLWIDTH)
    if control_chars:
        text = _CONTROL.sub("", text)
    if whitespace:
        text = _SPACES.sub(" ", text).strip()
    if lowercase:
        text = text.lower()
    return text


class Normalize(Mapper):
    """Repair mojibake (ftfy), NFKC-fold, drop control characters, collapse whitespace.

    ``fullwidth`` folds full-width ASCII and the ideographic space to half-width; it matters only
    with ``nfkc: false`` (NFKC already folds them), so the default output is unchanged.
    """

    name = "normalize"

    def __init__(
        self,
        *,
        fix_mojibake: bool = True,
        nfkc: bool = True,
        control_chars: bool = True,
        whitespace: bool = True,
        lowercase: bool = False,
        fullwidth: bool = False,
    ) -> None:
        self.fix_mojibake = fix_mojibake
        self.nfkc = nfkc
        self.control_chars = control_chars
        self.whitespace = whitespace
        self.lowercase = lowercase
        self.fullwidth = fullwidth

    def map_batch(self, batch: Batch) -> Batch:
        settings = self.settings()
        batch["text"] = [normalize_text(t, **settings) for t in batch["text"]]
        return batch
