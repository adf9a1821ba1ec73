"""Every UI string has its Spanish translation."""
from pathlib import Path

from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "audit_server" / "translations"


def test_every_message_is_translated_to_spanish():
    with open(TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalogue = read_po(po)
    untranslated = [m.id for m in catalogue if m.id and not m.string]
    assert untranslated == []


def test_the_catalogues_know_every_extracted_message():
    with open(TRANSLATIONS / "messages.pot", "rb") as pot:
        template = {m.id for m in read_po(pot) if m.id}
    for language in ("es", "en"):
        with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
            assert template <= {m.id for m in read_po(po) if m.id}, language


def test_the_catalogues_are_compiled():
    """`make test` and `make run` compile them (`make translations`); bare pytest does not."""
    for language in ("es", "en"):
        compiled = TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo"
        po = compiled.with_suffix(".po")
        assert compiled.exists() and compiled.stat().st_mtime >= po.stat().st_mtime, (
            f"{compiled} is missing or older than its .po: run `make translations`")
