"""The offline runtime: the compiled state machines run on moto, with the agents in-process."""
