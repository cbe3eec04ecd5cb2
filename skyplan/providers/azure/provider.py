"""AzureProvider: virtual machines through azure-mgmt-compute, one NIC per node.

Settings of ``provider "azure"``: ``subscription_id`` (or AZURE_SUBSCRIPTION_ID),
``resource_group`` (one name, a map by region, default ``skyplan-REGION``),
``regions``, ``tenant_id``, ``endpoint`` (a private or local Resource Manager;
a static token is sent there), ``image`` (``publisher:offer:sku:version`` or an
image id; default Ubuntu HPC for GPU sizes, Ubuntu LTS otherwise),
``ssh_public_key``, ``admin_username``, ``tags``, ``max_retries`` (default 2)
and ``poll_interval`` (seconds between long-running-operation polls, default
5). Credentials come from DefaultAzureCredential; nothing secret is written to
state.
"""

from __future__ import annotations

import os
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Mapping, Sequence

from skyplan.config.model import ProviderConfig
from skyplan.errors import ProviderError
from skyplan.providers.azure import errors as azerr
from skyplan.providers.azure.clients import plain as _plain
from skyplan.providers.azure import netops, reservations
from skyplan.providers.azure.instances import (
    exit_code_of, has_autostop, job_finished, power_state, resource_group_of, to_instance,
)
from skyplan.providers.bootscript import stopped_by_autostop
from skyplan.providers.azure.launch import TAG_LINEAGE, cloud_tag, nic_body, tags, vm_body, vm_name
from skyplan.providers.azure.listing import pages
from skyplan.providers.azure.network import NetworkPiece, pieces, resource_group_for
from skyplan.providers.base import Instance, LaunchRequest

BOOKKEEPING = frozenset({"max_hourly_cost", "duration_hours", "data_gb", "ports", "replicas"})


