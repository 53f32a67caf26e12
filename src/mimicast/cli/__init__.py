"""The `mimicast` command line (typer + rich)."""
