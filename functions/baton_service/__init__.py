"""Baton's execution lifecycle: the execution store, the lifecycle service, the events handler."""
