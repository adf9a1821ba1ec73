"""A manager's home in the order of the day: the chosen location's two audits (their due
state and when each was last done), what waits on the phone, the first open actions with
their count, then the locations as choices; with no location chosen, the choice first. And
the words the phone's scripts fill in, translated on the server."""
import json
import re
from datetime import timedelta
from html import unescape
from zoneinfo import ZoneInfo

from babel.dates import format_date

from audit_server.extensions import db
from audit_server.models.types import utcnow
from audit_server.services import accounts
from tests.helpers import (
    PASSWORD,
    PHONE_CALL,
    WALK_IN,
    failing,
    local_noon,
    set_columns,
    submit,
)

ENGLISH, SPANISH = {"Accept-Language": "en"}, {"Accept-Language": "es-ES,es;q=0.9"}
TWO_SHOPS = "lucia.pena@example.com"


def two_shops_manager(organisation):
    organisation.add_locations("N3,Nörth Thrée 🏪 \"la grande\",N,Calle Mayor 3,,Europe/Madrid")
    accounts.create_user(TWO_SHOPS, "manager", PASSWORD, [], ["N2", "N3"], name="Lucía Peña")
    db.session.commit()


def page_of(web, path, headers=ENGLISH, email=TWO_SHOPS):
    web.login(email)
    response = web.get(path, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def sections(page):
    """The ids of main's sections, in the page's order (the chosen location's card by its title)."""
    main = page[page.index("<main"):page.index("</main>")]
    return [m.group(1) or m.group(2) for m in
            re.finditer(r'<section class="[^"]*"(?: id="([\w-]+)")? aria-labelledby="([\w-]+)"', main)]


def test_with_no_location_chosen_the_choice_comes_first(web, organisation):
    two_shops_manager(organisation)
    page = page_of(web, "/")
    assert sections(page) == ["locations", "on-this-phone", "open-actions"]
    assert "Choose the location to audit" in page and "Tap the location you are at." in page
    assert 'href="/audit/' not in page  # nothing to start until she chooses
    doors = re.findall(r'<a class="location-door" href="(/l/\w+)"', page)
    choices = page.split('id="locations"')[1].split("</section>")[0]
    assert doors == ["/l/N2", "/l/N3"] and "aria-current" not in choices and "chosen" not in choices


def test_a_chosen_location_puts_its_audits_first_and_is_marked_among_the_choices(web, organisation):
    two_shops_manager(organisation)
    page = page_of(web, "/l/N3", SPANISH)
    assert sections(page) == ["chosen-title", "on-this-phone", "open-actions", "locations"]
    choices = page.split('id="locations"')[1]
    assert "Mis locales" in choices and "Toca otro local para auditarlo." in choices
    chosen = re.search(r'<li class="location-choice chosen">.*?</li>', choices, re.DOTALL).group(0)
    assert 'href="/l/N3" aria-current="true"' in chosen and "Elegido" in chosen
    assert "Nörth Thrée 🏪 &#34;la grande&#34;" in chosen
    assert choices.count('class="location-choice"') == 1  # North Two, not chosen
    # Another visit without the door remembers it.
    assert sections(page_of(web, "/"))[0] == "chosen-title"


def test_the_buttons_say_when_each_audit_was_last_done_when_it_is_due_again(client, web, organisation):
    submit(client, organisation, location="N1", at=local_noon(10))
    submit(client, organisation, location="N1", at=local_noon(2), checklist=PHONE_CALL)
    day = local_noon(10).astimezone(ZoneInfo("Europe/Madrid")).date()  # on the location's clock
    english = page_of(web, "/", email=organisation.emails["manager"])
    walk_in = re.search(r'href="/audit/walk-in\?location=\d+">(.*?)</a>', english, re.DOTALL).group(1)
    assert "Overdue by 3 days" in walk_in
    assert f'<span class="last-done">Last done {format_date(day, "medium", locale="en")}</span>' in walk_in
    phone = re.search(r'href="/audit/phone\?location=\d+">(.*?)</a>', english, re.DOTALL).group(1)
    assert "last-done" not in phone and "Done on" in phone  # done for now: the date is in its state
    spanish = page_of(web, "/", SPANISH, email=organisation.emails["manager"])
    assert f"Última vez: {format_date(day, 'medium', locale='es')}" in spanish


def test_the_first_three_open_actions_overdue_first_with_their_count_and_see_all(client, web, organisation):
    audit = submit(client, organisation, location="N1",
                   answers=failing("greeted_within_5s", "smile", "staff_available", "floor_clean"))
    late = audit["actions"][-1]["id"]
    set_columns(client.application, late, due_at=utcnow() - timedelta(days=1, hours=2))
    page = page_of(web, "/", email=organisation.emails["manager"])
    actions = page.split('id="open-actions"')[1].split("</section>")[0]
    assert 'My open corrective actions <span class="count">(4)</span>' in actions
    assert re.findall(r'href="/actions/(\d+)"', actions)[0] == str(late)  # the overdue one first
    assert len(re.findall(r'class="action-row', actions)) == 3
    assert '<span class="badge overdue">1 overdue</span>' in actions
    assert ">See all 4</a>" in actions
    spanish = page_of(web, "/", SPANISH, email=organisation.emails["manager"])
    assert ">Ver las 4</a>" in spanish and ">1 vencida</span>" in spanish


def test_what_waits_on_the_phone_is_named_by_what_the_page_knows(web, organisation):
    two_shops_manager(organisation)
    page = page_of(web, "/", SPANISH)
    found = re.search(r'<section[^>]* id="on-this-phone"[^>]*data-context="([^"]*)"', page)
    context = json.loads(unescape(found.group(1)))
    n2, n3 = organisation.locations["N2"], organisation.locations["N3"]
    assert context["locations"] == {str(n2): "North Two", str(n3): 'Nörth Thrée 🏪 "la grande"'}
    assert context["checklists"] == {
        WALK_IN: {"title": "Entrada de cinco segundos", "page": "/audit/walk-in"},
        PHONE_CALL: {"title": "Llama a tu propio número", "page": "/audit/phone"}}
    assert 'id="on-this-phone" aria-labelledby="on-this-phone-title" hidden' in page  # until the phone fills it


def queue_words(page):
    status = re.search(r'<div class="queue-status" id="queue-status"(.*?)></div>', page, re.DOTALL).group(1)
    return {name: unescape(value) for name, value in re.findall(r'data-([\w-]+)="([^"]*)"', status)}


def test_the_words_of_the_queue_are_translated_with_their_plural_forms(web, organisation):
    spanish = queue_words(page_of(web, "/", SPANISH, email=organisation.emails["manager"]))
    assert {key: spanish[key] for key in ("audits-one", "audits-other", "photos-one", "photos-other",
                                          "to-send", "both-to-send", "refused-one")} == {
        "audits-one": "%d auditoría", "audits-other": "%d auditorías",
        "photos-one": "%d foto", "photos-other": "%d fotos",
        "to-send": "{what} por enviar", "both-to-send": "{audits} y {photos} por enviar",
        "refused-one": "%d auditoría no aceptada por el servidor (guardada en este teléfono):"}
    english = queue_words(page_of(web, "/actions", email=organisation.emails["manager"]))  # every page
    assert (english["audits-one"], english["photos-other"], english["both-to-send"]) == (
        "%d audit", "%d photos", "{audits} and {photos} to send")


def test_the_regional_home_lists_what_waits_on_the_phone_and_her_locations_to_choose(web, organisation):
    page = page_of(web, "/", email=organisation.emails["regional"])
    assert sections(page)[-3:] == ["on-this-phone", "open-actions", "locations"]
    assert "Choose the location to audit" in page and 'src="/static/js/home.js"' in page


def test_an_actions_repeats_are_counted_in_words(client, web, organisation):
    action_id = submit(client, organisation, answers=failing("floor_clean"))["actions"][0]["id"]
    submit(client, organisation, answers=failing("floor_clean"))
    path = f"/actions/{action_id}"
    assert "Failed again in a later audit (1 repeat)" in page_of(web, path, email=organisation.emails["manager"])
    assert "(1 repetición)" in page_of(web, path, SPANISH, email=organisation.emails["manager"])
    submit(client, organisation, answers=failing("floor_clean"))
    assert "(2 repeticiones)" in page_of(web, path, SPANISH, email=organisation.emails["manager"])
    assert "(2 repeats)" in page_of(web, path, email=organisation.emails["manager"])
