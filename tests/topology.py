"""The production topology on one machine, for the tests and bench/load.py: app servers
under gunicorn with the project's gunicorn.conf.py, and Debian's nginx in front of them
with the project's deploy/nginx.conf (only its ports and folder changed)."""
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answering(url, process, log, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(f"{url}/login", timeout=2)
            return
        except requests.RequestException:  # refused, or accepted but not answered yet
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{url} did not start:\n" + Path(log).read_text(errors="replace")) from None
            time.sleep(0.2)


def wait_for_port(port, process, name, log=None, timeout=15):
    """Until something listens on the loopback `port`; RuntimeError if `process` ends first."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            said = Path(log).read_text(errors="replace") if log else ""
            raise RuntimeError(f"{name} did not start\n{said}")
        time.sleep(0.1)


class AppServer:
    """`gunicorn -c gunicorn.conf.py wsgi:app` (or another `app_spec`) on a port of its own,
    with `env`; its output (gunicorn's JSON access lines, the app's log) in `log`."""

    def __init__(self, env, log, workers=2, app_spec="wsgi:app"):
        self.app_spec = app_spec
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(log)
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(workers)}
        self.process = None

    def start(self):
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", self.app_spec],
                cwd=ROOT, env=self.env, stdout=output, stderr=output, start_new_session=True)
        wait_until_answering(self.url, self.process, self.log)
        return self

    def kill(self):
        """kill -9 the master and its workers at once, as a crashing machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def nginx_conf(upstream_ports, listen_port, prefix):
    """deploy/nginx.conf with its upstream servers and port replaced, in `prefix`."""
    text = NGINX_CONF.read_text()
    servers = "".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n" for port in upstream_ports)
    text, count = re.subn(r"(        server 127\.0\.0\.1:800\d [^\n]*\n)+", servers, text)
    assert count == 1, "deploy/nginx.conf: no upstream servers to replace"
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{listen_port};").replace("listen [::]:8080;\n", "")
    path = Path(prefix) / "nginx.conf"
    path.write_text(text)
    return path


class Nginx:
    """Debian's nginx with deploy/nginx.conf in front of `upstream_ports`: `url`, and its
    own folder (logs/access.log, logs/error.log) in `prefix`."""

    def __init__(self, upstream_ports):
        # nginx's workers run as www-data when it starts as root: its folder must be
        # reachable by them (pytest's temporary folders are not).
        self.prefix = Path(tempfile.mkdtemp(prefix="momento-nginx-"))
        for sub in ("logs", "run", "tmp"):
            (self.prefix / sub).mkdir()
        # nginx logs and temporary bodies of the tests only, which www-data must reach
        os.chmod(self.prefix, 0o755)  # nosec B103
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf = nginx_conf(upstream_ports, self.port, self.prefix)
        self.process = None

    def start(self):
        log = self.prefix / "logs" / "stderr.log"
        with open(log, "wb") as output:
            self.process = subprocess.Popen(
                [NGINX, "-p", f"{self.prefix}/", "-c", str(self.conf), "-e", "stderr", "-g", "daemon off;"],
                stdout=output, stderr=output)
        wait_for_port(self.port, self.process, "nginx", log)
        return self

    def access_lines(self):
        return (self.prefix / "logs" / "access.log").read_text().splitlines()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.prefix, ignore_errors=True)


@contextlib.contextmanager
def topology(env, folder, servers=2, workers=2, app_spec="wsgi:app"):
    """`servers` app servers (each `workers` gunicorn workers) behind nginx, all with the
    settings of `env`: (nginx, [app servers])."""
    with contextlib.ExitStack() as stack:
        apps = []
        for number in range(servers):
            app = AppServer({"PROXY_HOPS": "1", **env}, Path(folder) / f"app{number + 1}.log", workers, app_spec)
            stack.callback(app.stop)
            apps.append(app.start())
        nginx = Nginx([app.port for app in apps])
        stack.callback(nginx.stop)
        yield nginx.start(), apps
