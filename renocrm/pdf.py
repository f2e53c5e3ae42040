"""HTML to PDF with WeasyPrint, for documents in Chinese.

WeasyPrint draws text with the system's fonts (fontconfig) and embeds the subset of glyphs it used, so a
PDF reads the same on any phone. Without a CJK font installed, every Chinese character would print as an
empty box — so the renderer refuses (``PdfUnavailable``) rather than hand out such a document, and the
system check below says what to install at start. HarfBuzz's subsetter (libharfbuzz-subset0) makes embedding
a CJK font take a fraction of a second instead of ten or more (WeasyPrint falls back to fontTools without it).
``scripts/ensure-pdf-fonts.sh`` installs both on Debian; the Dockerfile does the same.

A document loads nothing from outside: only ``data:`` URLs (the firm's logo, a drawn signature), so a
value in a document can never make the server fetch a URL.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache

from django.core import checks
from PIL import ImageFile

logger = logging.getLogger(__name__)

# The CSS font stack of every document, Simplified Chinese first; the first one installed is used.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
)
FONT_STACK = ", ".join(f'"{family}"' for family in CJK_FAMILIES) + ", sans-serif"
INSTALL_HINT = "sudo apt-get install fonts-noto-cjk libharfbuzz-subset0 (or run scripts/ensure-pdf-fonts.sh)"


class PdfUnavailable(RuntimeError):
    """This server cannot make a PDF with readable Chinese text."""


def _library(*names: str):
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    found = ctypes.util.find_library(names[0].removeprefix("lib").split(".")[0])
    if found:
        try:
            return ctypes.CDLL(found)
        except OSError:
            return None
    return None


def _matched_family(fontconfig, config, family: str) -> str:
    """The family fontconfig picks for ``family``: the family itself when it is installed, else a fallback."""
    fontconfig.FcPatternCreate.restype = ctypes.c_void_p
    fontconfig.FcFontMatch.restype = ctypes.c_void_p
    fontconfig.FcFontMatch.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    fontconfig.FcPatternAddString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    fontconfig.FcConfigSubstitute.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    fontconfig.FcDefaultSubstitute.argtypes = [ctypes.c_void_p]
    fontconfig.FcPatternGetString.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_char_p),
    ]
    fontconfig.FcPatternDestroy.argtypes = [ctypes.c_void_p]
    pattern = fontconfig.FcPatternCreate()
    try:
        fontconfig.FcPatternAddString(pattern, b"family", family.encode())
        fontconfig.FcConfigSubstitute(config, pattern, 0)  # FcMatchPattern
        fontconfig.FcDefaultSubstitute(pattern)
        result = ctypes.c_int()
        matched = fontconfig.FcFontMatch(config, pattern, ctypes.byref(result))
    finally:
        fontconfig.FcPatternDestroy(pattern)
    if not matched:
        return ""
    try:
        value = ctypes.c_char_p()
        if fontconfig.FcPatternGetString(matched, b"family", 0, ctypes.byref(value)) != 0 or not value.value:
            return ""
        return value.value.decode("utf-8", "replace")
    finally:
        fontconfig.FcPatternDestroy(matched)


def _find_cjk_family() -> str | None:
    fontconfig = _library("libfontconfig.so.1", "libfontconfig.1.dylib", "libfontconfig-1.dll")
    if fontconfig is None:
        return None
    fontconfig.FcInitLoadConfigAndFonts.restype = ctypes.c_void_p
    fontconfig.FcConfigDestroy.argtypes = [ctypes.c_void_p]
    config = fontconfig.FcInitLoadConfigAndFonts()
    if not config:
        return None
    try:
        for family in CJK_FAMILIES:
            if _matched_family(fontconfig, config, family).casefold() == family.casefold():
                return family
    finally:
        fontconfig.FcConfigDestroy(config)
    return None


_found: list[str] = []


def cjk_font_family() -> str | None:
    """The first font of ``CJK_FAMILIES`` installed, or None. A font found is remembered; a missing one is
    looked for again next time (it may have been installed since)."""
    if not _found:
        family = _find_cjk_family()
        if family is None:
            return None
        _found.append(family)
    return _found[0]


@cache
def has_fast_subsetter() -> bool:
    return _library("libharfbuzz-subset.so.0", "libharfbuzz-subset.0.dylib", "libharfbuzz-subset-0.dll") is not None


def html_to_pdf(html: str, *, css: str = "") -> bytes:
    """The PDF of an HTML document styled by ``css`` (a stylesheet kept out of the HTML, which the pages'
    Content-Security-Policy rules would refuse), text in ``FONT_STACK``, images as ``data:`` URLs. Raises
    ``PdfUnavailable`` when no CJK font is installed or WeasyPrint's libraries cannot be loaded."""
    if cjk_font_family() is None:
        raise PdfUnavailable(f"No Chinese (CJK) font is installed for PDFs: {INSTALL_HINT}.")
    try:
        from weasyprint import CSS, HTML
        from weasyprint.urls import URLFetcher
    except OSError as error:  # pango or harfbuzz missing: WeasyPrint cannot load them
        raise PdfUnavailable(f"WeasyPrint cannot load its system libraries ({error}): {INSTALL_HINT}.") from error
    # Importing WeasyPrint tells Pillow, for the whole process, to accept truncated images. The uploads' check
    # sets the flag itself (renocrm/uploads.py); the homeowner's signature check (contracts/forms.py) still
    # relies on Pillow refusing them, and our PDFs embed only our own images.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    fetcher = URLFetcher(allowed_protocols={"data"})
    stylesheets = [CSS(string=f"html {{ font-family: {FONT_STACK}; }}\n{css}", url_fetcher=fetcher)]
    return HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=stylesheets)


@checks.register("pdf")
def check_pdf_fonts(app_configs=None, **kwargs):
    problems = []
    if cjk_font_family() is None:
        problems.append(
            checks.Warning(
                "No Chinese (CJK) font is installed: quotation and contract PDFs cannot be made.",
                hint=INSTALL_HINT,
                id="renocrm.W101",
            )
        )
    elif not has_fast_subsetter():
        problems.append(
            checks.Warning(
                "HarfBuzz's subsetter (libharfbuzz-subset) is missing: each PDF takes ten seconds or more to make.",
                hint=INSTALL_HINT,
                id="renocrm.W102",
            )
        )
    return problems
