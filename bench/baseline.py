"""The original system's pipeline, kept as the yardstick.

One photo at a time in one process: ``face_recognition.load_image_file`` at
full resolution, ``face_locations(model='hog')`` with the default upsample (1),
``face_encodings``; a search takes the mean of the selfies' encodings and
returns every photo with a face within 0.5. Also drives the
``face_recognition`` command-line tool as a second reference.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BASELINE_TOLERANCE = 0.5


def analyze_photo(path):
    """Return [(box, encoding)] for every face, the original way."""
    import face_recognition

    image = face_recognition.load_image_file(str(path))
    boxes = face_recognition.face_locations(image, model="hog")
    encodings = face_recognition.face_encodings(image, boxes)
    return [(tuple(box), np.asarray(enc, dtype=np.float32))
            for box, enc in zip(boxes, encodings)]


def analyze_selfie(path):
    """Return the encoding of the selfie's largest face, or None."""
    faces = analyze_photo(path)
    if not faces:
        return None
    box, encoding = max(faces, key=lambda f: (f[0][1] - f[0][3]) * (f[0][2] - f[0][0]))
    return encoding


def index_photos(paths):
    """Analyze photos one by one; return ({path: faces}, seconds per photo list)."""
    analyses, seconds = {}, []
    for path in paths:
        start = time.perf_counter()
        analyses[path] = analyze_photo(path)
        seconds.append(time.perf_counter() - start)
    return analyses, seconds


def make_matcher(event):
    """The original matcher over an ``IndexedEvent``: mean selfie, distance <= tol."""
    import face_recognition

    def match(selfie_encodings, tolerance=BASELINE_TOLERANCE):
        if len(event.encodings) == 0:
            return []
        mean = np.mean(np.stack(selfie_encodings), axis=0)
        distances = face_recognition.face_distance(event.encodings, mean)
        best = {}
        for photo, dist in zip(event.photo_files, distances):
            if dist <= tolerance and dist < best.get(photo, np.inf):
                best[photo] = dist
        return sorted(best, key=best.get)

    return match


def run_cli(known_dir, unknown_dir, cpus, tolerance=BASELINE_TOLERANCE):
    """Run ``face_recognition --cpus N known/ unknown/``; return (matches, seconds).

    ``matches`` maps a known name -> set of unknown file names it was matched in.
    """
    cli = Path(sys.executable).with_name("face_recognition")
    command = [str(cli), "--cpus", str(cpus), "--tolerance", str(tolerance),
               "--show-distance", "true", str(known_dir), str(unknown_dir)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    seconds = time.perf_counter() - start
    matches = {}
    for line in done.stdout.splitlines():
        parts = line.rsplit(",", 2)
        if len(parts) != 3 or parts[1] in ("unknown_person", "no_persons_found"):
            continue
        matches.setdefault(parts[1], set()).add(os.path.basename(parts[0]))
    return matches, seconds
