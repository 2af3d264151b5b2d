"""`python -m bench [--reps N] [--quick] [--only addaudio,caption,...] [--out DIR] [--doc FILE]`."""

import sys

from .run import main

sys.exit(main())
