"""``policyengine playground``: the local web playground for learning KMS access.

It binds loopback only (the page edits policies and the app trusts its caller like any local
tool), prints its URL, and with ``--open`` opens it in the default browser. Problems at start
(a port in use, a lessons folder that does not read) are one line on stderr and exit code 1.
"""

from __future__ import annotations

import socket
import webbrowser
from pathlib import Path

import click

from policyengine.cli.output import err


@click.command()
@click.option(
    "--port", default=4600, show_default=True, type=click.IntRange(0, 65535), help="Port on 127.0.0.1 (0: any free port)."
)
@click.option("--open", "open_browser", is_flag=True, help="Open the playground in the default web browser.")
@click.option(
    "--lessons",
    "lessons_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="A folder of your own lessons (YAML files, the shipped lessons' format), shown after the shipped ones.",
)
@click.option(
    "--scenario",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Start from this scenario file (the format `policyengine simulate` reads).",
)
def playground(port: int, open_browser: bool, lessons_dir: Path | None, scenario: Path | None) -> None:
    """A local web playground: edit key policies, IAM policies, SCPs and grants, and watch the decision change."""
    import uvicorn

    from policyengine.playground import PlaygroundApp, from_scenario, scenario_data

    start = from_scenario(scenario_data(scenario)) if scenario is not None else None
    app = PlaygroundApp(lessons_dir, start)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
    except OSError as error:
        listener.close()
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from None
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    err.print(f"policyengine playground: {url}  (Ctrl+C to stop)")
    if open_browser:
        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    uvicorn.Server(config).run(sockets=[listener])
