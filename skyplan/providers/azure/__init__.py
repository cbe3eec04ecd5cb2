"""The Azure provider: virtual machines through azure-mgmt-compute.

It owns launching node groups (a NIC and a VM per node, spot or regular, one
zone where the placement names one, skyplan's tags), the network pieces those
VMs need per region (resource group, security group, virtual network, subnet;
created when missing and recorded in state as their own addresses), finding
VMs again with one list per resource group, changing tags or power state in
place, deleting VMs with their NIC, disk and public IP, and mapping ARM
failures onto skyplan's error tree. The Azure SDKs are imported only when a
provider is used, never by ``import skyplan``.
"""

from skyplan.providers.azure.provider import AzureProvider

__all__ = ["AzureProvider"]
