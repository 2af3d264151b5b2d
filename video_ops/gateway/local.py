"""The gateway's embedded local endpoint: `python -m video_ops.local_endpoint` as a child process.

A process of its own, not threads in the gateway's: its replies to the workers' polls and to the gateway's
status calls then take no time from the gateway's interpreter, which a burst of 50 status polls needs whole.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from video_ops.local_endpoint.server import GATEWAY_PID, READY


class EmbeddedEndpoint:
    """The child endpoint, started by `run` and stopped with the gateway whatever ends it: a return, SIGINT or
    SIGTERM (which uvicorn raises again once it has shut down), or SIGKILL (the child's death signal)."""

    def __init__(self, workers: int, handler: str, journal: Path) -> None:
        command = [sys.executable, "-m", "video_ops.local_endpoint", "--host", "127.0.0.1", "--port", "0",
                   "--workers", str(workers), "--handler", handler]
        env = {**os.environ, "VIDEO_OPS_LOCAL_QUEUE_DB": str(journal), GATEWAY_PID: str(os.getpid())}
        # stdout carries only the ready line; the endpoint's and its workers' logs go to our stderr.
        self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        text=True)
        self.stopping = False
        self.ended_alone = False  # the endpoint exited while the gateway served

    def run(self, serve: Callable[[str], int]) -> int:
        """Wait until every worker is up, then `serve(api_url)`; 1 if the endpoint did not start."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop())
        try:
            line = self.process.stdout.readline() if self.process.stdout else ""
            if not line.startswith(READY):
                if self.stopping:
                    return 0
                print("gateway: the local endpoint did not start; see its log above", file=sys.stderr)
                return 1
            threading.Thread(target=self._watch, daemon=True).start()
            served = serve(line[len(READY):].strip().removesuffix("/local"))
            return 1 if self.ended_alone else served
        finally:
            self.stop()
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM: the endpoint stops its workers and keeps its queue for the next start."""
        self.stopping = True
        self.process.terminate()

    def _watch(self) -> None:
        """An endpoint that ends on its own leaves nothing to run jobs on: the gateway stops too."""
        returncode = self.process.wait()
        if not self.stopping:
            self.ended_alone = True
            print(f"gateway: the local endpoint exited with code {returncode}; stopping", file=sys.stderr)
            os.kill(os.getpid(), signal.SIGTERM)
