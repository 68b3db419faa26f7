"""`python -m oomtui`: the same as the `oomtui` command."""

import sys

from .cli import main

sys.exit(main())
