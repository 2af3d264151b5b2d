"""A test worker: sleeps in steps with progress, fails on request, and can run a child `sleep`.

Input: {"steps": n, "step_s": s, "error": "msg"?, "raise": "msg"?, "child_s": s?, "crash": true?,
"ignore_stop": true?}. It starts as handler.py does, with the stop guard installed.
Each job id it starts is appended to the file named by $SLEEPY_LOG, so tests can see that no job
runs twice; the pid of the child `sleep` goes to $SLEEPY_LOG.<job id>.pid so tests can watch it die.
"""

import asyncio
import os

import runpod

from video_ops.stop_guard import install_stop_guard


async def handler(job: dict) -> dict:
    spec = job["input"]
    log = os.environ["SLEEPY_LOG"]
    with open(log, "a") as ids:
        ids.write(job["id"] + "\n")
    if spec.get("crash"):
        os._exit(3)
    if spec.get("child_s"):
        child = await asyncio.create_subprocess_exec("sleep", str(spec["child_s"]))
        with open(f"{log}.{job['id']}.pid", "w") as pid:
            pid.write(str(child.pid))
        try:
            await child.wait()
        finally:
            if child.returncode is None:  # cancelled: take the child down with the job
                child.kill()
                await child.wait()
    for step in range(spec.get("steps", 0)):
        runpod.serverless.progress_update(job, {"stage": "sleeping", "percent": 100 * step / spec["steps"]})
        try:
            await asyncio.sleep(spec.get("step_s", 0.1))
        except asyncio.CancelledError:
            if not spec.get("ignore_stop"):
                raise
    if spec.get("raise"):
        raise RuntimeError(spec["raise"])
    if spec.get("error"):
        return {"error": spec["error"]}
    return {"slept": spec.get("steps", 0), "job": job["id"], "s3Config": job.get("s3Config")}


if __name__ == "__main__":
    install_stop_guard()
    runpod.serverless.start({"handler": handler})
