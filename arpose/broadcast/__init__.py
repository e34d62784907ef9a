"""Broadcast stage: OSC over UDP. :mod:`.vmc` drives avatars with the VMC protocol,
:mod:`.raw` streams landmarks in arpose's own address space, :mod:`.osc` holds the pure
encoders and the non-blocking sender, :mod:`.avatar` reads a receiving avatar's skeleton
(``--vmc-avatar``). The Blender add-on ships in ``blender_addon/``.

Names are imported on first use (:mod:`arpose._lazy`)."""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "DEFAULT_MAX_DATAGRAM": ".osc",
    "UDP_MAX_PAYLOAD": ".osc",
    "RateLimiter": ".osc",
    "SendStats": ".osc",
    "UdpSender": ".osc",
    "encode_bundle": ".osc",
    "encode_message": ".osc",
    "pack_bundles": ".osc",
    "parse_host_port": ".osc",
    "resolve": ".osc",
    "RAW_DEFAULT_PORT": ".raw",
    "RawOscSink": ".raw",
    "frame_datagrams": ".raw",
    "person_messages": ".raw",
    "AvatarRig": ".avatar",
    "pose_avatar": ".avatar",
    "read_avatar": ".avatar",
    "standard_avatar": ".avatar",
    "VMC_DEFAULT_PORT": ".vmc",
    "SlotAllocator": ".vmc",
    "VmcEncoder": ".vmc",
    "VmcPose": ".vmc",
    "VmcSink": ".vmc",
    "encode_pose": ".vmc",
    "vmc_pose": ".vmc",
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
