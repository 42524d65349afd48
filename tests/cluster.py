"""App hosts behind nginx on one PostgreSQL, started from deploy/ as production starts them: for the
multi-host test (tests/test_hosts.py) and its benchmark (bench/hosts.py).

Each host runs the commands of deploy/systemd's units (the phone line's gunicorn, the desk's, the
worker) with a data folder of its own; the hosts share 127.0.0.1, so each gets ports of its own in
place of 5000 and 5001, and fewer gunicorn workers than a real host (two cores run them all here).
nginx runs deploy/nginx/ivr.conf itself, its listen ports and certificate swapped for the test's (a
self-signed one for 127.0.0.1), with deploy/nginx/ivr-hosts.conf listing these hosts.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
EXAMPLE_HOST = "ivr.example.com"
# The units' ports, in place of which each host here gets its own.
PHONE_PORT, DESK_PORT = 5000, 5001


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unit_lines(unit: str, key: str) -> list[str]:
    """The values of `key=` in deploy/systemd/`unit`.service."""
    text = (DEPLOY / "systemd" / f"{unit}.service").read_text()
    return [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(f"{key}=")]


def wait_for_port(port: int, process: subprocess.Popen | None = None, seconds: float = 60) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline or (process is not None and process.poll() is not None):
                raise RuntimeError(f"nothing listens on port {port}") from None
            time.sleep(0.1)


def placed(unit: str) -> list[str]:
    """What systemd does before a unit's command, as commands: its Nice= and CPUAffinity= (of the cores
    this machine has)."""
    before = [word for value in unit_lines(unit, "Nice") for word in ("nice", "-n", value)]
    cores = [core for value in unit_lines(unit, "CPUAffinity") for core in value.split()]
    cores = [core for core in cores if int(core) < (os.cpu_count() or 1)]
    return before + (["taskset", "-c", ",".join(cores)] if cores and shutil.which("taskset") else [])


class Host:
    """One app host: the units' processes, each in a process group of its own (killed as a host dies)."""

    def __init__(self, name: str, folder: Path, env: dict[str, str], public_url: str) -> None:
        self.name, self.folder = name, folder
        self.ports = {"ivr-phone": free_port(), "ivr-desk": free_port()}
        self.data = folder / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.env = {**env, "IVR_BIND": "127.0.0.1", "IVR_DATA_DIR": str(self.data)}
        self.public_url = public_url
        self.processes: dict[str, subprocess.Popen] = {}  # type: ignore[type-arg]

    def command(self, line: str, env: dict[str, str], workers: int) -> list[str]:
        """A unit's command line as this host runs it."""
        line = line.replace("/srv/ivr/", f"{ROOT}/")
        line = line.replace(f":{PHONE_PORT} ", f":{self.ports['ivr-phone']} ")
        line = line.replace(f":{DESK_PORT} ", f":{self.ports['ivr-desk']} ")
        line = re.sub(r"--workers \d+", f"--workers {workers}", line)
        line = re.sub(r"\$\{(\w+)\}", lambda found: env[found.group(1)], line)
        return shlex.split(line)

    def unit_env(self, unit: str) -> dict[str, str]:
        env = dict(self.env)
        for assignment in unit_lines(unit, "Environment"):
            name, _, value = assignment.partition("=")
            env[name] = value.replace(f"https://{EXAMPLE_HOST}", self.public_url)
        return env

    def prepare(self) -> subprocess.Popen:  # type: ignore[type-arg]
        """The units' ExecStartPre (the database upgrade), started: hosts booting together run it at once."""
        [line] = set(unit_lines("ivr-phone", "ExecStartPre"))
        env = self.unit_env("ivr-phone")
        return subprocess.Popen(self.command(line, env, 1), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)  # fmt: skip

    def start(self, unit: str, workers: int = 2) -> None:
        env = self.unit_env(unit)
        [line] = unit_lines(unit, "ExecStart")
        log = open(self.folder / f"{unit}.log", "ab")  # noqa: SIM115 (the process's, closed with it)
        self.processes[unit] = subprocess.Popen(
            [*placed(unit), *self.command(line, env, workers)], cwd=ROOT, env=env, stdout=log,
            # A process group of its own (killed together), not a session: a session is an autogroup of
            # the scheduler's, which would share the cores equally whatever the units' Nice= says.
            stderr=subprocess.STDOUT, process_group=0,
        )  # fmt: skip
        log.close()

    def serving(self) -> None:
        for unit, port in self.ports.items():
            if unit in self.processes:
                wait_for_port(port, self.processes[unit])

    def kill(self) -> None:
        """kill -9, every process of the host at once: a host that dies, not one that stops."""
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for process in self.processes.values():
            process.wait(10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)

    def log(self, unit: str) -> str:
        path = self.folder / f"{unit}.log"
        return path.read_text(errors="replace") if path.exists() else ""


