"""Rendering: 2D skeleton and HUD drawing (OpenCV); 3D props and avatar (pyrender)."""

from .draw import DrawConfig, draw_hud, draw_pose_frame, draw_skeleton, visibility_color

__all__ = ["DrawConfig", "draw_hud", "draw_pose_frame", "draw_skeleton", "visibility_color"]
