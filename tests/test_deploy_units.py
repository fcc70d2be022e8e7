"""The systemd units in deploy/: parsed strictly, the hardening directives present (issue 17),
`systemd-analyze verify` clean and `security` rating low when systemd-analyze is installed, and
the libraries hpmon runs on working under MemoryDenyWriteExecute's rule."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNITS = {"hpmon.service": "run", "hpmon-serve.service": "serve"}
SECTIONS = ("Unit", "Service", "Install")


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values in order]}}; raises ValueError on anything that is
    not a comment, a section header or Key=Value in a known section (keys may repeat, as in
    systemd; backslash continues a line)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        header = re.fullmatch(r"\[([A-Za-z]+)\]", line)
        if header:
            name = header.group(1)
            if name not in SECTIONS or name in sections:
                raise ValueError(f"{path.name}:{number}: unexpected section [{name}]")
            current = sections[name] = {}
            continue
        pair = re.fullmatch(r"([A-Z][A-Za-z0-9]*)=(.*)", line)
        if not pair or current is None:
            raise ValueError(f"{path.name}:{number}: not Key=Value in a section: {raw!r}")
        current.setdefault(pair.group(1), []).append(pair.group(2).strip())
    return sections


def test_the_parser_is_strict(tmp_path):
    bad = tmp_path / "bad.service"
    for text in ("[Service]\nMemoryMax 2G\n", "NoNewPrivileges=yes\n", "[Servic]\nA=b\n", "[Service]\n[Service]\n"):
        bad.write_text(text)
        with pytest.raises(ValueError):
            parse_unit(bad)


@pytest.mark.parametrize("name", sorted(UNITS))
def test_units_have_the_hardening_directives(name):
    service = parse_unit(REPO / "deploy" / name)["Service"]

    def one(key: str) -> str:
        assert key in service, f"{name}: no {key}="
        return service[key][-1]

    assert re.fullmatch(r"\d+[KMG]", one("MemoryMax")), one("MemoryMax")
    assert int(one("TasksMax")) > 0
    denied = " ".join(service.get("IPAddressDeny", [])).split()
    assert "any" in denied or {"169.254.0.0/16", "fe80::/10"} <= set(denied), denied
    filters = service.get("SystemCallFilter", [])
    assert "@system-service" in filters
    negated = [f for f in filters if f.startswith("~")]
    assert negated and {"@privileged", "@resources"} <= set(" ".join(negated).lstrip("~").split()), filters
    for key, value in {"MemoryDenyWriteExecute": "yes", "ProcSubset": "pid", "RemoveIPC": "yes",
                       "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "ProtectProc": "invisible", "RestrictNamespaces": "yes",
                       "LockPersonality": "yes", "CapabilityBoundingSet": "", "User": "hpmon"}.items():
        assert one(key) == value, f"{name}: {key}={one(key)!r}, want {value!r}"
    assert one("ReadWritePaths") == "/srv/hpmon/data"
    command = one("ExecStart").split()
    assert command[:2] == ["/opt/hpmon/.venv/bin/hpmon", UNITS[name]]


def test_the_web_unit_listens_on_loopback_behind_a_proxy_and_talks_to_nothing_else():
    service = parse_unit(REPO / "deploy" / "hpmon-serve.service")["Service"]
    command = service["ExecStart"][-1].split()
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert "--proxy-headers" in command and command[command.index("--forwarded-allow-ips") + 1] == "127.0.0.1"
    assert service["IPAddressDeny"] == ["any"] and service["IPAddressAllow"] == ["localhost"]


def _verifiable_copy(name: str, tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's hpmon (verify wants an executable)."""
    hpmon = Path(sys.executable).parent / "hpmon"
    if not hpmon.exists():
        pytest.skip("no hpmon console script next to this Python")
    text = (REPO / "deploy" / name).read_text(encoding="utf-8").replace("/opt/hpmon/.venv/bin/hpmon", str(hpmon))
    copy = tmp_path / name
    copy.write_text(text, encoding="utf-8")
    return copy


@pytest.mark.parametrize("name", sorted(UNITS))
def test_systemd_analyze_verify_finds_nothing_to_say(name, tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    copy = _verifiable_copy(name, tmp_path)
    done = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=120)
    # verify exits 0 even for unknown keys or bad values; it names the file when it has a complaint
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if name in line]
    assert done.returncode == 0 and not complaints, done.stdout + done.stderr


@pytest.mark.parametrize("name", sorted(UNITS))
def test_systemd_analyze_security_rates_the_units_low(name, tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    copy = _verifiable_copy(name, tmp_path)
    done = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", str(copy)],
                          capture_output=True, text=True, timeout=120)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    if match is None:
        pytest.skip(f"this systemd-analyze cannot rate offline units: {done.stderr.strip()[:200]}")
    assert float(match.group(1)) <= 2.0, done.stdout[-3000:]


