"""Thin client for the video-ops worker behind RunPod's serverless REST API.

Only `requests` is imported, so orchestrators can use it without the worker's dependencies.
Run `python -m video_ops.client --help` for the command-line interface.
"""

from video_ops.client.api import (
    Client,
    ClientError,
    JobCancelled,
    JobError,
    JobFailed,
    JobNotReady,
    JobTimedOut,
    JobTimeout,
    VideoOpsError,
)

__all__ = [
    "Client",
    "ClientError",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "JobNotReady",
    "JobTimedOut",
    "JobTimeout",
    "VideoOpsError",
]
