"""Base: what every layer may use. Errors callers see, environment settings, task and model helpers."""
