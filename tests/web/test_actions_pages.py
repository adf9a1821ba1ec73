"""The corrective-action pages: "My actions", one action's page and its forms."""
import io
import re
import uuid
from datetime import datetime, timedelta, timezone

from audit_server.extensions import db
from audit_server.models import CorrectiveAction
from audit_server.services.photos import DecodingSlots
from audit_server.storage import LocalPhotoStore
from tests.helpers import WALK_IN, built_in_checklist, built_in_without, checklist_folder, failing, set_columns, submit
from tests.photo_samples import png_claiming, small_jpeg

ENGLISH = {"Accept-Language": "en"}


def opened_actions(client, organisation, *items, location="N1"):
    """Submit a walk-in where `items` failed; {item id: action id}."""
    role = "manager_s" if location == "S1" else "manager"
    audit = submit(client, organisation, role=role, location=location, answers=failing(*items))
    return {a["item_id"]: a["id"] for a in audit["actions"]}


def stored(action_id):
    db.session.rollback()  # see what the requests committed
    return db.session.get(CorrectiveAction, action_id)


def page_of(web, path):
    response = web.get(path, headers=ENGLISH)
    return response.status_code, response.get_data(as_text=True)


def change(web, action_id, **form):
    """POST one of the action page's forms, with the version the page was rendered with."""
    form.setdefault("version", stored(action_id).version)
    return web.post(f"/actions/{action_id}", form, headers=ENGLISH)


def after_photo(web, action_id, photo_id=None, data=None):
    form = {"photo_id": str(photo_id or uuid.uuid4()),
            "photo": (io.BytesIO(data or small_jpeg()), "after.jpg"), "caption": "Dry now"}
    return web.post(f"/actions/{action_id}/photo", form, headers=ENGLISH,
                    content_type="multipart/form-data")


def test_my_actions_put_overdue_first_with_a_badge_and_local_deadlines(client, web, organisation):
    ids = opened_actions(client, organisation, "floor_clean", "smile", "entrance_clear")
    now = datetime.now(timezone.utc)
    set_columns(client.application, ids["smile"], due_at=now - timedelta(days=3, hours=1))
    later = datetime(2030, 1, 1, 8, 0, tzinfo=timezone.utc)
    set_columns(client.application, ids["floor_clean"], due_at=later.replace(hour=23, minute=30))
    set_columns(client.application, ids["entrance_clear"], due_at=later)
    web.login(organisation.emails["manager"])
    status, page = page_of(web, "/actions")
    assert status == 200
    order = [int(i) for i in re.findall(r'href="/actions/(\d+)"', page)]
    assert order == [ids["smile"], ids["entrance_clear"], ids["floor_clean"]]
    assert "Overdue by 3 days" in page and page.count("badge overdue") == 1
    assert "Jan 2, 2030, 12:30" in page  # 23:30 UTC on Madrid's clock
    assert "Welcome every customer with a smile" in page and "North One" in page and "Open" in page
    home = web.get("/", headers=ENGLISH).get_data(as_text=True)
    late, soon = (home.index(f'href="/actions/{ids[item]}"') for item in ("smile", "entrance_clear"))
    assert late < soon
    assert "Overdue by 3 days" in home and 'href="/actions"' in home


def test_mine_or_all_i_can_see_and_pages(client, web, organisation):
    mine = opened_actions(client, organisation, "floor_clean", location="N1")
    submit(client, organisation, role="admin", location="N2", answers=failing("smile", "entrance_clear"))
    south = opened_actions(client, organisation, "smile", location="S1")
    web.login(organisation.emails["regional"])
    _status, page = page_of(web, "/actions")
    assert "Nothing waits for you" in page and "See every action I can see" in page  # owns none
    _status, page = page_of(web, "/actions?show=all")
    assert page.count('class="action-row') == 3 and "manager@example.com" in page
    assert f'/actions/{south["smile"]}"' not in page  # another region's
    _status, page = page_of(web, "/actions?show=all&page=2")
    assert 'class="action-row' not in page  # 20 a page: all on the first
    assert page_of(web, "/actions?page=junk")[0] == 200
    assert page_of(web, "/actions?page=99999999999999999999")[0] == 200
    web.login(organisation.emails["manager"])
    _status, page = page_of(web, "/actions")
    assert page.count('class="action-row') == 1 and f'/actions/{mine["floor_clean"]}"' in page


