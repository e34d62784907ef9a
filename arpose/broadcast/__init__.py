"""Broadcast stage: OSC over UDP. :mod:`.vmc` drives avatars with the VMC protocol,
:mod:`.raw` streams landmarks in arpose's own address space, :mod:`.osc` holds the pure
encoders and the non-blocking sender. The Blender add-on ships in ``blender_addon/``."""

from .osc import (
    DEFAULT_MAX_DATAGRAM,
    UDP_MAX_PAYLOAD,
    RateLimiter,
    SendStats,
    UdpSender,
    encode_bundle,
    encode_message,
    pack_bundles,
    parse_host_port,
    resolve,
)
from .raw import RAW_DEFAULT_PORT, RawOscSink, frame_datagrams, person_messages
from .vmc import VMC_DEFAULT_PORT, SlotAllocator, VmcEncoder, VmcPose, VmcSink, encode_pose, vmc_pose

__all__ = [
    "DEFAULT_MAX_DATAGRAM",
    "UDP_MAX_PAYLOAD",
    "RateLimiter",
    "SendStats",
    "UdpSender",
    "encode_bundle",
    "encode_message",
    "pack_bundles",
    "parse_host_port",
    "resolve",
    "RAW_DEFAULT_PORT",
    "RawOscSink",
    "frame_datagrams",
    "person_messages",
    "VMC_DEFAULT_PORT",
    "SlotAllocator",
    "VmcEncoder",
    "VmcPose",
    "VmcSink",
    "encode_pose",
    "vmc_pose",
]
