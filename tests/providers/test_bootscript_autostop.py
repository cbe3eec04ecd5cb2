"""The idle timer the boot script installs, run for real with bash (``who``,
``nvidia-smi`` and ``shutdown`` stubbed on PATH, as the boot script tests do)."""

from __future__ import annotations

import os
import subprocess
import time

from skyplan.providers.aws.launch import user_data
from skyplan.providers.bootscript import autostop_script, format_window, stopped_by_autostop
from tests.providers.aws.helpers import request


def _stubs(tmp_path, who: str = "", gpu_apps: str = "") -> dict:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "who").write_text(f"#!/bin/sh\nprintf '{who}'\n")
    (bin_dir / "nvidia-smi").write_text(f"#!/bin/sh\nprintf '{gpu_apps}'\n")
    (bin_dir / "shutdown").write_text(f"#!/bin/sh\necho \"$*\" > {tmp_path}/powered-off\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def test_an_idle_node_powers_off_after_its_window(tmp_path):
    (tmp_path / "timer.sh").write_text(autostop_script(2, str(tmp_path / "console")))
    subprocess.run(["bash", str(tmp_path / "timer.sh")], env=_stubs(tmp_path), timeout=30, check=True)
    assert (tmp_path / "powered-off").read_text() == "-h now\n"
    assert (tmp_path / "console").read_text() == "skyplan: autostop stopped after 2s idle\n"


def test_a_login_session_or_a_gpu_process_keeps_it_up(tmp_path):
    for n, stubs in enumerate(({"who": "ana pts/0 2026-01-01 10:00\\n"}, {"gpu_apps": "4242\\n"})):
        d = tmp_path / str(n)
        d.mkdir()
        (d / "timer.sh").write_text(autostop_script(1, str(d / "console")))
        proc = subprocess.Popen(["bash", str(d / "timer.sh")], env=_stubs(d, **stubs))
        time.sleep(3.5)
        proc.kill()
        proc.wait()
        assert not (d / "powered-off").exists()
        assert "armed (1s)" in (d / "console").read_text()


def test_the_boot_script_installs_the_timer_only_for_a_service_with_autostop(tmp_path):
    assert "autostop" not in user_data(request(kind="service"))
    script = user_data(request(kind="service", autostop=7200))
    assert "skyplan-autostop.service" in script and "systemctl daemon-reload && systemctl enable --now" in script
    assert "setsid nohup bash /opt/skyplan/autostop.sh" in script  # where systemd does not run


def test_the_last_autostop_line_tells_the_timer_from_someone():
    assert stopped_by_autostop("boot\nskyplan: autostop armed (2h)\nskyplan: autostop stopped after 2h idle\n")
    assert not stopped_by_autostop("skyplan: autostop stopped after 2h idle\nskyplan: autostop armed (2h)\n")
    assert not stopped_by_autostop("")
    assert [format_window(s) for s in (7200, 5400, 90, 5, 3600 * 24)] == ["2h", "1h30m", "1m30s", "5s", "24h"]


def test_a_service_with_autostop_runs_again_on_every_boot_where_user_data_runs_once(tmp_path):
    """EC2 and Azure run user data on the first boot only: the script copies itself to
    cloud-init's per-boot scripts, so a node started again runs its service again."""
    env = _stubs(tmp_path)
    (tmp_path / "bin" / "curl").write_text("#!/bin/sh\necho 0\n")
    (tmp_path / "bin" / "curl").chmod(0o755)
    (tmp_path / "dev").mkdir()
    script = user_data(request(kind="service", setup=None, run="echo served >> served.txt", autostop=1), root=str(tmp_path))
    (tmp_path / "boot.sh").write_text(script)
    subprocess.run(["bash", str(tmp_path / "boot.sh")], env=env, timeout=30, check=True)
    copy = tmp_path / "var" / "lib" / "cloud" / "scripts" / "per-boot" / "skyplan-node.sh"
    assert copy.read_text() == script and copy.stat().st_mode & 0o777 == 0o700
    subprocess.run(["bash", str(copy)], env=env, timeout=30, check=True)  # the next boot
    assert (tmp_path / "opt" / "skyplan" / "served.txt").read_text() == "served\nserved\n"
    deadline = time.monotonic() + 15
    while not (tmp_path / "powered-off").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (tmp_path / "powered-off").exists()  # the timer the script started, idle for its 1s window
    from skyplan.providers.gcp.launch import startup_script
    from tests.providers.gcp.helpers import request as gcp_request

    assert "per-boot" not in startup_script(gcp_request(kind="service", autostop=60), 0)  # GCE reruns it itself