class AzureProvider:
    """The ``azure`` provider. Every VM, NIC and network piece it creates carries skyplan's tags."""

    def __init__(self, cfg: ProviderConfig):
        self.cfg = cfg
        self.name = cfg.key
        s = cfg.settings or {}
        self.settings = s
        self.endpoint: str | None = s.get("endpoint") or None
        self.tenant_id: str | None = s.get("tenant_id") or None
        self.subscription: str = str(s.get("subscription_id") or os.environ.get("AZURE_SUBSCRIPTION_ID") or "")
        if not self.subscription:  # known without any call: fail before apply asks or changes anything
            raise ProviderError(f"{self.name}: no Azure subscription is set", provider=self.name,
                                hint='set subscription_id = "..." in the provider "azure" block '
                                     "or the AZURE_SUBSCRIPTION_ID environment variable")
        self.poll = float(s.get("poll_interval", 5))
        self.max_retries = int(s.get("max_retries", 2))
        self._clients: tuple | None = None
        self._lock = threading.Lock()
        self._networks: dict[str, dict] = {}  # piece address -> attributes, as ensured by this process
        self._net_lock = threading.Lock()
        self._piece_locks: dict[str, threading.Lock] = {}

    # -- plumbing -------------------------------------------------------------------------------
    def _guard(self, where: str):
        return azerr.translated(provider=self.name, subscription=self.subscription or "(unset)", where=where)

    def clients(self):
        """(compute, network, resources), made on first use."""
        with self._lock:
            if self._clients is None:
                from skyplan.providers.azure.clients import make_clients

                with self._guard("client setup"):
                    self._clients = make_clients(self.subscription, self.endpoint, self.tenant_id, self.max_retries)
            return self._clients

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(self.cfg.regions)

    def resource_groups(self) -> list[str]:
        """The resource groups to list: one per configured region (deduplicated), plus any
        this process created; without regions or a single name, those tagged skyplan-managed."""
        names = [resource_group_for(self.settings, r) for r in self.regions]
        if isinstance(self.settings.get("resource_group"), str):
            names.append(str(self.settings["resource_group"]))
        names += [a["resource_group"] for a in self._networks.values()]
        if not names:
            _, _, res = self.clients()
            with self._guard("resource groups"):
                names = [g.name for g in res.resource_groups.list(filter=f"tagName eq '{netops.TAG_MANAGED}'")]
        return list(dict.fromkeys(names))

    # -- offers ---------------------------------------------------------------------------------
    def offers(self) -> Iterable:
        """Offers of the catalog for this provider's regions (prices are not live)."""
        from skyplan.catalog import load_catalog

        return load_catalog().for_provider("azure", tuple(self.cfg.regions))

    # -- network pieces (SupportsNetworks) ------------------------------------------------------
    def network_pieces(self, region: str) -> list[NetworkPiece]:
        """The pieces a VM in ``region`` needs (pure)."""
        return pieces(self.cfg, region)

    def ensure_network(self, piece: NetworkPiece, lineage: str) -> dict[str, Any]:
        """Make ``piece`` exist; returns its attributes with ``id`` and ``created``.

        Failure contract: a piece is created by one call; if it fails nothing of it exists.
        Pieces already ensured by this provider object are not asked for again."""
        with self._net_lock:  # one lock per piece: regions and pieces are set up in parallel
            lock = self._piece_locks.setdefault(piece.address, threading.Lock())
        with lock:
            if piece.address not in self._networks:
                compute, network, res = self.clients()
                with self._guard(f"{piece.region} ({piece.type} {piece.name})"):
                    self._networks[piece.address] = netops.ensure(
                        piece, compute=compute, network=network, resources=res, subscription=self.subscription,
                        lineage=lineage, poll=self.poll)
            return dict(self._networks[piece.address])

    def delete_network(self, attributes: Mapping[str, Any]) -> str:
        """Delete a piece skyplan created (and wait); one it found existing is left alone.

        Failure contract: on error the piece still exists (it is still in state)."""
        _, network, res = self.clients()
        with self._guard(f"{attributes.get('region')} ({attributes.get('type')} {attributes.get('name')})"):
            done = netops.delete(attributes, network=network, resources=res, poll=self.poll)
        with self._net_lock:  # ensured again from scratch if asked for later
            for address in [a for a, v in self._networks.items() if v.get("id") == attributes.get("id")]:
                del self._networks[address]
        return done

    # -- create ---------------------------------------------------------------------------------
    def create(self, req: LaunchRequest) -> list[Instance]:
        """Per node: a NIC in the region's skyplan subnet, then ``begin_create_or_update`` of
        the VM, waiting on its poller (nodes of a group in parallel). The network pieces are
        ensured first.

        Failure contract: if any node fails, every VM, NIC and OS disk this call made is
        deleted before the error (CapacityError/QuotaError/TransientError/AuthError/
        ProviderError) is raised; if that cleanup fails too, what is left carries the
        address and lineage tags, so the next refresh finds it. Network pieces stay (they
        are recorded in state by apply). A fleet (``req.reserve``) is a capacity
        reservation instead (``reservations.create``); nodes with ``req.reservation_id``
        are associated with that capacity reservation group."""
        if req.reserve:
            return reservations.create(self, req)
        p = req.placement
        subnet = None
        for piece in self.network_pieces(p.region):
            subnet = self.ensure_network(piece, req.lineage)
        assert subnet is not None
        nodes = range(p.nodes)
        try:
            if p.nodes == 1:
                vms = [self._create_node(req, 0, subnet["id"])]
            else:
                with ThreadPoolExecutor(max_workers=min(8, p.nodes)) as pool:
                    vms = list(pool.map(lambda r: self._create_node(req, r, subnet["id"]), nodes))
        except BaseException:
            self._cleanup(req, subnet["resource_group"])
            raise
        return [to_instance(vm, provider=self.name) for vm in vms]

    def _create_node(self, req: LaunchRequest, rank: int, subnet_id: str) -> dict:
        compute, network, _ = self.clients()
        p = req.placement
        rg = resource_group_for(self.settings, p.region)
        name = vm_name(req, rank)
        where = f"{p.zone or p.region} ({p.instance_type}, {p.pricing})"
        with self._guard(where):
            nic = network.network_interfaces.begin_create_or_update(
                rg, f"{name}-nic", nic_body(p.region, subnet_id, tags(req, rank, self.settings.get("tags"))),
                polling_interval=self.poll).result()
            body = vm_body(req, rank, nic_id=_plain(nic)["id"], settings=self.settings)
            vm = compute.virtual_machines.begin_create_or_update(rg, name, body, polling_interval=self.poll).result()
        return _plain(vm)

    def _cleanup(self, req: LaunchRequest, rg: str) -> None:
        names = [vm_name(req, r) for r in range(req.placement.nodes)]
        try:
            with ThreadPoolExecutor(max_workers=min(8, len(names))) as pool:
                list(pool.map(lambda n: self._delete_vm(rg, n, {}), names))
        except Exception:  # noqa: BLE001 - the tags let refresh find what is left
            pass

    # -- list / read ----------------------------------------------------------------------------
    def list_managed(self, lineage: str) -> list[Instance]:
        """Every VM and capacity reservation group tagged with ``lineage``: one paginated
        VM list per resource group and one of the subscription's reservation groups,
        filtered by tag here (ARM filters VM lists by scale set only, and gives instance
        views only with such a filter), plus, when any VM matched, one paginated
        ``listAll?statusOnly=true`` for the subscription's power states, and one
        boot-diagnostics read per job node that powered itself off. Pages are read as
        JSON through the client's pipeline (``listing.pages``).

        Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
        from azure.core.exceptions import ResourceNotFoundError

        compute, _, _ = self.clients()
        base = f"/subscriptions/{self.subscription}"

        def in_group(rg: str) -> list[dict]:
            try:
                with self._guard(f"resource group {rg}"):
                    return [vm for vm in pages(compute, f"{base}/resourceGroups/{rg}/providers/"
                                                        "Microsoft.Compute/virtualMachines")
                            if (vm.get("tags") or {}).get(TAG_LINEAGE) == lineage]
            except ProviderError as exc:
                if isinstance(exc.__cause__, ResourceNotFoundError):
                    return []  # no such group yet: nothing of ours in it
                raise

        groups = self.resource_groups()
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(groups)))) as pool:  # groups concurrently
            found = [vm for part in pool.map(in_group, groups) for vm in part]
        held = reservations.list_managed(self, lineage)
        if not found:
            return held
        with self._guard("power states"):
            views = {str(v.get("id", "")).lower(): (v.get("properties") or {}).get("instanceView")
                     for v in pages(compute, f"{base}/providers/Microsoft.Compute/virtualMachines",
                                    {"statusOnly": "true"})}
        out = []
        for vm in found:
            view = views.get(str(vm.get("id", "")).lower())
            power = power_state(view)
            code = self._exit_code(vm) if job_finished(vm, power) else None
            idle = has_autostop(vm) and power in ("stopped", "deallocated") and self._autostopped(vm)
            out.append(to_instance(vm, provider=self.name, view=view, exit_code=code, autostopped=idle))
        return out + held

    def describe_reservation(self, reservation_id: str):
        """A capacity reservation group (its ARM id or ``RESOURCE_GROUP/GROUP``) in any
        state, with its live counts; None when Azure has no such group.

        Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
        return reservations.describe(self, reservation_id)

    def _serial_log(self, rg: str, name: str) -> str | None:
        compute, _, _ = self.clients()
        with self._guard(f"boot diagnostics of {name}"):
            data = _plain(compute.virtual_machines.retrieve_boot_diagnostics_data(rg, name))
        uri = data.get("serialConsoleLogBlobUri")
        if not uri:
            return None
        try:
            with urllib.request.urlopen(uri, timeout=30) as resp:  # a SAS URL: no credential needed
                return resp.read().decode("utf-8", "replace")
        except OSError:
            return None

    def _autostopped(self, vm: Mapping[str, Any]) -> bool:
        """The VM's serial log says its idle timer stopped it (bootscript.stopped_by_autostop)."""
        try:
            return stopped_by_autostop(self._serial_log(resource_group_of(str(vm["id"])), str(vm["name"])) or "")
        except ProviderError:
            return False

    def _exit_code(self, vm: Mapping[str, Any]) -> int | None:
        try:
            return exit_code_of(self._serial_log(resource_group_of(str(vm["id"])), str(vm["name"])) or "")
        except ProviderError:
            return None

    def read(self, provider_id: str) -> Instance:
        """One VM for ``skyplan import``: ``[azure:]RESOURCE_GROUP/VM_NAME`` or its full ARM id.
        Raises ProviderError if it does not exist."""
        for prefix in (f"{self.name}:", "azure:"):
            if provider_id.startswith(prefix):
                provider_id = provider_id[len(prefix):]
                break
        if provider_id.startswith("/subscriptions/"):
            rg, name = resource_group_of(provider_id), provider_id.rstrip("/").rsplit("/", 1)[1]
        else:
            rg, _, name = provider_id.partition("/")
        if not rg or not name:
            raise ProviderError(f"{self.name}: {provider_id!r} is not RESOURCE_GROUP/VM_NAME or a VM's ARM id",
                                provider=self.name, hint="e.g. skyplan import workload.x azure:my-rg/my-vm")
        vm = self._vm(rg, name)
        if vm is None:
            raise ProviderError(f"{self.name}: no virtual machine {name!r} in resource group {rg!r}",
                                provider=self.name, hint="check the name with 'az vm list -g RESOURCE_GROUP'")
        return to_instance(vm, provider=self.name)

    def _vm(self, rg: str, name: str) -> dict | None:
        """One VM with its instance view; None when it does not exist."""
        from azure.core.exceptions import ResourceNotFoundError

        compute, _, _ = self.clients()
        try:
            with self._guard(f"resource group {rg}"):
                return _plain(compute.virtual_machines.get(rg, name, expand="instanceView"))
        except ProviderError as exc:
            if isinstance(exc.__cause__, ResourceNotFoundError):
                return None
            raise

    # -- update / delete ------------------------------------------------------------------------
    def update(self, inst: Instance, changes: Mapping[str, Any]) -> Instance:
        """In place: ``tags`` (skyplan's names, written as Azure carries them; a None value
        removes one; one PATCH) and ``state``
        ("stopped" powers off, "running" starts). Bookkeeping attributes need no call;
        anything else raises ProviderError (it needs a replacement).

        Failure contract: each change is one long-running operation; if one fails the VM is
        in whatever state Azure reports next."""
        unknown = set(changes) - {"tags", "state"} - BOOKKEEPING
        if reservations.is_reservation(inst):
            unknown = set(changes) - BOOKKEEPING
            if not unknown:
                return inst
        if unknown:
            raise ProviderError(f"{self.name}: cannot change {', '.join(sorted(unknown))} of {inst.id} in place",
                                provider=self.name, hint="the plan should replace the resource instead")
        compute, _, _ = self.clients()
        rg, name = resource_group_of(inst.id), inst.id.rsplit("/", 1)[1]
        with self._guard(f"{inst.region} ({name})"):
            if changes.get("tags"):
                current = dict(_plain(compute.virtual_machines.get(rg, name)).get("tags") or {})
                for k, v in dict(changes["tags"]).items():
                    if v is None:
                        current.pop(cloud_tag(k), None)
                    else:
                        current[cloud_tag(k)] = str(v)
                compute.virtual_machines.begin_update(rg, name, {"tags": current}, polling_interval=self.poll).result()
            want = changes.get("state")
            if want == "stopped" and inst.state != "stopped":
                compute.virtual_machines.begin_power_off(rg, name, polling_interval=self.poll).result()
            elif want == "running" and inst.state != "running":
                compute.virtual_machines.begin_start(rg, name, polling_interval=self.poll).result()
        return self.read(inst.id)

    def delete(self, insts: Sequence[Instance]) -> None:
        """Delete each VM, then its NICs, OS disk and any public IP on those NICs, and wait;
        then each capacity reservation group (a fleet's: its reservation first). Anything
        already gone is skipped.

        Failure contract: on error some pieces may remain; the VM and NIC carry their tags,
        so a retry or the next refresh sees them."""
        work = [(resource_group_of(i.id), i.id.rsplit("/", 1)[1], i.attributes) for i in insts
                if not reservations.is_reservation(i)]
        if work:
            with ThreadPoolExecutor(max_workers=min(8, len(work))) as pool:
                list(pool.map(lambda w: self._delete_vm(*w), work))
        for inst in [i for i in insts if reservations.is_reservation(i)]:
            reservations.delete_instance(self, inst)

    def _delete_vm(self, rg: str, name: str, recorded: Mapping[str, Any]) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        compute, network, _ = self.clients()
        nics, disk = list(recorded.get("nic_ids") or [f"{name}-nic"]), recorded.get("os_disk") or f"{name}-osdisk"
        poll = self.poll

        def gone(call) -> None:
            try:
                call().result()
            except ResourceNotFoundError:
                pass

        with self._guard(f"resource group {rg} (delete {name})"):
            try:
                vm = _plain(compute.virtual_machines.get(rg, name))
            except ResourceNotFoundError:
                vm = None
            if vm is not None:
                props = vm.get("properties") or {}
                nics = [n["id"] for n in (props.get("networkProfile") or {}).get("networkInterfaces") or ()] or nics
                disk = (((props.get("storageProfile") or {}).get("osDisk") or {}).get("managedDisk") or {}).get(
                    "id") or disk
            ips: list[str] = []  # read before the VM goes: its NICs may go with it
            nic_names = [str(n).rsplit("/", 1)[-1] for n in nics]
            for nic_name in nic_names:
                try:
                    raw = _plain(network.network_interfaces.get(rg, nic_name))
                except ResourceNotFoundError:
                    continue
                ips += [ip for c in (raw.get("properties") or {}).get("ipConfigurations") or ()
                        if (ip := ((c.get("properties") or {}).get("publicIPAddress") or {}).get("id"))]
            if vm is not None:
                gone(lambda: compute.virtual_machines.begin_delete(rg, name, polling_interval=poll))
            for nic_name in nic_names:
                gone(lambda n=nic_name: network.network_interfaces.begin_delete(rg, n, polling_interval=poll))
            for ip in ips:
                gone(lambda i=ip: network.public_ip_addresses.begin_delete(rg, i.rsplit("/", 1)[1],
                                                                           polling_interval=poll))
            gone(lambda: compute.disks.begin_delete(rg, str(disk).rsplit("/", 1)[-1], polling_interval=poll))

    def logs(self, inst: Instance, follow: bool = False) -> Iterable[str]:
        """The node's serial console log from boot diagnostics. With ``follow``, read
        again every ``poll_interval`` s, printing what is new, until the VM stops."""
        if not follow:
            return self._serial_lines(inst)
        from skyplan.providers.follow import poll_follow

        return poll_follow(lambda: self._serial_lines(inst), lambda: self._state_now(inst), self.poll)

    def _serial_lines(self, inst: Instance) -> list[str]:
        text = self._serial_log(resource_group_of(inst.id), inst.id.rsplit("/", 1)[1])
        if text is None:
            raise ProviderError(f"{self.name}: logs are not available for {inst.id}: boot diagnostics has no "
                                "serial log for this VM", provider=self.name,
                                hint="boot diagnostics may still be starting; try again in a minute")
        return text.splitlines()

    def _state_now(self, inst: Instance) -> str | None:
        """The VM's state now (skyplan's names); None once it is gone."""
        vm = self._vm(resource_group_of(inst.id), inst.id.rstrip("/").rsplit("/", 1)[1])
        return None if vm is None else to_instance(vm, provider=self.name).state
