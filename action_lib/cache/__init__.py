"""Stage caching: content-addressed stage keys, cache records in the store, reuse and cutoff.

Pure: ``inputs_config`` (the ``[inputs]`` table), ``tree`` and ``classify`` (a commit's paths
and the key input each belongs to), ``keys`` (static and content keys), ``records``,
``explain``. I/O edges: ``gitread`` (git objects through the one process runner) and
``lookup`` (records and archives through a Store).
"""