class Nginx:
    """deploy/nginx/ivr.conf in front of `hosts`, over https with a certificate for 127.0.0.1."""

    def __init__(self, folder: Path, hosts: list[Host]) -> None:
        self.folder, self.hosts = folder, hosts
        folder.mkdir(parents=True, exist_ok=True)
        self.port, self.http_port = free_port(), free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.certificate = folder / "cert.pem"
        self.process: subprocess.Popen | None = None  # type: ignore[type-arg]

    def configure(self) -> None:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(self.folder / "key.pem"),
             "-out", str(self.certificate)],
            check=True, capture_output=True,
        )  # fmt: skip
        site = (DEPLOY / "nginx" / "ivr.conf").read_text()
        for old, new in (
            ("listen 80;", f"listen 127.0.0.1:{self.http_port};"),
            ("listen [::]:80;", ""),
            ("listen 443 ssl;", f"listen 127.0.0.1:{self.port} ssl;"),
            ("listen [::]:443 ssl;", ""),
            (f"/etc/ssl/certs/{EXAMPLE_HOST}.pem", str(self.certificate)),
            (f"/etc/ssl/private/{EXAMPLE_HOST}.key", str(self.folder / "key.pem")),
        ):
            assert site.count(old) == 1, f"deploy/nginx/ivr.conf no longer has {old!r} once"
            site = site.replace(old, new)
        (self.folder / "ivr.conf").write_text(site)
        self.list_hosts(self.hosts)
        folder = self.folder
        user = "user root;\n" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "    log_format upstreams '$upstream_addr $request_method $uri $status';\n"
            f"    access_log {folder}/access.log upstreams;\n"
            + "".join(f"    {kind}_temp_path {folder}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + f"    include {folder}/ivr.conf;\n"
            "}\n"
        )  # fmt: skip

    def list_hosts(self, hosts: list[Host]) -> None:
        """deploy/nginx/ivr-hosts.conf with these hosts in place of its example's."""
        example = (DEPLOY / "nginx" / "ivr-hosts.conf").read_text()
        lines = []
        for line in example.splitlines():
            found = re.match(r"(\s*server )10\.0\.0\.\d+:(\d+)( .*)", line)
            if found is None:
                lines.append(line)
                continue
            if "10.0.0.11" not in line:
                continue  # the example's other hosts: one line per host of ours instead
            unit = "ivr-phone" if int(found.group(2)) == PHONE_PORT else "ivr-desk"
            lines += [f"{found.group(1)}127.0.0.1:{host.ports[unit]}{found.group(3)}" for host in hosts]
        (self.folder / "ivr-hosts.conf").write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        self.configure()
        with open(self.folder / "nginx.out", "ab") as out:
            self.process = subprocess.Popen(
                [nginx_binary() or "nginx", "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"), "-g", "daemon off;"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_for_port(self.port, self.process, 20)

    def reload(self, hosts: list[Host]) -> None:
        self.list_hosts(hosts)
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)
        time.sleep(1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    def upstreams(self) -> list[tuple[str, str, int]]:
        """Each request nginx passed on so far: (the hosts it tried, "host:port, ..."; its path; its status)."""
        rows = []
        for line in (self.folder / "access.log").read_text().splitlines():
            address, _method, path, status = line.rsplit(" ", 3)
            rows.append((address, path, int(status)))
        return rows

    def session(self) -> requests.Session:
        session = requests.Session()
        # Not the environment's (REQUESTS_CA_BUNDLE would take the place of this verify).
        session.trust_env = False
        session.verify = str(self.certificate)
        return session


# ---- PostgreSQL: a throw-away cluster ----------------------------------------------------------------


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextmanager
def throwaway_postgres(prefix: str = "ivr-pg-") -> Iterator[str]:
    """A PostgreSQL cluster of its own in a temp folder (initdb + pg_ctl, as the postgres user when run
    as root), with a database "ivr": its URL, while in `with`; stopped and its folder removed after."""
    binaries = postgres_bin()
    assert binaries is not None, "PostgreSQL's server binaries are not installed: apt-get install postgresql"
    # Not under pytest's temp folder: that is private to root, and the server runs as postgres.
    data = Path(tempfile.mkdtemp(prefix=prefix))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(data, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    cluster, port = data / "cluster", free_port()
    try:
        subprocess.run([*as_user, str(binaries / "initdb"), "-D", str(cluster), "-U", "postgres", "-A", "trust"],
                       check=True, capture_output=True)  # fmt: skip
        subprocess.run(
            [*as_user, str(binaries / "pg_ctl"), "-D", str(cluster), "-w", "-l", str(data / "log"),
             "-o", f"-p {port} -h 127.0.0.1 -k {data}", "start"],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            [str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "ivr"], check=True
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/ivr"
    finally:
        subprocess.run(
            [*as_user, str(binaries / "pg_ctl"), "-D", str(cluster), "-m", "fast", "stop"], capture_output=True
        )
        shutil.rmtree(data, ignore_errors=True)
