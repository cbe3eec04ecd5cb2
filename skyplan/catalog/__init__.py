"""Catalog: what can be bought where, at what price.

Owns the ``Offer`` model (offer.py), canonical accelerator names
(accelerators.py), the catalog CSV format (csvformat.py), the indexed
``Catalog`` (catalog.py), the per-provider ``OfferIndex`` the solver looks
candidates up in (index.py), the built-in dated price snapshot and the user's cache
(store.py, ``skyplan/data/catalog.csv``), import of external catalogs
(importer.py), refresh from the providers' pricing APIs (refresh/), and offers
for the local machine (local.py) and live Kubernetes nodes (kubernetes.py).
It never decides placements; the solver does.
"""

from __future__ import annotations

from skyplan.catalog.catalog import Catalog
from skyplan.catalog.kubernetes import NodeInfo, kubernetes_offer, offers_from_nodes
from skyplan.catalog.local import local_offers
from skyplan.catalog.offer import Offer
from skyplan.catalog.store import load_catalog

__all__ = ["Catalog", "Offer", "NodeInfo", "load_catalog", "local_offers", "kubernetes_offer",
           "offers_from_nodes"]
