"""video-ops: a RunPod serverless worker for video jobs, and its thin client."""
