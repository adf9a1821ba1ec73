"""Review and send: before sending, the review (score so far, failed items, missing photos)
goes back to any item; after sending, the summary says whether the audit was sent or
waits on the phone, compares it with the last audit here and names the actions it opened
or was linked to, with their owner and deadline."""
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from audit_server.extensions import db
from audit_server.models import Audit, CorrectiveAction
from tests.helpers import PHONE_CALL, failing, submit

DAY = timedelta(days=1)
# A walk-in in which only the floor and the entrance fail, as the phone's form gives it.
TWO_FAIL = {"greeted_within_5s": "yes", "smile": "yes", "staff_available": "yes", "floor_clean": "no",
            "entrance_clear": "no", "lighting_signage": "yes", "queue_managed": "na", "smell_noise": "yes",
            "overall_impression": "4"}


WALK_IN_FILE = Path(__file__).resolve().parents[2] / "checklists" / "five_second_walk_in.json"


def guidance(item_id, language):
    """What good looks like for an item of the built-in walk-in, as its file says it."""
    items = [item for section in json.loads(WALK_IN_FILE.read_text())["sections"] for item in section["items"]]
    return next(item for item in items if item["id"] == item_id)["guidance"][language]


def stored(model):
    db.session.rollback()  # see what the server committed since
    return db.session.scalars(sa.select(model)).all()


def earlier_walk_in(client, organisation, answers=None, days_ago=2):
    return submit(client, organisation, answers=answers,
                  at=datetime.now(timezone.utc).replace(microsecond=0) - days_ago * DAY)


def review_list(page, name):
    return page.locator(f"#review [data-list={name}] li")


def shows_no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def looks_at_both_widths(person, name):
    """Screenshots at 390 and 360 px; at each, nothing sticks out sideways."""
    page = person.page
    for width in (390, 360):
        page.set_viewport_size({"width": width, "height": 800})
        assert shows_no_sideways_scroll(page), (name, width)
        person.looks_at(f"review-send-{name}-{width}")
    page.set_viewport_size({"width": 390, "height": 844})


@pytest.mark.phone_locale("es-ES")
def test_a_review_goes_back_to_an_item_then_the_summary_names_the_actions(person, organisation, client):
    page = person.page
    earlier_walk_in(client, organisation)  # 100 % two days ago
    person.signs_in()
    person.page.click("text=Entra como un cliente")
    page.click("#start-walk-in")
    page.wait_for_selector("#audit-form:not([hidden])", timeout=8000)
    page.fill("#first_noticed", "Olía a café ☕ y la alfombra estaba torcida")
    assert page.inner_text("#review [data-review=percent]") == "—"  # nothing scored yet
    for item_id, value in TWO_FAIL.items():
        person.answers(item_id, value)
    expect(review_list(page, "failed")).to_have_text(["¿El suelo está limpio?", "¿La entrada está despejada?"])
    expect(review_list(page, "photos")).to_have_text(["¿El suelo está limpio?", "¿La entrada está despejada?"])
    expect(page.locator("#review [data-list=unanswered]")).to_be_hidden()
    first_score = page.get_attribute("#review [data-review=percent]", "data-percent")
    page.set_input_files("#floor_clean-photo", person.camera_photo())
    page.wait_for_selector("#item-floor_clean .photo-status:has-text('Foto guardada')")
    expect(review_list(page, "photos")).to_have_text(["¿La entrada está despejada?"])
    looks_at_both_widths(person, "review")
    assert person.serious_accessibility_problems() == []

    # Back to the entrance from the review: the item comes into view with its answer focused.
    page.click("#review [data-list=failed] >> text=¿La entrada está despejada?")
    assert page.evaluate("document.activeElement.id") == "entrance_clear-no"
    assert page.evaluate("""() => { const r = document.getElementById("item-entrance_clear").getBoundingClientRect();
                                    return r.top > 0 && r.top < 40; }""")  # at the top of the screen
    back = page.locator("#item-entrance_clear #back-to-review")
    assert back.is_visible() and back.bounding_box()["height"] >= 44
    person.looks_at("review-send-back-to-an-item-390")
    person.answers("entrance_clear", "yes")  # it was clear after all
    back.click()
    assert page.is_hidden("#back-to-review")
    assert page.evaluate("document.activeElement.id") == "review"
    expect(review_list(page, "failed")).to_have_text(["¿El suelo está limpio?"])
    expect(page.locator("#review [data-list=photos]")).to_be_hidden()
    reviewed = page.get_attribute("#review [data-review=percent]", "data-percent")
    assert float(reviewed) > float(first_score)

    page.click("text=Enviar la auditoría")
    page.wait_for_selector("#summary[data-state=sent]")
    [_, audit] = sorted(stored(Audit), key=lambda a: a.submitted_at)
    assert float(reviewed) == audit.score_percent  # the review said what the server scored
    summary = page.locator("#summary")
    assert page.inner_text("#summary [data-field=percent]") == f"{round(audit.score_percent)} %"
    assert page.inner_text("[data-field=sent]").startswith("Enviada a las ")
    compare = page.inner_text("[data-field=compare]")
    assert compare.startswith("Baja desde 100 % en la última auditoría aquí, el ")
    assert "down" in page.get_attribute("[data-field=compare]", "class")
    [action] = stored(CorrectiveAction)
    entry = summary.locator(".summary-actions li")
    assert entry.count() == 1
    assert entry.locator("a").get_attribute("href") == f"/actions/{action.id}"
    meta = entry.locator(".action-meta").inner_text()
    assert meta.startswith("manager@example.com · vence el ") and meta.endswith("23:59")
    assert f" {action.due_local.day} " in meta  # the deadline's day on Madrid's clock
    assert page.get_attribute("[data-field=audit-link]", "href") == f"/audits/{audit.id}"
    assert "¿El suelo está limpio?" in page.inner_text("#summary [data-field=failed]")
    floor = summary.locator("[data-field=failed] li", has_text="¿El suelo está limpio?")
    assert floor.locator(".guidance").inner_text() == guidance("floor_clean", "es")  # what good looks like
    assert page.is_hidden("#summary [data-field=photos-missing]")
    looks_at_both_widths(person, "summary")
    assert person.serious_accessibility_problems() == []
    page.click("[data-field=audit-link]")
    page.wait_for_url(f"**/audits/{audit.id}")


