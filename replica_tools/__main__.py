"""Run the ``replica-tools`` command as ``python -m replica_tools``."""

import sys

from replica_tools.cli.main import main

sys.exit(main())
