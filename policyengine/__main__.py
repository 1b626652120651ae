"""``python -m policyengine`` runs the CLI."""

from policyengine.cli.main import main

main()
