"""`python -m video_ops.gateway`: serve the guide's REST API."""

from video_ops.gateway.cli import main

raise SystemExit(main())
