"""`python -m aitop`."""

import sys

from aitop.cli import main

sys.exit(main())
