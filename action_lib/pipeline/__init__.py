"""Pipelines: job matrices per wave, pipeline settings, and the generated workflows."""
