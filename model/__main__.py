"""``python -m model`` runs the ``sanshe`` command line."""

import sys

from model.cli import main

sys.exit(main())
