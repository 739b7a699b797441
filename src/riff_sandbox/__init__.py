"""Local servers ("sandboxes") that speak each marketplace's public API over real HTTP.

Product code never imports this package; only the CLI composition root (``riff.cli``) starts sandboxes.
Start one with :func:`riff_sandbox.runner.start`, in tests with :func:`riff_sandbox.testing.running`.
The platforms are listed in :data:`riff_sandbox.registry.SANDBOXES`.
"""
