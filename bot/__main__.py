"""`python -m bot` runs the wuzha command."""

import sys

from bot.cli import main

sys.exit(main())
