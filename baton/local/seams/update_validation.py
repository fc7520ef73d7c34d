"""moto's validation of an update expression (UpdateItem, a transaction's Update) at the cost of
the work it does: ten walks of the expression's tree, each node judged once per walk."""

from __future__ import annotations

import copy
import pickle
from typing import Any

from moto.dynamodb.parsing import validators
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node  # type: ignore[attr-defined]

from baton.local.seams.adaptation import Adaptation, to

SEAMS = "tests/functional/test_seams.py"


def _walk(traverser: Any, root: Any) -> Any:
    """DepthFirstTraverser.traverse as moto walks (children first, left to right, each child
    announced to `pre_processing_of_child` before its walk, a node replaced by what its
    processor returns), with the processor map built once per walk: moto built it anew, and a
    tuple of its classes, twice at every node of every walk."""
    processing = tuple(traverser._processing_map().items())
    kinds = tuple(kind for kind, _ in processing)
    before_child = traverser.pre_processing_of_child

    def visit(node: Any, child_id: int) -> Any:
        if isinstance(node, Node):
            parent = node.parent
            if node.children is not None:
                for position, child in enumerate(node.children):
                    before_child(node, position)
                    visit(child, position)
            if isinstance(node, kinds):
                node = next(process for kind, process in processing if isinstance(node, kind))(node)
                node.parent = parent
                if parent:
                    parent.children[child_id] = node
        return node

    return visit(root, -1)


def _copy(value: Any, memo: Any = None) -> Any:
    """moto's validators module's `deepcopy`: the tree a Validator copies before it walks it
    (moto copies so that validating twice, as it does for an item not yet written, starts from
    the same tree) copied by pickling, a fifth of deepcopy's cost; anything else, or a tree
    pickle cannot copy, deep-copied as before."""
    if isinstance(value, Node):
        try:
            return pickle.loads(pickle.dumps(value))
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            pass
    return copy.deepcopy(value, memo)


def adaptations() -> list[Adaptation]:
    return [
        Adaptation(
            "update-walks-cheap",
            "(cost) an update expression's validation walks build each walk's processor map"
            " once, not at every node, and copy the tree by pickling, not by deepcopy",
            f"{SEAMS}::test_an_update_is_validated_as_moto_validates_it_at_less_cost",
            (
                (DepthFirstTraverser, "traverse", to(_walk)),
                (validators, "deepcopy", to(_copy)),
            ),
        ),
    ]
