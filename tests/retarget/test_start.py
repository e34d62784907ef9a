"""A clean start: a person's body is marked settled only after their first half second (and
five frames) with a known root; streams send poses from then on (tests/broadcast/test_vmc.py)."""

from arpose.retarget import RetargetConfig, Retargeter

FPS = 30.0


def test_the_body_settles_after_half_a_second_and_five_frames(synth, rest_local):
    r = Retargeter(camera=synth.camera)
    settled = [r.update(synth.person(rest_local), k / FPS)[0].settled for k in range(20)]
    assert settled == [False] * 15 + [True] * 5  # 0.5 s at 30 fps is frame 15
    slow = Retargeter(RetargetConfig(settle_seconds=0.1), synth.camera)
    assert [slow.update(synth.person(rest_local), k / 10.0)[0].settled for k in range(7)] == [False] * 4 + [True] * 3


def test_frames_without_a_root_do_not_count(synth, rest_local):
    r = Retargeter(RetargetConfig(settle_seconds=0.0, settle_frames=3), synth.camera)
    person = synth.person(rest_local)
    hidden = person.with_(landmarks=person.landmarks.copy())
    hidden.landmarks[:, 3] = 0.0  # nothing visible: no root fit
    got = [r.update(p, k / FPS)[0].settled for k, p in enumerate([hidden] * 3 + [person] * 4)]
    assert got == [False] * 5 + [True] * 2
