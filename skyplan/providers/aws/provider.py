"""AwsProvider: EC2 instances through boto3, one client per region.

Settings of ``provider "aws"``: ``profile`` (boto3's standard chain otherwise),
``endpoint_url`` (private endpoints and tests), ``image_id`` (an AMI or
``resolve:ssm:PARAMETER``; default: the Deep Learning Base AMI resolved from
its public SSM parameter per region and architecture), ``subnet_id``,
``security_group_ids``, ``key_name``, ``instance_profile``, ``tags`` (added to
every instance), ``launch_timeout`` (seconds, default 600) and
``poll_interval`` (seconds, default 5). Nothing secret is read from or written
to state.
"""

from __future__ import annotations

import fnmatch
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Mapping, Sequence

from skyplan.catalog.offer import Offer
from skyplan.config.model import ProviderConfig
from skyplan.errors import CapacityError, ProviderError, TransientError
from skyplan.providers.aws import errors as awserr
from skyplan.providers.aws import reservations
from skyplan.providers.aws.instances import exit_code_of, flatten, job_finished, to_instance, visible
from skyplan.providers.aws.launch import (
    DEFAULT_IMAGE_PARAMETERS, arch_of, configured_image, run_instances_args,
)
from skyplan.providers.base import TAG_LINEAGE, Instance, LaunchRequest

DEFAULT_REGION = "us-east-1"
TERMINATE_BATCH = 1000
BOOKKEEPING = frozenset({"max_hourly_cost", "duration_hours", "data_gb", "ports", "replicas", "keep",
                         "hourly_cost"})


_LOADER_LOCK = threading.Lock()
_LOADER: list = []


def _botocore_session():
    """A fresh botocore session sharing one process-wide data loader, so the large
    EC2 service model is read from disk once, not once per provider or alias."""
    import botocore.loaders
    import botocore.session

    with _LOADER_LOCK:
        if not _LOADER:
            _LOADER.append(botocore.loaders.create_loader())
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER[0])
    return session


