"""Where the shared face photos are, and what the LFW folder holds."""
import csv
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FACES_DIR = REPO_ROOT.parent / "shared" / "datasets" / "faces"

# Where dlib's HOG puts the face in a 250x250 deep-funneled LFW photo
# (mean over a sample): left, top, right, bottom. A pasted photo's "face size"
# is the width of this box after scaling, i.e. what a detector reports.
LFW_TILE = 250
LFW_FACE_BOX = (70, 80, 175, 184)

# no_faces photos usable as event backgrounds (the mask photos show people).
BACKGROUND_PHOTOS = (
    "dlib_dog.jpg", "dlib_dogs.jpg", "dlib_eagle.jpg", "dlib_giraffe.jpg",
    "dlib_horses.jpg", "dlib_mmod_cars_test_image.jpg",
    "dlib_mmod_cars_test_image2.jpg", "dlib_scream.jpg", "insightface_view.jpg",
)


def resolve_faces_dir():
    """Return the face dataset folder: $PHOPY_FACES_DIR or ../shared/datasets/faces."""
    return Path(os.environ.get("PHOPY_FACES_DIR") or DEFAULT_FACES_DIR)


def load_lfw_people(faces_dir):
    """Map person name -> sorted LFW image paths whose only face HOG finds is theirs.

    Photos in which HOG at upsample 1 sees a second face (someone in the
    background) are left out so that the ground truth lists every face.
    """
    lfw = Path(faces_dir) / "lfw_4plus"
    people = {}
    with open(lfw / "hog_face_counts.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["faces_hog_up1"] != "1":
                continue
            name = row["path"].split("/", 1)[0]
            people.setdefault(name, []).append(str(lfw / row["path"]))
    return {name: sorted(paths) for name, paths in sorted(people.items())}


def load_asian_names(faces_dir):
    """The East and Southeast Asian people of ``lfw_4plus`` (``lfw_4plus_asian.txt``);
    empty when the list is absent."""
    path = Path(faces_dir) / "lfw_4plus_asian.txt"
    if not path.is_file():
        return frozenset()
    return frozenset(line.strip() for line in path.read_text().splitlines()
                     if line.strip() and not line.lstrip().startswith("#"))
