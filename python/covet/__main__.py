"""`python -m covet ...` is the `covet` command."""

from covet.cli import main

raise SystemExit(main())
