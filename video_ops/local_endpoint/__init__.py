"""A local stand-in for a RunPod serverless endpoint, for development only.

It serves RunPod's public REST API (run, runsync, status, cancel, retry, health, purge-queue) and
drives N real `python handler.py` worker processes through the protocol the SDK speaks when deployed
(job-take, job-done, job-stop, ping), so the real worker loop runs, cancel included. The SDK's
`--rp_serve_api` imitates a worker, not the platform, and cannot cancel.
"""
