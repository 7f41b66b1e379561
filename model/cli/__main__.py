"""``python -m model.cli``: the ``ree-plan`` command."""

import sys

from model.cli.main import main

sys.exit(main())
