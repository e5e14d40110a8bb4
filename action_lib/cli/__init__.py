"""The ``rockshard`` command line: thin wrappers over library functions returning exit codes."""
