"""`python -m video_ops.client ...`: the command-line interface."""

from video_ops.client.cli import main

raise SystemExit(main())
