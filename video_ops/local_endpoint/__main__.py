"""`python -m video_ops.local_endpoint`: serve RunPod's REST API over local worker processes."""

from video_ops.local_endpoint.server import main

raise SystemExit(main())
