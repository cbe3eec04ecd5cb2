"""The Kubernetes API rules the emulator enforces: name and label syntax, label
selectors, merge patches, and the request-body shapes of the kinds skyplan uses."""

from __future__ import annotations

import copy
import re
from typing import Any, Callable

from kubernetes.utils import parse_quantity

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
NON_OVERCOMMIT = ("nvidia.com/gpu",)


class Invalid(Exception):
    """A 422: ``causes`` are (field, message) pairs."""

    def __init__(self, causes: list[tuple[str, str]]):
        self.causes = causes
        super().__init__("; ".join(f"{f}: {m}" for f, m in causes))


def check_name(name: Any, field: str, rule: re.Pattern, limit: int, out: list) -> None:
    if not isinstance(name, str) or not name:
        out.append((field, "Required value"))
    elif len(name) > limit or not rule.match(name):
        out.append((field, f"Invalid value: {name!r}: must match {rule.pattern} and be at most {limit} characters"))


def check_key(key: str, field: str, out: list) -> None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        out.append((field, f"Invalid value: {key!r}: prefix part must be a DNS-1123 subdomain"))
    if not name or len(name) > 63 or not QUALIFIED_NAME.match(name):
        out.append((field, f"Invalid value: {key!r}: name part must consist of alphanumerics, '-', '_' or '.'"))


def check_metadata(meta: Any, field: str, out: list, *, name_rule=DNS1123_SUBDOMAIN, limit=253,
                   need_name: bool = True) -> None:
    if not isinstance(meta, dict):
        out.append((field, "Required value"))
        return
    if need_name:
        check_name(meta.get("name"), f"{field}.name", name_rule, limit, out)
    for key, value in (meta.get("labels") or {}).items():
        check_key(key, f"{field}.labels", out)
        if not isinstance(value, str) or len(value) > 63 or (value and not QUALIFIED_NAME.match(value)):
            out.append((f"{field}.labels", f"Invalid value: {value!r}: a label value must be 63 characters or "
                                            "less, alphanumerics, '-', '_' or '.'"))
    for key, value in (meta.get("annotations") or {}).items():
        check_key(key, f"{field}.annotations", out)
        if not isinstance(value, str):
            out.append((f"{field}.annotations", f"Invalid value: annotation {key!r} must be a string"))


def check_pod_spec(spec: Any, field: str, out: list, *, restart: tuple[str, ...]) -> None:
    if not isinstance(spec, dict):
        out.append((field, "Required value"))
        return
    if spec.get("restartPolicy", "Always") not in restart:
        out.append((f"{field}.restartPolicy", f"Unsupported value: {spec.get('restartPolicy')!r}: "
                                              f"supported values: {', '.join(restart)}"))
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        out.append((f"{field}.containers", "Required value"))
        return
    for n, c in enumerate(containers):
        cf = f"{field}.containers[{n}]"
        check_name(c.get("name"), f"{cf}.name", DNS1123_LABEL, 63, out)
        if not c.get("image"):
            out.append((f"{cf}.image", "Required value"))
        for e in c.get("env") or ():
            if not e.get("name"):
                out.append((f"{cf}.env", "Required value: name"))
            if "value" in e and not isinstance(e["value"], str):
                out.append((f"{cf}.env[{e.get('name')}].value", "must be a string"))
        res = c.get("resources") or {}
        for part in ("requests", "limits"):
            for rname, qty in (res.get(part) or {}).items():
                try:
                    parse_quantity(qty)
                except ValueError:
                    out.append((f"{cf}.resources.{part}[{rname}]", f"Invalid value: {qty!r}: quantities must match "
                                                                  "the regular expression"))
        for rname in NON_OVERCOMMIT:
            req, lim = (res.get("requests") or {}).get(rname), (res.get("limits") or {}).get(rname)
            if req is not None and lim is None:
                out.append((f"{cf}.resources.limits", f"Required value: Limit must be set for non overcommitable "
                                                      f"resources ({rname})"))
            if req is not None and lim is not None and parse_quantity(req) != parse_quantity(lim):
                out.append((f"{cf}.resources.requests", f"Invalid value: must be equal to {rname} limit"))
    for key, value in (spec.get("nodeSelector") or {}).items():
        check_key(key, f"{field}.nodeSelector", out)


