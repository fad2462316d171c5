"""Clean and normalise one text, and tell its language.

Persian text arrives written with Arabic letter variants (ي ك ة ۀ), Arabic or Persian digits,
diacritics, tatweel elongation, zero-width characters used inconsistently and stray HTML. Every
model and every key phrase sees the same canonical form, so "مي‌خواهم", "میخواهم" and
"می خواهم" all look alike to the classifiers.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

Language = Literal["fa", "en", "other"]

#: Longest text analysed; longer input is cut here and flagged ``truncated``.
MAX_CHARS = 5000

_LETTERS = str.maketrans(
    {
        "ي": "ی",
        "ى": "ی",
        "ئ": "ی",
        "ك": "ک",
        "ڪ": "ک",
        "ة": "ه",
        "ۀ": "ه",
        "ە": "ه",
        "أ": "ا",
        "إ": "ا",
        "ٱ": "ا",
        "ؤ": "و",
        "ٔ": "",
        # Persian and Arabic-Indic digits to ASCII, so "۲۰" and "20" are one token.
        **{chr(0x06F0 + i): str(i) for i in range(10)},
        **{chr(0x0660 + i): str(i) for i in range(10)},
        "٪": "%",
        "،": ",",
        "؛": ";",
        "؟": "?",
        "ـ": "",  # tatweel (kashida) elongation
    }
)
# Harakat, tanwin, shadda, sukun, superscript alef.
_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_ZW = re.compile("[\u200b\u200d\u200e\u200f\u2066-\u2069\ufeff]")
_ZWNJ_RUN = re.compile("\u200c+")
_SPACES = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]{0,500}>")
_URL = re.compile(r"https?://\S+|www\.\S+")
# Three or more of the same letter ("عاااالی", "soooo") become two, which keeps emphasis visible.
_ELONGATED = re.compile(r"(\w)\1{2,}")
# ZWNJ-joined prefixes and suffixes, written with a space or glued by careless typists.
_MI_PREFIX = re.compile(r"(?<![\w\u200c])(ن?می) (?=\w)")
_SUFFIXES = re.compile(r"(?<=\w) (ها|های|هایی|ام|ای|اید|ایم|اند|تر|ترین)(?![\w\u200c])")

_FA_CHARS = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN = re.compile("[A-Za-z]")
_ALNUM = re.compile(r"\w", re.UNICODE)
_ARABIC_ONLY = re.compile("[ةيكأإ]")
_PERSIAN_ONLY = re.compile("[پچژگی]")


@dataclass(slots=True)
class CleanText:
    """A text ready for the models, with what had to be done to it."""

    original: str
    text: str
    language: Language
    flags: list[str] = field(default_factory=list)


def normalize_persian(text: str) -> str:
    """Map letter variants, digits and diacritics to one form and tidy ZWNJ usage."""
    text = unicodedata.normalize("NFC", text).translate(_LETTERS)
    text = _DIACRITICS.sub("", text)
    text = _ZW.sub("", text)
    text = _ZWNJ_RUN.sub("\u200c", text)
    text = _MI_PREFIX.sub("\\1\u200c", text)
    text = _SUFFIXES.sub("\u200c\\1", text)
    # ZWNJ next to a space or at an edge carries nothing.
    text = re.sub("\u200c(?=\\s|$)|(?<=\\s)\u200c|^\u200c", "", text)
    return text


def normalize(text: str) -> str:
    """Canonical form of a Persian or English text (lower-case Latin, collapsed spaces)."""
    text = normalize_persian(text)
    text = _ELONGATED.sub("\\1\\1", text)
    text = _SPACES.sub(" ", text).strip()
    return text.lower()


def detect_language(text: str) -> Language:
    """Return fa, en or other from the script of the letters.

    Arabic-script text counts as Persian unless it uses Arabic-only letters and no
    Persian-only ones (so a short Arabic sentence is "other", not Persian).
    """
    fa = len(_FA_CHARS.findall(text))
    latin = len(_LATIN.findall(text))
    letters = sum(1 for c in text if c.isalpha())
    if letters == 0:
        return "other"
    if fa >= latin and fa / letters >= 0.4:
        if _ARABIC_ONLY.search(text) and not _PERSIAN_ONLY.search(text):
            return "other"
        return "fa"
    if latin / letters >= 0.6:
        return "en"
    return "other"


def strip_markup(text: str) -> tuple[str, bool]:
    """Drop HTML tags, entities and URLs; return the text and whether anything was removed."""
    cleaned = _TAG.sub(" ", text)
    cleaned = html.unescape(cleaned)
    cleaned = _URL.sub(" ", cleaned)
    return cleaned, cleaned != text


def prepare(raw: object) -> CleanText:
    """Decode, strip markup, truncate and normalise one input; never raises on content.

    Raises ``ValueError`` only for what cannot be analysed at all (undecodable bytes, no
    letters or digits), which callers report as a per-item error.
    """
    flags: list[str] = []
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("text: not valid UTF-8") from None
    if not isinstance(raw, str):
        raise ValueError("text: must be a string")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text: not valid UTF-8 (unpaired surrogate)") from None
    if "\ufffd" in raw:
        flags.append("replacement_characters")
    if len(raw) > MAX_CHARS:
        raw = raw[:MAX_CHARS]
        flags.append("truncated")
    stripped, had_markup = strip_markup(raw)
    if had_markup:
        flags.append("markup_removed")
    if not stripped.strip():
        raise ValueError("text: empty")
    if not _ALNUM.search(stripped):
        # Emoji-only or punctuation-only: still a signal, reported with its own flag.
        flags.append("no_words")
    # Detect before normalising: normalisation erases the Arabic-only letters.
    language = detect_language(stripped)
    text = normalize(stripped)
    fa = len(_FA_CHARS.findall(text))
    latin = len(_LATIN.findall(text))
    if fa and latin and min(fa, latin) / (fa + latin) >= 0.2:
        flags.append("mixed_script")
    return CleanText(original=raw, text=text, language=language, flags=flags)