def test_verified_actions_leave_the_list(client, web, organisation):
    ids = opened_actions(client, organisation, "smile")
    set_columns(client.application, ids["smile"], status="verified")
    web.login(organisation.emails["manager"])
    assert 'class="action-row' not in page_of(web, "/actions")[1]


def test_the_action_page_shows_the_action_and_its_timeline(client, web, organisation):
    ids = opened_actions(client, organisation, "floor_clean")
    web.login(organisation.emails["manager"])
    status, page = page_of(web, f"/actions/{ids['floor_clean']}")
    assert status == 200
    assert "Clean and dry the entrance floor" in page and "North One" in page
    assert "manager@example.com" in page  # the owner
    assert "the audit of" in page and "score" in page
    assert "Opened: the item failed in an audit" in page
    assert 'value="in_progress"' in page and 'value="done"' in page and 'value="verified"' not in page
    assert 'capture="environment"' in page and 'name="version" value="1"' in page
    assert 'This item also needs an "after" photo' in page
    owners = re.search(r'<select id="owner".*?</select>', page, re.S).group(0)
    assert "regional@example.com" in owners and "admin@example.com" in owners  # they see N1
    assert "south@example.com" not in owners and "manager@example.com" not in owners  # S1; the owner


def test_actions_out_of_scope_are_not_found(client, web, organisation):
    ids = opened_actions(client, organisation, "smile", location="S1")
    web.login(organisation.emails["manager"])
    assert page_of(web, f"/actions/{ids['smile']}")[0] == 404
    assert change(web, ids["smile"], note="Hello").status_code == 404
    assert after_photo(web, ids["smile"]).status_code == 404
    assert page_of(web, "/actions/2147483648")[0] == 404
    assert stored(ids["smile"]).version == 1


def test_moving_the_status_with_a_note(client, web, organisation):
    ids = opened_actions(client, organisation, "smile")
    web.login(organisation.emails["manager"])
    response = change(web, ids["smile"], status="in_progress", note="")
    assert response.status_code == 302 and response.location == f"/actions/{ids['smile']}"
    _status, page = page_of(web, f"/actions/{ids['smile']}")
    assert "Status changed: In progress." in page and "Status: Open → In progress" in page
    assert change(web, ids["smile"], status="done", note="Talked with the team").status_code == 302
    action = stored(ids["smile"])
    assert action.status == "done" and action.events[-1].note == "Talked with the team"
    _status, page = page_of(web, f"/actions/{ids['smile']}")
    assert 'value="reopened"' in page and 'value="verified"' not in page  # a manager cannot verify


def test_a_note_is_required_to_close_and_what_was_typed_stays(client, web, organisation):
    ids = opened_actions(client, organisation, "smile")
    web.login(organisation.emails["manager"])
    response = change(web, ids["smile"], status="done", note="  ")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Write a note first: say what was done, or why." in page and 'role="alert"' in page
    assert stored(ids["smile"]).status == "open"


def test_closing_without_the_after_photo_is_refused_readably(client, web, organisation):
    ids = opened_actions(client, organisation, "floor_clean")
    web.login(organisation.emails["manager"])
    response = change(web, ids["floor_clean"], status="done", note="Mopped")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This item needs an &#34;after&#34; photo of the fix" in page
    assert ">Mopped</textarea>" in page  # kept in the status form
    assert stored(ids["floor_clean"]).status == "open"


def test_a_move_the_status_does_not_allow_says_so(client, web, organisation):
    ids = opened_actions(client, organisation, "smile")
    web.login(organisation.emails["manager"])
    response = change(web, ids["smile"], status="reopened", note="Why not")
    assert response.status_code == 422
    assert "That move is not possible" in response.get_data(as_text=True)
    response = change(web, ids["smile"], status="teleported")
    assert response.status_code == 422 and "That move is not possible" in response.get_data(as_text=True)


