"""The region report printed to PDF, as a regional manager does before her meeting: chromium
prints it (page.pdf, A4 landscape from the print stylesheet) and the PDF is read back with
pypdf: its pages, their size, and their text (the region, every location of the ranking,
every section; no menu, form or export link). The page in print media is checked too:
nothing of the screen's controls shows and nothing is wider than the paper."""
import io

import pytest
from pypdf import PdfReader

from tests.browser.conftest import SCREENSHOTS, Person
from tests.helpers import PHONE_CALL, failing, local_noon, phone_answers, submit

LAPTOP = {"width": 1280, "height": 900}
# A4 landscape less the stylesheet's 12 mm margins, in CSS pixels (96 to the inch): the width
# the page is laid out at on paper.
A4_LANDSCAPE_POINTS = (841.89, 595.28)
PRINTED_WIDTH = round((297 - 2 * 12) / 25.4 * 96)
LONG_NAMES = {
    "N3": "Peñíscola · Avenida del Mediterráneo Ñandú esquina Calle de los Almendros 🍊",
    "N4": "Zaragoza Ébano Centro Comercial Gran Vía Área de Restauración",
    "N5": "Logroño Calle Mayor",
}
# What the screen has and paper must not: the menu, the forms, the buttons, the exports.
SCREEN_ONLY = (".topbar", ".footer", ".skip-link", ".period-form", ".export-links", "button",
               "input", "select", "a[href*='/exports/']")


@pytest.fixture
def region_to_print(client, organisation):
    """Region N with five locations (three with long names, accents and an emoji): walk-ins
    and calls over the last weeks, some with failures (and their actions), N5 never
    audited."""
    organisation.add_locations(*[f"{code},{name},N,Calle {i},+34 900 000 01{i},Europe/Madrid"
                                 for i, (code, name) in enumerate(LONG_NAMES.items())])
    for days in (40, 26, 12, 3):
        submit(client, organisation, "admin", "N1", failing("smile", "floor_clean") if days < 20 else None,
               local_noon(days))
        submit(client, organisation, "admin", "N2", None, local_noon(days + 1))
        submit(client, organisation, "admin", "N3", failing("entrance_clear"), local_noon(days + 2))
    submit(client, organisation, "admin", "N4", failing("greeted_within_5s", "queue_managed"), local_noon(5))
    for code, days in (("N1", 9), ("N2", 4), ("N4", 20)):
        submit(client, organisation, "admin", code, phone_answers(rings_to_answer=6, hold_seconds=95),
               local_noon(days), checklist=PHONE_CALL)


@pytest.fixture
def laptop(chromium, live_server):
    """A laptop's browser in Spanish: the regional manager prints from her desk."""
    context = chromium.new_context(base_url=live_server, locale="es-ES", viewport=LAPTOP)
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


def sticking_out(page, width):
    """Every visible element of the page whose box goes past `width` (or left of 0)."""
    return page.evaluate("""width => [...document.querySelectorAll('body *')]
        .filter(e => e.checkVisibility())
        .map(e => [e, e.getBoundingClientRect()])
        .filter(([e, r]) => r.width > 0 && (r.right > width + 1 || r.left < -1))
        .map(([e, r]) => `${e.tagName.toLowerCase()}.${e.className.baseVal ?? e.className}`
                         + ` ${Math.round(r.left)}..${Math.round(r.right)}`)""", width)


def test_the_region_report_prints_to_a_clean_pdf(laptop, organisation, region_to_print):
    page = laptop
    Person(page, organisation).signs_in("regional")
    page.goto("/reports/regions/N")
    page.wait_for_selector("#ranking")
    assert page.is_visible(".export-links") and page.is_visible(".period-form")  # on screen

    # On paper: none of the screen's controls, and nothing wider than the page.
    page.set_viewport_size({"width": PRINTED_WIDTH, "height": LAPTOP["height"]})
    page.emulate_media(media="print")
    shown = [selector for selector in SCREEN_ONLY
             if any(element.is_visible() for element in page.query_selector_all(selector))]
    assert shown == []
    assert sticking_out(page, PRINTED_WIDTH) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PRINTED_WIDTH
    for table in page.query_selector_all("main table"):  # every table whole, and printed
        if table.is_visible():
            box = table.bounding_box()
            assert box["width"] > 0 and box["x"] >= 0 and box["x"] + box["width"] <= PRINTED_WIDTH + 1
    charts = [c for c in page.query_selector_all("main svg.line-chart") if c.is_visible()]
    assert charts and all(0 < c.bounding_box()["width"] <= PRINTED_WIDTH for c in charts)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "print-1-region-es.png"), full_page=True)

    # The PDF chromium prints, read back.
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (SCREENSHOTS / "print-2-region-es.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 8, len(reader.pages)
    for paper in reader.pages:  # A4 landscape, from the stylesheet's @page
        assert (round(float(paper.mediabox.width)), round(float(paper.mediabox.height))) == tuple(
            round(points) for points in A4_LANDSCAPE_POINTS)
    texts = [paper.extract_text() for paper in reader.pages]
    assert all(text.strip() for text in texts)  # no blank page
    text = " ".join(" ".join(texts).split())  # lines joined: long names wrap in their cells
    assert "North" in texts[0] and "Informe de la región" in texts[0]
    for name in ("North One", "North Two", *LONG_NAMES.values()):
        assert " ".join(name.replace("🍊", "").split()) in text, name
    for heading in ("Cobertura", "Cerradas a tiempo", "Atrasados ahora, el peor primero"):
        assert heading in text, heading
    for screen_only in ("Descargar lo que muestra esta página", "Excel"):
        assert screen_only not in text
