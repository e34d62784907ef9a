"""Recording: landmark CSV, annotated video, takes, BVH; every file through
:mod:`arpose.record.output` (temporary name, renamed into place when complete)."""

from .csv_landmarks import CSV_COLUMNS, CsvWriter, read_landmark_csv
from .output import OutputResult, PendingOutput, check_writable, partial_path
from .video import VideoWriter

__all__ = [
    "CSV_COLUMNS",
    "CsvWriter",
    "OutputResult",
    "PendingOutput",
    "VideoWriter",
    "check_writable",
    "partial_path",
    "read_landmark_csv",
]
