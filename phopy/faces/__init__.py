"""Phopy's face engine: decode, orient, detect, encode and search faces.

Plain Python over dlib, Pillow and numpy; nothing here imports Flask, and
importing the package loads no model (dlib is imported on first use).
"""
from phopy.faces.engine import DetectedFace, FaceEngine, PhotoAnalysis
from phopy.faces.images import make_thumbnail, open_image, sniff_format
from phopy.faces.pool import FacePool
from phopy.faces.search import FaceIndex, PhotoMatch, match_photos
from phopy.faces.settings import EngineSettings

__all__ = [
    "DetectedFace",
    "EngineSettings",
    "FaceEngine",
    "FaceIndex",
    "FacePool",
    "PhotoAnalysis",
    "PhotoMatch",
    "make_thumbnail",
    "match_photos",
    "open_image",
    "sniff_format",
]
