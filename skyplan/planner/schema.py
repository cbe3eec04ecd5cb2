"""Which attribute changes force a replacement and which are updated in place,
declared as data per provider kind (and per workload kind), Terraform's
``ForceNew`` in one table.

A rule maps a top-level attribute name to ``REPLACE`` or ``UPDATE``; attributes
not named fall back to the table's default. Lookups go most specific first:
(provider kind, resource kind) -> provider kind -> (resource kind) -> DEFAULT.
Resource kinds are a workload's ``kind`` ("job" | "service") or "fleet".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

REPLACE = "replace"
UPDATE = "update"


@dataclass(frozen=True)
class AttributeRules:
    rules: Mapping[str, str] = field(default_factory=dict)
    default: str = REPLACE

    def effect(self, attribute: str) -> str:
        return self.rules.get(attribute, self.default)

    def merged(self, **overrides: str) -> "AttributeRules":
        return AttributeRules({**self.rules, **overrides}, self.default)


# What only the solver or bookkeeping reads: recorded, never sent to a node.
_BOOKKEEPING = {"max_hourly_cost": UPDATE, "duration_hours": UPDATE, "data_gb": UPDATE, "tags": UPDATE,
                "readiness": UPDATE, "update": UPDATE, "spot": UPDATE, "start_by": UPDATE,
                "deadline": UPDATE, "deadline_hours": UPDATE, "changeover_hours": UPDATE, "recovery": UPDATE}

# A node group is made from these; changing any of them means new nodes.
_SHAPE = {"kind": REPLACE, "resources": REPLACE, "num_nodes": REPLACE, "pricing": REPLACE, "image": REPLACE}

JOB = AttributeRules({**_SHAPE, **_BOOKKEEPING, "setup": REPLACE, "run": REPLACE, "env": REPLACE,
                      "ports": REPLACE, "replicas": REPLACE})

SERVICE = AttributeRules({**_SHAPE, **_BOOKKEEPING, "setup": REPLACE, "run": REPLACE, "env": UPDATE,
                          "ports": UPDATE, "replicas": UPDATE})

FLEET = AttributeRules({"provider": REPLACE, "existing": REPLACE, "capacity": REPLACE, "region": REPLACE,
                        "resources": REPLACE, "pricing": REPLACE, "nodes": REPLACE,
                        "reservation": REPLACE, "reservation_id": REPLACE, "duration_hours": REPLACE,
                        "start": REPLACE, "keep": UPDATE, "hourly_cost": UPDATE, "tags": UPDATE})

DEFAULT = AttributeRules(dict(SERVICE.rules), REPLACE)

# Provider-specific tables. A local process cannot change its environment or its
# ports while it runs, so those replace; replicas are still added or removed.
SCHEMAS: dict[tuple[str, str] | str, AttributeRules] = {
    "job": JOB,
    "service": SERVICE,
    "fleet": FLEET,
    ("local", "service"): SERVICE.merged(env=REPLACE, ports=REPLACE),
    ("local", "job"): JOB,
    # Kubernetes rolls a Deployment's pods for env and replicas changes; ports are a Service edit.
    ("kubernetes", "service"): SERVICE,
    # An EC2 instance's user data (env, setup, run) is fixed at launch; tags update in place.
    ("aws", "service"): SERVICE.merged(env=REPLACE, ports=UPDATE),
    # So is an Azure VM's custom data.
    ("azure", "service"): SERVICE.merged(env=REPLACE, ports=UPDATE),
}


def rules_for(provider_kind: str | None, resource_kind: str) -> AttributeRules:
    """The attribute rules for a resource placed on ``provider_kind``."""
    for key in ((provider_kind or "", resource_kind), provider_kind or "", resource_kind):
        rules = SCHEMAS.get(key)  # type: ignore[arg-type]
        if rules is not None:
            return rules
    return DEFAULT


def provider_kind(provider_key: str | None) -> str | None:
    """``"aws.west"`` -> ``"aws"``."""
    return provider_key.split(".", 1)[0] if provider_key else None
