"""`mimicast admin …`: the administration model from the command line."""

import typer

app = typer.Typer(help="Administer accounts, domains, users, roles, groups, profiles, applications.",
                  no_args_is_help=True)
