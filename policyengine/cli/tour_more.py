"""The tour's later sections: linting in CI, the server with boto3, and access questions over accounts."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click
from rich.markup import escape

from policyengine.cli.output import out
from policyengine.lint import LintConfig, run_lint
from policyengine.server import BackgroundServer, ServerConfig


def _step(text: str) -> None:
    out.print(f"[bold cyan]›[/] {escape(text)}")


def _result(text: str) -> None:
    out.print(f"    {escape(text)}")


def run_lint_tour(examples: Path) -> None:
    """Lint the shipped examples as CI would, and show what only a KMS-aware linter sees."""
    run = run_lint([str(examples)], LintConfig())
    by_rule: dict[str, int] = {}
    for finding in run.findings:
        by_rule[finding.rule_id] = by_rule.get(finding.rule_id, 0) + 1
    _step(f"`policyengine lint examples` read {run.targets} policies and found {len(run.findings)} problems")
    _result(", ".join(f"{rule} ×{count}" for rule, count in sorted(by_rule.items())))
    for finding in run.findings:
        if finding.rule_id in ("PE501", "PE402", "PE504"):
            where = os.path.relpath(finding.source, examples.parent)
            _result(f"{where}:{finding.line}:{finding.column}: {finding.severity} {finding.rule_id} {finding.message}")
    _step("the same run as SARIF (--format sarif) feeds GitHub code scanning; --baseline keeps old findings quiet")


def run_server_tour() -> None:
    """Start the KMS server on a free port and talk to it with unmodified boto3."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    with tempfile.TemporaryDirectory(prefix="policyengine-tour-") as data:
        server = BackgroundServer(ServerConfig(port=0, data_dir=Path(data), test_mode=True, log_requests=False)).start()
        try:
            client = boto3.client(
                "kms",
                endpoint_url=server.endpoint_url,
                region_name="us-east-1",
                aws_access_key_id="tour",
                aws_secret_access_key="tour",
                config=Config(retries={"max_attempts": 1}),
            )
            _step(f"`policyengine serve --test-mode` on {server.endpoint_url}; boto3 points at it with endpoint_url")
            key = client.create_key(Description="via boto3")["KeyMetadata"]
            _result(f"create_key -> {key['Arn']}")
            blob = client.encrypt(KeyId=key["KeyId"], Plaintext=b"over the wire", EncryptionContext={"app": "tour"})
            plain = client.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext={"app": "tour"})["Plaintext"]
            _result(f"encrypt/decrypt round trip -> {plain.decode()!r}")
            lockout = json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::123456789012:role/Somebody"},
                            "Action": "kms:Decrypt",
                            "Resource": "*",
                        }
                    ],
                }
            )
            try:
                client.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=lockout)
            except ClientError as error:
                _result(f"a policy that would lock us out: {error.response['Error']['Code']}")
            client.disable_key(KeyId=key["KeyId"])
            try:
                client.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext={"app": "tour"})
            except ClientError as error:
                _result(f"decrypt after disable_key: {error.response['Error']['Code']}")
        finally:
            server.stop()


def run_access_tour(snapshot: Path) -> None:
    """Ask can / who-can over a snapshot of three accounts, with a role chain and conditions."""
    from policyengine.cli.access import COMMANDS

    commands = {command.name: command for command in COMMANDS}
    key = "arn:aws:kms:us-east-1:111111111111:key/1111aaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
    questions = [
        (
            "can",
            ["arn:aws:iam::222222222222:user/alice", "kms:Decrypt", key, "-s", str(snapshot)],
            "can alice decrypt with the payments key? only through a role chain, and only if...",
        ),
        (
            "can",
            [
                "arn:aws:iam::222222222222:user/alice",
                "kms:Decrypt",
                key,
                "-s",
                str(snapshot),
                "--closed",
                "--context",
                "aws:MultiFactorAuthPresent=true",
                "--context",
                "aws:SecureTransport=true",
                "--context",
                "kms:EncryptionContext:dept=finance",
                "--context",
                "kms:ViaService=s3.us-east-1.amazonaws.com",
            ],
            "the same question with the context filled in: a plain yes",
        ),
    ]
    for name, args, lesson in questions:
        _step(lesson)
        try:
            commands[name].main(args=args, prog_name=f"policyengine {name}", standalone_mode=False)
        except SystemExit:
            pass  # `can` answers through its exit code too; the tour only shows the text
        except click.ClickException as error:
            _result(f"error: {error.format_message()}")
