"""Baton's agent runtime: turns a plain function `(data, context) -> result` into a Lambda handler.

```python
from baton_agent import AgentResult, agent


@agent
def handler(data, context):
    return AgentResult(data={"answer": 42}, accuracy=97)
```
"""

from baton_agent import init_phase

init_phase.hold()  # in Lambda, before the modules below load (see init_phase)

from baton_agent.errors import AccuracyBelowThreshold, AgentError, AgentInputError  # noqa: E402
from baton_agent.runtime import AgentContext, AgentResult, agent  # noqa: E402

__all__ = [
    "AccuracyBelowThreshold",
    "AgentContext",
    "AgentError",
    "AgentInputError",
    "AgentResult",
    "agent",
]
