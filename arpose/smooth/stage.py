"""The ``smooth`` pipeline stage: one independent filter state per tracked person id."""

from __future__ import annotations

from ..errors import InputError
from ..types import PoseFrame
from .person import PersonSmoothState, SmoothConfig, smooth_person

__all__ = ["SmoothStage"]


class SmoothStage:
    """Pipeline stage ``smooth``: returns a new :class:`PoseFrame` whose people have smoothed
    ``landmarks`` / ``world`` and the estimator's arrays in ``raw_landmarks`` / ``raw_world``.

    Every ``Person.id`` has its own state (people never share one). A person unseen for longer
    than ``config.reset_gap`` seconds starts afresh; their state is dropped then. Frames must
    come in strictly increasing timestamp order; ids must be unique within a frame.
    """

    name = "smooth"

    def __init__(self, config: SmoothConfig = SmoothConfig()) -> None:
        self.config = config
        self._states: dict[int, PersonSmoothState] = {}

    @property
    def tracked_ids(self) -> tuple[int, ...]:
        """Ids whose filter state is currently kept."""
        return tuple(sorted(self._states))

    def process(self, pose_frame: PoseFrame) -> PoseFrame:
        t = pose_frame.timestamp
        size = pose_frame.frame.size
        states: dict[int, PersonSmoothState] = {}
        people = []
        for person in pose_frame.people:
            if person.id in states:
                raise InputError(
                    f"frame {pose_frame.index}: two people share id {person.id}; "
                    "person ids must be unique within a frame (check the tracker)"
                )
            smoothed, states[person.id] = smooth_person(self._states.get(person.id), person, t, size, self.config)
            people.append(smoothed)
        for pid, st in self._states.items():
            if pid not in states and t - st.t <= self.config.reset_gap:
                states[pid] = st
        self._states = states
        return pose_frame.with_people(people)

    def reset(self) -> None:
        """Forget every person."""
        self._states = {}
