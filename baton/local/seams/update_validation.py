"""moto's validation of an update expression (UpdateItem, a transaction's Update) at the cost of
the work it does: ten walks of the expression's tree, each node judged once per walk."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

from moto.dynamodb.parsing import validators
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node  # type: ignore[attr-defined]
from moto.dynamodb.parsing.validators import ActionCountValidator, OverlappingPathsValidator

from baton.local.seams.adaptation import Adaptation, to

SEAMS = "tests/functional/test_seams.py"


def _walk(traverser: Any, root: Any) -> Any:
    """DepthFirstTraverser.traverse as moto walks (children first, left to right, each child
    announced to `pre_processing_of_child` before its walk, a node replaced by what its
    processor returns), with the processor map built once per walk (moto built it anew, and a
    tuple of its classes, twice at every node of every walk), and what a node is (a Node, and
    which processor takes it: the first whose class it is an instance of) judged once per
    class of node, not by abstract-class checks at every node."""
    processing = tuple(traverser._processing_map().items())
    before_child = traverser.pre_processing_of_child
    judged: dict[type, tuple[bool, Any]] = {}

    def judge(node: Any) -> tuple[bool, Any]:
        is_node = isinstance(node, Node)
        process = next((p for kind, p in processing if isinstance(node, kind)), None)
        judged[type(node)] = (is_node, process if is_node else None)
        return judged[type(node)]

    def visit(node: Any, child_id: int) -> Any:
        is_node, process = judged.get(type(node)) or judge(node)
        if is_node:
            parent = node.parent
            if node.children is not None:
                for position, child in enumerate(node.children):
                    before_child(node, position)
                    visit(child, position)
            if process is not None:
                node = process(node)
                node.parent = parent
                if parent:
                    parent.children[child_id] = node
        return node

    return visit(root, -1)


PICKLED = "_baton_pickled"
"""The attribute of a parsed update expression's tree holding its pickle (taken before it was
set): a Validator's copy of the tree is made from it (updates-parsed-once)."""


def _copy(value: Any, memo: Any = None) -> Any:
    """moto's validators module's `deepcopy`: the tree a Validator copies before it walks it
    (moto copies so that validating twice, as it does for an item not yet written, starts from
    the same tree) copied by pickling, a fifth of deepcopy's cost, from the pickle kept with a
    parsed tree when it has one; anything else, or a tree pickle cannot copy, deep-copied as
    before."""
    if isinstance(value, Node):
        try:
            kept = value.__dict__.get(PICKLED)
            return pickle.loads(kept if kept is not None else pickle.dumps(value))
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            pass
    return copy.deepcopy(value, memo)


def _passes_at_root(validator: Any, original: Callable[[Any, Any], Any], root: Any) -> bool:
    """Whether moto's check passes over the whole expression (at its root), asked once per
    Validator's walk."""
    passed = validator.__dict__.get("_passed_at_root")
    if passed is None:
        try:
            original(validator, root)
            passed = True
        except Exception:  # moto's own error, raised where moto's walk raises it
            passed = False
        validator._passed_at_root = passed
    return bool(passed)


def _checked_at_the_root(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A check moto makes at every clause of an update expression (its clause counts, its
    overlapping or repeated paths), each over the clause's whole subtree: quadratic in the
    expression's length (a 20-agent statistics update took 68 ms). A subtree's clauses are the
    root's too, so when the check passes at the root it passes everywhere, and the walk's other
    nodes are not checked again; when it fails at the root, every node is checked as moto does,
    so the error raised (at the deepest node that fails, naming what it finds) is moto's."""

    def check(validator: Any, node: Any) -> Any:
        root = node
        while root.parent is not None:
            root = root.parent
        return node if _passes_at_root(validator, original, root) else original(validator, node)

    check.original = original  # type: ignore[attr-defined]
    return check


def _walked_only_if_refused(validator_class: type, check: str) -> Callable[[Any], Any]:
    """The walk of a validator whose only work is `check` at each UpdateExpression node (no
    other processing, nothing done before a child): when the check passes at the root, each
    node's check would return the node unchanged, so the walk returns the tree without visiting
    its nodes (a 20-agent statistics update's tree has about 500); when it fails, the tree is
    walked as every validator walks it (its base class's walk), so moto's error is raised where
    moto raises it."""

    def traverse(validator: Any, root: Any) -> Any:
        checking = getattr(validator_class, check)
        plain = getattr(checking, "original", checking)
        if root.parent is None and _passes_at_root(validator, plain, root):
            return root
        return DepthFirstTraverser.traverse(validator, root)  # as walked at this moment

    return to(traverse)


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
        Adaptation(
            "update-checks-at-the-root",
            "(cost) an update expression's clause counts and paths are checked once over the"
            " whole expression, not again over each clause's subtree, unless they fail",
            f"{SEAMS}::test_a_long_update_is_checked_once_and_its_errors_are_motos",
            (
                (ActionCountValidator, "verify_action_counts", _checked_at_the_root),
                (OverlappingPathsValidator, "check_for_overlapping_paths", _checked_at_the_root),
                (
                    ActionCountValidator,
                    "traverse",
                    _walked_only_if_refused(ActionCountValidator, "verify_action_counts"),
                ),
                (
                    OverlappingPathsValidator,
                    "traverse",
                    _walked_only_if_refused(
                        OverlappingPathsValidator, "check_for_overlapping_paths"
                    ),
                ),
            ),
        ),
    ]
