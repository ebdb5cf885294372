"""`python3 -m pmgen`: the same as the pmgen command."""

import sys

from .cli import main

sys.exit(main())
