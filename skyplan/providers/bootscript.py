"""The boot script a cloud node runs its workload with (EC2 user data, Compute
Engine startup script, Azure custom data): one shape for every cloud.

It writes the workload's env to ``/etc/skyplan/env``, runs ``setup`` then
``run`` (inside ``docker run`` when the workload's image is a container),
logs each to ``/var/log/skyplan/<step>.log``, writes ``skyplan: exit_code=N``
to ``/var/log/skyplan/exit_code`` and to the serial console (where refresh and
``skyplan logs`` read a job's outcome) and, for a job, powers the node off.
What differs per cloud (how a node learns its rank or the head's address, the
console device) comes in as shell lines. ``root`` prefixes every path the
script writes, so tests run it in a folder.
"""

from __future__ import annotations

import shlex
from typing import Iterable, Mapping

from skyplan.providers.base import LaunchRequest


def node_env(req: LaunchRequest, **extra: str) -> dict[str, str]:
    """The workload's declared env plus what skyplan tells every node of its group."""
    return {**{str(k): str(v) for k, v in dict(req.env).items()}, "SKYPLAN_ADDRESS": req.address,
            "SKYPLAN_GROUP": str(req.group), "SKYPLAN_NUM_NODES": str(req.placement.nodes), **extra}


def boot_script(req: LaunchRequest, env: Mapping[str, str], *, container_image: str | None = None,
                gpus: bool = False, console: str = "/dev/ttyS0", root: str = "",
                discover: Iterable[str] = (), exports: Iterable[str] = (), before_steps: Iterable[str] = (),
                passed: Iterable[str] = ()) -> str:
    """The script. ``discover``: lines run before the env file is written (finding
    the node's rank); ``exports``: lines after it that append to it (values known
    only on the node); ``before_steps``: lines run in the work folder before
    ``setup``; ``passed``: env names, beyond ``env``'s, handed to the container;
    ``gpus``: the container gets the node's GPUs."""
    env_file = f"{root}/etc/skyplan/env"
    lines = ["#!/bin/bash", "set -uo pipefail",
             f"mkdir -p {root}/etc/skyplan {root}/var/log/skyplan {root}/opt/skyplan", *discover, f": > {env_file}"]
    for key, value in sorted(env.items()):
        lines.append(f"echo {shlex.quote(f'export {key}={shlex.quote(str(value))}')} >> {env_file}")
    lines += [*exports, f"source {env_file}", f"cd {root}/opt/skyplan", *before_steps, "code=0"]
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
