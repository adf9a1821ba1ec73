"""Action metrics on a small known data set: the same figures on SQLite and PostgreSQL."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import CorrectiveAction, Location
from tests.helpers import failing, set_columns, submit

METRICS = "/api/v1/actions/metrics"
HOUR = timedelta(hours=1)


@pytest.fixture
def known_actions(app, client, organisation):
    """Eight actions whose times are set by hand; T0 is ten days ago.

    N1: closed after 10 h (on time), 30 h (late, verified) and 2 h (on time); one overdue.
    N2: closed after 4 h (on time) and 7 h (late); one in progress, not yet due.
    S1: one overdue, opened a day after T0.
    """
    t0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=10)
    later = datetime.now(timezone.utc) + timedelta(days=5)
    failures = {"N1": ("smile", "staff_available", "smell_noise", "queue_managed"),
                "N2": ("smile", "staff_available", "smell_noise"),
                "S1": ("smile",)}
    for code, items in failures.items():
        submit(client, organisation, "admin", code, failing(*items), at=t0 - HOUR)
    plan = {
        ("N1", "smile"): dict(status="done", closed_at=t0 + 10 * HOUR, due_at=t0 + 24 * HOUR),
        ("N1", "staff_available"): dict(status="verified", closed_at=t0 + 30 * HOUR,
                                        verified_at=t0 + 31 * HOUR, due_at=t0 + 24 * HOUR),
        ("N1", "smell_noise"): dict(status="done", closed_at=t0 + 2 * HOUR, due_at=t0 + 24 * HOUR),
        ("N1", "queue_managed"): dict(status="open", due_at=t0 + 24 * HOUR),
        ("N2", "smile"): dict(status="done", closed_at=t0 + 4 * HOUR, due_at=t0 + 24 * HOUR),
        ("N2", "staff_available"): dict(status="done", closed_at=t0 + 7 * HOUR,
                                        due_at=t0 + 5 * HOUR),
        ("N2", "smell_noise"): dict(status="in_progress", due_at=later),
        ("S1", "smile"): dict(status="open", opened_at=t0 + 24 * HOUR, due_at=t0 + 48 * HOUR),
    }
    with app.app_context():
        ids = {(code, item): action_id for code, item, action_id in db.session.execute(
            sa.select(Location.code, CorrectiveAction.item_id, CorrectiveAction.id)
            .select_from(CorrectiveAction).join(CorrectiveAction.location))}
    for key, values in plan.items():
        # Done and verified actions were first done when they were closed.
        first_done = {"first_done_at": values["closed_at"]} if "closed_at" in values else {}
        set_columns(app, ids[key], **{"opened_at": t0, **first_done, **values})
    return t0


def metrics(client, organisation, role, query=""):
    r = client.get(f"{METRICS}?{query}", headers=organisation.headers(role))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def figures(report):
    return {g["group"]["code"]: (g["open"], g["overdue"], g["closed"], g["median_hours_to_close"],
                                 g["closed_on_time_share"]) for g in report["groups"]}


def test_metrics_per_location(client, organisation, known_actions):
    report = metrics(client, organisation, "admin")
    assert report["group_by"] == "location"
    assert figures(report) == {
        "N1": (1, 1, 3, 10.0, 0.6667),
        "N2": (1, 0, 2, 5.5, 0.5),
        "S1": (1, 1, 0, None, None),
    }
    assert report["groups"][0]["group"] == {"id": organisation.locations["N1"], "code": "N1",
                                            "name": "North One"}


def test_metrics_per_region(client, organisation, known_actions):
    report = metrics(client, organisation, "admin", "group_by=region")
    assert figures(report) == {
        "N": (2, 1, 5, 7.0, 0.6),
        "S": (1, 1, 0, None, None),
    }
    assert report["groups"][1]["group"] == {"id": organisation.regions["S"], "code": "S",
                                            "name": "South"}


@pytest.mark.parametrize("role, group_by, codes", [
    ("regional", "location", {"N1", "N2"}),
    ("regional", "region", {"N"}),
    ("manager", "location", {"N1"}),
    ("manager_s", "region", {"S"}),
])
def test_metrics_are_scoped(client, organisation, known_actions, role, group_by, codes):
    report = metrics(client, organisation, role, f"group_by={group_by}")
    assert set(figures(report)) == codes
    if role == "manager":
        assert figures(report)["N1"] == (1, 1, 3, 10.0, 0.6667)


def test_metrics_since(client, organisation, known_actions):
    since = (known_actions + HOUR).isoformat().replace("+00:00", "Z")
    assert figures(metrics(client, organisation, "admin", f"since={since}")) == {
        "S1": (1, 1, 0, None, None)}


def test_no_actions_no_groups(client, organisation):
    assert metrics(client, organisation, "admin") == {"group_by": "location", "groups": []}


@pytest.mark.parametrize("query, field", [
    ("group_by=country", "group_by"), ("since=yesterday", "since")])
def test_bad_metric_queries_are_422(client, organisation, query, field):
    r = client.get(f"{METRICS}?{query}", headers=organisation.headers("admin"))
    assert r.status_code == 422
    assert field in r.get_json()["error"]["fields"]


def test_metrics_need_a_signed_in_user(client):
    assert client.get(METRICS).status_code == 401


def test_a_reopened_action_stays_closed_when_it_was_first_done(app, client, organisation,
                                                               known_actions):
    """Closing is timed by the first move to done: N2's action done after 4 h is reopened
    (its closed_at cleared) and still counts as closed after 4 h, on time; it is open (and
    overdue) again as well."""
    with app.app_context():
        action_id = db.session.scalar(
            sa.select(CorrectiveAction.id).join(CorrectiveAction.location)
            .where(Location.code == "N2", CorrectiveAction.item_id == "smile"))
    set_columns(app, action_id, status="reopened", closed_at=None)
    assert figures(metrics(client, organisation, "admin"))["N2"] == (2, 1, 2, 5.5, 0.5)
