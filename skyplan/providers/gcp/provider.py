"""GcpProvider: Compute Engine instances through google-cloud-compute (REST).

Settings of ``provider "gcp"``: ``project``, ``regions``, ``credentials_file``,
``endpoint`` (a private or local Compute Engine endpoint; anonymous
credentials), ``image`` (boot image for every node), ``network``,
``subnetwork`` (a name, a path, or a map by zone/region), ``service_account``,
``labels`` (added to every instance), ``launch_timeout`` (seconds a group may
take to run, default 600), ``poll_interval`` (default 5) and ``retry_timeout``
(seconds one call retries throttling/5xx, default 20). Nothing secret is read
from or written to state.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Iterator, Mapping, Sequence

from skyplan.catalog.offer import Offer
from skyplan.config.model import ProviderConfig
from skyplan.errors import CapacityError, ProviderError, TransientError
from skyplan.providers.base import Instance, LaunchRequest
from skyplan.providers.bootscript import stopped_by_autostop
from skyplan.providers.gcp import errors as gerr
from skyplan.providers.gcp import labels as lab
from skyplan.providers.gcp import reservations
from skyplan.providers.gcp.clients import Clients, as_dict, resolve, retry_policy
from skyplan.providers.gcp.instances import (
    PREEMPTED_OPERATION, has_autostop, is_job, is_spot, preempted_by, exit_code_of, stopped, to_instance,
)
from skyplan.providers.gcp.launch import instance_body, instance_names

BOOKKEEPING = frozenset({"max_hourly_cost", "duration_hours", "data_gb", "ports", "replicas", "keep",
                         "hourly_cost"})
PAGE_SIZE = 500


class GcpProvider:
    """The ``gcp`` provider. Every instance it creates carries skyplan's labels."""

    def __init__(self, cfg: ProviderConfig):
        self.cfg = cfg
        self.name = cfg.key
        s = dict(cfg.settings or {})
        self.settings = s
        self.endpoint: str | None = s.get("endpoint") or None
        self.launch_timeout = float(s.get("launch_timeout", 600))
        self.poll_interval = float(s.get("poll_interval", 5))
        self.timeout = 60.0
        credentials, self.project, self.credentials_text = resolve(self.name, s)
        self._retry = retry_policy(float(s.get("retry_timeout", 20)))
        self.clients = Clients(credentials, self.endpoint)
        self._cleaned: dict[str, int] = {}  # launch token -> times its nodes were deleted after a failure

    # -- plumbing ---------------------------------------------------------

    def _guard(self, where: str):
        return gerr.translated(provider=self.name, where=where, credentials=self.credentials_text)

    def _call(self, method, request, where: str):
        with self._guard(where):
            return method(request=request, retry=self._retry, timeout=self.timeout)

    @staticmethod
    def _types():
        from google.cloud import compute_v1

        return compute_v1

    def _parse_id(self, provider_id: str) -> tuple[str, str, str]:
        """``PROJECT/ZONE/NAME`` (optionally ``gcp:``-prefixed, or a resource path) or ``ZONE/NAME``."""
        text = provider_id.split(":", 1)[1] if provider_id.startswith(f"{self.cfg.kind}:") else provider_id
        parts = [p for p in text.split("/") if p]
        if len(parts) >= 6 and parts[-6] == "projects" and parts[-4] == "zones":
            return parts[-5], parts[-3], parts[-1]
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
        if len(parts) == 2:
            return self.project, parts[0], parts[1]
        raise ProviderError(f"{self.name}: {provider_id!r} is not an instance id (expected gcp:PROJECT/ZONE/NAME)",
                            provider=self.name,
                            hint="give it as gcp:PROJECT/ZONE/NAME, e.g. gcp:my-project/us-central1-a/my-vm")

    def _wait(self, project: str, zone: str, op: Any, where: str, deadline: float) -> dict:
        """Wait for one zone operation to finish (``zoneOperations.wait``, which
        returns at DONE or after a while, so it is repeated up to ``deadline``)."""
        ct = self._types()
        raw = as_dict(op)
        while raw.get("status") != "DONE":
            if time.monotonic() >= deadline:
                raise ProviderError(f"{self.name}: operation {raw.get('name')} in {zone} not done after "
                                    f"{self.launch_timeout:.0f}s", provider=self.name)
            try:
                raw = as_dict(self._call(self.clients.zone_operations.wait, ct.WaitZoneOperationRequest(
                    project=project, zone=zone, operation=raw["name"]), where))
            except TransientError:
                time.sleep(self.poll_interval)
        return raw

    def _check(self, op: dict, where: str) -> None:
        failed = gerr.operation_error(op, provider=self.name, where=where)
        if failed is not None:
            raise failed

    # -- offers -----------------------------------------------------------

    def offers(self) -> Iterable[Offer]:
        """Offers of the catalog for this provider's regions (prices are not live)."""
        from skyplan.catalog import load_catalog

        return load_catalog().for_provider("gcp", tuple(self.cfg.regions))

    # -- create -----------------------------------------------------------

    def create(self, req: LaunchRequest) -> list[Instance]:
        """Insert one instance per node in the placement's zone, wait for every
        insert operation, then until every node runs.

        Failure contract: when an insert is refused or its operation fails
        (capacity, quota, ...), or a node is stopped while starting (spot capacity
        taken back) or not running within ``launch_timeout``, every node this
        launch inserted is deleted and the mapped error raised (CapacityError or
        QuotaError for failover, TransientError, AuthError, ProviderError). If that
        cleanup fails, what is left carries the address and lineage labels, so the
        next refresh finds it. A retry of the same launch (same token) reuses the
        same names and request ids, so nothing is created twice. A fleet
        (``req.reserve``) is a specific reservation instead (``reservations.create``);
        nodes with ``req.reservation_id`` are inserted with an affinity to it."""
        if req.reserve:
            return reservations.create(self, req)
        p = req.placement
        if not p.zone:
            raise ProviderError(f"{self.name}: a placement in {p.region} has no zone", provider=self.name,
                                hint="plan again; Compute Engine instances live in one zone")
        ct = self._types()
        where = f"{p.zone} ({p.instance_type} x{p.nodes}, {p.pricing})"
        deadline = time.monotonic() + self.launch_timeout
        names = instance_names(req)
        inserted: list[str] = []
        try:
            ops = []
            for rank, name in enumerate(names):
                body = instance_body(req, name, rank, project=self.project, settings=self.settings, names=names)
                request = ct.InsertInstanceRequest(
                    project=self.project, zone=p.zone, instance_resource=ct.Instance.from_json(_json(body)),
                    request_id=request_id(req, name, self._cleaned.get(req.token, 0)))
                try:
                    ops.append(self._call(self.clients.instances.insert_unary, request, where))
                except ProviderError as exc:
                    if not gerr.is_conflict(exc.__cause__):  # already made by an earlier try of this launch
                        raise
                inserted.append(name)
            for op in ops:
                self._check(self._wait(self.project, p.zone, op, where, deadline), where)
            raws = self._wait_running(p.zone, names, deadline, where)
        except BaseException:
            if inserted:
                # A retry of this launch must insert afresh: Compute Engine answers a
                # request id it has seen with the old operation, not a new instance.
                self._cleaned[req.token] = self._cleaned.get(req.token, 0) + 1
            self._delete_quietly(p.zone, inserted)
            raise
        return sorted((to_instance(r, provider=self.name, project=self.project) for r in raws),
                      key=lambda i: i.rank)

    def _get(self, project: str, zone: str, name: str, where: str) -> dict | None:
        ct = self._types()
        try:
            return as_dict(self._call(self.clients.instances.get, ct.GetInstanceRequest(
                project=project, zone=zone, instance=name), where))
        except ProviderError as exc:
            if gerr.is_not_found(exc.__cause__):
                return None
            raise

    def _wait_running(self, zone: str, names: list[str], deadline: float, where: str) -> list[dict]:
        while True:
            try:
                raws = [self._get(self.project, zone, n, where) for n in names]
            except TransientError:  # a throttled read: the nodes are still starting
                if time.monotonic() >= deadline:
                    raise
                time.sleep(self.poll_interval)
                continue
            lost = [n for n, r in zip(names, raws) if r is None or stopped(r)]
            if lost:
                raise CapacityError(f"{self.name}: {len(lost)} node(s) stopped or deleted while starting in "
                                    f"{where}: {', '.join(lost[:3])}", scope="zone", provider=self.name)
            if all(r["status"] == "RUNNING" for r in raws):
                return raws
            if time.monotonic() >= deadline:
                running = sum(r["status"] == "RUNNING" for r in raws)
                raise CapacityError(f"{self.name}: nodes not running after {self.launch_timeout:.0f}s in {where} "
                                    f"({running}/{len(names)} running)", scope="zone", provider=self.name)
            time.sleep(self.poll_interval)

    def _delete_quietly(self, zone: str, names: list[str]) -> None:
        try:
            self._delete_names(self.project, zone, names)
        except Exception:  # noqa: BLE001 - the labels let refresh find what is left
            pass

    # -- list / read ------------------------------------------------------

    def list_managed(self, lineage: str) -> list[Instance]:
        """Every instance labelled with ``lineage``, in every zone of the project:
        one ``instances.aggregatedList`` with a label filter (paginated), and the
        lineage's reservations (one ``reservations.aggregatedList``). Only when
        a spot VM is found stopped, one ``globalOperations.aggregatedList`` for
        preemption operations; a job node found stopped costs one
        ``getSerialPortOutput`` to read its exit code, and so does a stopped node with
        autostop (whether its idle timer stopped it).

        Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
        ct = self._types()
        request = ct.AggregatedListInstancesRequest(
            project=self.project, filter=f'labels.skyplan-lineage = "{lab.encode(lineage)}"', max_results=PAGE_SIZE)
        where = f"project {self.project}"
        with self._guard(where):
            pager = self.clients.instances.aggregated_list(request=request, retry=self._retry, timeout=self.timeout)
            raws = [as_dict(i) for _, scoped in pager for i in scoped.instances]
        operations = self._preemptions() if any(is_spot(r) and stopped(r) for r in raws) else {}
        out = []
        for r in raws:
            preempted = preempted_by(r, operations)
            code, idle = None, False
            if not preempted and stopped(r) and (is_job(r) or has_autostop(r)):
                console = self._console(self.project, r["zone"].rsplit("/", 1)[-1], r["name"])
                code = exit_code_of(console) if is_job(r) else None
                idle = not is_job(r) and stopped_by_autostop(console)
            out.append(to_instance(r, provider=self.name, project=self.project, preempted=preempted,
                                   exit_code=code, autostopped=idle))
        return out + reservations.list_managed(self, lineage)

    def _preemptions(self) -> dict[str, list[dict]]:
        """Preemption operations of the project, by target instance id and name."""
        ct = self._types()
        request = ct.AggregatedListGlobalOperationsRequest(
            project=self.project, filter=f'operationType = "{PREEMPTED_OPERATION}"', max_results=PAGE_SIZE)
        out: dict[str, list[dict]] = {}
        with self._guard(f"project {self.project} (preemptions)"):
            pager = self.clients.global_operations.aggregated_list(request=request, retry=self._retry,
                                                                   timeout=self.timeout)
            for _, scoped in pager:
                for op in scoped.operations:
                    raw = as_dict(op)
                    for key in {str(raw.get("targetId", "")), raw.get("targetLink", "").rsplit("/", 1)[-1]} - {""}:
                        out.setdefault(key, []).append(raw)
        return out

    def _console(self, project: str, zone: str, name: str) -> str:
        return self._serial(project, zone, name, 0)[0]

    def _serial(self, project: str, zone: str, name: str, start: int) -> tuple[str, int]:
        """(serial port 1 output from byte ``start``, where the next read starts); ("", start)
        for an instance that is gone."""
        ct = self._types()
        try:
            out = self._call(self.clients.instances.get_serial_port_output, ct.GetSerialPortOutputInstanceRequest(
                project=project, zone=zone, instance=name, port=1, start=start), f"{zone} (serial port of {name})")
        except ProviderError as exc:
            if gerr.is_not_found(exc.__cause__):
                return "", start
            raise
        return out.contents or "", int(out.next_ or start)

    def read(self, provider_id: str) -> Instance:
        """Describe one instance for ``skyplan import``: ``gcp:PROJECT/ZONE/NAME``
        (or ``PROJECT/ZONE/NAME``, ``ZONE/NAME``). Raises ProviderError if not found."""
        project, zone, name = self._parse_id(provider_id)
        raw = self._get(project, zone, name, f"{zone} ({name})")
        if raw is None:
            raise ProviderError(f"{self.name}: no instance {name!r} in {project}/{zone}", provider=self.name,
                                hint="give the id as gcp:PROJECT/ZONE/NAME")
        operations = self._preemptions() if is_spot(raw) and stopped(raw) else {}
        return to_instance(raw, provider=self.name, project=project, preempted=preempted_by(raw, operations))

    # -- update / delete --------------------------------------------------

    def update(self, inst: Instance, changes: Mapping[str, Any]) -> Instance:
        """Apply in-place changes: ``tags`` (a map; None removes a tag) through
        ``setLabels`` with the instance's label fingerprint (re-read and retried
        once if someone changed the labels meanwhile), and ``state`` ("running"
        starts, "stopped" stops). Bookkeeping attributes need no call; anything
        else raises ProviderError (it needs a replacement). Returns the instance
        as Compute Engine now describes it.

        Failure contract: a label change is one call (all or nothing); a start or
        stop that fails leaves the instance as Compute Engine reports it next."""
        unknown = set(changes) - {"tags", "state"} - BOOKKEEPING
        if unknown:
            raise ProviderError(f"{self.name}: cannot change {', '.join(sorted(unknown))} of {inst.id} in place",
                                provider=self.name, hint="the plan should replace the resource instead")
        ct = self._types()
        project, zone, name = self._parse_id(inst.id)
        where = f"{zone} ({name})"
        deadline = time.monotonic() + self.launch_timeout
        tags = dict(changes.get("tags") or {})
        if tags:
            for attempt in (1, 2):
                raw = self._get(project, zone, name, where)
                if raw is None:
                    raise ProviderError(f"{self.name}: instance {inst.id} no longer exists", provider=self.name)
                labels = dict(raw.get("labels") or {})
                for key, value in tags.items():
                    key = str(key)
                    if not key.startswith(lab.PREFIX_TAG):  # a user's tag: made a valid label, as at launch
                        key = next(iter(lab.user_labels({key: ""})))
                    for old in lab.label_keys(key, labels):
                        labels.pop(old)
                    if value is not None:  # skyplan's own are encoded reversibly (never invalid)
                        labels.update(lab.to_labels({key: str(value)}) if key.startswith(lab.PREFIX_TAG)
                                      else lab.user_labels({key: str(value)}))
                body = ct.InstancesSetLabelsRequest(labels=labels, label_fingerprint=raw.get("labelFingerprint", ""))
                try:
                    op = self._call(self.clients.instances.set_labels_unary, ct.SetLabelsInstanceRequest(
                        project=project, zone=zone, instance=name, instances_set_labels_request_resource=body), where)
                except ProviderError as exc:
                    if attempt == 1 and gerr.status_of(exc.__cause__) == 412:  # fingerprint changed: read again
                        continue
                    raise
                self._check(self._wait(project, zone, op, where, deadline), where)
                break
        want = changes.get("state")
        method = None
        if want == "stopped" and inst.state != "stopped":
            method, request = self.clients.instances.stop_unary, ct.StopInstanceRequest
        elif want == "running" and inst.state != "running":
            method, request = self.clients.instances.start_unary, ct.StartInstanceRequest
        if method is not None:
            op = self._call(method, request(project=project, zone=zone, instance=name), where)
            self._check(self._wait(project, zone, op, where, deadline), where)
        return self.read(inst.id)

    def delete(self, insts: Sequence[Instance]) -> None:
        """Delete every instance and wait for the delete operations. Instances
        already gone are skipped.

        Failure contract: on error some instances may still be deleting; they carry
        their labels, so a retry or the next refresh sees them."""
        by_zone: dict[tuple[str, str], list[str]] = {}
        for inst in [i for i in insts if reservations.is_reservation(i)]:
            reservations.delete(self, inst)
        for inst in [i for i in insts if not reservations.is_reservation(i)]:
            project, zone, name = self._parse_id(inst.id)
            by_zone.setdefault((project, zone), []).append(name)
        if len(by_zone) <= 1:
            for (project, zone), names in by_zone.items():
                self._delete_names(project, zone, names)
            return
        with ThreadPoolExecutor(max_workers=min(8, len(by_zone))) as pool:
            for f in [pool.submit(self._delete_names, pz[0], pz[1], names) for pz, names in by_zone.items()]:
                f.result()

    def _delete_names(self, project: str, zone: str, names: list[str]) -> None:
        ct = self._types()
        deadline = time.monotonic() + self.launch_timeout
        ops = []
        for name in names:
            try:
                ops.append(self._call(self.clients.instances.delete_unary, ct.DeleteInstanceRequest(
                    project=project, zone=zone, instance=name), f"{zone} (delete {name})"))
            except ProviderError as exc:
                if not gerr.is_not_found(exc.__cause__):
                    raise
        for op in ops:
            done = self._wait(project, zone, op, f"{zone} (delete)", deadline)
            failed = gerr.operation_error(done, provider=self.name, where=f"{zone} (delete)")
            if failed is not None and "notFound" not in str(done.get("error")) and "RESOURCE_NOT_FOUND" \
                    not in str(done.get("error")):
                raise failed

    def describe_reservation(self, reservation_id: str):
        """A specific reservation (``NAME``, ``ZONE/NAME`` or ``PROJECT/ZONE/NAME``)
        with its live ``inUseCount``; None when the project has none by that name.

        Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
        return reservations.describe(self, reservation_id)

    def logs(self, inst: Instance, follow: bool = False) -> Iterable[str]:
        """The node's serial port 1 output (what the boot and startup script print;
        Compute Engine keeps the latest 1 MiB). With ``follow``, new output is read from
        where the last read ended, every ``poll_interval`` s, until the instance stops."""
        project, zone, name = self._parse_id(inst.id)
        if not follow:
            return self._console(project, zone, name).splitlines()
        return self._follow(project, zone, name)

    def _follow(self, project: str, zone: str, name: str) -> Iterator[str]:
        start, partial = 0, ""
        while True:
            raw = self._get(project, zone, name, f"{zone} ({name})")
            text, start = self._serial(project, zone, name, start)  # after the status: nothing is missed
            lines = (partial + text).split("\n")
            partial = lines.pop()
            yield from lines
            if raw is None or stopped(raw):
                if partial:
                    yield partial
                return
            time.sleep(self.poll_interval)


def request_id(req: LaunchRequest, name: str, attempt: int = 0) -> str:
    """The insert's idempotency key: the same for every retry of one launch of one
    node, different in another zone (a failover must not get the first answer back)
    and after the launch's nodes were deleted by a failed attempt."""
    p = req.placement
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"skyplan/{req.token}/{p.zone}/{p.instance_type}/{name}/{attempt}"))


def _json(body: Mapping[str, Any]) -> str:
    import json

    return json.dumps(body)
