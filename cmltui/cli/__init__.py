"""The `cmltui` command: `main` parses, `commands` runs each subcommand, `exits` holds the exit
codes and the one-line error, `table` prints `snapshot --format table`."""
