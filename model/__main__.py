"""``python -m model`` (the older name) runs the ``sanshe`` command line."""

import sys

from sanshe.ui.cli import main

sys.exit(main())
