"""The page of a location (its details, its scores over 90 days, its audits, its open
actions) and the page of a submitted audit (every answer, the score and subtotals, the
photos, the actions), each for those who may see the location only."""
import re
import uuid
from datetime import UTC, datetime, time, timedelta

import requests
import sqlalchemy as sa
from urllib3 import encode_multipart_formdata

from audit_server.extensions import db
from audit_server.models import CorrectiveAction
from audit_server.services import accounts
from tests.helpers import (
    PASSWORD,
    PHONE_CALL,
    WALK_IN,
    audit_body,
    best_walk_in,
    built_in_checklist,
    checklist_folder,
    failing,
    set_columns,
    submit,
)
from tests.photo_samples import camera_jpeg, small_jpeg

ENGLISH = {"Accept-Language": "en"}
SPANISH = {"Accept-Language": "es"}
# 20 Nov 2026, 09:30 UTC is 10:30 in Madrid (UTC+1 in winter).
SUBMITTED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def post_audit(client, organisation, answers, checklist_id=WALK_IN, location="N1", role="manager",
               at=SUBMITTED, notes=""):
    body = audit_body(organisation.locations[location], checklist_id, answers, notes=notes,
                      started_at=(at - timedelta(minutes=2)).isoformat(), submitted_at=at.isoformat())
    response = client.post("/api/v1/audits", json=body, headers=organisation.headers(role))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def attach_photo(client, organisation, audit_id, data, item_id=None, caption=""):
    fields = [("id", str(uuid.uuid4())), ("caption", caption), ("photo", ("photo.jpg", data, "image/jpeg"))]
    if item_id:
        fields.append(("item_id", item_id))
    body, content_type = encode_multipart_formdata(fields)
    response = client.post(f"/api/v1/audits/{audit_id}/photos", data=body, content_type=content_type,
                           headers=organisation.headers("manager"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def page_text(web, path, headers=ENGLISH):
    response = web.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def item_block(page, label):
    """The <li> of the answer whose label is `label`."""
    match = re.search(r'<li class="answer[^"]*">\s*<p class="answer-label">' + re.escape(label)
                      + r"</p>.*?</li>", page, re.S)
    assert match, label
    return match.group(0)


def shown_value(block):
    """The text of an answer's value and badges, as a reader sees it."""
    value = re.search(r'<p class="answer-value">(.*?)</p>', block, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", value).split())


def messy_walk_in():
    """A walk-in with a failed floor (commented), an N/A queue, a 4 of 5 and a free text.

    Scored by hand: 15 points in all, the N/A queue's 1 left out: 14. Earned: greeted 3,
    smile 2, staff 2, floor 0 (failed), entrance 1, lighting 1, smell 1, overall 4 of 5 is
    3/4 of 2 = 1.5: 11.5 of 14 = 82.1 %."""
    answers = failing("floor_clean")
    answers["floor_clean"]["comment"] = "Barro en la entrada 🥾 — ¡ojo, niños!"
    answers["queue_managed"] = {"value": "na", "comment": "No había cola 🙂"}
    answers["overall_impression"] = {"value": 4}
    answers["first_noticed"] = {"value": "Olor a café ☕ <b>fuerte</b>"}
    return answers


def test_the_audit_page_shows_every_answer_its_comment_the_score_and_the_photos(client, web, organisation):
    audit = post_audit(client, organisation, messy_walk_in(), notes="Revisión de la mañana 🌅\nTodo lo demás, bien.")
    floor_photo = attach_photo(client, organisation, audit["id"], small_jpeg(), "floor_clean", "Suelo mojado 💧")
    loose_photo = attach_photo(client, organisation, audit["id"], small_jpeg((10, 90, 200)))
    web.login(organisation.emails["manager"])
    page = page_text(web, f"/audits/{audit['id']}")

    assert "82.1&nbsp;%" in page and "11.5 of 14 points" in page
    assert "<td>11.5/14</td>" in page  # the one section's subtotal
    assert "Nov 20, 2026, 10:28" in page and "Nov 20, 2026, 10:30" in page and "(Europe/Madrid)" in page
    assert "Revisión de la mañana 🌅\nTodo lo demás, bien." in page
    assert "manager@example.com" in page  # the auditor
    assert 'href="/locations/N1"' in page

    floor = item_block(page, "Is the floor clean?")
    assert 'class="answer failed"' in floor and shown_value(floor) == "No Failed"
    assert "Barro en la entrada 🥾 — ¡ojo, niños!" in floor
    assert f'<a href="/photos/{floor_photo}/display">' in floor
    assert f'src="/photos/{floor_photo}/thumb"' in floor and "<figcaption>Suelo mojado 💧</figcaption>" in floor
    queue = item_block(page, "Is the queue being managed?")
    assert shown_value(queue) == "N/A" and "No había cola 🙂" in queue
    assert shown_value(item_block(page, "Overall impression")) == "4 / 5"
    assert shown_value(item_block(page, "What is the first thing you notice?")) == "Olor a café ☕ &lt;b&gt;fuerte&lt;/b&gt;"
    assert shown_value(item_block(page, "Were you welcomed with a smile?")) == "Yes"
    other_photos = page[page.index('id="photos-title"'):]
    assert f'src="/photos/{loose_photo}/thumb"' in other_photos

    action_id = audit["actions"][0]["id"]
    assert f'href="/actions/{action_id}"' in page and "opened by this audit" in page
    assert web.get(f"/photos/{floor_photo}/display").status_code == 200


def test_a_call_not_answered_shows_what_did_not_apply_and_the_critical_failure(client, web, organisation):
    audit = post_audit(client, organisation, {"answered": {"value": False, "comment": "Ni un tono 📵"},
                                              "call_seconds": {"value": 75}}, PHONE_CALL)
    web.login(organisation.emails["regional"])
    page = page_text(web, f"/audits/{audit['id']}", SPANISH)
    answered = item_block(page, "¿Contestaron la llamada?")
    assert "answer failed critical" in answered and shown_value(answered) == "No Falla Crítica"
    assert "Ni un tono 📵" in answered
    rings = item_block(page, "¿Cuántos tonos hasta que contestaron?")
    assert "not-applied" in rings and shown_value(rings) == "No aplicaba"
    assert shown_value(item_block(page, "Duración de la llamada (segundos)")) == "1:15"
    # Scored by hand: only "answered" (weight 3) counts, and it failed: 0 of 3.
    assert "0,0&nbsp;%" in page and "0 de 3 puntos" in page
    assert "<td>—</td><td>no cuenta</td>" in page  # "Getting help": nothing of it applied


def test_seconds_show_as_minutes_and_seconds_and_choices_by_their_label(client, web, organisation):
    answers = {"answered": {"value": True}, "rings_to_answer": {"value": 4}, "menu_easy": {"value": "na"},
               "greeting_business_name": {"value": True}, "greeting_own_name": {"value": False},
               "courtesy": {"value": 5}, "reached_person": {"value": True}, "transfers": {"value": 2},
               "warm_transfer": {"value": True}, "hold_seconds": {"value": 605},
               "not_my_department": {"value": False}, "owned": {"value": True},
               "follow_up_promised": {"value": "na"}, "useful": {"value": 3},
               "first_impression": {"value": "Amable, pero lenta 🐢"}, "call_seconds": {"value": 59}}
    audit = post_audit(client, organisation, answers, PHONE_CALL)
    web.login(organisation.emails["manager"])
    page = page_text(web, f"/audits/{audit['id']}")
    assert shown_value(item_block(page, "Seconds on hold")) == "10:05 Failed"
    assert shown_value(item_block(page, "Call length (seconds)")) == "0:59"
    assert shown_value(item_block(page, "How many times were you transferred?")) == "2"
    assert shown_value(item_block(page, "How many rings before it was answered?")) == "4"
    assert shown_value(item_block(page, "Was the phone menu easy?")) == "N/A"
    assert shown_value(item_block(page, "Courtesy")) == "5 / 5"
    assert shown_value(item_block(page, "First impression")) == "Amable, pero lenta 🐢"


def test_labels_come_from_the_checklist_version_the_audit_was_filled_against(
        client, web, web_on, organisation, make_app, tmp_path):
    changed = built_in_checklist(WALK_IN)
    changed["sections"][0]["items"][4]["label"] = {"es": "¿Suelo sin manchas? (v2)", "en": "Spotless floor? (v2)"}
    other = make_app(CHECKLISTS_DIR=str(checklist_folder(tmp_path / "v2", changed)))
    audit = post_audit(other.test_client(), organisation, failing("floor_clean"))
    web.login(organisation.emails["manager"])
    page = page_text(web, f"/audits/{audit['id']}")  # served by the app whose files are the old ones
    assert "Spotless floor? (v2)" in page and "Is the floor clean?" not in page
    assert f"version {audit['checklist_version']}" in page


def test_the_action_page_links_to_the_audits_it_lists(client, web, organisation):
    first = submit(client, organisation, answers=failing("floor_clean"), at=SUBMITTED - timedelta(days=1))
    again = submit(client, organisation, answers=failing("floor_clean"), at=SUBMITTED)
    action_id = first["actions"][0]["id"]
    web.login(organisation.emails["manager"])
    page = page_text(web, f"/actions/{action_id}")
    assert f'href="/audits/{first["id"]}"' in page and f'href="/audits/{again["id"]}"' in page
    assert 'href="/locations/N1"' in page


def test_the_location_page_shows_its_details_history_audits_and_open_actions(client, web, organisation):
    today = datetime.now(UTC).date()
    noon = lambda days_ago: datetime.combine(today - timedelta(days=days_ago), time(12), tzinfo=UTC)  # noqa: E731
    post_audit(client, organisation, best_walk_in(), at=noon(100))  # before the 90 days: listed, not drawn
    post_audit(client, organisation, failing("floor_clean"), at=noon(40))  # 13 of 15: 86.7 %
    post_audit(client, organisation, failing("greeted_within_5s"), at=noon(3))  # 12 of 15: 80 %, critical
    post_audit(client, organisation, {"answered": {"value": False}}, PHONE_CALL, at=noon(2))  # 0 %
    with client.application.app_context():
        floor, greeted = (db.session.scalar(sa.select(CorrectiveAction.id).filter_by(item_id=item))
                          for item in ("floor_clean", "greeted_within_5s"))
    set_columns(client.application, floor, due_at=datetime.now(UTC) - timedelta(days=2))
    web.login(organisation.emails["manager"])
    page = page_text(web, "/locations/N1")

    assert "North One" in page and "Street 1" in page and "North" in page and "Europe/Madrid" in page
    history = page[page.index('id="history-title"'):page.index('id="audits-title"')]
    assert history.count("<tr><th scope=\"row\">") == 3  # three audits in the last 90 days
    assert "<td>87 %</td><td>—</td>" in history and "<td>80 %</td><td>—</td>" in history
    assert "<td>—</td><td>0 %</td>" in history
    assert "(2 scores)" in history and "(1 score)" in history
    assert 'role="img"' in history and "<caption>Score of each audit of North One" in history

    audits = page[page.index('id="audits-title"'):page.index('id="open-actions-title"')]
    assert "(4)" in audits and audits.count('class="audit-row') == 4
    scores = re.findall(r'class="audit-score">([^<]+)<', audits)
    assert scores == ["0&nbsp;%", "80&nbsp;%", "87&nbsp;%", "100&nbsp;%"]  # newest first
    assert audits.count("Critical failure") == 2  # the greeting and the call not answered

    actions = page[page.index('id="open-actions-title"'):]
    assert f'href="/actions/{floor}"' in actions and f'href="/actions/{greeted}"' in actions
    assert "Overdue by 2 days" in actions


def test_the_location_page_lists_its_audits_20_a_page_newest_first(client, web, organisation):
    for n in range(23):
        post_audit(client, organisation, best_walk_in(), at=SUBMITTED - timedelta(hours=n))
    web.login(organisation.emails["manager"])
    first = page_text(web, "/locations/N1")
    assert first.count('class="audit-row') == 20 and "Page 1 of 2" in first
    assert first.index("Nov 20, 2026, 10:30") < first.index("Nov 20, 2026, 9:30")  # newest first
    assert 'href="/locations/N1?page=2#audits-title"' in first
    second = page_text(web, "/locations/N1?page=2")
    assert second.count('class="audit-row') == 3 and "Page 2 of 2" in second
    assert "Nov 19, 2026, 12:30" in second  # the 23rd: 22 hours before
    assert page_text(web, "/locations/N1?page=0").count('class="audit-row') == 20
    assert page_text(web, "/locations/N1?page=junk").count('class="audit-row') == 20
    assert "No audit on this page." in page_text(web, "/locations/N1?page=99")


def test_only_open_actions_are_listed_on_the_location_page(client, web, organisation):
    audit = submit(client, organisation, answers=failing("floor_clean", "smile"))
    floor, smile = (a["id"] for a in sorted(audit["actions"], key=lambda a: a["item_id"]))
    set_columns(client.application, smile, status="done", closed_at=datetime.now(UTC))
    web.login(organisation.emails["manager"])
    actions = page_text(web, "/locations/N1").split('id="open-actions-title"')[1]
    assert f'href="/actions/{floor}"' in actions and f'href="/actions/{smile}"' not in actions


def test_the_pages_are_not_found_out_of_scope_and_for_unknown_ids(client, web, organisation):
    n1 = submit(client, organisation)
    s1 = submit(client, organisation, role="manager_s", location="S1")
    with client.application.app_context():
        accounts.create_user("sur@example.com", "regional", PASSWORD, ["S"])
    seen = {"manager": ("N1", n1), "manager_s": ("S1", s1), "regional": ("N1", n1), "sur": ("S1", s1)}
    hidden = {"manager": ("S1", s1), "manager_s": ("N1", n1), "regional": ("S1", s1), "sur": ("N1", n1)}
    emails = dict(organisation.emails, sur="sur@example.com")
    for who in seen:
        web.login(emails[who])
        (code, audit), (other_code, other_audit) = seen[who], hidden[who]
        assert web.get(f"/locations/{code}").status_code == 200
        assert web.get(f"/audits/{audit['id']}").status_code == 200
        assert web.get(f"/locations/{other_code}").status_code == 404, who
        assert web.get(f"/audits/{other_audit['id']}").status_code == 404, who
    web.login(organisation.emails["admin"])
    assert web.get(f"/audits/{s1['id']}").status_code == 200 and web.get("/locations/N2").status_code == 200
    for path in ("/locations/NOPE", f"/audits/{uuid.uuid4()}", "/audits/not-a-uuid", "/audits/12",
                 "/locations/N1%00", "/audits/" + "f" * 33):
        response = web.get(path)
        assert response.status_code == 404 and response.mimetype == "text/html", path


def test_home_links_each_location_to_its_page(client, web, organisation):
    web.login(organisation.emails["manager"])
    page = page_text(web, "/")
    assert 'href="/locations/N1"' in page and 'href="/l/N1"' not in page  # only one: chosen, no list
    web.login(organisation.emails["regional"])
    page = page_text(web, "/")
    assert 'href="/l/N1"' in page and 'href="/l/N2"' in page  # the doors, to choose and audit
    assert 'href="/locations/N1"' in page and 'href="/locations/N2"' in page


def test_the_audit_page_and_a_photo_over_real_http(client, organisation, gunicorn_server):
    audit = post_audit(client, organisation, failing("floor_clean"))
    photo = attach_photo(client, organisation, audit["id"], camera_jpeg((1600, 1200)), "floor_clean", "Charco")
    with requests.Session() as browser:
        login = browser.get(f"{gunicorn_server}/login", timeout=30).text
        token = re.search(r'name="csrf-token" content="([^"]+)"', login).group(1)
        signed_in = browser.post(f"{gunicorn_server}/login", timeout=30, data={
            "email": organisation.emails["regional"], "password": PASSWORD, "csrf_token": token})
        assert signed_in.status_code == 200
        page = browser.get(f"{gunicorn_server}/audits/{audit['id']}", headers=ENGLISH, timeout=30)
        assert page.status_code == 200 and "Is the floor clean?" in page.text
        assert f'src="/photos/{photo}/thumb"' in page.text
        display = browser.get(f"{gunicorn_server}/photos/{photo}/display", timeout=30)
        assert display.status_code == 200 and display.headers["Content-Type"] == "image/webp"
        assert display.content[:4] == b"RIFF" and len(display.content) > 20_000
        assert browser.get(f"{gunicorn_server}/audits/{uuid.uuid4()}", timeout=30).status_code == 404


def test_dates_of_the_chart_are_the_local_dates_of_the_audits(client, web, organisation):
    """An audit at 23:30 UTC in Mexico City is on that day's local clock (17:30), one at
    23:30 UTC in Madrid on the next day (00:30): the chart's table says so."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    late = datetime.combine(yesterday, time(23, 30), tzinfo=UTC) - timedelta(days=1)
    post_audit(client, organisation, best_walk_in(), location="S1", role="manager_s", at=late)
    post_audit(client, organisation, best_walk_in(), location="N1", at=late)
    web.login(organisation.emails["admin"])
    on = late.date()
    assert f'<th scope="row">{on:%b} {on.day}, {on.year}</th>' in page_text(web, "/locations/S1")
    next_day = on + timedelta(days=1)
    assert f'<th scope="row">{next_day:%b} {next_day.day}, {next_day.year}</th>' in page_text(web, "/locations/N1")


def test_a_location_never_audited_says_so(web, organisation):
    web.login(organisation.emails["regional"])
    page = page_text(web, "/locations/N2", SPANISH)
    assert "Ninguna auditoría en los últimos 90 días." in page and "<svg class=\"line-chart\"" not in page
    assert "Todavía no hay auditorías." in page and "Nada abierto aquí." in page
    assert page.count("aún sin auditar") == 2  # no latest walk-in, no latest call
