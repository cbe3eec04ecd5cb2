"""Tags end to end on the local provider: the registry entry carries them, `status`
shows them and sums cost per tag value with --by, and skyplan's own keys are refused."""

from __future__ import annotations

import json
import time

from skyplan.config.model import ProviderConfig
from skyplan.providers.local import LocalProvider
from skyplan.state.store import StateStore
from tests.apply.clirun import run

CONFIG = '''
provider "local" {
  default_tags = { cost_center = "ml-42", team = "platform" }
}

workload "api" {
  kind = "service"
  run  = "sleep 60"
  tags = { team = "vision" }
}

workload "worker" {
  kind = "service"
  run  = "sleep 60"
}
'''


def _dir(tmp_path, text):
    d = tmp_path / "cfg"
    d.mkdir()
    (d / "main.sky.hcl").write_text(text)
    return d


def test_local_nodes_carry_tags_and_status_sums_cost_by_tag(tmp_path):
    d = _dir(tmp_path, CONFIG)
    r = run("apply", str(d), "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    with StateStore.open(d / ".skyplan" / "state.db") as s:
        lineage = s.snapshot().lineage
    prov = LocalProvider(ProviderConfig(kind="local", settings={"root": str(d)}))
    try:
        entries = {e["address"]: e for e in prov.registry.entries()}
        assert entries["workload.api"]["tags"]["team"] == "vision"
        assert entries["workload.api"]["tags"]["cost_center"] == "ml-42"
        assert entries["workload.worker"]["tags"]["team"] == "platform"
        deadline = time.monotonic() + 20
        while True:
            out = run("status", str(d), "--json", "--by", "team")
            assert out.returncode == 0, out.stderr
            doc = json.loads(out.stdout)
            if all(x["state"] == "running" for x in doc["resources"]) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        rows = {x["address"]: x for x in doc["resources"]}
        assert rows["workload.api"]["tags"] == {"cost_center": "ml-42", "team": "vision"}
        assert doc["by"]["key"] == "team"
        assert sorted(g["value"] for g in doc["by"]["groups"]) == ["platform", "vision"]
        assert all(g["resources"] == 1 for g in doc["by"]["groups"])
        none = json.loads(run("status", str(d), "--json", "--by", "owner").stdout)["by"]["groups"]
        assert none == [{"value": "(untagged)", "hourly_cost": 0.0, "resources": 2}]
        text = run("status", str(d), "--by", "team")
        assert text.returncode == 0, text.stderr
        assert "TAGS" in text.stdout and "team=vision" in text.stdout
        assert "TEAM" in text.stdout and "platform" in text.stdout
    finally:
        prov.delete(prov.list_managed(lineage))


def test_a_tag_named_like_skyplans_own_is_a_config_error(tmp_path):
    d = _dir(tmp_path, 'workload "api" {\n  run  = "sleep 1"\n  tags = { "skyplan:address" = "x" }\n}\n')
    r = run("plan", str(d))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "main.sky.hcl:3:3" in r.stderr and "skyplan:address" in r.stderr and "reserves" in r.stderr
    assert "Traceback" not in r.stderr and not (d / ".skyplan" / "state.db").exists()


def test_a_tag_removed_or_changed_is_updated_in_place_on_the_running_node(tmp_path):
    d = _dir(tmp_path, CONFIG.replace('tags = { team = "vision" }', 'tags = { team = "vision", owner = "ana" }'))
    r = run("apply", str(d), "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    with StateStore.open(d / ".skyplan" / "state.db") as s:
        lineage = s.snapshot().lineage
    prov = LocalProvider(ProviderConfig(kind="local", settings={"root": str(d)}))
    try:
        before = {e["address"]: e for e in prov.registry.entries()}["workload.api"]
        assert before["tags"]["owner"] == "ana"
        # owner goes, team changes, and a removed own tag falls back to the provider's default
        (d / "main.sky.hcl").write_text(CONFIG.replace('tags = { team = "vision" }', 'tags = { cost_center = "ml-7" }'))
        r = run("apply", str(d), "--auto-approve")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "0 to add, 1 to change, 0 to destroy" in r.stdout, r.stdout
        after = {e["address"]: e for e in prov.registry.entries()}["workload.api"]
        assert after["id"] == before["id"]  # the same node, not a replacement
        assert "owner" not in after["tags"]
        assert after["tags"]["team"] == "platform" and after["tags"]["cost_center"] == "ml-7"
        assert any(k.startswith("skyplan") for k in after["tags"])  # skyplan's own stay
    finally:
        prov.delete(prov.list_managed(lineage))


def test_a_change_of_default_tags_alone_updates_the_nodes_in_place(tmp_path):
    """Terraform's tags_all: editing a provider's default_tags re-tags what it made."""
    d = _dir(tmp_path, CONFIG)
    assert run("apply", str(d), "--auto-approve").returncode == 0
    with StateStore.open(d / ".skyplan" / "state.db") as s:
        snap = s.snapshot()
    ids = {a: r.instances[0].id for a, r in snap.resources.items()}
    prov = LocalProvider(ProviderConfig(kind="local", settings={"root": str(d)}))
    try:
        (d / "main.sky.hcl").write_text(CONFIG.replace('default_tags = { cost_center = "ml-42", team = "platform" }',
                                                       'default_tags = { team = "platform", env = "prod" }'))
        plan = run("plan", str(d), "-detailed-exitcode")
        assert plan.returncode == 2, plan.stdout + plan.stderr
        assert "2 to change" in plan.stdout and "default_tags changed" in plan.stdout, plan.stdout
        assert "to add" in plan.stdout and "0 to add" in plan.stdout and "0 to destroy" in plan.stdout
        r = run("apply", str(d), "--auto-approve")
        assert r.returncode == 0, r.stdout + r.stderr
        entries = {e["address"]: e for e in prov.registry.entries()}
        assert {a: e["id"] for a, e in entries.items()} == ids  # updated in place, not replaced
        api = {k: v for k, v in entries["workload.api"]["tags"].items() if not k.startswith("skyplan:")}
        assert api == {"team": "vision", "env": "prod"}  # cost_center, a default no more, is removed
        again = run("plan", str(d), "-detailed-exitcode")
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        prov.delete(prov.list_managed(snap.lineage))