def test_only_those_allowed_see_and_use_verify(client, web, organisation):
    ids = opened_actions(client, organisation, "smile")
    set_columns(client.application, ids["smile"], status="done",
                closed_at=datetime.now(timezone.utc))
    web.login(organisation.emails["manager"])
    response = change(web, ids["smile"], status="verified")
    assert response.status_code == 403 and "Only a regional manager" in response.get_data(as_text=True)
    web.login(organisation.emails["regional"])
    assert 'value="verified"' in page_of(web, f"/actions/{ids['smile']}")[1]
    assert change(web, ids["smile"], status="verified").status_code == 302
    _status, page = page_of(web, f"/actions/{ids['smile']}")
    assert stored(ids["smile"]).status == "verified"
    assert 'name="status"' not in page and 'name="owner_id"' not in page  # final


def test_reassigning_needs_a_reason_and_someone_who_sees_the_location(client, web, organisation):
    ids = opened_actions(client, organisation, "smile")
    web.login(organisation.emails["manager"])
    regional = organisation.ids["regional"]
    response = change(web, ids["smile"], owner_id=str(regional), reason="")
    assert response.status_code == 422
    assert "Give a reason for the reassignment." in response.get_data(as_text=True)
    response = change(web, ids["smile"], owner_id=str(organisation.ids["manager_s"]), reason="South?")
    assert response.status_code == 422 and "Choose someone else" in response.get_data(as_text=True)
    response = change(web, ids["smile"], owner_id="nobody", reason="Junk")
    assert response.status_code == 422
    assert stored(ids["smile"]).owner_id == organisation.ids["manager"]
    response = change(web, ids["smile"], owner_id=str(regional), reason="Needs a budget")
    assert response.status_code == 302
    assert stored(ids["smile"]).owner_id == regional
    _status, page = page_of(web, f"/actions/{ids['smile']}")
    assert "Reassigned to regional@example.com." in page
    assert "Reassigned from manager@example.com to regional@example.com" in page
    assert "Needs a budget" in page


def test_a_note_alone(client, web, organisation):
    ids = opened_actions(client, organisation, "smile")
    web.login(organisation.emails["manager"])
    assert change(web, ids["smile"], note="").status_code == 422
    assert change(web, ids["smile"], note="Cleaner booked for Monday").status_code == 302
    _status, page = page_of(web, f"/actions/{ids['smile']}")
    assert "Note added." in page and "Cleaner booked for Monday" in page


def test_a_stale_version_shows_the_current_state_not_an_error_page(client, web, organisation):
    ids = opened_actions(client, organisation, "smile")
    web.login(organisation.emails["manager"])
    assert change(web, ids["smile"], note="First").status_code == 302  # version 1 -> 2
    response = change(web, ids["smile"], version="1", status="in_progress", note="Late")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone changed this action meanwhile" in page
    assert 'name="version" value="2"' in page and "First" in page and ">Late</textarea>" in page
    assert stored(ids["smile"]).status == "open"
    for version in ("", "junk", "-1", "99999999999"):
        response = change(web, ids["smile"], version=version, note="x")
        assert response.status_code == 422
        assert "The form was not filled in correctly." in response.get_data(as_text=True)


def test_bad_forms_are_refused_readably_never_with_an_error_page(client, web, organisation):
    ids = opened_actions(client, organisation, "smile")
    web.login(organisation.emails["manager"])
    regional = str(organisation.ids["regional"])
    for form in ({"note": "x" * 2001}, {"owner_id": "99999999999", "reason": "Why"},
                 {"status": "done", "owner_id": regional, "reason": "Both"},
                 {"reason": "No owner"}, {"owner_id": regional, "note": "Not a reason"}):
        response = change(web, ids["smile"], **form)
        assert response.status_code == 422, form
        assert "The form was not filled in correctly." in response.get_data(as_text=True)
    assert stored(ids["smile"]).version == 1


def test_the_service_worker_keeps_the_action_script(client, organisation):
    worker = client.get("/sw.js").get_data(as_text=True)
    assert "/static/js/action.js" in worker and "/static/js/photo.js" in worker