class AwsProvider:
    """The ``aws`` provider. Every object it creates carries skyplan's tags."""

    def __init__(self, cfg: ProviderConfig):
        self.cfg = cfg
        self.name = cfg.key
        s = cfg.settings or {}
        self.settings = s
        self.profile: str | None = s.get("profile") or None
        self.endpoint_url: str | None = s.get("endpoint_url") or None
        self.launch_timeout = float(s.get("launch_timeout", 600))
        self.poll_interval = float(s.get("poll_interval", 5))
        self._session = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._images: dict[tuple[str, str], str] = {}
        self._enabled_regions: tuple[str, ...] | None = None
        self._lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------

    def _guard(self, where: str):
        return awserr.translated(provider=self.name, profile=self.profile, where=where)

    @property
    def regions(self) -> tuple[str, ...]:
        """The regions to list: the block's ``regions`` with globs (``us-*``)
        expanded over EC2's known regions. Without ``regions`` the solver may
        place anywhere the catalog lists, so every region enabled for the
        account is listed (one ``describe_regions`` call first, cached)."""
        if not self.cfg.regions:
            if self._enabled_regions is None:
                with self._guard("the default region"):
                    home = self._get_session().region_name or DEFAULT_REGION
                with self._guard(f"{home} (describe_regions)"):
                    found = self.client(home).describe_regions()["Regions"]
                self._enabled_regions = tuple(sorted(r["RegionName"] for r in found))
            return self._enabled_regions
        out: list[str] = []
        for pattern in self.cfg.regions:
            if any(ch in pattern for ch in "*?["):
                with self._guard(f"regions matching {pattern}"):
                    known = self._get_session().get_available_regions("ec2")
                out += [r for r in sorted(known) if fnmatch.fnmatchcase(r, pattern) and r not in out]
            elif pattern not in out:
                out.append(pattern)
        return tuple(out)

    def _get_session(self):
        with self._lock:
            if self._session is None:
                import boto3

                with self._guard("credential lookup"):
                    self._session = boto3.session.Session(botocore_session=_botocore_session(),
                                                          profile_name=self.profile)
            return self._session

    def client(self, region: str, service: str = "ec2", *, attempts: int = 2):
        """The boto3 client of ``service`` in ``region`` (cached; clients are thread-safe).
        ``attempts = 1`` for a call that must not be repeated blindly (one without a
        client token, such as a purchase)."""
        key = (service, region) if attempts == 2 else (service, region, attempts)
        if key not in self._clients:
            from botocore.config import Config

            session = self._get_session()
            config = Config(retries={"mode": "standard", "total_max_attempts": attempts},
                            connect_timeout=10, read_timeout=60, max_pool_connections=20)
            with self._guard(region):
                made = session.client(service, region_name=region, endpoint_url=self.endpoint_url, config=config)
            with self._lock:
                self._clients.setdefault(key, made)
        return self._clients[key]

    # -- offers -----------------------------------------------------------

    def offers(self) -> Iterable[Offer]:
        """Offers of the catalog for this provider's regions (prices are not live)."""
        from skyplan.catalog import load_catalog

        return load_catalog().for_provider("aws", tuple(self.cfg.regions))

    # -- create -----------------------------------------------------------

    def image_for(self, region: str, instance_type: str, requested: str | None) -> str:
        """The AMI to boot: the workload's AMI, the provider block's, or the DLAMI default."""
        if requested and requested.startswith("ami-"):
            return requested
        arch = arch_of(instance_type)
        configured = configured_image(self.settings.get("image_id"), region, arch)
        if requested and requested.startswith("resolve:ssm:"):
            configured = requested
        if configured and configured.startswith("ami-"):
            return configured
        parameter = configured[len("resolve:ssm:"):] if configured else DEFAULT_IMAGE_PARAMETERS[arch]
        key = (region, parameter)
        if key not in self._images:
            with self._guard(f"{region} (image lookup {parameter})"):
                ssm = self.client(region, "ssm")
                try:
                    value = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
                except Exception as exc:  # noqa: BLE001
                    if awserr.error_code(exc) == "ParameterNotFound":
                        raise ProviderError(
                            f"{self.name}: no AMI found for {arch} in {region} (SSM parameter {parameter} not found)",
                            provider=self.name,
                            hint='set image_id = "ami-..." in the provider block (or image on the workload)',
                        ) from None
                    raise
            self._images[key] = value
        return self._images[key]

    def root_device(self, region: str, image: str) -> str:
        """The root device name of ``image`` (``/dev/sda1`` on Ubuntu images,
        ``/dev/xvda`` on Amazon Linux), so ``disk_gb`` resizes the root volume."""
        key = (region, "root:" + image)
        if key not in self._images:
            try:
                with self._guard(f"{region} (describe_images {image})"):
                    found = self.client(region).describe_images(ImageIds=[image])["Images"]
            except ProviderError as exc:
                if not awserr.error_code(exc.__cause__).startswith("InvalidAMIID"):
                    raise
                found = []  # run_instances will name the problem
            self._images[key] = (found[0].get("RootDeviceName") if found else None) or "/dev/sda1"
        return self._images[key]

    def create(self, req: LaunchRequest) -> list[Instance]:
        """Launch ``placement.nodes`` nodes with one ``run_instances`` and wait until all run.

        Failure contract: if ``run_instances`` fails nothing was launched (the call
        is all-or-nothing with MinCount = MaxCount). If the nodes do not all reach
        ``running`` within ``launch_timeout`` (or one is terminated while starting,
        e.g. spot capacity withdrawn), every node launched is terminated and
        CapacityError(zone) is raised; if that cleanup itself fails, the nodes
        still carry the address and lineage tags, so the next refresh finds them.
        A fleet (``req.reserve``) is reserved instead, see ``reservations.create``;
        nodes with ``req.reservation_id`` launch into that reservation, and a full
        or inactive one is a CapacityError for the zone.
        """
        if req.reserve == "capacity_block":
            return reservations.buy_block(self, req)
        if req.reserve:
            return reservations.create(self, req)
        p = req.placement
        where = p.zone or p.region
        ec2 = self.client(p.region)
        image = self.image_for(p.region, p.instance_type, req.image)
        root = self.root_device(p.region, image) if req.disk_gb else "/dev/sda1"
        args = run_instances_args(req, image_id=image, settings=self.settings,
                                  client_token=f"skyplan-{req.token or uuid.uuid4().hex}", root_device=root)
        if req.reservation_id:
            held = reservations.describe(self, f"{p.region}/{req.reservation_id}")
            waiting = held and reservations.not_started(held)
            if waiting:
                raise ProviderError(f"{req.address}: {waiting}; nothing launched before then",
                                    provider=self.name, hint="apply again once the block has started")
            if held is not None and held.kind == "capacity-block":  # a block is its own market
                args["InstanceMarketOptions"] = {"MarketType": "capacity-block"}
        with self._guard(f"{where} ({p.instance_type} x{p.nodes}, {p.pricing})"):
            launched = ec2.run_instances(**args)["Instances"]
        ids = [i["InstanceId"] for i in launched]
        try:
            raws = self._wait_running(p.region, ids)
        except BaseException:
            self._terminate_quietly(p.region, ids, [i["SpotInstanceRequestId"] for i in launched
                                                    if i.get("SpotInstanceRequestId")])
            raise
        return sorted((to_instance(r, provider=self.name, region=p.region) for r in raws), key=lambda i: i.rank)

    def _wait_running(self, region: str, ids: list[str]) -> list[Mapping[str, Any]]:
        ec2 = self.client(region)
        deadline = time.monotonic() + self.launch_timeout
        while True:
            try:
                with self._guard(region):
                    raws = flatten(ec2.get_paginator("describe_instances").paginate(InstanceIds=ids))
            except TransientError:  # a throttled read: the nodes are still starting
                if time.monotonic() >= deadline:
                    raise
                raws = []
            except ProviderError as exc:  # new ids can lag behind in EC2's read path
                if awserr.error_code(exc.__cause__) not in awserr.NOT_FOUND:
                    raise
                raws = []
            states = {r["InstanceId"]: r["State"]["Name"] for r in raws}
            lost = [i for i in ids if states.get(i) in ("shutting-down", "terminated")]
            if lost:
                reason = next((r.get("StateReason", {}).get("Message", "") for r in raws
                               if r["InstanceId"] in lost), "")
                raise CapacityError(f"{self.name}: {len(lost)} node(s) terminated while starting in {region}: {reason}",
                                    scope="zone", provider=self.name)
            if len(raws) == len(ids) and all(states[i] == "running" for i in ids):
                return raws
            if time.monotonic() >= deadline:
                raise CapacityError(
                    f"{self.name}: nodes not running after {self.launch_timeout:.0f}s in {region} "
                    f"({sum(s == 'running' for s in states.values())}/{len(ids)} running)",
                    scope="zone", provider=self.name)
            time.sleep(self.poll_interval)

    def _terminate_quietly(self, region: str, ids: list[str], requests: list[str]) -> None:
        try:
            self._cancel_spot_requests(region, requests)
            self._terminate(region, ids)
        except Exception:  # noqa: BLE001 - the tags let refresh find what is left
            pass

    # -- list / read ------------------------------------------------------

    def list_managed(self, lineage: str) -> list[Instance]:
        """Every live instance and capacity reservation tagged with ``lineage``:
        one paginated ``describe_instances`` and one ``describe_capacity_reservations``
        per region (regions queried concurrently), plus
        one ``get_console_output`` per job node that has finished by itself
        (its exit code makes it ``succeeded`` or ``failed``).

        Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
        regions = self.regions
        if len(regions) == 1:
            return self._list_region(regions[0], lineage)
        with ThreadPoolExecutor(max_workers=min(8, len(regions))) as pool:
            results = list(pool.map(lambda r: self._list_region(r, lineage), regions))
        return [i for part in results for i in part]

    def _list_region(self, region: str, lineage: str) -> list[Instance]:
        """One paginated describe; job nodes that finished by themselves cost one
        ``get_console_output`` each, to read their exit code."""
        ec2 = self.client(region)
        filters = [{"Name": f"tag:{TAG_LINEAGE}", "Values": [lineage]}]
        with self._guard(region):
            pages = ec2.get_paginator("describe_instances").paginate(
                Filters=filters, PaginationConfig={"PageSize": 1000})
            raws = [r for r in flatten(pages) if visible(r)]
        out = []
        for r in raws:
            code = self._exit_code(region, r["InstanceId"]) if job_finished(r) else None
            out.append(to_instance(r, provider=self.name, region=region, exit_code=code))
        return out + reservations.list_region(self, region, lineage)

    def _exit_code(self, region: str, iid: str) -> int | None:
        try:
            with self._guard(region):
                console = self.client(region).get_console_output(InstanceId=iid).get("Output") or ""
        except ProviderError as exc:
            if awserr.error_code(exc.__cause__) in awserr.NOT_FOUND:
                return None
            raise
        return exit_code_of(console)

    def read(self, provider_id: str) -> Instance:
        """Describe one instance for ``skyplan import``: ``i-…`` (searched in every
        configured region) or ``REGION/i-…``. Raises ProviderError if not found."""
        region, _, iid = provider_id.rpartition("/")
        for r in ((region,) if region else self.regions):
            ec2 = self.client(r)
            try:
                with self._guard(r):
                    raws = flatten([ec2.describe_instances(InstanceIds=[iid])])
            except ProviderError as exc:
                if awserr.error_code(exc.__cause__) in awserr.NOT_FOUND:
                    continue
                raise
            if raws and raws[0]["State"]["Name"] != "terminated":
                return to_instance(raws[0], provider=self.name, region=r)
        raise ProviderError(f"{self.name}: no instance {iid!r} in {', '.join((region,) if region else self.regions)}",
                            provider=self.name, hint="give the id as REGION/i-... if it lives outside the configured regions")

    def block_offerings(self, region: str, instance_type: str, count: int, hours: float,
                        start: str | None = None):
        """The Capacity Block offerings EC2 sells now (``describe_capacity_block_offerings``).

        Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
        return reservations.block_offerings(self, region, instance_type, count, hours, start)

    def describe_reservation(self, reservation_id: str):
        """A capacity reservation (``cr-…`` or ``REGION/cr-…``) in any state, with
        its live ``AvailableInstanceCount``; None when no configured region has it.

        Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
        return reservations.describe(self, reservation_id)

    # -- update / delete --------------------------------------------------

    def update(self, inst: Instance, changes: Mapping[str, Any]) -> Instance:
        """Apply in-place changes: ``tags`` (a map; a None value removes the tag)
        and ``state`` ("running" starts, "stopped" stops). Attributes only skyplan
        reads (``BOOKKEEPING``: cost limits, durations, ports of a security group
        skyplan does not manage, replica counts handled by apply) need no EC2
        call. Anything else fixed at launch (env, run, image, ...) raises
        ProviderError: it needs a replacement. Returns the instance as EC2 now
        describes it.

        Failure contract: tag changes are single calls (all or nothing); a start or
        stop that fails leaves the instance in whatever state EC2 reports next."""
        unknown = set(changes) - {"tags", "state"} - BOOKKEEPING
        if reservations.is_reservation(inst):
            unknown = set(changes) - BOOKKEEPING
            if not unknown:
                return inst
        if unknown:
            raise ProviderError(f"{self.name}: cannot change {', '.join(sorted(unknown))} of {inst.id} in place",
                                provider=self.name, hint="the plan should replace the resource instead")
        ec2 = self.client(inst.region)
        tags = dict(changes.get("tags") or {})
        with self._guard(inst.region):
            put = [{"Key": k, "Value": str(v)} for k, v in tags.items() if v is not None]
            drop = [{"Key": k} for k, v in tags.items() if v is None]
            if put:
                ec2.create_tags(Resources=[inst.id], Tags=put)
            if drop:
                ec2.delete_tags(Resources=[inst.id], Tags=drop)
            want = changes.get("state")
            if want == "stopped" and inst.state != "stopped":
                ec2.stop_instances(InstanceIds=[inst.id])
            elif want == "running" and inst.state != "running":
                ec2.start_instances(InstanceIds=[inst.id])
        return self.read(f"{inst.region}/{inst.id}")

    def delete(self, insts: Sequence[Instance]) -> None:
        """Terminate every instance and wait until EC2 reports them terminated;
        cancel every capacity reservation (a fleet's). Instances already gone are skipped.

        Failure contract: on error some instances may still be terminating; they
        carry their tags, so a retry or the next refresh sees them."""
        by_region: dict[str, list[str]] = {}
        requests: dict[str, list[str]] = {}
        for inst in [i for i in insts if reservations.is_reservation(i)]:
            reservations.cancel(self, inst)
        for inst in [i for i in insts if not reservations.is_reservation(i)]:
            by_region.setdefault(inst.region, []).append(inst.id)
            if inst.attributes.get("spot_request_id"):
                requests.setdefault(inst.region, []).append(str(inst.attributes["spot_request_id"]))
        for region, ids in by_region.items():
            self._cancel_spot_requests(region, requests.get(region, []))
            self._terminate(region, ids)
            self._wait_gone(region, ids)

    def _cancel_spot_requests(self, region: str, request_ids: list[str]) -> None:
        """Cancel spot requests first: a persistent one would relaunch its node."""
        if not request_ids:
            return
        try:
            with self._guard(region):
                self.client(region).cancel_spot_instance_requests(SpotInstanceRequestIds=request_ids)
        except ProviderError as exc:
            if awserr.error_code(exc.__cause__) != "InvalidSpotInstanceRequestID.NotFound":
                raise

    def _terminate(self, region: str, ids: list[str]) -> None:
        ec2 = self.client(region)
        for start in range(0, len(ids), TERMINATE_BATCH):
            batch = ids[start:start + TERMINATE_BATCH]
            try:
                with self._guard(region):
                    ec2.terminate_instances(InstanceIds=batch)
            except ProviderError as exc:
                if awserr.error_code(exc.__cause__) not in awserr.NOT_FOUND:
                    raise
                # Some ids are gone: terminate the ones that still exist.
                alive = [i for i in batch if self._exists(region, i)]
                if alive:
                    with self._guard(region):
                        ec2.terminate_instances(InstanceIds=alive)

    def _exists(self, region: str, iid: str) -> bool:
        try:
            with self._guard(region):
                raws = flatten([self.client(region).describe_instances(InstanceIds=[iid])])
        except ProviderError as exc:
            if awserr.error_code(exc.__cause__) in awserr.NOT_FOUND:
                return False
            raise
        return bool(raws) and raws[0]["State"]["Name"] != "terminated"

    def _wait_gone(self, region: str, ids: list[str]) -> None:
        ec2 = self.client(region)
        deadline = time.monotonic() + self.launch_timeout
        while True:
            try:
                with self._guard(region):
                    raws = flatten(ec2.get_paginator("describe_instances").paginate(
                        Filters=[{"Name": "instance-id", "Values": ids}]))
            except ProviderError as exc:
                if awserr.error_code(exc.__cause__) in awserr.NOT_FOUND:
                    return
                raise
            left = [r["InstanceId"] for r in raws if r["State"]["Name"] != "terminated"]
            if not left:
                return
            if time.monotonic() >= deadline:
                raise ProviderError(f"{self.name}: {len(left)} instance(s) still terminating in {region}: "
                                    f"{', '.join(left[:5])}", provider=self.name)
            time.sleep(self.poll_interval)

    def logs(self, inst: Instance, follow: bool = False) -> Iterable[str]:
        """The node's console output (EC2 keeps the latest 64 KiB; botocore already
        decodes the base64 ``Output``). With ``follow``, read again every
        ``poll_interval`` s, printing what is new, until the instance stops."""
        if not follow:
            return self._console_lines(inst)
        from skyplan.providers.follow import poll_follow

        return poll_follow(lambda: self._console_lines(inst), lambda: self._state_now(inst), self.poll_interval)

    def _console_lines(self, inst: Instance) -> list[str]:
        with self._guard(inst.region):
            out = self.client(inst.region).get_console_output(InstanceId=inst.id).get("Output") or ""
        return out.splitlines()

    def _state_now(self, inst: Instance) -> str | None:
        """The instance's state now (skyplan's names); None once it is gone."""
        from skyplan.providers.aws.instances import STATE_MAP

        try:
            with self._guard(inst.region):
                raws = flatten([self.client(inst.region).describe_instances(InstanceIds=[inst.id])])
        except ProviderError as exc:
            if awserr.error_code(exc.__cause__) in awserr.NOT_FOUND:
                return None
            raise
        return STATE_MAP.get(raws[0]["State"]["Name"]) if raws else None
