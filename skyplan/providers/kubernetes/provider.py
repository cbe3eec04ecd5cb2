"""KubernetesProvider: node groups as Jobs and Deployments in one namespace.

Settings of ``provider "kubernetes"``: ``kubeconfig`` (path; default the
client's own lookup, else in-cluster config), ``context``, ``namespace``
(default "default"), ``regions`` (its first entry names the cluster in offers
and plans; default the context name), ``labels`` (added to every object and
pod), ``price`` ($/h per node for offers, default 0: the cluster is paid
for), ``spot_price`` ($/h per spot node, default ``price``: nodes labelled as spot
capacity, see ``catalog.kubernetes.SPOT_LABELS``, are offered as spot only, and a
spot group's pods are kept on them, an on-demand group's off them), ``image`` (container image when a workload names none),
``backoff_limit`` (default 0), ``unschedulable_timeout`` (seconds a pod may
stay Unschedulable before create gives up, default 120), ``launch_timeout``
(default 900) and ``poll_interval`` (default 1).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from typing import Any, Callable, Iterable, Mapping, Sequence

from skyplan.catalog.offer import Offer
from skyplan.config.model import ProviderConfig
from skyplan.errors import CapacityError, ProviderError
from skyplan.providers.base import Instance, LaunchRequest
from skyplan.providers.kubernetes import manifests as mf
from skyplan.providers.kubernetes.errors import api_status, translated
from skyplan.providers.kubernetes.instances import parse_id, preempted_spot, to_instances
from skyplan.providers.kubernetes.rollout import pod_state, wait_ready

PLURAL_OF_KIND = {"job": "jobs", "deployment": "deployments"}
BOOKKEEPING = frozenset({"max_hourly_cost", "duration_hours", "data_gb", "replicas"})


class KubernetesProvider:
    """The ``kubernetes`` provider. Every object it creates carries skyplan's labels."""

    def __init__(self, cfg: ProviderConfig):
        self.cfg = cfg
        self.name = cfg.key
        s = cfg.settings or {}
        self.settings = s
        self.kubeconfig: str | None = s.get("kubeconfig") or None
        self.context: str | None = s.get("context") or None
        self.namespace: str = s.get("namespace") or "default"
        self.unschedulable_timeout = float(s.get("unschedulable_timeout", 120))
        self.launch_timeout = float(s.get("launch_timeout", 900))
        self.poll_interval = float(s.get("poll_interval", 1))
        self._api = None
        self._context_name = self.context or ""
        self._lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------

    def _guard(self, where: str):
        ctx = f"context {self._context_name!r}" if self._context_name else "the in-cluster service account"
        if self.kubeconfig:
            ctx += f" of {self.kubeconfig}"
        return translated(provider=self.name, context=ctx, where=where)

    @property
    def api(self):
        """The kubernetes ApiClient (built once, from kubeconfig or in-cluster)."""
        with self._lock:
            if self._api is None:
                from kubernetes import client, config

                with self._guard("loading the client configuration"):
                    try:
                        _, active = config.list_kube_config_contexts(config_file=self.kubeconfig)
                        self._context_name = self.context or active["name"]
                        self._api = config.new_client_from_config(config_file=self.kubeconfig, context=self.context)
                    except config.ConfigException:
                        if self.kubeconfig or self.context:
                            raise
                        conf = client.Configuration()
                        config.load_incluster_config(client_configuration=conf)
                        self._context_name = "in-cluster"
                        self._api = client.ApiClient(conf)
            return self._api

    @property
    def region(self) -> str:
        if self.cfg.regions:
            return self.cfg.regions[0]
        self.api  # noqa: B018 - resolves the context name
        return self._context_name or "cluster"

    def _apis(self):
        from kubernetes import client

        api = self.api
        return client.CoreV1Api(api), client.BatchV1Api(api), client.AppsV1Api(api)

    def _call(self, fn: Callable, *args, **kwargs) -> dict:
        """Call one API method, returning the JSON body as plain data (no model decoding)."""
        from kubernetes.client.exceptions import ApiException

        resp = fn(*args, _preload_content=False, **kwargs)
        if not 200 <= resp.status <= 299:
            raise ApiException(http_resp=resp)
        return json.loads(resp.data or b"{}")

    def _method(self, verb: str, plural: str):
        core, batch, apps = self._apis()
        owner = {"jobs": (batch, "job"), "deployments": (apps, "deployment"), "services": (core, "service"),
                 "pods": (core, "pod")}[plural]
        suffix = "namespaced_" + owner[1]
        return getattr(owner[0], f"{verb}_{suffix}")

    # -- offers -----------------------------------------------------------

    def nodes(self) -> list[dict]:
        core, _, _ = self._apis()
        with self._guard("listing nodes"):
            return self._call(core.list_node).get("items", [])

    def inventory(self) -> list:
        """The schedulable, Ready nodes, read live from the cluster, as NodeInfo.

        Failure contract: raises ProviderError (AuthError when the credentials cannot
        be loaded or are refused); reads only, so nothing exists because of it."""
        from skyplan.catalog.kubernetes import NodeInfo

        infos = []
        for node in self.nodes():
            ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                        for c in (node.get("status") or {}).get("conditions") or ())
            if (node.get("spec") or {}).get("unschedulable") or not ready:
                continue
            infos.append(NodeInfo(name=node["metadata"]["name"], labels=node["metadata"].get("labels") or {},
                                  allocatable=(node.get("status") or {}).get("allocatable") or {}))
        return infos

    def pods_on_nodes(self) -> list[dict]:
        """Every pending or running pod bound to a node, in every namespace (one list).

        Failure contract: as ``inventory``; reads only."""
        core, _, _ = self._apis()
        with self._guard("listing pods"):
            pods = self._call(core.list_pod_for_all_namespaces).get("items", [])
        return [p for p in pods if (p.get("spec") or {}).get("nodeName")
                and (p.get("status") or {}).get("phase") in ("Pending", "Running")]

    def offers(self) -> Iterable[Offer]:
        """One offer per schedulable, Ready node, read live from the cluster.

        Failure contract: as ``inventory``; reads only."""
        from skyplan.catalog.kubernetes import node_prices, offers_from_nodes

        return offers_from_nodes(self.inventory(), region=self.region, provider="kubernetes",
                                 **node_prices(self.settings))

    def spot_labels(self) -> dict[str, str]:
        """The labels (key -> value, as the nodes spell it) that mark the cluster's spot
        nodes (``catalog.kubernetes.SPOT_LABELS``); {} when it has none."""
        from skyplan.catalog.kubernetes import spot_labels_of

        found: dict[str, str] = {}
        for node in self.nodes():
            found.update(spot_labels_of(node["metadata"].get("labels") or {}))
        return found

    def accelerator_labels(self, accelerators: str | None) -> dict[str, list[str]]:
        """Node label values naming the requested accelerator, by label key."""
        from skyplan.catalog.kubernetes import ACCELERATOR_LABELS, accelerator_of

        if not accelerators:
            return {}
        wanted = accelerators.rsplit(":", 1)[0]
        found: dict[str, list[str]] = {}
        for node in self.nodes():
            labels = node["metadata"].get("labels") or {}
            if accelerator_of(labels) != wanted:
                continue
            for key in ACCELERATOR_LABELS:
                if labels.get(key):
                    found.setdefault(key, []).append(labels[key])
        if not found:
            raise CapacityError(f"{self.name}: no node in {self.region} has {wanted}", scope="region",
                                provider=self.name)
        return found

    # -- create -----------------------------------------------------------

    def create(self, req: LaunchRequest) -> list[Instance]:
        """Create the group's Job (+ headless Service) or Deployment (+ Service)
        and wait until every pod runs (a job whose pods already finished counts).

        Failure contract: if a pod stays Unschedulable past
        ``unschedulable_timeout`` (or the group is not running within
        ``launch_timeout``), every object created is deleted and
        CapacityError(region) is raised so apply fails over elsewhere. On any
        other error the objects created so far are deleted before raising; if
        that cleanup fails they keep the address and lineage labels for refresh.
        An object of the same name that is already ours (a retried create) is
        adopted, not duplicated. A request with ``autostop`` is refused before anything
        is created (ProviderError): a pod has no machine of its own to stop.
        """
        if req.autostop:
            raise ProviderError(f"{req.address}: autostop stops an idle machine; a Kubernetes pod has none of its "
                                f"own to stop", provider=self.name,
                                hint="place it on a cloud or the local provider (placement { providers = [...] }), "
                                     "or drop autostop")
        objects = mf.workload_objects(
            req, default_image=str(self.settings.get("image") or mf.DEFAULT_IMAGE),
            accelerator_labels=self.accelerator_labels(req.accelerators),
            backoff_limit=int(self.settings.get("backoff_limit", 0)), extra_labels=self.settings.get("labels"),
            spot_labels=self.spot_labels())
        made: list[tuple[str, str]] = []
        name = mf.object_name(req.address, req.lineage, req.group, req.token)
        try:
            for plural, body in objects:
                self._create_one(plural, body)
                made.append((plural, body["metadata"]["name"]))
            workload_plural = objects[-1][0]
            obj, pods = wait_ready(self, workload_plural, name, req)
        except BaseException:
            self._delete_objects(made, wait=False, quiet=True)
            raise
        if req.kind == "service" and req.ports:
            # one stable name for all replica groups; shared, so kept out of this group's cleanup
            self._create_one("services", mf.stable_service(req, self.settings.get("labels")))
        insts = to_instances(obj, workload_plural, provider=self.name, region=self.region)
        return [replace(i, state=pod_state(pods, i.rank, req.kind)) for i in insts]

    def _create_one(self, plural: str, body: dict) -> None:
        """Create one object; one of the same name that is already ours is adopted."""
        from kubernetes.client.exceptions import ApiException

        name = body["metadata"]["name"]
        with self._guard(f"creating {plural[:-1]} {name}"):
            try:
                self._call(self._method("create", plural), self.namespace, body)
                return
            except ApiException as exc:
                if api_status(exc) != 409:
                    raise
            existing = self._call(self._method("read", plural), name, self.namespace)
        ann = existing["metadata"].get("annotations") or {}
        mine = body["metadata"]["annotations"]
        if (ann.get(mf.ANN_LINEAGE), ann.get(mf.ANN_ADDRESS)) != (mine[mf.ANN_LINEAGE], mine[mf.ANN_ADDRESS]):
            raise ProviderError(f"{self.name}: {plural[:-1]} {name} already exists in namespace {self.namespace} "
                                "and is not managed by this state", provider=self.name,
                                hint="delete it or choose another namespace")

    # -- list / read ------------------------------------------------------

    def list_managed(self, lineage: str) -> list[Instance]:
        """Every Job and Deployment labelled with ``lineage``: one list call per kind.

        Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
        _, batch, apps = self._apis()
        selector = f"{mf.LABEL_LINEAGE}={mf.label_value(lineage)}"
        out: list[Instance] = []
        region = self.region
        for plural, fn in (("jobs", batch.list_namespaced_job), ("deployments", apps.list_namespaced_deployment)):
            with self._guard(f"listing {plural}"):
                items = self._call(fn, self.namespace, label_selector=selector).get("items", [])
            for obj in items:
                if (obj["metadata"].get("annotations") or {}).get(mf.ANN_LINEAGE) == lineage \
                        and not obj["metadata"].get("deletionTimestamp"):
                    out.extend(to_instances(obj, plural, provider=self.name, region=region))
        if any(i.pricing == "spot" and i.state == "pending" for i in out):
            core, _, _ = self._apis()
            with self._guard("listing pods"):
                pods = self._call(core.list_namespaced_pod, self.namespace, label_selector=selector).get("items", [])
            out = preempted_spot(out, pods)
        return out

    def read(self, provider_id: str) -> Instance:
        """``[NAMESPACE/]job/NAME[/RANK]`` or ``[NAMESPACE/]deployment/NAME[/RANK]``."""
        from kubernetes.client.exceptions import ApiException

        try:
            ns, kind, name, rank = parse_id(provider_id, self.namespace)
        except ValueError:
            raise ProviderError(f"{self.name}: {provider_id!r} is not a Kubernetes object id", provider=self.name,
                                hint="use job/NAME or deployment/NAME (optionally NAMESPACE/ in front)") from None
        plural = PLURAL_OF_KIND[kind]
        with self._guard(f"reading {kind} {name}"):
            try:
                obj = self._call(self._method("read", plural), name, ns)
            except ApiException as exc:
                if api_status(exc) == 404:
                    raise ProviderError(f"{self.name}: no {kind} {name!r} in namespace {ns}",
                                        provider=self.name) from None
                raise
        insts = to_instances(obj, plural, provider=self.name, region=self.region)
        if not 0 <= rank < len(insts):
            raise ProviderError(f"{self.name}: {kind} {name} has no node {rank}", provider=self.name)
        return insts[rank]

    # -- update / delete --------------------------------------------------

    def update(self, inst: Instance, changes: Mapping[str, Any]) -> Instance:
        """In-place changes: ``tags`` (annotations ``tags.skyplan.dev/KEY``; None
        removes), ``state`` (stopped: suspend the Job / scale the Deployment to
        0; running: resume / scale back), ``env`` and ``ports`` of a service
        (a rolling update of the Deployment; the Service is edited). Cost and
        duration attributes need no API call. Anything else raises ProviderError.

        Failure contract: each change is one PATCH; a failure leaves earlier
        changes applied (re-running the update converges)."""
        unknown = set(changes) - {"tags", "state", "env", "ports"} - BOOKKEEPING
        kind = inst.attributes.get("kind") or parse_id(inst.id, self.namespace)[1]
        if kind == "job":
            unknown |= {"env", "ports"} & set(changes)
        if unknown:
            raise ProviderError(f"{self.name}: cannot change {', '.join(sorted(unknown))} of {inst.id} in place",
                                provider=self.name, hint="the plan should replace the resource instead")
        ns, kind, name, _ = parse_id(inst.id, self.namespace)
        plural = PLURAL_OF_KIND[kind]
        patch_fn = self._method("patch", plural)
        with self._guard(f"updating {kind} {name}"):
            if changes.get("tags"):
                self._call(patch_fn, name, ns, {"metadata": mf.tag_patch(dict(changes["tags"]))})
            if changes.get("state") in ("stopped", "running"):
                stop = changes["state"] == "stopped"
                if kind == "job":
                    spec: dict = {"suspend": stop}
                else:
                    spec = {"replicas": 0 if stop else int(inst.attributes.get("nodes") or 1)}
                self._call(patch_fn, name, ns, {"spec": spec})
            if "env" in changes:
                self._patch_env(name, ns, changes.get("env") or {}, inst)
            if "ports" in changes:
                self._patch_ports(name, ns, changes.get("ports") or ())
        return self.read(f"{ns}/{kind}/{name}/{inst.rank}")

    def _patch_env(self, name: str, ns: str, env: Mapping[str, str], inst: Instance) -> None:
        dep = self._call(self._method("read", "deployments"), name, ns)
        containers = dep["spec"]["template"]["spec"]["containers"]
        for c in containers:
            if c["name"] == mf.CONTAINER:
                keep = [e for e in c.get("env") or () if e["name"].startswith("SKYPLAN_")]
                c["env"] = mf.env_list(env) + keep
        # A JSON merge patch replaces the list, so removed variables really go.
        self._call(self._method("patch", "deployments"), name, ns,
                   {"spec": {"template": {"spec": {"containers": containers}}}},
                   _content_type="application/merge-patch+json")

    def _patch_ports(self, name: str, ns: str, ports) -> None:
        from kubernetes.client.exceptions import ApiException

        dep = self._call(self._method("read", "deployments"), name, ns)
        meta = {k: dep["metadata"].get(k) for k in ("name", "labels", "annotations")}
        try:
            self._call(self._method("read", "services"), name, ns)
            exists = True
        except ApiException as exc:
            if api_status(exc) != 404:
                raise
            exists = False
        if exists and not ports:
            self._call(self._method("delete", "services"), name, ns)
        elif exists:
            body = mf.service_body(meta, name, ports)
            self._call(self._method("patch", "services"), name, ns, {"spec": {"ports": body["spec"]["ports"]}},
                       _content_type="application/merge-patch+json")
        elif ports:
            self._call(self._method("create", "services"), ns, mf.service_body(meta, name, ports))

    def delete(self, insts: Sequence[Instance]) -> None:
        """Delete each instance's Job or Deployment (pods with it) and its Service,
        then wait until the object and its pods are gone. Already gone is fine.

        Failure contract: on error some objects may remain; they keep their
        labels, so a retry or the next refresh finds them."""
        seen: list[tuple[str, str]] = []
        for inst in insts:
            ns, kind, name, _ = parse_id(inst.id, self.namespace)
            for plural in (PLURAL_OF_KIND[kind], "services"):
                if (plural, f"{ns}/{name}") not in seen:
                    seen.append((plural, f"{ns}/{name}"))
        self._delete_objects(seen, wait=True)
        self._delete_unused_stable_services(insts)

    def _delete_unused_stable_services(self, insts: Sequence[Instance]) -> None:
        """Delete the stable Service of each service address none of whose Deployments is left."""
        _, _, apps = self._apis()
        for address, lineage in sorted({(i.address, i.lineage) for i in insts
                                        if i.attributes.get("kind") == "deployment" and i.address}):
            selector = f"{mf.LABEL_ADDRESS}={mf.label_value(address)},{mf.LABEL_LINEAGE}={mf.label_value(lineage)}"
            with self._guard("listing deployments"):
                left = [d for d in self._call(apps.list_namespaced_deployment, self.namespace,
                                              label_selector=selector).get("items", [])
                        if not d["metadata"].get("deletionTimestamp")]
            if not left:
                self._delete_objects([("services", f"{self.namespace}/{mf.stable_name(address, lineage)}")],
                                     wait=True)

    def _delete_objects(self, objects: Sequence[tuple[str, str]], *, wait: bool, quiet: bool = False) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            for plural, ref in objects:
                ns, _, name = ref.rpartition("/")
                ns = ns or self.namespace
                with self._guard(f"deleting {plural[:-1]} {name}"):
                    try:
                        self._call(self._method("delete", plural), name, ns,
                                   body={"propagationPolicy": "Background"})
                    except ApiException as exc:
                        if api_status(exc) != 404:
                            raise
            if wait:
                self._wait_gone(objects)
        except Exception:
            if not quiet:
                raise

    def _wait_gone(self, objects: Sequence[tuple[str, str]]) -> None:
        from kubernetes.client.exceptions import ApiException

        core, _, _ = self._apis()
        deadline = time.monotonic() + self.launch_timeout
        for plural, ref in objects:
            ns, _, name = ref.rpartition("/")
            ns = ns or self.namespace
            while True:
                with self._guard(f"waiting for {name} to go"):
                    try:
                        self._call(self._method("read", plural), name, ns)
                        gone = False
                    except ApiException as exc:
                        if api_status(exc) != 404:
                            raise
                        gone = plural == "services" or not self._call(
                            core.list_namespaced_pod, ns, label_selector=f"{mf.LABEL_NAME}={name}").get("items")
                if gone:
                    break
                if time.monotonic() >= deadline:
                    raise ProviderError(f"{self.name}: {plural[:-1]} {name} still deleting after "
                                        f"{self.launch_timeout:.0f}s", provider=self.name)
                time.sleep(self.poll_interval)

    def logs(self, inst: Instance, follow: bool = False) -> Iterable[str]:
        """Output of the pod running this node (by rank for Jobs)."""
        core, _, _ = self._apis()
        ns, kind, name, rank = parse_id(inst.id, self.namespace)
        selector = f"{mf.LABEL_NAME}={name}"
        with self._guard(f"reading logs of {name}"):
            pods = self._call(core.list_namespaced_pod, ns, label_selector=selector).get("items", [])
            if kind == "job":
                pods = [p for p in pods if (p["metadata"].get("labels") or {}).get(
                    "batch.kubernetes.io/job-completion-index") == str(rank)] or pods
            else:
                pods = sorted(pods, key=lambda p: p["metadata"]["name"])[rank:rank + 1] or pods
            if not pods:
                return []
            resp = core.read_namespaced_pod_log(pods[-1]["metadata"]["name"], ns, container=mf.CONTAINER,
                                                follow=follow, _preload_content=False)
            if not follow:
                return resp.data.decode("utf-8", "replace").splitlines()
        return (line.decode("utf-8", "replace").rstrip("\n") for line in resp.stream())