def test_every_form_needs_the_csrf_token(client, web, organisation):
    ids = opened_actions(client, organisation, "smile")
    web.login(organisation.emails["manager"])
    response = web.open("POST", f"/actions/{ids['smile']}", data={"version": "1", "note": "Hi"})
    assert response.status_code == 400 and response.mimetype == "text/html"
    response = web.open("POST", f"/actions/{ids['smile']}/photo",
                        data={"photo_id": str(uuid.uuid4()), "photo": (io.BytesIO(small_jpeg()), "a.jpg")})
    assert response.status_code == 400
    assert stored(ids["smile"]).version == 1


def test_the_after_photo_through_the_page_then_done(client, web, organisation):
    ids = opened_actions(client, organisation, "floor_clean")
    web.login(organisation.emails["manager"])
    photo_id = uuid.uuid4()
    response = after_photo(web, ids["floor_clean"], photo_id)
    assert response.status_code == 302
    assert after_photo(web, ids["floor_clean"], photo_id).status_code == 302  # a resend: harmless
    action = stored(ids["floor_clean"])
    assert action.after_photo_id == photo_id
    assert [e.kind for e in action.events].count("photo") == 1
    _status, page = page_of(web, f"/actions/{ids['floor_clean']}")
    assert f"/photos/{photo_id}/thumb" in page and "The after photo is added." in page
    assert "Added the after photo" in page and "Dry now" in page
    assert change(web, ids["floor_clean"], status="done", note="Mopped and dried").status_code == 302
    assert stored(ids["floor_clean"]).status == "done"


