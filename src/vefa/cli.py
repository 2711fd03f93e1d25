"""The ``vefa`` command: Django's ``manage.py`` plus init, serve, demo and friends.

    vefa init [--no-input]           data directory, secret key, database, first administrator
    vefa serve [--host H] [--port P] production server, static files, background worker
    vefa demo [--host H] [--port P]  init + demo data + serve (--no-serve: load the data only)
    vefa worker                      background tasks and periodic jobs
    vefa bench-data --customers N    large deterministic data set for benchmarks
    vefa token create --user EMAIL   print a new personal API token (also: list, revoke)
    vefa <any manage.py command>     e.g. vefa migrate, vefa check, vefa shell

Configuration comes from the environment: VEFA_DATA_DIR (default ./var), DATABASE_URL,
VEFA_SECRET_KEY; ``vefa init --no-input`` takes the first administrator from
VEFA_ADMIN_EMAIL and VEFA_ADMIN_PASSWORD (and VEFA_ADMIN_NAME, optional).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Demo logins are public on purpose (README); never used outside ``vefa demo``.
DEMO_ADMIN_EMAIL = "admin@vefa.example"
DEMO_ADMIN_PASSWORD = "vefa-admin-demo"  # noqa: S105
SHUTDOWN_GRACE_SECONDS = 15
MAX_PROMPT_ATTEMPTS = 3


class CliError(Exception):
    """A problem the operator must fix; printed without a traceback, exit status 1."""


class NoInput(CliError):
    """Standard input ended while prompting: retrying cannot help."""


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    import django

    django.setup()


def data_dir() -> Path:
    return Path(os.environ.get("VEFA_DATA_DIR") or "var").resolve()


def ensure_data_dir() -> Path:
    """Create the data directory and its secret key file (once, readable only by its owner)."""
    directory = data_dir()
    (directory / "files").mkdir(parents=True, exist_ok=True)
    key_file = directory / "secret.key"
    if not os.environ.get("VEFA_SECRET_KEY"):
        try:
            # O_EXCL with mode 0600 at creation: the key is never readable by others, not even
            # for the moment between writing it and a later chmod.
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
        if key_file.exists() and key_file.stat().st_mode & 0o077:
            key_file.chmod(0o600)
    return directory


# --- init ----------------------------------------------------------------------------------


def _format_errors(exc: object) -> str:
    fields: dict[str, list[str]] = getattr(exc, "fields", {}) or {}
    lines = [str(getattr(exc, "message", exc))]
    lines += [f"  {field}: {' '.join(messages)}" for field, messages in fields.items()]
    return "\n".join(lines)


def _prompt_admin() -> tuple[str, str, str]:
    import getpass

    try:
        email = input("Administrator e-mail: ").strip()
        name = input("Full name [Administrator]: ").strip() or "Administrator"
        password = getpass.getpass("Password: ")
        again = getpass.getpass("Password again: ")
    except EOFError as exc:
        raise NoInput(
            "No input. Run `vefa init --no-input` with VEFA_ADMIN_EMAIL and "
            "VEFA_ADMIN_PASSWORD set instead."
        ) from exc
    if password != again:
        raise CliError("The two passwords differ.")
    return email, name, password


def _create_first_admin(email: str, name: str, password: str) -> object:
    from vefa.accounts.choices import Role
    from vefa.accounts.services import user_create
    from vefa.common.errors import ValidationFailed

    if not email or not password:
        missing = [
            var
            for var, value in (("VEFA_ADMIN_EMAIL", email), ("VEFA_ADMIN_PASSWORD", password))
            if not value
        ]
        raise CliError(
            "The first administrator needs an e-mail and a password: set "
            + " and ".join(missing)
            + "."
        )
    try:
        return user_create(
            actor=None,
            email=email,
            full_name=name or "Administrator",
            password=password,
            role=Role.ADMIN,
        )
    except ValidationFailed as exc:
        raise CliError("The first administrator was not created.\n" + _format_errors(exc)) from exc


def cmd_init(no_input: bool, *, quiet: bool = False) -> None:
    """Prepare a data directory and database; create the first administrator if none exists.

    Running it again only applies new migrations: it never touches an existing administrator.
    """
    directory = ensure_data_dir()
    _setup_django()
    from django.core.management import call_command

    from vefa.accounts.choices import Role
    from vefa.accounts.models import User

    call_command("migrate", interactive=False, verbosity=0 if quiet else 1)
    if not quiet:
        print(f"Data directory: {directory}")
    if User.objects.filter(role=Role.ADMIN, is_active=True).exists():
        if not quiet:
            print("An administrator exists already.")
        return
    email = os.environ.get("VEFA_ADMIN_EMAIL", "").strip()
    password = os.environ.get("VEFA_ADMIN_PASSWORD", "")
    name = os.environ.get("VEFA_ADMIN_NAME", "").strip() or "Administrator"
    if no_input or (email and password):
        admin = _create_first_admin(email, name, password)
    else:
        print("Create the first administrator.")
        for attempt in range(1, MAX_PROMPT_ATTEMPTS + 1):
            try:
                email, name, password = _prompt_admin()
                admin = _create_first_admin(email, name, password)
                break
            except NoInput:
                raise
            except CliError as exc:
                if attempt == MAX_PROMPT_ATTEMPTS:
                    raise
                print(str(exc), file=sys.stderr)
    if not quiet:
        print(f"Administrator created: {getattr(admin, 'email', '')}")


# --- serve ---------------------------------------------------------------------------------


def _collectstatic() -> None:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def _bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _stop(proc: subprocess.Popen[bytes] | None, name: str) -> None:
    """Ask ``proc`` to stop, wait for it, and kill it if it does not stop in time."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=SHUTDOWN_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        print(f"The {name} did not stop in time; killing it.", file=sys.stderr, flush=True)
        proc.kill()
        proc.wait(timeout=SHUTDOWN_GRACE_SECONDS)