MDWE_CHILD = r"""
import ctypes, io, mmap, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN (Linux >= 6.3)
    print("no-mdwe", ctypes.get_errno()); sys.exit(3)
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    print("W+X memory was allowed"); sys.exit(4)
except OSError:
    pass
import trafilatura
html = ("<html><body><article><h1>Cang Hai Phong</h1>"
        + "<p>Hai Phong don tau container lon nhat tu truoc toi nay tai cang Lach Huyen.</p>" * 20
        + "</article></body></html>")
assert "Lach Huyen" in trafilatura.extract(html)
import argon2
hasher = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
assert hasher.verify(hasher.hash("correct horse"), "correct horse")
import numpy, sklearn.linear_model
model = sklearn.linear_model.LogisticRegression().fit(numpy.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
assert list(model.predict([[2.9]])) == [1]
import weasyprint
assert weasyprint.HTML(string="<h1>Hai Phong</h1><p>ban tin</p>").write_pdf().startswith(b"%PDF")
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
buffer = io.BytesIO(); plt.plot([1, 2]); plt.savefig(buffer, format="png")
assert buffer.getvalue().startswith(b"\x89PNG")
import socket, sqlite3, tempfile
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen()
client = socket.create_connection(server.getsockname()); peer, _ = server.accept()
client.sendall(b"ping"); assert peer.recv(4) == b"ping"
with tempfile.TemporaryDirectory() as folder:
    db = sqlite3.connect(folder + "/t.sqlite"); db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t(x)"); db.execute("INSERT INTO t VALUES (1)"); db.commit(); db.close()
import hpmon.cli, scrapy, twisted.internet.reactor, web.app  # noqa: F401
print("ok")
"""


def test_the_libraries_hpmon_runs_on_work_without_writable_executable_memory():
    """MemoryDenyWriteExecute=yes: the kernel's PR_SET_MDWE is the same rule (systemd >= 257 uses
    it); the child first checks that W+X memory is really refused, then runs lxml/trafilatura,
    argon2, numpy/scikit-learn, WeasyPrint, matplotlib, a loopback socket and SQLite in WAL mode,
    and imports hpmon, Scrapy and the web app."""
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux only")
    done = subprocess.run([sys.executable, "-c", MDWE_CHILD], capture_output=True, text=True, timeout=240, cwd=REPO)
    if done.returncode == 3:
        pytest.skip(f"this kernel has no PR_SET_MDWE ({done.stdout.strip()})")
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout + done.stderr


def expand_syscall_sets(*names: str) -> set[str]:
    """System call names of systemd sets (``@system-service``...), nested sets expanded, as this
    machine's systemd-analyze lists them."""
    found: set[str] = set()
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        listing = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", name], capture_output=True,
                                 text=True, timeout=60, check=True).stdout
        for line in listing.splitlines()[1:]:
            member = line.strip()
            if not member or member.startswith("#"):
                continue
            if member.startswith("@"):
                todo.append(member)
            else:
                found.add(member)
    return found


SECCOMP_CHILD = r"""
import ctypes, os, sys
allowed = sys.argv[1].split(",")
libc = ctypes.CDLL(None, use_errno=True)
seccomp = ctypes.CDLL("libseccomp.so.2", use_errno=True)
seccomp.seccomp_init.restype = ctypes.c_void_p
seccomp.seccomp_init.argtypes = [ctypes.c_uint32]
seccomp.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
seccomp.seccomp_load.argtypes = [ctypes.c_void_p]
seccomp.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
ALLOW, EPERM = 0x7FFF0000, 0x00050000 | 1
ctx = seccomp.seccomp_init(EPERM)  # SystemCallErrorNumber=EPERM: what is not allowed fails
for name in allowed:
    number = seccomp.seccomp_syscall_resolve_name(name.encode())
    if number >= 0:
        assert seccomp.seccomp_rule_add(ctx, ALLOW, number, 0) == 0, name
assert libc.prctl(65, 1, 0, 0, 0) == 0  # and MemoryDenyWriteExecute
assert seccomp.seccomp_load(ctx) == 0
for call in (lambda: os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0)),
             lambda: os.sched_setaffinity(0, os.sched_getaffinity(0))):
    try:
        call()
    except PermissionError:
        continue
    print("a call of @resources was allowed"); sys.exit(4)
exec(compile(open(sys.argv[2]).read(), "workload", "exec"))
"""


def test_the_libraries_work_under_the_units_system_call_filter(tmp_path):
    """SystemCallFilter=@system-service, then ~@privileged @resources, errors as EPERM: the same
    allow list (with @default, which systemd always adds) loaded with libseccomp in a child that
    then runs the MemoryDenyWriteExecute workload above."""
    if shutil.which("systemd-analyze") is None or not Path("/lib/x86_64-linux-gnu/libseccomp.so.2").exists():
        pytest.skip("needs systemd-analyze and libseccomp")
    allowed = expand_syscall_sets("@system-service", "@default") - expand_syscall_sets("@privileged", "@resources")
    assert {"setpriority", "sched_setaffinity", "setuid", "chown"}.isdisjoint(allowed)
    assert {"read", "openat", "mmap", "clone3", "socket", "connect"} <= allowed
    workload = tmp_path / "workload.py"
    workload.write_text(MDWE_CHILD.replace("if libc.prctl(65, 1, 0, 0, 0) != 0:", "if False:"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", SECCOMP_CHILD, ",".join(sorted(allowed)), str(workload)],
                          capture_output=True, text=True, timeout=240, cwd=REPO)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout + done.stderr[-3000:]