def test_bad_after_photos_are_refused_readably(client, web, organisation):
    ids = opened_actions(client, organisation, "floor_clean")
    web.login(organisation.emails["manager"])
    response = after_photo(web, ids["floor_clean"], data=b"not a photo at all")
    assert response.status_code == 415 and "This file is not a photo" in response.get_data(as_text=True)
    response = web.post(f"/actions/{ids['floor_clean']}/photo", {"photo_id": str(uuid.uuid4())},
                        headers=ENGLISH)
    assert response.status_code == 422 and "Take or choose a photo first." in response.get_data(as_text=True)
    response = web.post(f"/actions/{ids['floor_clean']}/photo",
                        {"photo_id": "junk", "photo": (io.BytesIO(small_jpeg()), "a.jpg")},
                        headers=ENGLISH, content_type="multipart/form-data")
    assert response.status_code == 422
    response = web.post(f"/actions/{ids['floor_clean']}/photo",  # PostgreSQL cannot store a NUL
                        {"photo_id": str(uuid.uuid4()), "caption": "Seco\x00",
                         "photo": (io.BytesIO(small_jpeg()), "a.jpg")},
                        headers=ENGLISH, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "The form was not filled in correctly." in response.get_data(as_text=True)
    photo_id = uuid.uuid4()
    assert after_photo(web, ids["floor_clean"], photo_id).status_code == 302
    response = after_photo(web, ids["floor_clean"], photo_id, data=small_jpeg(colour=(10, 200, 10)))
    assert response.status_code == 409 and "choose the photo again" in response.get_data(as_text=True)
    assert stored(ids["floor_clean"]).after_photo_id == photo_id


def test_after_photos_too_big_or_sent_to_a_busy_server_are_explained(client, web, organisation,
                                                                    monkeypatch):
    ids = opened_actions(client, organisation, "floor_clean")
    web.login(organisation.emails["manager"])
    response = after_photo(web, ids["floor_clean"], data=png_claiming(7000, 7000))
    assert response.status_code == 422 and "too many pixels" in response.get_data(as_text=True)
    slots = DecodingSlots(1, wait_seconds=0)
    monkeypatch.setitem(client.application.extensions, "momento.decoding_slots", slots)
    with slots.slot():
        response = after_photo(web, ids["floor_clean"])
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert "The server is busy with other photos" in response.get_data(as_text=True)
    assert stored(ids["floor_clean"]).after_photo_id is None


def test_after_photos_sent_while_the_photo_store_is_down_are_explained(
        client, web, organisation, monkeypatch, tmp_path):
    ids = opened_actions(client, organisation, "floor_clean")
    web.login(organisation.emails["manager"])
    blocked = tmp_path / "photos"
    blocked.write_text("a file where the photo folder should be")  # writing there fails
    monkeypatch.setitem(client.application.extensions, "momento.photo_store",
                        LocalPhotoStore(blocked, retry_after=30))
    response = after_photo(web, ids["floor_clean"])
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    page = response.get_data(as_text=True)
    assert "the photo store does not answer. Nothing was saved" in page
    form = {"photo_id": str(uuid.uuid4()), "photo": (io.BytesIO(small_jpeg()), "después.jpg")}
    response = web.post(f"/actions/{ids['floor_clean']}/photo", form, content_type="multipart/form-data",
                        headers={"Accept-Language": "es"})
    assert response.status_code == 503
    assert "el almacén de fotos no responde. No se ha guardado nada" in response.get_data(as_text=True)
    assert stored(ids["floor_clean"]).after_photo_id is None


def test_the_pages_are_in_spanish(client, web, organisation):
    ids = opened_actions(client, organisation, "floor_clean")
    set_columns(client.application, ids["floor_clean"],
                due_at=datetime.now(timezone.utc) - timedelta(days=2, hours=2))
    web.login(organisation.emails["manager"])
    page = web.get("/actions", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Limpiar y secar el suelo de la entrada" in page and "Vencida hace 2 días" in page and "Abierta" in page
    page = web.get(f"/actions/{ids['floor_clean']}", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Cambiar el estado" in page and "Marcar en curso" in page and "Historial" in page


def test_the_list_comes_in_pages(client, web, organisation, monkeypatch):
    monkeypatch.setattr("audit_server.web.actions.PER_PAGE", 2)
    ids = opened_actions(client, organisation, "floor_clean", "smile", "entrance_clear")
    web.login(organisation.emails["manager"])
    _status, first = page_of(web, "/actions")
    _status, second = page_of(web, "/actions?page=2")
    assert first.count('class="action-row') == 2 and "Page 1 of 2" in first and 'rel="next"' in first
    assert second.count('class="action-row') == 1 and 'rel="prev"' in second and 'rel="next"' not in second
    shown = set(re.findall(r'href="/actions/(\d+)"', first + second))
    assert shown == {str(i) for i in ids.values()}
    _status, everyone = page_of(web, "/actions?show=all")
    assert 'href="/actions?show=all&amp;page=2"' in everyone



def test_the_action_page_says_what_good_looks_like(client, web, organisation):
    ids = opened_actions(client, organisation, "floor_clean")
    web.login(organisation.emails["manager"])
    page = page_of(web, f"/actions/{ids['floor_clean']}")[1]
    assert "What good looks like" in page
    assert "The floor is clean and dry, with no litter, stains or mud." in page
    spanish = web.get(f"/actions/{ids['floor_clean']}", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Así debería ser" in spanish and "El suelo está limpio y seco" in spanish


def test_guidance_comes_from_the_audits_version_else_from_the_current_checklist(
        client, web, web_on, organisation, make_app, tmp_path):
    plain = built_in_without(WALK_IN, "guidance", "action_title")
    plain = make_app(CHECKLISTS_DIR=str(checklist_folder(tmp_path / "plain", plain)))
    ids = opened_actions(plain.test_client(), organisation, "smile")
    # Served with the built-in files: the title it was opened with, the guidance of today's file.
    web.login(organisation.emails["manager"])
    page = page_of(web, f"/actions/{ids['smile']}")[1]
    assert "Were you welcomed with a smile?" in page
    assert "A genuine smile and a warm tone from the first moment" in page
    # Served by an app whose files say no guidance either: no section at all.
    on_plain = web_on(plain)
    on_plain.login(organisation.emails["manager"])
    page = page_of(on_plain, f"/actions/{ids['smile']}")[1]
    assert "Were you welcomed with a smile?" in page and "What good looks like" not in page
    # A version of its own: its guidance wins over the current file's.
    reworded = built_in_checklist(WALK_IN)
    reworded["sections"][0]["items"][4]["guidance"] = {"es": "Suelo reluciente 🧽.", "en": "A gleaming floor 🧽."}
    other = make_app(CHECKLISTS_DIR=str(checklist_folder(tmp_path / "reworded", reworded)))
    floor = opened_actions(other.test_client(), organisation, "floor_clean")["floor_clean"]
    page = page_of(web, f"/actions/{floor}")[1]
    assert "A gleaming floor 🧽." in page and "no litter, stains or mud" not in page
