"""`python -m cmltui` works like the `cmltui` command."""

from cmltui.cli import main

raise SystemExit(main())
