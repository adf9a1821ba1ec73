"""The one scoping rule, both ways: the locations each user sees, the users who see each
location, and the owners an action is offered and may be given, which follow from it."""
import pytest
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import CorrectiveAction, User
from audit_server.models.types import utcnow
from audit_server.models.users import ROLES, user_regions
from audit_server.services import access, accounts, actions
from audit_server.services.errors import InvalidInput
from tests.helpers import PASSWORD, failing, submit

# Who sees what in the organisation of tests/helpers.py (N1, N2 in region N; S1 in S),
# with two more users: an inactive manager of N1, and a manager of S1 left with a
# membership of region N (which a manager's role does not read).
SEES = {
    "admin": {"N1", "N2", "S1"},
    "regional": {"N1", "N2"},
    "manager": {"N1"},
    "manager_s": {"S1"},
    "inactive": {"N1"},
    "stale": {"S1"},
}


@pytest.fixture
def people(organisation):
    users = dict(organisation.users)
    users["inactive"] = accounts.create_user("gone@example.com", "manager", PASSWORD, [], ["N1"])
    users["inactive"].active = False
    users["stale"] = accounts.create_user("stale@example.com", "manager", PASSWORD, [], ["S1"])
    db.session.execute(user_regions.insert().values(user_id=users["stale"].id,
                                                    region_id=organisation.regions["N"]))
    db.session.commit()
    return users


def test_every_role_has_its_rule():
    assert set(access.REACH) == set(ROLES)


@pytest.mark.parametrize("who", sorted(SEES))
def test_the_locations_each_user_sees(organisation, people, who):
    user = people[who]
    visible = access.visible_location_ids(user)
    ids = set(organisation.locations.values()) if visible is None else set(db.session.scalars(visible))
    assert ids == {organisation.locations[code] for code in SEES[who]}
    for code, location_id in organisation.locations.items():
        assert access.can_see_location(user, location_id) == (code in SEES[who])


@pytest.mark.parametrize("code", ["N1", "N2", "S1"])
def test_the_users_who_see_each_location(organisation, people, code):
    seen_by = set(db.session.scalars(
        sa.select(User.id).where(access.sees_location(organisation.locations[code]))))
    assert seen_by == {people[who].id for who, codes in SEES.items() if code in codes}


def test_both_directions_agree_for_every_pair(organisation, people):
    for user in people.values():
        for location_id in organisation.locations.values():
            sees = db.session.scalar(sa.select(User.id).where(
                User.id == user.id, access.sees_location(location_id))) is not None
            assert sees == access.can_see_location(user, location_id)


@pytest.mark.parametrize("code", ["N1", "N2", "S1"])
def test_the_owners_offered_are_the_active_users_who_see_the_location(client, organisation, people, code):
    auditor = {"N1": "manager", "N2": "regional", "S1": "manager_s"}[code]
    submit(client, organisation, role=auditor, location=code, answers=failing("greeted_within_5s"))
    action = db.session.scalar(sa.select(CorrectiveAction).where(
        CorrectiveAction.location_id == organisation.locations[code]))
    offered = {u.id for u in actions.possible_owners(action)}
    expected = {people[who].id for who, codes in SEES.items() if code in codes and who != "inactive"}
    assert offered == expected
    for user in people.values():
        if user.id == action.owner_id:
            continue
        if user.id in offered:
            actions.reassign_action(people["admin"], action, user.id, "Sees it", utcnow())
        else:
            with pytest.raises(InvalidInput) as refused:
                actions.reassign_action(people["admin"], action, user.id, "Cannot see it", utcnow())
            assert "owner_id" in refused.value.fields
    db.session.rollback()
