"""scripts/elasticsearch.sh works from a clone under a directory others cannot enter (root's home,
a 0750 home, a `mktemp -d` folder): the engine runs as an unprivileged user, so nothing it reads
or writes may be inside the clone."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def free_port_pair() -> int:
    """A port P with P and P+100 (the transport port) free on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 100 > 65535:
            continue
        with socket.socket() as t:
            try:
                t.bind(("127.0.0.1", port + 100))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair")


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_the_engine_starts_from_a_clone_under_a_0700_directory(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root runs the engine as another user")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    os.chmod(private, 0o700)
    clone = private / "clone"
    shutil.copytree(REPO / "scripts", clone / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    script = clone / "scripts" / "elasticsearch.sh"
    port = free_port_pair()
    env = {**os.environ, "HPMON_ES_PORT": str(port)}

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([str(script), *args], cwd=clone, env=env, capture_output=True, text=True,
                              timeout=timeout)

    try:
        started = run("start", "--cluster", "runner0700")
        assert started.returncode == 0, started.stderr[-3000:]
        assert started.stdout.strip().splitlines()[-1] == f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_cluster/health", timeout=30) as answer:
            health = json.load(answer)
        assert health["cluster_name"] == "runner0700" and health["status"] in ("green", "yellow")
        # nothing of the engine inside the clone; its node directory private to the engine's user
        assert not (clone / ".cache").exists()
        state = Path(f"/var/tmp/hpmon-es-{os.geteuid()}")
        runs = [d for d in state.glob("run-*") if (d / "runner0700" / "cluster.env").exists()]
        assert len(runs) == 1, runs
        cluster = runs[0] / "runner0700"
        info = cluster.stat()
        assert stat.S_IMODE(info.st_mode) == 0o700
        assert pwd.getpwuid(info.st_uid).pw_name == os.environ.get("HPMON_ES_USER", "hpmon-es")
        for d in (state, runs[0]):
            assert stat.S_IMODE(d.stat().st_mode) == 0o711 and d.stat().st_uid == 0
    finally:
        stopped = run("stop", "--cluster", "runner0700", "--remove", timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    # --remove (what scripts/test.sh does) leaves nothing of the clone behind in /var/tmp
    assert not cluster.exists() and not runs[0].exists()


def test_the_state_directory_must_be_owned_by_the_runner_and_not_a_link(tmp_path):
    """/var/tmp is shared: a directory planted there by someone else is refused, not used."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "state"
    link.symlink_to(target)
    env = {**os.environ, "HPMON_ES_STATE_DIR": str(link)}
    done = subprocess.run([str(REPO / "scripts" / "elasticsearch.sh"), "fetch"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "symbolic link" in done.stderr
    assert not any(target.iterdir())
