"""The reference guide's REST API (`/video/<operation>/async`, `/video/job/<id>`, ...) in front of the worker.

A front door above the client and the local endpoint: jobs go to a RunPod endpoint through
`video_ops.client`, or to the local endpoint it starts when no endpoint is configured. Inputs are
checked at the door with the worker's own pydantic models (`video_ops.ops.OPERATIONS`), so a bad
job is refused with the worker's sentence before anything is queued. Needs the `gateway` extra.
"""
