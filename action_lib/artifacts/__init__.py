"""Artifacts: descriptors, populate, deterministic archives, push and fetch through a store."""
