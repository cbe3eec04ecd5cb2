"""Network pieces during apply (kind ``network``; ``NetworkSteps``, mixed into the
executor): created with the provider's ``ensure_network`` (one that already
exists is used and recorded as not created by skyplan), deleted with
``delete_network`` (which leaves one skyplan did not create), then forgotten.
When failover launches a group in a region the plan did not name, the pieces
the provider ensured there are recorded right after the launch.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from skyplan.apply import graph as g
from skyplan.apply.jobs import now_iso
from skyplan.errors import ApplyError
from skyplan.planner.model import Change
from skyplan.providers.base import SupportsNetworks
from skyplan.solver.model import Placement
from skyplan.state.model import RUNNING, ResourceRecord


class NetworkSteps:
    """What the executor does for network pieces. Expects the executor's ``providers``,
    ``lineage``, ``provider``, ``_retry``, ``_record``, ``_forget`` and ``_current``."""

    # -- network pieces ----------------------------------------------------------------------------------
    def _network_provider(self, key: str) -> SupportsNetworks:
        prov = self.provider(key)
        if not isinstance(prov, SupportsNetworks):
            raise ApplyError(f"provider {key!r} does not manage network pieces", hint="plan again")
        return prov

    def _record_network(self, address: str, attrs: Mapping[str, Any], depends_on: Sequence[str]) -> None:
        rec = ResourceRecord(address=address, kind=g.NETWORK, status=RUNNING, attributes=dict(attrs),
                             depends_on=tuple(depends_on), created_at=now_iso(), updated_at=now_iso())
        self._record(rec, action="create", before=None)

    def create_network(self, change: Change) -> str:
        after = change.after or {}
        prov = self._network_provider(str(after.get("provider")))
        piece = next((p for p in prov.network_pieces(str(after.get("region"))) if p.address == change.address), None)
        if piece is None:
            raise ApplyError(f"{change.address}: the provider no longer names this network piece", hint="plan again")
        attrs = self._retry(change.address, lambda: prov.ensure_network(piece, self.lineage))
        self._record_network(change.address, attrs, change.depends_on)
        return "created" if attrs.get("created") else "already existed: used, and kept on destroy"

    def record_networks(self, placement: Placement) -> None:
        """Record the pieces a launch in ``placement``'s region needed that state lacks
        (a region failover reached that the plan did not name)."""
        prov = self.providers.get(placement.provider)
        if not isinstance(prov, SupportsNetworks):
            return
        for piece in prov.network_pieces(placement.region):
            if self._current(piece.address) is None:
                attrs = self._retry(piece.address, lambda p=piece: prov.ensure_network(p, self.lineage))
                self._record_network(piece.address, attrs, piece.depends_on)

    def delete_network(self, change: Change) -> str:
        prior = change.prior
        if prior is None:
            raise ApplyError(f"{change.address}: the plan deletes an object state does not hold", hint="plan again")
        prov = self._network_provider(str(prior.attributes.get("provider")))
        done = self._retry(change.address, lambda: prov.delete_network(prior.attributes))
        self._forget(change.address, action="delete")
        return done
