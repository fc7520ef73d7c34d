"""A workflow whose user text is hostile to the tools that read the ASL: `${` everywhere (also
spelled like Baton's own placeholders), a multi-line condition, a U+2028 in the data."""

from __future__ import annotations

from tests.conftest import compiled, make_registry

HOSTILE = """\
id: hostile
name: Price is ${price}
agents: [a, b, c]
initialData:
  message: "price is ${price}, total ${AgentFn_a}"
  note: "line\\u2028separator"
conditions:
  - name: "${price} dropped"
    after: a
    when: |
      message = "price is ${price}, total ${AgentFn_a}"
      and note = "line\\u2028separator"
    then: [b]
    else: [c]
metadata:
  description: "costs ${AgentFn_b}"
"""


def hostile_workflow():
    registry = make_registry("a", "b", "c", a={"config": {"template": "${AgentFn_c}"}})
    return registry, compiled(HOSTILE, registry)
