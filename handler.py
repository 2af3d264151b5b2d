"""RunPod entry point: `python handler.py` runs ./test_input.json once; on RunPod it serves jobs."""

import logging

import runpod

from video_ops.base.settings import is_deployed
from video_ops.media.encoders import check_encoder
from video_ops.stop_guard import install_stop_guard
from video_ops.subtitles.fonts import check_fonts
from video_ops.worker import end_with_local_endpoint, handle_job, handle_local_job

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    end_with_local_endpoint()
    install_stop_guard()  # every stop frees the job's slot, whenever it comes
    # Deployed, the encoder probe runs before the first job; a local run probes on its first job.
    runpod.serverless.register_fitness_check(check_encoder)
    runpod.serverless.register_fitness_check(check_fonts)  # and the fonts, read once
    # A local run also saves its whole result: the SDK's log lines stop at 4096 characters.
    runpod.serverless.start({"handler": handle_job if is_deployed() else handle_local_job})
