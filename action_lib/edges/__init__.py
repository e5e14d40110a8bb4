"""I/O edges: the process runner, GitHub Actions I/O, generated files, progress, retries."""
