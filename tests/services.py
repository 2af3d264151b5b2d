"""Real services the gateway's tests need, installed from Debian's packages when missing and started once
per session: a throwaway PostgreSQL cluster (run as an unprivileged user) and headless Chromium."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path


def installed(candidates: list[str], package: str) -> str:
    """The first executable found among `candidates` (names or glob patterns), after installing `package` with
    apt-get if none is there (as root, or through sudo)."""

    def find() -> str | None:
        for candidate in candidates:
            for path in sorted(glob.glob(candidate), reverse=True) or [shutil.which(candidate) or ""]:
                if path and os.access(path, os.X_OK):
                    return path
        return None

    found = find()
    if found is None:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", package], check=True,
                       env=env, stdout=subprocess.DEVNULL)
        found = find()
    assert found, f"{package} is installed but none of {candidates} was found"
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Postgres:
    """A cluster in a temp folder on a free 127.0.0.1 port, trusting local connections; `database()` makes a
    fresh database for one test."""

    def __init__(self) -> None:
        initdb = installed(["/usr/lib/postgresql/*/bin/initdb", "initdb"], "postgresql")
        self.bin = Path(initdb).parent
        self.folder = Path(tempfile.mkdtemp(prefix="video-ops-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        # PostgreSQL refuses to run as root: as root, the cluster belongs to `nobody`.
        self.as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "nobody")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c max_connections=300")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def _run(self, program: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / program), *args], check=True, cwd=self.folder,
                       stdout=subprocess.DEVNULL)

    def url(self, name: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def database(self) -> str:
        import psycopg

        name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Postgres]:
    cluster = Postgres()
    try:
        yield cluster
    finally:
        cluster.stop()
