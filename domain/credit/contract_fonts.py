"""The typeface contracts are printed in: Noto Sans SC (思源黑体's Google edition, SIL Open Font License), regular
and bold, embedded in every PDF as a subset of the characters it uses, so a contract reads the same on any
device, none of which needs a Chinese font of its own.

The justmytype-intl-cjk package brings Noto Sans SC as a variable font whose outlines, as stored, are its
thinnest weight. reportlab embeds a TrueType font's outlines as stored, so `make install` derives two static
fonts from it, Regular (400) and Bold (700), into font-assets/ (git-ignored) with fontTools' instancer — about
half a minute, once — with `python -m domain.credit.contract_fonts install`, after checking the variable font
against the SHA-256 below: a new edition of the typeface changes how contracts look, and is taken deliberately.

Each process registers the two fonts with reportlab once, on the first contract it renders (about 0.1 s).
"""

from __future__ import annotations

import functools
import hashlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONTS_DIR = Path(__file__).resolve().parents[2] / "font-assets"
SOURCE_PACKAGE = "justmytype_intl_cjk"
SOURCE_PATH = "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"
SOURCE_SHA256 = "a3041811a78c361b1de50f953c805e0244951c21c5bd412f7232ef0d899af0da"  # Noto Sans SC 2.004

REGULAR = "NotoSansSC-Regular"
BOLD = "NotoSansSC-Bold"
WEIGHTS: Mapping[str, int] = {REGULAR: 400, BOLD: 700}


@dataclass(frozen=True)
class ContractFonts:
    regular: str  # the names the fonts are registered under with reportlab
    bold: str
    characters: frozenset[int]  # the code points both fonts can print

    def unprintable(self, text: str) -> str:
        """The characters of `text` the fonts have no glyph for, each once, in order."""
        return "".join(dict.fromkeys(char for char in text if ord(char) not in self.characters))


def font_file(name: str, directory: Path = FONTS_DIR) -> Path:
    return directory / f"{name}.ttf"


@functools.cache
def contract_fonts() -> ContractFonts:
    """Register the fonts with reportlab, once per process."""
    missing = [str(font_file(name)) for name in WEIGHTS if not font_file(name).is_file()]
    if missing:
        raise RuntimeError(f"the contract fonts are not installed ({', '.join(missing)}): run make install")
    fonts = [TTFont(name, str(font_file(name))) for name in WEIGHTS]
    for font in fonts:
        pdfmetrics.registerFont(font)
    # so that <b> in a paragraph set in the regular font selects the bold one
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)
    characters = frozenset.intersection(*(frozenset(font.face.charToGlyph) for font in fonts))
    return ContractFonts(regular=REGULAR, bold=BOLD, characters=characters)


def install(directory: Path = FONTS_DIR) -> None:
    """Derive the static fonts from the variable one, checked against its digest, into `directory`."""
    from fontTools.ttLib import TTFont as FontToolsFont
    from fontTools.varLib import instancer

    source = files(SOURCE_PACKAGE).joinpath(SOURCE_PATH).read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(f"{SOURCE_PACKAGE} {SOURCE_PATH}: SHA-256 {digest} is not {SOURCE_SHA256}")
    directory.mkdir(parents=True, exist_ok=True)
    # saved with the source's own modification date, not today's, so every installation derives the same bytes
    variable = FontToolsFont(str(files(SOURCE_PACKAGE).joinpath(SOURCE_PATH)), recalcTimestamp=False)
    for name, weight in WEIGHTS.items():
        static = instancer.instantiateVariableFont(variable, {"wght": weight}, updateFontNames=True)
        static.save(str(font_file(name, directory)), reorderTables=True)
        static.close()


if __name__ == "__main__":
    if sys.argv[1:2] != ["install"]:
        raise SystemExit("usage: python -m domain.credit.contract_fonts install [DIRECTORY]")
    install(Path(sys.argv[2]) if len(sys.argv) > 2 else FONTS_DIR)
