"""Run the command line: ``python -m netopt``."""

import sys

from .cli import main

sys.exit(main())
