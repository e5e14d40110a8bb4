"""Settings: one frozen object per command, each value with where it came from."""
