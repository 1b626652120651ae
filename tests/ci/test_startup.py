"""Start-up: a command imports only what it uses (docs/benchmarks.md, "Start-up", has the timings).

Each check runs the real entry point in a fresh interpreter and reads `sys.modules` afterwards: linting a
file must not import the server, the KMS, the stores, the access queries, the solver, uvicorn or the AWS SDK;
every other command has its own list of what it must leave alone (``MUST_NOT_IMPORT``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from policyengine.cli.main import COMMANDS, SUMMARIES
from tests.conftest import EXAMPLES, ROOT

_PROBE = """
import json, sys
from policyengine.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.stdout.flush()
print("\\n@@modules@@" + json.dumps(sorted(sys.modules)))
"""

# Never needed to lint, validate or print the version.
HEAVY = (
    "policyengine.server",
    "policyengine.store",
    "policyengine.kms",
    "policyengine.access",
    "policyengine.analysis",
    "cvc5",
    "z3",
    "uvicorn",
    "boto3",
    "botocore",
    "cryptography",
    "sqlite3",
    "psycopg",
)


def imported_by(*argv: str) -> set[str]:
    """The modules loaded after ``policyengine ARGV`` ran in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env()
    )
    assert "@@modules@@" in done.stdout, done.stderr
    return set(json.loads(done.stdout.rsplit("@@modules@@", 1)[1]))


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def heavy(modules: set[str]) -> list[str]:
    return loaded(modules, HEAVY)


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The modules among ``modules`` that are one of ``names`` or inside one of them."""
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


#: What building a pydantic validator brings in (pydantic's plugin loader reads installed packages' metadata).
NO_VALIDATOR = ("importlib.metadata", "pydantic.plugin._loader")
#: pydantic and what its import brings (about two thirds of linting a file when the model was built on it).
PYDANTIC = ("pydantic", "pydantic_core", "annotated_types", "typing_inspection")

SNAPSHOT = str(ROOT / "tests" / "access" / "fixtures" / "org.yaml")
#: The access queries read a snapshot and answer with the evaluator: never the KMS, its store, the server,
#: the solver, the AWS SDK (only `snapshot pull` needs it) or the grammars (JSON and YAML policies are scanned).
ACCESS_HEAVY = (*(h for h in HEAVY if h != "policyengine.access"), "lark")
#: A well-formed snapshot is built without pydantic (policyengine/model/_exact.py): pydantic, its validator and
#: the plugin loader's importlib.metadata load only for a snapshot it must convert or refuse.
SNAPSHOT_HEAVY = (*ACCESS_HEAVY, *PYDANTIC, *NO_VALIDATOR)
#: Lines of markup are written by policyengine.cli.output itself; rich only for tables and progress bars.
SNAPSHOT_TEXT = ("rich", *SNAPSHOT_HEAVY)
#: A command's `--help` needs click and the command's options, not what the command runs.
HELP_HEAVY = ("pydantic", "policyengine.evaluator", "policyengine.model.policy", "policyengine.access", "cryptography", "lark")

#: Every module a command is defined in.
COMMAND_MODULES = tuple(sorted({where.partition(":")[0] for where in COMMANDS.values()}))

MUST_NOT_IMPORT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (argv, modules it must not load)
    "--version": (("--version",), ("pydantic", "rich", "policyengine.parsing", *HELP_HEAVY, *HEAVY)),
    # The list of commands is made from their summaries in policyengine.cli.main: no command's module is loaded.
    "--help": (("--help",), ("rich", *COMMAND_MODULES, *HELP_HEAVY, *HEAVY)),
    "can": (("can", "user/ops", "kms:DisableKey", "alias/workload", "-s", SNAPSHOT), SNAPSHOT_TEXT),
    "who-can": (("who-can", "kms:Decrypt", "alias/workload", "-s", SNAPSHOT), SNAPSHOT_HEAVY),
    "what-can": (("what-can", "user/ops", "-s", SNAPSHOT), SNAPSHOT_HEAVY),
    "findings": (("findings", "-s", SNAPSHOT), SNAPSHOT_TEXT),
    "snapshot check": (("snapshot", "check", SNAPSHOT), SNAPSHOT_TEXT),
    "principal-can": (("principal-can", "user/ops", "-s", SNAPSHOT), SNAPSHOT_TEXT),
    "access-matrix": (("access-matrix", "-s", SNAPSHOT), SNAPSHOT_TEXT),
    "simulate": (("simulate", str(EXAMPLES / "scenarios" / "app-decrypt-allowed.json")), ACCESS_HEAVY),
    # JSON output is printed without rich (its markup escape is imported when text is printed).
    "can --format json": (
        ("can", "user/ops", "kms:DisableKey", "alias/workload", "-s", SNAPSHOT, "--format", "json"),
        ("rich", *ACCESS_HEAVY),
    ),
    "findings --format json": (("findings", "-s", SNAPSHOT, "--format", "json"), ("rich", *ACCESS_HEAVY)),
    "simulate --format json": (
        ("simulate", str(EXAMPLES / "scenarios" / "app-decrypt-allowed.json"), "--format", "json"),
        ("rich", *ACCESS_HEAVY),
    ),
    "validate --format json": (
        ("validate", str(EXAMPLES / "default-key-policy.json"), "--format", "json"),
        ("rich", "pydantic", *HEAVY),
    ),
    # The server's options need its configuration module only: not the app, uvicorn or the KMS behind it.
    "serve --help": (
        ("serve", "--help"),
        ("uvicorn", "policyengine.kms", "policyengine.store", "policyengine.server.app", *HELP_HEAVY),
    ),
    # The checks' options need the backends' names and the default time limit: not the encoder or a solver.
    "check --help": (("check", "--help"), ("cvc5", "z3", "policyengine.analysis.checks", "policyengine.lint", *HELP_HEAVY)),
    "db --help": (("db", "--help"), ("psycopg", "policyengine.kms", "policyengine.store", *HELP_HEAVY)),
    "playground --help": (("playground", "--help"), ("policyengine.playground", "uvicorn", *HELP_HEAVY)),
    # The tour's steps (the KMS, the server, the linter) are loaded when it runs.
    "tour --help": (("tour", "--help"), ("policyengine.kms", "policyengine.server", "policyengine.lint.rules", *HELP_HEAVY)),
    # Reading the audit trail opens the SQLite store, not the KMS facade, its cryptography or the evaluator.
    "audit": (("audit", "--data", "{tmp}"), ("policyengine.kms.facade", "policyengine.server", "psycopg", *HELP_HEAVY)),
}


@pytest.mark.parametrize("name", sorted(MUST_NOT_IMPORT))
def test_each_command_leaves_alone_what_it_does_not_use(name: str, tmp_path: Path) -> None:
    argv, forbidden = MUST_NOT_IMPORT[name]
    modules = imported_by(*(arg.replace("{tmp}", str(tmp_path)) for arg in argv))
    assert "policyengine.cli.main" in modules  # the probe really ran the CLI
    assert loaded(modules, forbidden) == []


def test_the_policy_model_loads_no_pydantic_until_something_validates() -> None:
    """The model's classes are defined without pydantic; validating one imports it (policyengine/model/_frozen.py)."""
    script = (
        "import sys\n"
        "from policyengine.model.policy import Statement\n"
        "from policyengine.model.grant import Grant\n"
        "print(sorted(m for m in sys.modules if m.startswith('pydantic')))\n"
        "Statement(index=0, effect='Allow')\n"
        "print('pydantic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env())
    assert done.stdout.split() == ["[]", "True"], done.stderr


def test_the_error_hierarchy_loads_no_pydantic() -> None:
    """``policyengine.errors`` needs ``Span``; the span module imports pydantic only when a model's schema is built."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, policyengine.errors; print(sorted(m for m in sys.modules if m.startswith('pydantic')))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_the_cli_turns_pydantic_plugins_off_unless_told_otherwise() -> None:
    """The plugin scan (entry points of every installed distribution) is skipped; an explicit value is kept."""
    script = (
        "import os, sys\n"
        "from policyengine.cli.main import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print('@@', os.environ.get('PYDANTIC_DISABLE_PLUGINS'))\n"
    )
    for given, expected in ((None, "__all__"), ("", ""), ("logfire", "logfire")):
        env = _env()
        env.pop("PYDANTIC_DISABLE_PLUGINS", None)
        if given is not None:
            env["PYDANTIC_DISABLE_PLUGINS"] = given
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
        assert done.stdout.rsplit("@@ ", 1)[1].strip() == expected, done.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_lint_imports_no_server_store_kms_solver_or_sdk(fmt: str) -> None:
    modules = imported_by("lint", str(EXAMPLES / "default-key-policy.json"), "--format", fmt)
    assert "policyengine.lint.run" in modules  # the probe really linted
    assert heavy(modules) == []
    assert not any(m == "rich" or m.startswith("rich.") for m in modules)  # text output is plain ANSI
    # Well-formed JSON is read by the scanner and ARNs split by the grammar-equal expression: neither Lark
    # (only to explain a syntax error or read a policy variable) nor PyYAML and python-hcl2 (other inputs).
    assert sorted(m for m in modules if m.split(".")[0] in ("lark", "yaml", "hcl2")) == []
    # The policy model's classes are dataclasses that pydantic validates only at the edges, and the parser makes
    # them unvalidated (policyengine/model/_frozen.py): pydantic is not imported, nor importlib.metadata (which
    # pydantic's plugin loader reads; SARIF reads our home page from it).
    assert loaded(modules, PYDANTIC) == []
    assert loaded(modules, NO_VALIDATOR if fmt != "sarif" else ()) == []
    # Only the chosen report's module; no baseline (nor its fingerprints) without one; suggestions (difflib)
    # and numbers (decimal) only for a policy that needs them; the evaluator (PE501) without KMS grants.
    reports = {"text": "text", "json": "json_report", "sarif": "sarif"}
    others = tuple(f"policyengine.lint.reporters.{m}" for f, m in reports.items() if f != fmt)
    unused = ("policyengine.lint.baseline", "difflib", "decimal", "policyengine.model.grant")
    assert "policyengine.evaluator.authorizer" in modules
    assert loaded(modules, (*others, *unused)) == []
    assert loaded(modules, ("hashlib",) if fmt != "sarif" else ()) == []


def test_lark_is_loaded_to_explain_a_syntax_error(tmp_path: Path) -> None:
    """The other side of the lazy import: a broken policy still gets the grammar's message."""
    broken = tmp_path / "key.json"
    broken.write_text('{"Version": "2012-10-17", "Statement": [,]}', encoding="utf-8")
    modules = imported_by("lint", str(broken))
    assert "lark" in modules and "policyengine.parsing.diagnostics" in modules


def test_lint_of_a_directory_and_a_template_stays_light(tmp_path: Path) -> None:
    template = tmp_path / "stack.yaml"
    template.write_text(
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy:\n"
        "        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n"
        "            Principal: {AWS: 'arn:aws:iam::111122223333:root'}\n"
        "            Action: 'kms:*'\n            Resource: '*'\n",
        encoding="utf-8",
    )
    assert heavy(imported_by("lint", str(tmp_path))) == []


def test_validate_imports_no_server_store_kms_solver_or_sdk() -> None:
    modules = imported_by("validate", str(EXAMPLES / "default-key-policy.json"))
    assert "policyengine.parsing" in modules and heavy(modules) == []
    assert loaded(modules, (*NO_VALIDATOR, *PYDANTIC)) == []


def test_version_imports_neither_the_rules_nor_the_evaluator() -> None:
    modules = imported_by("--version")
    assert "policyengine.lint.catalog" in modules
    lint_only = ("policyengine.lint.rules", "policyengine.evaluator", "policyengine.model.policy")
    assert not any(m.startswith(lint_only) for m in modules)
    assert heavy(modules) == []


def test_help_still_lists_every_command() -> None:
    """Commands are imported lazily, but `--help` lists them all with their summaries."""
    done = subprocess.run(
        [sys.executable, "-m", "policyengine", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env()
    )
    assert done.returncode == 0
    listed = {line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(COMMANDS)


def test_the_listed_summaries_are_the_commands_own() -> None:
    """``--help`` shortens ``SUMMARIES`` as click shortens each command's help: the same text at every width."""
    import click

    from policyengine.cli.main import cli

    assert set(SUMMARIES) == set(COMMANDS)
    ctx = click.Context(cli)
    for name, summary in SUMMARIES.items():
        command = cli.get_command(ctx, name)
        assert command is not None and not command.hidden and not command.deprecated
        for limit in range(10, 200, 3):
            assert click.Command(name, help=summary).get_short_help_str(limit) == command.get_short_help_str(limit), name


def test_every_command_defined_is_registered() -> None:
    """A command added to a module under policyengine/cli but not to ``COMMANDS`` would silently vanish from the CLI."""
    import importlib
    import pkgutil

    import click

    import policyengine.cli as cli_package
    from policyengine.cli.main import cli

    defined: dict[int, click.Command] = {}
    for module_info in pkgutil.iter_modules(cli_package.__path__):
        module = importlib.import_module(f"policyengine.cli.{module_info.name}")
        defined.update({id(v): v for v in vars(module).values() if isinstance(v, click.Command) and v is not cli})
    subcommands = {id(c) for v in defined.values() if isinstance(v, click.Group) for c in v.commands.values()}
    top_level = {command.name for key, command in defined.items() if key not in subcommands}
    assert top_level == set(COMMANDS)