def test_a_repeated_failure_links_to_the_open_action_and_the_score_goes_up(person, organisation, client):
    page = person.page
    earlier = earlier_walk_in(client, organisation, answers=failing("floor_clean", "smile", "staff_available"))
    person.signs_in()
    person.walks_in()
    page.fill("#first_noticed", "A wet floor by the door")
    for item_id, value in dict(TWO_FAIL, entrance_clear="yes").items():
        person.answers(item_id, value)
    page.click("text=Send the audit")
    page.wait_for_selector("#summary[data-state=sent]")
    assert page.inner_text("[data-field=compare]").startswith(
        f"Up from {round(earlier['score']['percent'])} % at the last audit here, on ")
    [entry] = page.locator(".summary-actions li").all()
    opened = next(a for a in earlier["actions"] if a["item_id"] == "floor_clean")
    assert entry.locator("a").get_attribute("href") == f"/actions/{opened['id']}"
    assert "Already open: this failure was added to it." in entry.inner_text()
    [failed] = page.locator("#summary [data-field=failed] li").all()
    assert failed.locator("strong").inner_text() == "Is the floor clean?"
    assert failed.locator(".guidance").inner_text() == guidance("floor_clean", "en")
    person.looks_at("review-send-linked-390")


@pytest.mark.phone_locale("es-ES")
def test_offline_the_summary_says_saved_then_sent_when_the_signal_comes_back(person, organisation):
    page, context = person.page, person.page.context
    person.signs_in()
    person.waits_for_the_service_worker()
    person.waits_for_the_audit_pages_in_the_cache()
    context.set_offline(True)
    page.click("text=Entra como un cliente")
    page.click("#start-walk-in")
    page.wait_for_selector("#audit-form:not([hidden])", timeout=8000)
    page.fill("#first_noticed", "Sin cobertura en la puerta 📵")
    for item_id, value in dict(TWO_FAIL, greeted_within_5s="no").items():
        person.answers(item_id, value)
    assert page.is_visible("#review [data-review=critical]")
    reviewed = page.get_attribute("#review [data-review=percent]", "data-percent")
    page.click("text=Enviar la auditoría")
    page.wait_for_selector("#summary[data-state=queued]")
    assert page.inner_text("#summary [data-state=queued]") == (
        "Guardada en este móvil; se enviará cuando haya cobertura.")
    # What the phone knows already: its own score, the failures, the photos to take.
    assert page.inner_text("#summary [data-field=percent]") == f"{round(float(reviewed))} %"
    assert page.is_visible("#summary [data-field=critical]")
    assert "¿Alguien te miró o te saludó" in page.inner_text("#summary [data-field=failed]")
    assert page.is_hidden("#summary [data-field=actions]") and page.is_hidden("[data-field=audit-link]")
    looks_at_both_widths(person, "offline-queued")
    assert stored(Audit) == []

    context.set_offline(False)
    page.wait_for_selector("#summary[data-state=sent]", timeout=20000)
    assert page.inner_text("[data-field=sent]").startswith("Enviada a las ")
    assert page.is_hidden("#summary [data-state=queued]")
    assert page.inner_text("[data-field=compare]") == "Es la primera auditoría de este tipo aquí."
    [audit] = stored(Audit)
    assert float(reviewed) == audit.score_percent
    assert page.locator(".summary-actions li").count() == 3  # the greeting, the floor, the entrance
    looks_at_both_widths(person, "offline-sent")


