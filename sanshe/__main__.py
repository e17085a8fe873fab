"""``python -m sanshe`` (or ``python -m model``) runs the ``sanshe`` command line."""

import sys

from sanshe.ui.cli import main

sys.exit(main())
