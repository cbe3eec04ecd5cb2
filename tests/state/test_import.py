"""``skyplan import`` end to end: config -> provider.read -> tagged -> recorded.

The provider here is a small in-process inventory implementing the Provider
interface (and SupportsImport), registered through skyplan.providers.register.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from skyplan.errors import ProviderError
from skyplan.providers import REGISTRY, register
from skyplan.providers.base import TAG_ADDRESS, TAG_LINEAGE, Instance, SupportsImport
from skyplan.state.store import StateStore
from tests.state.test_cli import run

CONFIG = """
variable "token" {
  type      = string
  sensitive = true
  default   = "s3cret-token"
}

provider "local" {}

workload "train" {
  resources {
    cpus = "1+"
  }
  env = {
    TOKEN = var.token
  }
  run = "python train.py"
}
"""


class InventoryProvider:
    """Machines in a dict: enough of a provider to launch, list, tag, read and delete."""

    def __init__(self, cfg, inventory: dict[str, Instance]):
        self.name = cfg.key
        self.inventory = inventory

    def offers(self):
        return []

    def create(self, req):
        insts = [Instance(self.name, f"m-{len(self.inventory) + r}", req.address, req.lineage, req.group, r,
                          region=req.placement.region, instance_type=req.placement.instance_type,
                          tags={**req.tags(), "skyplan:rank": str(r)}) for r in range(req.placement.nodes)]
        self.inventory.update({i.id: i for i in insts})
        return insts

    def list_managed(self, lineage):
        return [i for i in self.inventory.values() if i.tags.get(TAG_LINEAGE) == lineage]

    def update(self, inst, changes):
        current = self.read(inst.id)
        updated = replace(current, tags={**current.tags, **changes.get("tags", {})})
        self.inventory[inst.id] = updated
        return updated

    def delete(self, insts):
        for i in insts:
            self.inventory.pop(i.id, None)

    def read(self, provider_id):
        try:
            return self.inventory[provider_id]
        except KeyError:
            raise ProviderError(f"no machine {provider_id!r}", provider=self.name) from None


class LaunchOnlyProvider(InventoryProvider):
    read = None  # type: ignore[assignment]  # this one cannot import


@pytest.fixture
def inventory():
    original = REGISTRY["local"]
    machines = {"m-legacy": Instance("local", "m-legacy", "", "", region="local", instance_type="host-4cpu",
                                     state="running", tags={"team": "ml"}, attributes={"pid": 42})}
    register("local", lambda cfg: InventoryProvider(cfg, machines))
    yield machines
    register("local", original)


@pytest.fixture
def cfg(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    return tmp_path


def test_import_adopts_reads_tags_and_records(capsys, cfg, inventory):
    assert isinstance(InventoryProvider(type("C", (), {"key": "local"})(), {}), SupportsImport)
    code, out, err = run(capsys, "import", "workload.train", "m-legacy", str(cfg))
    assert code == 0, err
    assert "Imported m-legacy as workload.train: local/local host-4cpu on_demand" in out
    with StateStore.open(cfg / ".skyplan" / "state.db", create=False) as store:
        rec = store.snapshot().resources["workload.train"]
        assert rec.kind == "workload" and rec.status == "running" and rec.config_hash
        assert rec.attributes["run"] == "python train.py" and rec.attributes["env"]["TOKEN"] == "s3cret-token"
        inst = rec.instances[0]
        assert inst.id == "m-legacy" and inst.address == "workload.train" and inst.lineage == store.lineage
        # The machine now carries the tags refresh looks for; its own tags are kept.
        tags = inventory["m-legacy"].tags
        assert tags[TAG_ADDRESS] == "workload.train" and tags[TAG_LINEAGE] == store.lineage and tags["team"] == "ml"
        entry = store.history(limit=1)[0]
        assert entry["action"] == "import" and entry["operation"] == "import"
        assert "s3cret" not in json.dumps(entry)
    code, _, err = run(capsys, "import", "workload.train", "m-legacy", str(cfg))
    assert code == 1 and "already in state" in err


def test_import_errors_are_clear(capsys, cfg, inventory):
    code, _, err = run(capsys, "import", "workload.nope", "m-legacy", str(cfg))
    assert code == 1 and "workload.nope is not declared" in err
    code, _, err = run(capsys, "import", "workload.train", "m-missing", str(cfg))
    assert code == 1 and "no machine 'm-missing'" in err
    code, _, err = run(capsys, "import", "workload.train", "m-legacy", str(cfg), "--provider", "aws")
    assert code == 1 and "provider 'aws' is not configured" in err
    register("local", lambda c: LaunchOnlyProvider(c, inventory))
    code, _, err = run(capsys, "import", "workload.train", "m-legacy", str(cfg))
    assert code == 1 and "provider 'local' cannot import" in err and "Traceback" not in err
    assert not (cfg / ".skyplan").exists()  # nothing written
