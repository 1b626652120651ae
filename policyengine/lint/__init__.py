"""The linter: rules that know KMS key policies and IAM policies, with findings at file:line:col."""
