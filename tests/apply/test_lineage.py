"""Every object apply launches carries the lineage of the state that records it,
whichever path created that state (a saved plan applied to a fresh folder
included); a refresh that finds this state's nodes under an empty or foreign
lineage says so and never calls them missing; destroy stops what it says it
destroyed. On the local provider (real processes) through the CLI."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from skyplan.cli import main
from skyplan.providers.base import TAG_LINEAGE
from skyplan.state import StateStore

SERVICE = """
workload "svc" {
  kind = "service"
  run  = "sleep 777"
}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def lineage_of(root: Path) -> str:
    with StateStore.open(root / ".skyplan" / "state.db", create=False) as store:
        return store.lineage


def record(root: Path, address: str):
    with StateStore.open(root / ".skyplan" / "state.db", create=False) as store:
        return store.get(address)


def entries(root: Path) -> list[dict]:
    reg = root / ".skyplan" / "local" / "registry"
    return [json.loads(p.read_text()) for p in sorted(reg.glob("*.json")) if not p.name.endswith(".spec.json")]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for every purpose here
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def folder(tmp_path, monkeypatch):
    root = tmp_path / "t"
    root.mkdir()
    (root / "main.sky.hcl").write_text(SERVICE)
    monkeypatch.chdir(root)
    return root


def test_saved_plan_applied_to_fresh_folder_tags_with_the_state_lineage(folder, capsys):
    code, out, err = run(capsys, "plan", "-out", "p.skyplan")
    assert code == 0, out + err
    assert not (folder / ".skyplan" / "state.db").exists()
    code, out, err = run(capsys, "apply", "p.skyplan")
    try:
        assert code == 0, out + err
        lineage = lineage_of(folder)
        assert lineage
        [entry] = entries(folder)
        assert entry["lineage"] == lineage and entry["tags"][TAG_LINEAGE] == lineage
        assert all(i.lineage == lineage for i in record(folder, "workload.svc").instances)

        code, out, err = run(capsys, "status", "--json")
        assert code == 0, out + err
        assert [r["state"] for r in json.loads(out)["resources"]] == ["running"]
        code, out, err = run(capsys, "drift")
        assert code == 0, out + err
    finally:
        code, out, err = run(capsys, "destroy", "--auto-approve")
    assert code == 0, out + err
    assert entries(folder) == []
    assert wait_gone(entry["pid"]), "the supervisor outlived destroy"


def _retag(folder: Path, lineage: str) -> dict:
    """Give the registered node another lineage tag, as an older apply wrote it."""
    reg = folder / ".skyplan" / "local" / "registry"
    [path] = [p for p in reg.glob("*.json") if not p.name.endswith(".spec.json")]
    entry = json.loads(path.read_text())
    entry["lineage"] = lineage
    entry["tags"][TAG_LINEAGE] = lineage
    path.write_text(json.dumps(entry))
    return entry


@pytest.mark.parametrize("other", ["", "3f1d0c55-0000-4000-8000-000000000000"])
def test_node_under_empty_or_foreign_lineage_is_reported_not_missing(folder, capsys, other):
    code, out, err = run(capsys, "apply", "--auto-approve")
    assert code == 0, out + err
    lineage = lineage_of(folder)
    entry = _retag(folder, other)
    try:
        code, out, err = run(capsys, "status", "--json")
        assert code == 0, out + err
        assert [r["state"] for r in json.loads(out)["resources"]] == ["running"]

        code, out, err = run(capsys, "drift", "--json")
        assert code == 2, out + err
        [item] = json.loads(out)["items"]
        assert (item["address"], item["category"]) == ("workload.svc", "changed")
        assert "lineage" in item["paths"]
        assert item["after"]["lineage"] == other and item["before"]["lineage"] == lineage
        code, out, err = run(capsys, "drift")
        assert "0 missing" in out and "deleted" not in out
        assert "lineage" in out
        print(out)

        code, out, err = run(capsys, "drift", "--repair", "--auto-approve")
        assert code == 0, out + err
        [fixed] = entries(folder)
        assert fixed["id"] == entry["id"] and fixed["lineage"] == lineage  # re-tagged, not launched again
        code, out, err = run(capsys, "drift")
        assert code == 0, out + err
        _retag(folder, other)
    finally:
        code, out, err = run(capsys, "destroy", "--auto-approve")
    assert code == 0, out + err
    assert wait_gone(entry["pid"]), "destroy said destroyed while the node kept running"
