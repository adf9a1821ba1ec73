"""Checklist files: the JSON Schema, the extra rules, versions and `checklists check`."""
import json
from pathlib import Path

import pytest

from audit_server.services.checklists import check_file, content_version, definition_errors, load_directory
from audit_server.services.item_types import is_scored
from audit_server.services.scoring import iter_items

CHECKLISTS = Path(__file__).resolve().parents[2] / "checklists"


def minimal(**item):
    return {
        "id": "mini", "kind": "other", "title": {"es": "Mini", "en": "Mini"},
        "sections": [{"id": "s", "title": {"es": "S", "en": "S"}, "items": [
            {"id": "first", "type": "yes_no", "label": {"es": "¿Sí?", "en": "Yes?"}},
            {"id": "second", "type": "yes_no", "label": {"es": "¿Sí?", "en": "Yes?"}, **item},
        ]}],
    }


def test_built_in_checklists_are_valid():
    loaded = load_directory(CHECKLISTS)
    assert set(loaded) == {"five_second_walk_in", "call_your_own_number"}
    assert loaded["five_second_walk_in"].kind == "walk_in"
    assert loaded["call_your_own_number"].kind == "phone"


def test_every_scored_item_of_the_built_in_checklists_coaches_its_failure():
    for checklist in load_directory(CHECKLISTS).values():
        scored = [item for _, item in iter_items(checklist.definition) if is_scored(item)]
        assert len(scored) >= 9
        for item in scored:
            for key in ("guidance", "action_title"):
                assert set(item.get(key, {})) == {"es", "en"}, (checklist.id, item["id"], key)
            # The task is not the question: a title is no question, and says something else.
            assert item["action_title"] != item["label"]
            assert not any(t.rstrip().endswith("?") for t in item["action_title"].values())


@pytest.mark.parametrize("change,path,words", [
    ({"guidance": {"es": "Así se hace."}}, "$.sections[0].items[1].guidance", "'en' is a required property"),
    ({"guidance": {"es": "", "en": "Like this."}}, "$.sections[0].items[1].guidance.es", "should be non-empty"),
    ({"guidance": {"es": "Así.", "en": " \n "}}, "$.sections[0].items[1].guidance.en", "does not match"),
    ({"guidance": "Así se hace."}, "$.sections[0].items[1].guidance", "is not of type 'object'"),
    ({"guidance": {"es": "Así.", "en": "Like this.", "fr": "Ainsi."}}, "$.sections[0].items[1].guidance",
     "Additional properties"),
    ({"action_title": {"es": "x" * 501, "en": "Fix it"}}, "$.sections[0].items[1].action_title.es", "is too long"),
    ({"action_title": ["Limpiar", "Clean"]}, "$.sections[0].items[1].action_title", "is not of type 'object'"),
    ({"type": "dice"}, "$.sections[0].items[1].type", "is not one of"),
    ({"weight": -1}, "$.sections[0].items[1].weight", "less than the minimum"),
    ({"label": {"es": "Solo español"}}, "$.sections[0].items[1].label", "'en' is a required property"),
    ({"type": "count", "weight": 2}, "$.sections[0].items[1]", "bands"),
    ({"type": "text", "weight": 2}, "$.sections[0].items[1]", "should not be valid"),
    ({"bad_answer": "maybe"}, "$.sections[0].items[1].bad_answer", "is not one of"),
    ({"applies_if": {"item": "first"}}, "$.sections[0].items[1].applies_if", "'equals' is a required"),
    ({"colour": "red"}, "$.sections[0].items[1]", "Additional properties"),
])
def test_schema_errors_name_their_json_path(change, path, words):
    errors = definition_errors(minimal(**change))
    assert any(p == path and words in m for p, m in errors), errors


@pytest.mark.parametrize("change,path,words", [
    ({"id": "first"}, "$.sections[0].items[1].id", "duplicate item id"),
    ({"applies_if": {"item": "later", "equals": True}}, "$.sections[0].items[1].applies_if.item",
     "not an earlier item"),
    ({"type": "count", "bands": [{"fraction": 1}, {"max": 3, "fraction": 0}]},
     "$.sections[0].items[1].bands", "last band"),
    ({"type": "count", "bands": [{"max": 5, "fraction": 1}, {"max": 3, "fraction": 0.5}, {"fraction": 0}]},
     "$.sections[0].items[1].bands", "increase"),
    ({"type": "choice", "options": [
        {"value": "a", "label": {"es": "A", "en": "A"}, "points": 0},
        {"value": "a", "label": {"es": "B", "en": "B"}, "points": 0}]},
     "$.sections[0].items[1].options", "unique"),
    ({"weight": 0, "guidance": {"es": "Así.", "en": "Like this."}},
     "$.sections[0].items[1].guidance", "never used: the item is not scored"),
    ({"type": "count", "action_title": {"es": "Contar", "en": "Count"}},
     "$.sections[0].items[1].action_title", "never used: the item is not scored"),
    ({"type": "text", "guidance": {"es": "Así.", "en": "Like this."}},
     "$.sections[0].items[1].guidance", "guidance is never used: the item is not scored, so it never fails"),
])
def test_rules_beyond_the_schema(change, path, words):
    errors = definition_errors(minimal(**change))
    assert any(p == path and words in m for p, m in errors), errors


def test_version_ignores_formatting_but_not_content():
    walk_in = json.loads((CHECKLISTS / "five_second_walk_in.json").read_text())
    walk_in.pop("$schema")
    reordered = json.loads(json.dumps(walk_in, sort_keys=True, indent=7))
    assert content_version(reordered) == content_version(walk_in)
    walk_in["sections"][0]["items"][1]["weight"] = 4
    assert content_version(reordered) != content_version(walk_in)


def test_check_file_reports_broken_json_and_a_wrong_id(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": ')
    assert check_file(broken)[1][0][1].startswith("not valid JSON")
    misnamed = tmp_path / "other_name.json"
    misnamed.write_text(json.dumps(minimal()))
    assert check_file(misnamed)[1] == [("$.id", "the id 'mini' must match the file name 'other_name'")]


def test_checklists_check_command(runner, tmp_path):
    result = runner.invoke(args=["checklists", "check"])
    assert result.exit_code == 0, result.output
    assert "five_second_walk_in.json: ok (version " in result.output
    bad = tmp_path / "mini.json"
    bad.write_text(json.dumps(minimal(weight="heavy")))
    result = runner.invoke(args=["checklists", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: $.sections[0].items[1].weight: 'heavy' is not of type 'number'" in result.output


def test_invalid_files_are_left_out_when_loading(tmp_path):
    (tmp_path / "mini.json").write_text(json.dumps(minimal()))
    (tmp_path / "bad.json").write_text("[]")
    assert set(load_directory(tmp_path)) == {"mini"}
