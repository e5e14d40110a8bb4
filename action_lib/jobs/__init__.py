"""Job-level code: one stage job, a pipeline's assembly, the impact of an event, act replays."""
