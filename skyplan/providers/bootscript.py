"""The boot script a cloud node runs its workload with (EC2 user data, Compute
Engine startup script, Azure custom data): one shape for every cloud.

It writes the workload's env to ``/etc/skyplan/env``, runs ``setup`` then
``run`` (inside ``docker run`` when the workload's image is a container),
logs each to ``/var/log/skyplan/<step>.log``, writes ``skyplan: exit_code=N``
to ``/var/log/skyplan/exit_code`` and to the serial console (where refresh and
``skyplan logs`` read a job's outcome) and, for a job, powers the node off.

With ``autostop`` (a service's idle window, in seconds) it first installs the
idle timer (``autostop_script``): a systemd unit, enabled so it runs again after
every start, or a detached shell loop where systemd does not run. Every minute
(or every window, if shorter) it counts the node idle when no one is logged in
(``who``) and no process holds a GPU (``nvidia-smi --query-compute-apps``, when
the node has it); after a whole window idle it prints ``skyplan: autostop
stopped`` to the console and runs ``shutdown -h now``. When it starts it prints
``skyplan: autostop armed``, so the last of these lines tells a stop by the
timer from a stop by someone (``stopped_by_autostop``).
What differs per cloud (how a node learns its rank or the head's address, the
console device) comes in as shell lines. ``root`` prefixes every path the
script writes, so tests run it in a folder.
"""

from __future__ import annotations

import re
import shlex
from typing import Iterable, Mapping

from skyplan.providers.base import LaunchRequest


def node_env(req: LaunchRequest, **extra: str) -> dict[str, str]:
    """The workload's declared env plus what skyplan tells every node of its group."""
    return {**{str(k): str(v) for k, v in dict(req.env).items()}, "SKYPLAN_ADDRESS": req.address,
            "SKYPLAN_GROUP": str(req.group), "SKYPLAN_NUM_NODES": str(req.placement.nodes), **extra}


AUTOSTOP_ARMED = "skyplan: autostop armed"
AUTOSTOP_STOPPED = "skyplan: autostop stopped"
_AUTOSTOP_LINE = re.compile(r"skyplan: autostop (armed|stopped)")


def stopped_by_autostop(console: str) -> bool:
    """The node's console says its idle timer stopped it since it last started."""
    found = _AUTOSTOP_LINE.findall(console or "")
    return bool(found) and found[-1] == "stopped"


def format_window(seconds: int) -> str:
    """7200 -> ``2h``, 5400 -> ``1h30m``, 90 -> ``1m30s``: an idle window as a tag value."""
    out, rest = "", int(seconds)
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size or (unit == "s" and not out):
            out += f"{rest // size}{unit}"
            rest %= size
            if not rest:
                break
    return out


def autostop_script(window: int, console: str) -> str:
    """The idle timer: ``window`` seconds idle (no login session, no GPU process), then power off."""
    every = max(1, min(60, int(window)))
    return "\n".join([
        "#!/bin/bash",
        f"echo '{AUTOSTOP_ARMED} ({format_window(window)})' > {console}",
        "idle=0",
        f"while sleep {every}; do",
        "  busy=",
        '  [ -n "$(who)" ] && busy=login',
        "  if command -v nvidia-smi > /dev/null; then",
        '    [ -n "$(nvidia-smi --query-compute-apps=pid --format=csv,noheader 2> /dev/null)" ] && busy=gpu',
        "  fi",
        f'  if [ -n "$busy" ]; then idle=0; else idle=$((idle + {every})); fi',
        f"  if [ $idle -ge {int(window)} ]; then",
        f"    echo '{AUTOSTOP_STOPPED} after {format_window(window)} idle' > {console}",
        "    shutdown -h now",
        "    exit 0",
        "  fi",
        "done",
    ]) + "\n"


def _autostop_lines(window: int, console: str, root: str) -> list[str]:
    path = f"{root}/opt/skyplan/autostop.sh"
    unit = f"{root}/etc/systemd/system/skyplan-autostop.service"
    service = "\n".join(["[Unit]", "Description=skyplan autostop: power off after an idle window", "",
                         "[Service]", f"ExecStart=/bin/bash {path}", "Restart=on-failure", "",
                         "[Install]", "WantedBy=multi-user.target"]) + "\n"
    return [f"echo {shlex.quote(autostop_script(window, console))} > {path}",
            f"if [ -d {root}/run/systemd/system ] && command -v systemctl > /dev/null; then",
            f"  mkdir -p {root}/etc/systemd/system",
            f"  echo {shlex.quote(service)} > {unit}",
            "  systemctl daemon-reload && systemctl enable --now skyplan-autostop.service",
            "else",
            f"  setsid nohup bash {path} > /dev/null 2>&1 < /dev/null &",
            "fi"]


def boot_script(req: LaunchRequest, env: Mapping[str, str], *, container_image: str | None = None,
                gpus: bool = False, console: str = "/dev/ttyS0", root: str = "",
                discover: Iterable[str] = (), exports: Iterable[str] = (), before_steps: Iterable[str] = (),
                passed: Iterable[str] = (), once: bool = False) -> str:
    """The script. ``discover``: lines run before the env file is written (finding
    the node's rank); ``exports``: lines after it that append to it (values known
    only on the node); ``before_steps``: lines run in the work folder before
    ``setup``; ``passed``: env names, beyond ``env``'s, handed to the container;
    ``gpus``: the container gets the node's GPUs. ``once``: the cloud runs the
    script on the first boot only (cloud-init user data: EC2, Azure); a service
    with autostop then copies itself to cloud-init's per-boot scripts, so a node
    started again runs ``setup`` and ``run`` again (cloud-init runs per-boot
    scripts before the user data, so the first boot runs it once)."""
    env_file = f"{root}/etc/skyplan/env"
    lines = ["#!/bin/bash", "set -uo pipefail",
             f"mkdir -p {root}/etc/skyplan {root}/var/log/skyplan {root}/opt/skyplan"]
    if once and req.autostop and req.kind == "service":
        per_boot = f"{root}/var/lib/cloud/scripts/per-boot"
        lines += [f'[ "$0" -ef {per_boot}/skyplan-node.sh ] || '
                  f'{{ mkdir -p {per_boot} && install -m 700 "$0" {per_boot}/skyplan-node.sh; }}']
    lines += [*discover, f": > {env_file}"]
    for key, value in sorted(env.items()):
        lines.append(f"echo {shlex.quote(f'export {key}={shlex.quote(str(value))}')} >> {env_file}")
    lines += [*exports, f"source {env_file}", f"cd {root}/opt/skyplan", *before_steps, "code=0"]
    if req.autostop and req.kind == "service":
        lines += _autostop_lines(req.autostop, f"{root}{console}", root)
    names = " ".join(f"-e {k}" for k in [*sorted(env), *passed])  # values from this shell

    def step(name: str, script: str) -> str:
        body = shlex.quote(script)
        if container_image:
            cmd = (f"docker run --rm --network host {'--gpus all ' if gpus else ''}{names} "
                   f"{shlex.quote(container_image)} bash -c {body}")
        else:
            cmd = f"bash -c {body}"
        return f"{cmd} >> {root}/var/log/skyplan/{name}.log 2>&1"

    if req.setup:
        lines += [step("setup", req.setup), "code=$?"]
    if req.run:
        lines += ['if [ "$code" = 0 ]; then', "  " + step("run", req.run), "  code=$?", "fi"]
    lines.append(f'echo "skyplan: exit_code=$code" | tee {root}/var/log/skyplan/exit_code > {root}{console}')
    if req.kind == "job":
        lines.append("shutdown -h now")
    return "\n".join(lines) + "\n"
