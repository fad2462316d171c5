"""Message catalogues: extract the dashboard's strings, update the .po files, compile the .mo.

``python -m safar.web.catalog`` after changing visible text; translate the new empty entries in
``locale/fa/LC_MESSAGES/messages.po`` and run it again (tests fail while one is missing).
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

WEB = Path(__file__).parent
LOCALE_DIR = WEB / "locale"
TRANSLATED = ("fa",)
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "N_": None, "gettext": None}
#: Presentation modules outside the dashboard whose sentences it shows (marked with ``N_``).
SHARED = [(WEB.parent / "journeys", [("findings.py", "python"), ("persona_findings.py", "python")])]


def extract() -> Catalog:
    """Every string marked in the templates (``_()``) and Python (``N_()``) of the dashboard."""
    template = Catalog(project="safar", domain="messages")
    sources = [(WEB, METHODS), *SHARED]
    for root, methods in sources:
        for filename, lineno, message, comments, context in extract_from_dir(
            str(root), method_map=methods, keywords=KEYWORDS
        ):
            template.add(
                message, None, [(filename, lineno)], auto_comments=comments, context=context
            )
    return template


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def load(language: str) -> Catalog:
    with po_path(language).open("rb") as fh:
        return read_po(fh, locale=language)


def update(language: str) -> Catalog:
    """Merge newly extracted strings into the language's catalogue (keeping translations)."""
    path = po_path(language)
    catalog = load(language) if path.exists() else Catalog(locale=language, domain="messages")
    catalog.update(extract(), no_fuzzy_matching=True)
    catalog.fuzzy = False
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, omit_header=False, sort_output=True, no_location=True, width=100)
    return catalog


def compiled(language: str) -> bytes:
    buf = BytesIO()
    write_mo(buf, load(language))
    return buf.getvalue()


def compile_mo(language: str) -> Path:
    mo = po_path(language).with_suffix(".mo")
    mo.write_bytes(compiled(language))
    return mo


def missing(language: str) -> list[str]:
    """Marked strings with no (or a fuzzy) translation in ``language``."""
    catalog = load(language)
    out = []
    for message in extract():
        if not message.id:
            continue
        entry = catalog.get(message.id)
        if entry is None or not entry.string or entry.fuzzy:
            out.append(str(message.id))
    return sorted(out)


def main() -> None:
    for language in TRANSLATED:
        update(language)
        compile_mo(language)
        gaps = missing(language)
        print(f"{language}: {len(gaps)} untranslated")
        for msg in gaps:
            print(f"  {msg!r}")


if __name__ == "__main__":
    main()
