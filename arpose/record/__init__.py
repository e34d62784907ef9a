"""Recording: landmark CSV, annotated video, takes, BVH."""

from .csv_landmarks import CSV_COLUMNS, CsvWriter, read_landmark_csv
from .video import VideoWriter, check_writable

__all__ = ["CSV_COLUMNS", "CsvWriter", "VideoWriter", "check_writable", "read_landmark_csv"]