# Answer sets for the phone audit: (the form's answers, the numbers typed). Bands at their
# edges, N/A, a critical failure, an unanswered call where nothing else applies.
PHONE_SETS = [
    ({"answered": "yes", "menu_easy": "na", "greeting_business_name": "yes", "greeting_own_name": "no",
      "courtesy": "3", "reached_person": "yes", "warm_transfer": "na", "not_my_department": "yes",
      "owned": "yes", "follow_up_promised": "na", "useful": "2"},
     {"rings_to_answer": "5", "transfers": "2", "hold_seconds": "31"}),
    ({"answered": "yes", "menu_easy": "no", "greeting_business_name": "no", "greeting_own_name": "yes",
      "courtesy": "5", "reached_person": "no", "warm_transfer": "yes", "not_my_department": "no",
      "owned": "no", "follow_up_promised": "yes", "useful": "4"},
     {"rings_to_answer": "6", "transfers": "1", "hold_seconds": "91"}),
    ({"answered": "no"}, {"call_seconds": "40"}),
    ({"answered": "yes", "menu_easy": "yes", "greeting_business_name": "yes", "greeting_own_name": "yes",
      "courtesy": "4", "reached_person": "yes", "warm_transfer": "no", "not_my_department": "no",
      "owned": "yes", "follow_up_promised": "no", "useful": "5"},
     {"rings_to_answer": "3", "transfers": "3", "hold_seconds": "90"}),
]


def test_the_review_s_score_is_the_server_s_for_every_kind_of_answer(person, organisation):
    """The review adds up the points the page was given; the server scores the answers
    itself. Across bands at their edges, N/A, critical failures and items that do not
    apply, the two agree to the decimal."""
    page = person.page
    person.signs_in()
    for answers, numbers in PHONE_SETS:
        page.goto("/audit/phone")
        page.wait_for_selector("#review")
        for item_id, value in answers.items():
            person.answers(item_id, value)
        for item_id, value in numbers.items():
            page.fill(f"#{item_id}", value)
        reviewed = page.get_attribute("#review [data-review=percent]", "data-percent")
        page.click("text=Send the audit")
        page.wait_for_selector("#summary[data-state=sent]")
        sent = page.get_attribute("#summary [data-field=percent]", "data-percent")
        assert reviewed == sent, (answers, numbers)
    scores = sorted(a.score_percent for a in stored(Audit) if a.checklist_id == PHONE_CALL)
    assert len(scores) == len(PHONE_SETS) and len(set(scores)) == len(PHONE_SETS)
    # The walk-in: N/A, a rating, a critical failure, all failed.
    for change in ({"queue_managed": "na", "overall_impression": "3"},
                   {"greeted_within_5s": "no", "smile": "no", "overall_impression": "2"},
                   {item: "no" for item in TWO_FAIL if item != "overall_impression"} | {"overall_impression": "1"}):
        page.goto("/audit/walk-in")
        page.click("#start-walk-in")
        page.wait_for_selector("#audit-form:not([hidden])", timeout=8000)
        page.fill("#first_noticed", "Señales nuevas, cola larga")
        for item_id, value in (TWO_FAIL | {"floor_clean": "yes", "entrance_clear": "yes"} | change).items():
            person.answers(item_id, value)
        reviewed = page.get_attribute("#review [data-review=percent]", "data-percent")
        page.click("text=Send the audit")
        page.wait_for_selector("#summary[data-state=sent]")
        assert reviewed == page.get_attribute("#summary [data-field=percent]", "data-percent"), change
    walk_ins = [a.score_percent for a in stored(Audit) if a.checklist_id != PHONE_CALL]
    assert sorted(walk_ins) == sorted({*walk_ins}) and 0.0 in walk_ins
