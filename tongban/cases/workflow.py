"""State machines as data. A domain declares a Workflow; the kernel only interprets it."""
from __future__ import annotations

from dataclasses import dataclass, field


class TransitionError(Exception):
    """An action that the case's state machine does not allow now. The message is for people."""


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple[str, ...]
    # Possible target states; empty means the case stays where it is (a recorded step).
    targets: tuple[str, ...] = ()
    # Who may take it: "centre" (hotline centre staff), "holder" (the unit holding the case),
    # "sender" (whoever sent it to the holder), "supervisor", "system" (the product itself).
    actor: str = "holder"
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workflow:
    code: str
    label: str
    states: dict[str, str]
    initial: str
    final: frozenset[str]
    transitions: dict[str, Transition] = field(default_factory=dict)
    # States in which the handling clock runs (deadline warnings apply).
    running: frozenset[str] = frozenset()

    def state_label(self, state: str) -> str:
        return self.states.get(state, state)

    def transition(self, action: str, state: str, target: str | None = None) -> Transition:
        t = self.transitions.get(action)
        if t is None:
            raise TransitionError(f"未知的操作“{action}”。")
        if state not in t.sources:
            raise TransitionError(
                f"工单当前状态为“{self.state_label(state)}”，不能执行“{t.label}”。"
                f"只有处于{'、'.join('“' + self.state_label(s) + '”' for s in t.sources)}状态时才可以。"
            )
        if target is not None and target != state and target not in t.targets:
            raise TransitionError(f"“{t.label}”不能使工单进入“{self.state_label(target)}”状态。")
        return t

    def allowed(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if state in t.sources]

    def is_open(self, state: str) -> bool:
        return state not in self.final


_REGISTRY: dict[str, Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    unknown = {s for t in workflow.transitions.values() for s in (*t.sources, *t.targets)} - set(workflow.states)
    if unknown or workflow.initial not in workflow.states:
        raise ValueError(f"workflow {workflow.code} names undeclared states: {sorted(unknown)}")
    _REGISTRY[workflow.code] = workflow
    return workflow


def get(code: str) -> Workflow:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise LookupError(f"workflow {code!r} is not registered") from None


def registered() -> dict[str, Workflow]:
    return dict(_REGISTRY)
