"""The GCP provider: Compute Engine instances through google-cloud-compute.

It owns launching node groups with one ``instances.insert`` per node (spot or
standard, one zone, Deep Learning VM images for GPUs, skyplan's labels),
waiting on their zone operations, finding them again with one label-filtered
``instances.aggregatedList`` per project, changing labels or stopping/starting
in place, deleting them, reading the serial console, and mapping Compute
Engine failures onto skyplan's error tree (capacity per zone, quota per region
or global, transient, auth, preemption). The SDK is imported only when a
provider is actually used, never by ``import skyplan``.
"""

from skyplan.providers.gcp.provider import GcpProvider

__all__ = ["GcpProvider"]
