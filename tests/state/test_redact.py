"""Redaction of sensitive attribute paths."""

from __future__ import annotations

from skyplan.state.redact import SENSITIVE, parse_path, paths_from_tree, redact_record, redact_value


def test_parse_path_forms():
    assert parse_path("env.TOKEN") == ["env", "TOKEN"]
    assert parse_path("attributes.env.TOKEN") == ["env", "TOKEN"]
    assert parse_path('env["A.B"]') == ["env", "A.B"]
    assert parse_path("ports[2]") == ["ports", 2]
    assert parse_path("bad..path") == []


def test_redact_leaves_input_alone_and_ignores_absent_paths():
    tree = {"env": {"TOKEN": "t", "PLAIN": "p"}, "ports": [80, 443], "run": "x"}
    out = redact_value(tree, ["env.TOKEN", "ports[1]", "missing.path", "run.deeper"])
    assert out == {"env": {"TOKEN": SENSITIVE, "PLAIN": "p"}, "ports": [80, SENSITIVE], "run": "x"}
    assert tree["env"]["TOKEN"] == "t"
    assert redact_record({"address": "workload.a", "attributes": {"env": {"K": 1}}}, ["env"])["attributes"] == {
        "env": SENSITIVE}
    assert redact_record(None, ["env"]) is None


def test_marker_trees_become_paths():
    tree = {"env": {"TOKEN": True, "A.B": True, "OK": False}, "run": True, "ports": [False, True]}
    paths = paths_from_tree(tree)
    assert sorted(paths) == sorted(["env.TOKEN", 'env["A.B"]', "run", "ports[1]"])
    value = {"env": {"TOKEN": "1", "A.B": "2", "OK": "3"}, "run": "r", "ports": [1, 2]}
    assert redact_value(value, paths) == {"env": {"TOKEN": SENSITIVE, "A.B": SENSITIVE, "OK": "3"},
                                          "run": SENSITIVE, "ports": [1, SENSITIVE]}
    assert paths_from_tree({}) == [] and paths_from_tree(None) == []


def test_secret_values_are_scrubbed_where_providers_echo_them():
    from tests.state.conftest import make_record

    rec = make_record(version=5).to_json()
    rec["groups"][0]["instances"][0]["attributes"] = {"env": {"TOKEN": "secret-5"}, "cmd": "run --key secret-5 now",
                                                     "pid": 7}
    rec["groups"][0]["instances"][0]["tags"] = {"note": "secret-5"}
    out = redact_record(rec, ["env"])
    inst = out["groups"][0]["instances"][0]
    assert out["attributes"]["env"] == SENSITIVE
    assert inst["attributes"] == {"env": SENSITIVE, "cmd": f"run --key {SENSITIVE} now", "pid": 7}
    assert inst["tags"] == {"note": SENSITIVE}
    assert rec["groups"][0]["instances"][0]["attributes"]["env"]["TOKEN"] == "secret-5"  # input untouched
    assert "secret-5" not in str(out)
