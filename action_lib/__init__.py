"""rockshard: sharded CMake super-build pipelines."""
