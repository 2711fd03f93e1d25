"""The ``vefa`` command, run for real in a subprocess against a temporary data directory.

With ``DATABASE_URL`` set (the PostgreSQL run) every test gets its own fresh database on
that server, dropped afterwards; otherwise the SQLite file lives in the data directory.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

COMMAND_TIMEOUT = 240
ADMIN_EMAIL = "root@vefa.example"
ADMIN_PASSWORD = "a-long-admin-passphrase"


def _base_env(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VEFA_", "DJANGO_", "PYTEST_"))
    }
    env["VEFA_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def cli_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a fresh Vefa: its own data directory and, on PostgreSQL, database."""
    env = _base_env(tmp_path / "data")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        env.pop("DATABASE_URL", None)
        yield env
        return
    import psycopg

    name = f"vefa_cli_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    try:
        yield env
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def vefa(
    env: dict[str, str], *args: str, stdin: str | None = None, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vefa", *args],
        env={**env, **(extra or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        start_new_session=True,  # no controlling terminal: getpass reads standard input
        cwd=Path(env["VEFA_DATA_DIR"]).parent,
    )


def admin_env() -> dict[str, str]:
    return {"VEFA_ADMIN_EMAIL": ADMIN_EMAIL, "VEFA_ADMIN_PASSWORD": ADMIN_PASSWORD}


def test_init_creates_the_secret_key_and_the_admin_and_is_harmless_twice(cli_env):
    # when init runs without input, taking the admin from the environment
    first = vefa(cli_env, "init", "--no-input", extra=admin_env())
    # then it succeeds, creates the admin and a secret key only its owner can read
    assert first.returncode == 0, first.stderr
    assert f"Administrator created: {ADMIN_EMAIL}" in first.stdout
    key_file = Path(cli_env["VEFA_DATA_DIR"]) / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text()
    assert len(key) >= 50
    # when it runs again, even with another admin in the environment
    second = vefa(
        cli_env,
        "init",
        "--no-input",
        extra={"VEFA_ADMIN_EMAIL": "other@vefa.example", "VEFA_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    # then nothing changes: the same key, the same single admin
    assert second.returncode == 0, second.stderr
    assert "An administrator exists already." in second.stdout
    assert key_file.read_text() == key
    # and `python -m vefa check` works against that data directory
    check = vefa(cli_env, "check")
    assert check.returncode == 0, check.stderr
    assert "System check identified no issues" in check.stdout
    # and the token command lists the admin's (no) tokens
    listing = vefa(cli_env, "token", "list", "--user", ADMIN_EMAIL)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout == "id\tprefix\tname\tcreated\tlast used\texpires\tstatus\n"
    other = vefa(cli_env, "token", "list", "--user", "other@vefa.example")
    assert other.returncode != 0
    assert "No user has the e-mail 'other@vefa.example'" in other.stderr


def test_init_fails_clearly_on_missing_weak_or_bad_admin_details(cli_env):
    # One data directory for every refusal: each leaves the database without an admin.
    for extra, needed in [
        ({}, "VEFA_ADMIN_EMAIL and VEFA_ADMIN_PASSWORD"),
        ({"VEFA_ADMIN_EMAIL": ADMIN_EMAIL}, "VEFA_ADMIN_PASSWORD"),
        ({"VEFA_ADMIN_PASSWORD": ADMIN_PASSWORD}, "VEFA_ADMIN_EMAIL"),
    ]:
        result = vefa(cli_env, "init", "--no-input", extra=extra)
        assert result.returncode == 1
        assert result.stderr.strip().endswith(
            f"The first administrator needs an e-mail and a password: set {needed}."
        )
        assert "Traceback" not in result.stderr
    weak = vefa(
        cli_env,
        "init",
        "--no-input",
        extra={"VEFA_ADMIN_EMAIL": ADMIN_EMAIL, "VEFA_ADMIN_PASSWORD": "12345"},
    )
    assert weak.returncode == 1
    assert "The first administrator was not created." in weak.stderr
    assert "This password is too short." in weak.stderr
    assert "This password is entirely numeric." in weak.stderr
    bad = vefa(
        cli_env,
        "init",
        "--no-input",
        extra={"VEFA_ADMIN_EMAIL": "<script>@", "VEFA_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    assert bad.returncode == 1
    assert "email: Enter a valid e-mail address." in bad.stderr
    # without --no-input and without a terminal or any input it cannot ask
    silent = vefa(cli_env, "init", stdin="")
    assert silent.returncode == 1
    assert "No input. Run `vefa init --no-input`" in silent.stderr
    # nothing was created: a proper run still creates the first admin
    good = vefa(cli_env, "init", "--no-input", extra=admin_env())
    assert f"Administrator created: {ADMIN_EMAIL}" in good.stdout


def test_init_asks_for_the_admin_interactively(cli_env):
    answers = "\n".join(
        [
            "ask@vefa.example",
            "Ayşe Admin",
            "one-long-passphrase",
            "another-long-passphrase",  # a typo: asked again
            "ask@vefa.example",
            "Ayşe Admin",
            ADMIN_PASSWORD,
            ADMIN_PASSWORD,
            "",
        ]
    )
    result = vefa(cli_env, "init", stdin=answers)
    assert result.returncode == 0, result.stderr
    assert "The two passwords differ." in result.stderr
    assert "Administrator created: ask@vefa.example" in result.stdout


def test_help_lists_vefas_commands_and_djangos(cli_env):
    result = vefa(cli_env, "help")
    assert result.returncode == 0
    for word in ("vefa init", "vefa serve", "vefa demo", "vefa token create", "migrate"):
        assert word in result.stdout


def test_bad_arguments_fail(cli_env):
    assert vefa(cli_env, "serve", "--port", "99999").returncode == 2
    assert "a port is between 1 and 65535" in vefa(cli_env, "serve", "--port", "0").stderr
    unknown = vefa(cli_env, "no-such-command")
    assert unknown.returncode == 1
    assert "Unknown command: 'no-such-command'" in unknown.stderr


def test_the_console_script_is_installed(cli_env):
    script = Path(sys.executable).with_name("vefa")
    result = subprocess.run(
        [str(script), "check"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        cwd=Path(cli_env["VEFA_DATA_DIR"]).parent,
    )
    assert result.returncode == 0, result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return (
                response.status,
                response.headers.get("Content-Type", ""),
                response.read().decode(),
            )
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


def test_serve_answers_pages_static_files_and_token_api_then_stops_cleanly(cli_env):
    # given an initialised Vefa and a token made on the command line
    assert vefa(cli_env, "init", "--no-input", extra=admin_env()).returncode == 0
    created = vefa(cli_env, "token", "create", "--user", ADMIN_EMAIL, "--name", "cli test")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert re.fullmatch(r"vefa_[A-Za-z0-9_-]{40,}", key)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(cli_env["VEFA_DATA_DIR"]).parent / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "vefa", "serve", "--port", str(port), "--workers", "1"],
            env=cli_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=Path(cli_env["VEFA_DATA_DIR"]).parent,
        )
    try:
        # when it is up
        deadline = time.monotonic() + 120
        status = 0
        html = ""
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, _type, html = _get(f"{base}/accounts/login/")
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.5)
        # then the login page is served
        assert status == 200, log.read_text()
        assert 'name="password"' in html
        # and its stylesheet (a hashed static file) is served too
        stylesheet = re.search(r'href="(/static/vendor/bootstrap/[^"]+\.css)"', html)
        assert stylesheet is not None
        css_status, css_type, css = _get(base + stylesheet.group(1))
        assert (css_status, css_type.split(";")[0]) == (200, "text/css")
        assert "Bootstrap" in css[:500]
        # and the token from the command line authenticates against the API
        me_status, _t, body = _get(f"{base}/api/v1/me", {"Authorization": f"Bearer {key}"})
        assert me_status == 200, body
        assert json.loads(body)["email"] == ADMIN_EMAIL
        assert _get(f"{base}/api/v1/me", {"Authorization": "Bearer vefa_wrong"})[0] == 401
        # when it is asked to stop, it stops cleanly and in time
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=40) == 0
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


# --- dispatch, in process: which command runs what ---------------------------------------


@pytest.fixture
def dispatched(monkeypatch, tmp_path):
    """Record what ``vefa`` hands to Django instead of running it."""
    import django.core.management

    calls: list[list[str]] = []
    monkeypatch.setenv("VEFA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(django.core.management, "execute_from_command_line", calls.append)
    return calls


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["bench-data", "--customers", "10"], ["vefa", "bench_data", "--customers", "10"]),
        (["worker"], ["vefa", "worker"]),
        (
            ["token", "create", "--user", "a@b.example"],
            ["vefa", "token", "create", "--user", "a@b.example"],
        ),
        (["migrate", "--plan"], ["vefa", "migrate", "--plan"]),
        (["help", "migrate"], ["vefa", "help", "migrate"]),
    ],
)
def test_other_commands_pass_through_to_django(dispatched, argv, expected):
    from vefa import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 0
    assert dispatched == [expected]


def test_demo_runs_init_then_the_demo_data_then_serve(monkeypatch, tmp_path):
    import django.core.management

    from vefa import cli

    steps: list[object] = []
    monkeypatch.setenv("VEFA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("VEFA_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("VEFA_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr(
        cli,
        "cmd_init",
        lambda no_input, quiet=False: steps.append(
            ("init", no_input, os.environ["VEFA_ADMIN_EMAIL"], os.environ["VEFA_ADMIN_PASSWORD"])
        ),
    )
    monkeypatch.setattr(django.core.management, "call_command", lambda name: steps.append(name))
    monkeypatch.setattr(
        cli, "cmd_serve", lambda host, port: steps.append(("serve", host, port)) or 0
    )
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["demo", "--host", "0.0.0.0", "--port", "8123"])
    assert exit_info.value.code == 0
    assert steps == [
        ("init", True, cli.DEMO_ADMIN_EMAIL, cli.DEMO_ADMIN_PASSWORD),
        "demo_data",
        ("serve", "0.0.0.0", 8123),
    ]
    steps.clear()
    with pytest.raises(SystemExit):
        cli.main(["demo", "--no-serve"])
    assert [s if isinstance(s, str) else s[0] for s in steps] == ["init", "demo_data"]


def test_an_ipv6_host_is_bracketed_for_the_server():
    from vefa.cli import _bind_address

    assert _bind_address("::1", 8000) == "[::1]:8000"
    assert _bind_address("127.0.0.1", 8000) == "127.0.0.1:8000"
    assert _bind_address("[::1]", 8000) == "[::1]:8000"


class FakeProcess:
    """Stands in for a child process: alive until it "exits" after ``lives`` polls."""

    started: list[FakeProcess] = []

    def __init__(self, args, env=None):
        self.args = args
        self.lives = 3 if args[-1] == "worker" else 10**9
        self.returncode: int | None = None
        self.terminated = False
        self.started_at = time.monotonic()
        FakeProcess.started.append(self)

    def poll(self):
        if self.returncode is None:
            self.lives -= 1
            if self.lives <= 0:
                self.returncode = 1
        return self.returncode

    def terminate(self):
        self.terminated = True
        self.returncode = 0

    def wait(self, timeout=None):
        return self.returncode

    def kill(self):
        self.returncode = -9


@pytest.fixture
def fake_serve(monkeypatch, tmp_path):
    from vefa import cli

    FakeProcess.started = []
    clock = {"now": 0.0}
    monkeypatch.setenv("VEFA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(cli, "_setup_django", lambda: None)
    monkeypatch.setattr(cli, "_collectstatic", lambda: None)
    monkeypatch.setattr(cli.subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(cli.time, "monotonic", lambda: clock["now"])

    def sleep(seconds):
        clock["now"] += seconds
        if clock["now"] > 200:  # stop the server as Ctrl+C would
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)

    monkeypatch.setattr(cli.time, "sleep", sleep)
    return cli


def test_serve_restarts_a_dying_worker_with_growing_pauses_and_stops_everything(fake_serve):
    code = fake_serve.cmd_serve("127.0.0.1", 8000, migrate=False)
    web, *workers = FakeProcess.started
    assert code == 0
    assert web.args[1:4] == ["-m", "gunicorn", "vefa.config.wsgi:application"]
    assert "127.0.0.1:8000" in web.args
    assert web.terminated is True
    assert all(w.args[-2:] == ["vefa", "worker"] for w in workers)
    starts = [round(w.started_at, 1) for w in workers]
    # each worker lives for three polls (0.6 s), then waits 1, 2, 4 … seconds, at most 60
    assert starts == [0.0, 1.8, 4.4, 9.2, 18.0, 34.8, 67.4, 128.0, 188.8]
    # the signal handlers are put back
    assert signal.getsignal(signal.SIGTERM) is not None


def test_serve_stops_and_fails_when_the_web_server_dies(fake_serve, monkeypatch):
    original = FakeProcess.__init__

    def short_lived_web(self, args, env=None):
        original(self, args, env)
        if "gunicorn" in args:
            self.lives = 2

    monkeypatch.setattr(FakeProcess, "__init__", short_lived_web)
    code = fake_serve.cmd_serve("127.0.0.1", 8000, migrate=False)
    _web, worker = FakeProcess.started
    assert code == 1
    assert worker.terminated is True


def test_serving_on_every_address_reminds_about_allowed_hosts(fake_serve, capsys, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    fake_serve.cmd_serve("0.0.0.0", 8000, migrate=False, with_worker=False)
    assert "Note: Vefa answers only requests for 127.0.0.1, localhost; set VEFA_ALLOWED_HOSTS" in (
        capsys.readouterr().err
    )
    settings.ALLOWED_HOSTS = ["*"]
    fake_serve.cmd_serve("0.0.0.0", 8000, migrate=False, with_worker=False)
    assert "Note:" not in capsys.readouterr().err
