"""Generator and independent verifier for the envelope known-answer vectors."""
