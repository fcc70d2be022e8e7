"""``hpmon serve`` (the web app under uvicorn) and ``hpmon users`` (web accounts)."""

from __future__ import annotations

import click
from rich.table import Table

from hpmon.settings import Settings
from hpmon.term import console


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


@click.command()
@click.option("--host", help="Address to listen on (default: the web_host setting, 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: the web_port setting, 8000).")
@click.option("--proxy-headers/--no-proxy-headers", default=False,
              help="Take the client address and scheme from X-Forwarded-For/-Proto (behind a reverse proxy).")
@click.option("--forwarded-allow-ips", default="127.0.0.1", show_default=True,
              help="Comma-separated addresses of the proxies whose X-Forwarded-* headers are believed.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, proxy_headers: bool,
          forwarded_allow_ips: str) -> None:
    """Run the analysts' web app."""
    import uvicorn

    from hpmon.app import init_home, open_backend
    from web.app import create_app
    from web.auth import UserStore

    settings = _settings(ctx)
    init_home(settings)
    users = UserStore(settings.app_db_path)
    if not users.list_users():
        console.print("[yellow]No web user yet.[/] Create one: [bold]hpmon users add NAME --role admin[/]")
    users.close()
    from hpmon.health import health_report, prometheus_text

    app = create_app(settings, open_backend(settings), health=lambda: health_report(settings),
                     metrics=prometheus_text)
    host, port = host or settings.web_host, port or settings.web_port
    console.print(f"hpmon web app on http://{host}:{port}/")
    uvicorn.run(app, host=host, port=port, proxy_headers=proxy_headers, forwarded_allow_ips=forwarded_allow_ips,
                server_header=False, access_log=False, log_config=None)


@click.group()
def users() -> None:
    """Web app accounts: add, passwd, role, disable, enable, list."""


def _store(ctx: click.Context):
    from web.auth import UserStore

    settings = _settings(ctx)
    settings.home.mkdir(parents=True, exist_ok=True)
    return UserStore(settings.app_db_path)


def _run(ctx: click.Context, action) -> None:
    from web.auth import UserError
    from web.i18n import Catalogues

    store = _store(ctx)
    try:
        action(store)
    except UserError as exc:
        raise click.ClickException(Catalogues().gettext("en", str(exc))) from exc
    finally:
        store.close()


def _password(password: str | None, from_stdin: bool = False) -> str:
    """The password given: on the command line, as the first line of standard input
    (``--password-stdin``, for scripts), else asked twice at the terminal. Without a terminal to ask
    at, a clear error instead of a prompt that cannot be answered."""
    if from_stdin:
        if password:
            raise click.UsageError("give --password or --password-stdin, not both")
        line = click.get_text_stream("stdin").readline().rstrip("\r\n")
        if not line:
            raise click.ClickException("no password on standard input (--password-stdin reads its first line)")
        return line
    if password:
        return password
    if not click.get_text_stream("stdin").isatty():
        raise click.ClickException("no terminal to ask for the password: pipe it in with --password-stdin "
                                   "(printf '%s\\n' \"$PASSWORD\" | hpmon users add NAME --password-stdin)")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


_STDIN_HELP = "Read the password from the first line of standard input (for scripts)."


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["viewer", "analyst", "admin"]), default="viewer", show_default=True)
@click.option("--password", help="Password (prompted when omitted: keeps it out of the shell history).")
@click.option("--password-stdin", "password_stdin", is_flag=True, help=_STDIN_HELP)
@click.pass_context
def users_add(ctx: click.Context, username: str, role: str, password: str | None, password_stdin: bool) -> None:
    """Create a web user."""
    secret = _password(password, password_stdin)
    _run(ctx, lambda s: console.print(f"added {s.add_user(username, secret, role).username} ({role})"))


@users.command("passwd")
@click.argument("username")
@click.option("--password", help="New password (prompted when omitted).")
@click.pass_context
def users_passwd(ctx: click.Context, username: str, password: str | None) -> None:
    """Set a user's password (ends their sessions)."""
    _run(ctx, lambda s: console.print(f"password of {s.set_password(username, _password(password)).username} set"))


@users.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(["viewer", "analyst", "admin"]))
@click.pass_context
def users_role(ctx: click.Context, username: str, role: str) -> None:
    """Change a user's role."""
    _run(ctx, lambda s: console.print(f"{s.set_role(username, role).username} is now {role}"))


@users.command("disable")
@click.argument("username")
@click.pass_context
def users_disable(ctx: click.Context, username: str) -> None:
    """Disable a user (and log them out)."""
    _run(ctx, lambda s: console.print(f"{s.set_disabled(username, True).username} disabled"))


@users.command("enable")
@click.argument("username")
@click.pass_context
def users_enable(ctx: click.Context, username: str) -> None:
    """Enable a disabled user."""
    _run(ctx, lambda s: console.print(f"{s.set_disabled(username, False).username} enabled"))


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """Every web user with role and state."""
    def show(store) -> None:
        table = Table(title="Web users")
        for col in ("username", "role", "state", "created"):
            table.add_column(col)
        for u in store.list_users():
            table.add_row(u.username, u.role, "disabled" if u.disabled else "active", u.created_at[:19])
        console.print(table)

    _run(ctx, show)
