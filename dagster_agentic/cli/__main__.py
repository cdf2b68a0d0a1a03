"""``python -m dagster_agentic.cli``."""

import sys

from dagster_agentic.cli.main import main

sys.exit(main())