def _warn_about_allowed_hosts(host: str) -> None:
    """Listening on every address is useless if Django refuses the names clients use."""
    from django.conf import settings

    allowed = list(settings.ALLOWED_HOSTS)
    if host in {"0.0.0.0", "::", "[::]"} and "*" not in allowed:  # noqa: S104
        print(
            f"Note: Vefa answers only requests for {', '.join(allowed)}; set "
            "VEFA_ALLOWED_HOSTS to the names or addresses clients use for this machine.",
            file=sys.stderr,
            flush=True,
        )


def cmd_serve(
    host: str,
    port: int,
    *,
    workers: int | None = None,
    migrate: bool = True,
    with_worker: bool = True,
) -> int:
    """Run gunicorn and the background worker until interrupted (SIGINT or SIGTERM).

    The worker is restarted when it dies (with a growing pause, so a broken worker does not
    spin); when the web server dies, everything stops and its exit status is returned.
    """
    ensure_data_dir()
    _setup_django()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    _collectstatic()
    _warn_about_allowed_hosts(host)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    env["VEFA_DATA_DIR"] = str(data_dir())
    web_workers = workers or int(os.environ.get("VEFA_WEB_WORKERS", "3"))
    web = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "vefa.config.wsgi:application",
            "--bind",
            _bind_address(host, port),
            "--workers",
            str(web_workers),
            "--threads",
            "4",
            "--graceful-timeout",
            str(SHUTDOWN_GRACE_SECONDS - 5),
            "--access-logfile",
            "-",
        ],
        env=env,
    )
    worker_cmd = [sys.executable, "-m", "vefa", "worker"]
    worker: subprocess.Popen[bytes] | None = None
    worker_pause = 1.0
    worker_next_start = 0.0
    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    print(f"Vefa is serving at http://{_bind_address(host, port)}/ (Ctrl+C stops it)", flush=True)
    code = 0
    try:
        while not stopping:
            if web.poll() is not None:
                code = web.returncode or 1
                print("The web server stopped; stopping Vefa.", file=sys.stderr, flush=True)
                break
            now = time.monotonic()
            if with_worker and (worker is None or worker.poll() is not None):
                if worker is not None and worker.returncode is not None:
                    print(
                        f"The background worker exited ({worker.returncode}); "
                        f"restarting it in {worker_pause:.0f} s.",
                        file=sys.stderr,
                        flush=True,
                    )
                    worker_next_start = now + worker_pause
                    worker_pause = min(worker_pause * 2, 60.0)
                    worker = None
                if worker is None and now >= worker_next_start:
                    worker = subprocess.Popen(worker_cmd, env=env)  # noqa: S603
            time.sleep(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _stop(web, "web server")
        _stop(worker, "background worker")
    return code


def cmd_demo(host: str, port: int, serve: bool = True) -> int:
    """``init`` with the demo administrator, the demo data, then ``serve``."""
    os.environ.setdefault("VEFA_ADMIN_EMAIL", DEMO_ADMIN_EMAIL)
    os.environ.setdefault("VEFA_ADMIN_PASSWORD", DEMO_ADMIN_PASSWORD)
    cmd_init(no_input=True, quiet=True)
    from django.core.management import call_command

    call_command("demo_data")
    if not serve:
        return 0
    return cmd_serve(host, port)


# --- entry point ---------------------------------------------------------------------------


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 1 and 65535, not {port}")
    return port


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"vefa {command}")
    if command == "init":
        parser.add_argument(
            "--no-input",
            action="store_true",
            help="take the first administrator from VEFA_ADMIN_EMAIL and VEFA_ADMIN_PASSWORD",
        )
        return parser
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    if command == "serve":
        parser.add_argument("--workers", type=int, default=None, help="web server processes")
        parser.add_argument("--no-migrate", action="store_true", help="do not apply migrations")
        parser.add_argument("--no-worker", action="store_true", help="no background worker")
    if command == "demo":
        parser.add_argument("--no-serve", action="store_true", help="load the data only")
    return parser


def _run(args: list[str]) -> int:
    command = args[0] if args else "help"
    if command in {"help", "--help", "-h"} and len(args) <= 1:
        print((__doc__ or "").strip() + "\n")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
        from django.core.management import execute_from_command_line

        execute_from_command_line(["vefa", "help"])
        return 0
    if command in {"init", "serve", "demo"}:
        opts = _parser(command).parse_args(args[1:])
        if command == "init":
            cmd_init(no_input=opts.no_input)
            return 0
        if command == "serve":
            return cmd_serve(
                opts.host,
                opts.port,
                workers=opts.workers,
                migrate=not opts.no_migrate,
                with_worker=not opts.no_worker,
            )
        return cmd_demo(opts.host, opts.port, serve=not opts.no_serve)
    # Everything else is a Django management command; bench-data → bench_data.
    if command in {"bench-data", "demo-data", "export-all", "import-all"}:
        args[0] = command.replace("-", "_")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    if command not in {"help", "--help", "-h", "--version", "version"}:
        ensure_data_dir()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["vefa", *args])
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = _run(args)
    except CliError as exc:
        print(f"vefa: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
