"""`mimicast admin …`: the administration model from the command line.

Each command is thin: parse, call the service in one unit of work (committed once), print a
rich table or, with `--json`, JSON for scripts. A service's ApiError is one red line on
stderr and exit code 1; usage errors exit 2 (typer).
"""


from mimicast.cli import (
    admin_access,
    admin_apps,
    admin_connections,
    admin_directory,
    admin_urlprotect,
)
from mimicast.cli.common import command_group

# Its help is where it is registered, lazily: cli/main.py.
app = command_group()

app.add_typer(admin_directory.accounts, name="account")
app.add_typer(admin_directory.domains, name="domain")
app.add_typer(admin_directory.zone, name="dns")
app.add_typer(admin_directory.users, name="user")
app.add_typer(admin_access.roles, name="role")
app.add_typer(admin_access.groups, name="group")
app.add_typer(admin_access.auth_profiles, name="auth-profile")
app.add_typer(admin_access.app_settings, name="app-setting")
app.add_typer(admin_apps.apps, name="app")
app.add_typer(admin_apps.bindings, name="binding")
app.add_typer(admin_connections.connections, name="connection")
app.add_typer(admin_urlprotect.app, name="url-protect")
