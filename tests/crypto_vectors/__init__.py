"""Known-answer vectors for the version-1 CiphertextBlob (``envelope_v1.json``).

``tools/generate.py`` writes them with our own modules (fixed keys and nonces);
``tools/verify.py`` checks them with ``cryptography``'s AESGCM and its own reading of the
layout, importing nothing from ``policyengine``. Regenerate with
``python -m tests.crypto_vectors.tools.generate``; verify with
``python -m tests.crypto_vectors.tools.verify``.
"""
