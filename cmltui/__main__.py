"""`python -m cmltui` works like the `cmltui` command."""

from cmltui.cli.main import main

raise SystemExit(main())
