"""Baton's agent runtime: turns a plain function `(data, context) -> result` into a Lambda handler.

```python
from baton_agent import AgentResult, agent


@agent
def handler(data, context):
    return AgentResult(data={"answer": 42}, accuracy=97)
```
"""

from baton_agent.errors import AccuracyBelowThreshold, AgentError, AgentInputError
from baton_agent.runtime import AgentContext, AgentResult, agent

__all__ = [
    "AccuracyBelowThreshold",
    "AgentContext",
    "AgentError",
    "AgentInputError",
    "AgentResult",
    "agent",
]
