"""Translation catalogues without GNU gettext: extract, update, compile and check.

    python scripts/i18n.py extract   # update locale/*/LC_MESSAGES/django.po from the source
    python scripts/i18n.py compile   # write the .mo files next to them
    python scripts/i18n.py check     # exit 1 when a string is missing, empty or fuzzy
    (add ``--lang tr|sr_Latn|fa`` to work on one catalogue)

Python files are read with Babel's extractor; templates are first turned into Python by
Django's own ``templatize`` (what ``makemessages`` does), so every ``{% translate %}`` and
``{% blocktranslate %}`` is found. Only Python and Babel are needed, so this works on a fresh
machine and in the test suite (tests/test_i18n.py).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "vefa"
LOCALE = SRC / "locale"
LANGUAGES = {"tr": "tr", "sr_Latn": "sr_Latn", "fa": "fa"}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}

Message = tuple[
    str | tuple[str, str], str | None, str
]  # (id or (singular, plural), context, where)


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    os.environ.setdefault("VEFA_TESTING", "1")
    import django

    django.setup()


def _source_files() -> Iterator[Path]:
    for path in sorted(SRC.rglob("*")):
        if "migrations" in path.parts or "__pycache__" in path.parts or "static" in path.parts:
            continue
        if path.suffix in {".py", ".html", ".txt"} and path.is_file():
            yield path


def extract() -> list[Message]:
    """Every translatable string in the source: (msgid or (singular, plural), context, file)."""
    from babel.messages.extract import extract_python
    from django.utils.translation.template import templatize

    _setup_django()
    found: list[Message] = []
    for path in _source_files():
        text = path.read_text(encoding="utf-8")
        if path.suffix != ".py":
            if "trans" not in text:
                continue
            # Indentation of the templatized text means nothing and trips the tokenizer;
            # string literals are repr()-escaped, so stripping it is safe.
            text = "\n".join(
                line.lstrip() for line in templatize(text, origin=str(path)).splitlines()
            )
        rel = str(path.relative_to(ROOT))
        for lineno, _funcname, message, _comments in extract_python(
            io.BytesIO(text.encode("utf-8")), KEYWORDS, [], {}
        ):
            context = None
            if _funcname.startswith(("pgettext", "npgettext")):
                context, *rest = message
                message = tuple(rest) if len(rest) > 1 else rest[0]
            if isinstance(message, tuple):
                if not message[0]:
                    continue
                key: str | tuple[str, str] = (message[0], message[1])
            else:
                if not message:
                    continue
                key = message
            found.append((key, context, f"{rel}:{lineno}"))
    return found


def _catalog_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.po"


def _selected_languages() -> list[str]:
    """``--lang fa`` limits extract/compile/check to one catalogue."""
    if "--lang" in sys.argv:
        lang = sys.argv[sys.argv.index("--lang") + 1]
        if lang not in LANGUAGES:
            raise SystemExit(f"unknown language {lang!r}; one of {', '.join(LANGUAGES)}")
        return [lang]
    return list(LANGUAGES)


def update() -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    messages = extract()
    template = Catalog(project="Vefa", charset="utf-8")
    for key, context, where in messages:
        file, line = where.rsplit(":", 1)
        template.add(key, locations=[(file, int(line))], context=context)
    for lang in _selected_languages():
        path = _catalog_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
        else:
            catalog = Catalog(locale=lang, project="Vefa", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, sort_output=False)
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages")


def compile_all() -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for lang in _selected_languages():
        path = _catalog_path(lang)
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        with path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)


def _mo_bytes(catalog: object) -> bytes:
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)  # type: ignore[arg-type]
    return buffer.getvalue()


def problems() -> list[str]:
    """Strings in the source that a catalogue lacks, leaves empty or marks fuzzy."""
    from babel.messages.pofile import read_po

    found: list[str] = []
    messages = extract()
    for lang in _selected_languages():
        path = _catalog_path(lang)
        if not path.exists():
            found.append(f"{lang}: no catalogue at {path.relative_to(ROOT)}")
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        for key, context, where in messages:
            msgid = key[0] if isinstance(key, tuple) else key
            entry = catalog.get(msgid, context=context)
            if entry is None:
                found.append(f"{lang}: missing {msgid!r} ({where})")
            elif entry.fuzzy:
                found.append(f"{lang}: fuzzy {msgid!r} ({where})")
            else:
                strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
                if not all(s and s.strip() for s in strings):
                    found.append(f"{lang}: untranslated {msgid!r} ({where})")
        mo = path.with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != _mo_bytes(catalog):
            found.append(
                f"{lang}: {mo.relative_to(ROOT)} does not match its .po: run make messages"
            )
    return found


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "extract":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        issues = problems()
        for line in issues:
            print(line)
        return 1 if issues else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
