"""Tests of the offline policy checks (policyengine.analysis, policyengine check)."""
