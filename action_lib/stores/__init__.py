"""Artifact stores: a local directory (the default) or S3. See :mod:`action_lib.stores.base`."""

from action_lib.stores.base import Store, Upload, open_store

__all__ = ["Store", "Upload", "open_store"]
