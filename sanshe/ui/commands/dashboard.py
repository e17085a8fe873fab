"""``sanshe dashboard``: serve the interactive page (Mesa's visualization) on this machine.

The page is :mod:`sanshe.ui.dashboard`; this command checks the options, then runs
``solara run sanshe.ui.dashboard`` in a child process on the given host and port (127.0.0.1
unless told otherwise, so the page is not exposed to the network by accident).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import signal
import socket
import subprocess
import sys

from sanshe.inputs.errors import InputError
from sanshe.inputs.scenario import Scenario, library_names

#: Environment variables read by sanshe.dashboard (kept equal to its SCENARIO_ENV/LANG_ENV;
#: not imported from there, so ``sanshe --help`` does not load the whole web stack).
SCENARIO_ENV = "SANSHE_DASHBOARD_SCENARIO"
LANG_ENV = "SANSHE_DASHBOARD_LANG"

#: Solara warns at every page load, in a dozen lines, that a plain-http address other than
#: "localhost" gets "lax" session cookies. That is right for a training room's network and
#: nothing a trainer can act on, so the server's terminal stays quiet about it.
QUIET_COOKIES = "ignore:Cookies with samesite=none require https:UserWarning"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``dashboard`` subcommand."""
    parser = subparsers.add_parser(
        "dashboard",
        help="serve the interactive page (policy levers, live plots) in a browser",
        description="Serve the interactive page: move policy levers, step the model month "
        "by month and watch participation, need coverage, SOs and money change. "
        "Stop it with Ctrl-C.",
    )
    parser.add_argument(
        "--scenario",
        default="baseline",
        metavar="NAME",
        help="library scenario or .toml file to start with (default baseline)",
    )
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; "
        "0.0.0.0 opens the page to the network)",
    )
    parser.add_argument(
        "--lang",
        choices=("zh", "en"),
        default="en",
        help="language of the page at start (a switch on the page changes it)",
    )
    parser.add_argument("--open", action="store_true", help="open a browser tab")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Check the options, then run the page's server until it stops or Ctrl-C."""
    scenario = _scenario_argument(args.scenario)
    _check_port(args.host, args.port)
    problem = requirements_problem()
    if problem:
        raise InputError(problem)
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "sanshe.ui.dashboard",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--open" if args.open else "--no-open",
        "--log-level",
        "warning",
    ]
    env = {**os.environ, SCENARIO_ENV: scenario, LANG_ENV: args.lang}
    env["PYTHONWARNINGS"] = ",".join(filter(None, [env.get("PYTHONWARNINGS"), QUIET_COOKIES]))
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"sanshe dashboard: starting the page at http://{shown}:{args.port}/ "
        f"(scenario {scenario}); Ctrl-C stops it.",
        flush=True,
    )
    child = subprocess.Popen(command, env=env)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a plain kill stops the child too
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
        print("sanshe dashboard: stopped.", file=sys.stderr)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM handled like Ctrl-C: stop the page's server, then exit."""
    raise KeyboardInterrupt


def requirements_problem() -> str | None:
    """Why the page cannot work in this environment, or None.

    Mesa 3.3's SolaraViz is written for Vuetify 2: with ipyvue/ipyvuetify 3 the page stays
    blank or fails (Mesa issue #3806), so those must stay below 2.
    """
    for package in ("solara", "altair", "ipyvuetify", "ipyvue"):
        if importlib.util.find_spec(package) is None:
            return (
                f"the dashboard needs the '{package}' package, which is not installed; "
                "install the page's extra with: pip install 'sanshe[viz]'."
            )
    for package in ("ipyvuetify", "ipyvue"):
        version = importlib.metadata.version(package)
        if int(version.split(".")[0]) >= 2:
            return (
                f"{package} {version} is installed, but Mesa 3.3's page needs {package} "
                "below 2 (Vuetify 2); install: pip install 'ipyvue<2' 'ipyvuetify<2'."
            )
    return None


def _scenario_argument(text: str) -> str:
    """A library name as given, or a scenario file as an absolute path (validated)."""
    scenario = Scenario.load(text)  # InputError names the file or lists the library
    if text in library_names():
        return text
    return str(scenario.source)


def _check_port(host: str, port: int) -> None:
    """Fail early, with a clear message, on a port that is out of range or taken."""
    if not 1 <= port <= 65535:
        raise InputError(f"--port {port}: a port is a number from 1 to 65535 (default 8765).")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"--host {host!r}: not an address of this machine ({exc}).") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise InputError(
                f"--port {port}: cannot listen on {host}:{port} ({exc.strerror}); another "
                "program (perhaps another dashboard) uses it — choose another with --port."
            ) from None
