"""`python -m bench --quick`, started in the background as soon as the test run knows it needs it.

The quick run takes minutes, most of them spent waiting on process start-ups and small FFmpeg runs, so it
overlaps the tests collected before tests/test_bench.py instead of adding its whole length to the run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.report import END, START
from tests.helpers import REPO

LIMIT_S = 900  # what the run may take under a loaded 2-core machine before the test gives up on it
HAND_WRITTEN = f"# Benchmarks\n\nHand-written intro.\n\n{START}\nold numbers\n{END}\n\nHand-written notes.\n"


@dataclass
class QuickBench:
    root: Path
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls) -> QuickBench:
        """Onto a page with hand-written text around the generated block, into a temp folder."""
        root = Path(tempfile.mkdtemp(prefix="video-ops-quick-bench-"))
        (root / "benchmarks.md").write_text(HAND_WRITTEN)
        process = subprocess.Popen(
            [sys.executable, "-m", "bench", "--quick", "--no-moviepy", "--out", str(root / "results"),
             "--doc", str(root / "benchmarks.md"), "--work", str(root / "work")],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=(root / "stderr.txt").open("wb"),
        )
        return cls(root, process)

    def result(self) -> tuple[dict, str, Path]:
        """(the results, the page, the run's folder) once the run has ended; its error output if it failed."""
        code = self.process.wait(timeout=LIMIT_S)
        assert code == 0, (self.root / "stderr.txt").read_text()[-4000:]
        written, = (self.root / "results").glob("*.json")
        return json.loads(written.read_text()), (self.root / "benchmarks.md").read_text(), self.root

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


QUICK_BENCH = pytest.StashKey[QuickBench]()