def validate(kind: str, body: Any, api_version: str, *, create: bool = True) -> None:
    out: list[tuple[str, str]] = []
    if not isinstance(body, dict):
        raise Invalid([("body", "must be an object")])
    if body.get("kind") not in (None, kind) or body.get("apiVersion") not in (None, api_version):
        out.append(("kind", f"expected {api_version} {kind}, got {body.get('apiVersion')} {body.get('kind')}"))
    name_rule, limit = (DNS1035_LABEL, 63) if kind == "Service" else (DNS1123_SUBDOMAIN, 253)
    check_metadata(body.get("metadata"), "metadata", out, name_rule=name_rule, limit=limit)
    spec = body.get("spec") or {}
    if kind == "Job":
        tmpl = spec.get("template") or {}
        check_metadata(tmpl.get("metadata") or {}, "spec.template.metadata", out, need_name=False)
        check_pod_spec(tmpl.get("spec"), "spec.template.spec", out, restart=("Never", "OnFailure"))
        if spec.get("completionMode", "NonIndexed") not in ("NonIndexed", "Indexed"):
            out.append(("spec.completionMode", "Unsupported value"))
        if spec.get("completionMode") == "Indexed" and spec.get("completions") is None:
            out.append(("spec.completions", "Required value: when completion mode is Indexed"))
        for f in ("completions", "parallelism", "backoffLimit"):
            if spec.get(f) is not None and (not isinstance(spec[f], int) or spec[f] < 0):
                out.append((f"spec.{f}", "Invalid value: must be greater than or equal to 0"))
        if create and spec.get("selector") and not spec.get("manualSelector"):
            out.append(("spec.selector", "Invalid value: `selector` will be auto-generated"))
    elif kind == "Deployment":
        tmpl = spec.get("template") or {}
        check_metadata(tmpl.get("metadata") or {}, "spec.template.metadata", out, need_name=False)
        check_pod_spec(tmpl.get("spec"), "spec.template.spec", out, restart=("Always",))
        sel = (spec.get("selector") or {}).get("matchLabels")
        if not sel:
            out.append(("spec.selector", "Required value"))
        elif not selector_matches(sel, (tmpl.get("metadata") or {}).get("labels") or {}):
            out.append(("spec.template.metadata.labels", "Invalid value: `selector` does not match template `labels`"))
        if not isinstance(spec.get("replicas", 1), int) or spec.get("replicas", 1) < 0:
            out.append(("spec.replicas", "Invalid value: must be greater than or equal to 0"))
    elif kind == "Service":
        ports = spec.get("ports") or []
        if not ports and spec.get("clusterIP") != "None":
            out.append(("spec.ports", "Required value"))
        for n, p in enumerate(ports):
            if not isinstance(p.get("port"), int) or not 0 < p["port"] < 65536:
                out.append((f"spec.ports[{n}].port", "Invalid value: must be between 1 and 65535"))
        if len(ports) > 1 and not all(p.get("name") for p in ports):
            out.append(("spec.ports", "Required value: name, when more than one port"))
    if out:
        raise Invalid(out)


# -- label selectors --------------------------------------------------------------------------------------

def parse_selector(text: str) -> Callable[[dict], bool]:
    """``a=b,c!=d,e in (x,y),f,!g`` -> predicate over a labels dict; bad syntax -> ValueError."""
    terms: list[Callable[[dict], bool]] = []
    for raw in re.findall(r"[^,(]+(?:\([^)]*\))?", text or ""):
        part = raw.strip()
        if not part:
            continue
        m = re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", part)
        if m:
            key, op, vals = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            terms.append((lambda k, vs: lambda lb: lb.get(k) in vs)(key, vals) if op == "in"
                         else (lambda k, vs: lambda lb: lb.get(k) not in vs)(key, vals))
            continue
        m = re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)", part)
        if m:
            key, op, val = m.groups()
            terms.append((lambda k, v: lambda lb: lb.get(k) == v)(key, val) if op != "!="
                         else (lambda k, v: lambda lb: lb.get(k) != v)(key, val))
            continue
        m = re.fullmatch(r"(!?)([\w./-]+)", part)
        if not m:
            raise ValueError(f"unable to parse requirement: {part!r}")
        neg, key = m.groups()
        terms.append((lambda k: lambda lb: k not in lb)(key) if neg else (lambda k: lambda lb: k in lb)(key))
    return lambda labels: all(t(labels or {}) for t in terms)


def selector_matches(match_labels: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in match_labels.items())


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (strategic merge patches of maps behave the same)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
