"""Generate a synthetic event, deterministic by seed, from the LFW photos.

An event is N large JPEG photos (default 4000x3000, quality 90) on varied
non-face backgrounds, each with 1-8 people pasted at face sizes from about 50
to 300 px. M attendees appear in several photos each; bystanders fill the rest
and never search; impostors (people in no photo) search too. Each attendee
keeps up to three LFW photos out of the event as phone-size selfies
(3000x4000). ``ground_truth.json`` records who is where.

East and Southeast Asian people (``lfw_4plus_asian.txt``) are drawn on purpose:
``asian_attendees`` of the attendees and ``asian_impostors`` of the impostors
(as many as the list holds), the rest of them are bystanders. Face models are
weakest there and most of Phopy's users are Thai, so the benchmark scores them
apart (``truth["asian"]``) and needs enough of them as attendees and impostors.
"""
import json
import math
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from bench.dataset import (BACKGROUND_PHOTOS, LFW_FACE_BOX, LFW_TILE, load_asian_names,
                           load_lfw_people)

GROUND_TRUTH = "ground_truth.json"
SIZE_BUCKETS = ((50, 75), (75, 110), (110, 160), (160, 230), (230, 10_000))


@dataclass(frozen=True)
class EventSpec:
    """What to generate; the seed alone decides everything else."""

    seed: int = 1
    photos: int = 300
    attendees: int = 100
    impostors: int = 50
    width: int = 4000
    height: int = 3000
    min_face: int = 50
    max_face: int = 300
    max_people: int = 8
    min_appearances: int = 2
    max_appearances: int = 6
    selfies: int = 3
    selfie_size: tuple = (3000, 4000)
    quality: int = 90
    asian_attendees: float = 0.25   # share of attendees drawn from the Asian list
    asian_impostors: float = 0.3    # share of impostors drawn from it


def size_bucket(face_px):
    """Return the label of the face-size bucket that holds ``face_px``."""
    for low, high in SIZE_BUCKETS:
        if low <= face_px < high or (low == SIZE_BUCKETS[0][0] and face_px < low):
            return f"{low}-{high}px" if high < 10_000 else f"{low}px+"
    return f"{SIZE_BUCKETS[-1][0]}px+"


def plan_event(people, spec, asian=()):
    """Decide every photo's background and faces; return the ground truth dict.

    ``asian``: the names scored apart (see the module's docstring).
    """
    rng = np.random.default_rng(spec.seed)
    names = sorted(people)
    asian = set(asian) & set(names)
    five = [n for n in names if len(people[n]) >= spec.selfies + 2]
    if len(five) < spec.attendees:
        raise ValueError(f"only {len(five)} people have enough photos for "
                         f"{spec.attendees} attendees")
    attendees = _draw(rng, five, spec.attendees, asian, spec.asian_attendees)
    others = [n for n in names if n not in set(attendees)]
    impostors = _draw(rng, others, min(spec.impostors, len(others) // 2), asian,
                      spec.asian_impostors, keep=2)
    bystanders = [n for n in others if n not in set(impostors)]

    selfie_sources, event_sources = {}, {}
    for name in attendees:
        paths = [str(p) for p in rng.permutation(people[name])]
        selfie_sources[name] = paths[:spec.selfies]
        event_sources[name] = paths[spec.selfies:]
    for name in impostors:
        selfie_sources[name] = [str(p) for p in rng.permutation(people[name])][:spec.selfies]

    counts = rng.integers(1, spec.max_people + 1, size=spec.photos)
    members = [[] for _ in range(spec.photos)]
    for name in attendees:
        k = int(min(rng.integers(spec.min_appearances, spec.max_appearances + 1),
                    spec.photos))
        room = np.array([max(c - len(m), 0) + 0.2 for c, m in zip(counts, members)])
        full = np.array([len(m) >= spec.max_people for m in members])
        room[full] = 0
        chosen = rng.choice(spec.photos, k, replace=False, p=room / room.sum())
        for index in chosen:
            members[index].append((name, "attendee"))
    for index, group in enumerate(members):
        in_photo = {name for name, _ in group}
        while len(group) < counts[index]:
            name = bystanders[int(rng.integers(len(bystanders)))]
            if name not in in_photo:
                in_photo.add(name)
                group.append((name, "bystander"))

    photos = []
    for index, group in enumerate(members):
        faces, tiles = [], []
        for name, role in group:
            sources = event_sources.get(name) or people[name]
            source = str(sources[int(rng.integers(len(sources)))])
            placed = _place_face(rng, spec, tiles)
            if placed is None:
                continue
            face_px, box, tile = placed
            tiles.append(tile)
            faces.append({"person": name, "role": role, "source": source,
                          "face_px": face_px, "box": box, "tile": tile})
        photos.append({"file": f"photos/p{index + 1:04d}.jpg",
                       "background": _plan_background(rng),
                       "faces": faces})

    return {
        "seed": spec.seed,
        "spec": asdict(spec),
        "photos": photos,
        "attendees": [{"person": n,
                       "selfies": [_selfie_file(n, i) for i in range(len(selfie_sources[n]))],
                       "selfie_sources": selfie_sources[n],
                       "photos": [p["file"] for p in photos
                                  if any(f["person"] == n for f in p["faces"])]}
                      for n in attendees],
        "impostors": [{"person": n,
                       "selfies": [_selfie_file(n, i) for i in range(len(selfie_sources[n]))],
                       "selfie_sources": selfie_sources[n]}
                      for n in impostors],
        "bystanders": len({f["person"] for p in photos for f in p["faces"]
                           if f["role"] == "bystander"}),
        "asian": sorted(asian),
    }


def _draw(rng, pool, count, asian, share, keep=0):
    """``count`` names of ``pool``, sorted: ``share`` of them (as many as there are,
    leaving ``keep`` for bystanders) from ``asian``, the rest from the others."""
    mine = [n for n in pool if n in asian]
    rest = [n for n in pool if n not in asian]
    wanted = min(int(round(count * share)), max(len(mine) - keep, 0), count)
    chosen = list(rng.choice(mine, wanted, replace=False)) if wanted else []
    chosen += list(rng.choice(rest, count - wanted, replace=False)) if count > wanted else []
    return sorted(str(n) for n in chosen)


def _selfie_file(name, index):
    return f"selfies/{name}_{index + 1}.jpg"


def _place_face(rng, spec, tiles):
    """Pick a face size and a spot whose tile overlaps no earlier tile."""
    scale_face = LFW_FACE_BOX[2] - LFW_FACE_BOX[0]
    for _ in range(300):
        face_px = int(round(math.exp(rng.uniform(math.log(spec.min_face),
                                                 math.log(spec.max_face)))))
        tile = int(round(face_px * LFW_TILE / scale_face))
        left = int(rng.integers(0, spec.width - tile))
        top = int(rng.integers(0, spec.height - tile))
        shrink = int(tile * 0.12)
        rect = (left + shrink, top + shrink, left + tile - shrink, top + tile - shrink)
        if all(rect[2] <= t[0] or t[2] <= rect[0] or rect[3] <= t[1] or t[3] <= rect[1]
               for t in tiles):
            k = tile / LFW_TILE
            box = [top + round(LFW_FACE_BOX[1] * k), left + round(LFW_FACE_BOX[2] * k),
                   top + round(LFW_FACE_BOX[3] * k), left + round(LFW_FACE_BOX[0] * k)]
            return face_px, box, [left, top, left + tile, top + tile]
    return None


def _plan_background(rng):
    if rng.random() < 0.5:
        return {"kind": "photo",
                "photo": BACKGROUND_PHOTOS[int(rng.integers(len(BACKGROUND_PHOTOS)))],
                "flip": bool(rng.random() < 0.5),
                "tint": rng.uniform(0.8, 1.2, size=3).round(3).tolist(),
                "seed": int(rng.integers(2**31))}
    return {"kind": "synthetic",
            "colors": rng.integers(20, 235, size=(2, 3)).tolist(),
            "shapes": int(rng.integers(5, 40)),
            "seed": int(rng.integers(2**31))}


def render_background(faces_dir, background, size):
    """Draw a photo background (an upscaled no-face photo or shapes) at ``size``."""
    width, height = size
    small = (width // 4, height // 4)
    rng = np.random.default_rng(background["seed"])
    if background["kind"] == "photo":
        with Image.open(Path(faces_dir) / "no_faces" / background["photo"]) as src:
            src = src.convert("RGB")
            ratio = max(small[0] / src.width, small[1] / src.height)
            src = src.resize((math.ceil(src.width * ratio), math.ceil(src.height * ratio)),
                             Image.BILINEAR)
            left = (src.width - small[0]) // 2
            top = (src.height - small[1]) // 2
            img = src.crop((left, top, left + small[0], top + small[1]))
        if background["flip"]:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        pixels = np.asarray(img, dtype=np.float32) * np.array(background["tint"])
        img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    else:
        top_color, bottom_color = (np.array(c, dtype=np.float32) for c in background["colors"])
        ramp = np.linspace(0, 1, small[1], dtype=np.float32)[:, None, None]
        pixels = top_color * (1 - ramp) + bottom_color * ramp
        img = Image.fromarray(np.broadcast_to(pixels, (small[1], small[0], 3)).astype(np.uint8))
        draw = ImageDraw.Draw(img)
        for _ in range(background["shapes"]):
            x0, x1 = sorted(rng.integers(0, small[0], 2).tolist())
            y0, y1 = sorted(rng.integers(0, small[1], 2).tolist())
            color = tuple(rng.integers(0, 256, 3).tolist())
            if rng.random() < 0.5:
                draw.rectangle((x0, y0, x1, y1), fill=color)
            else:
                draw.line((x0, y0, x1, y1), fill=color, width=int(rng.integers(2, 30)))
    return img.resize(size, Image.BILINEAR)


def _face_mask(tile):
    """A soft ellipse over head and neck, so the background shows around it."""
    mask = Image.new("L", (tile, tile), 0)
    cx, cy = 122 / LFW_TILE * tile, 132 / LFW_TILE * tile
    rx, ry = 0.40 * tile, 0.48 * tile
    ImageDraw.Draw(mask).ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
    return mask.filter(ImageFilter.GaussianBlur(max(tile / 40, 1)))


def _add_noise(img, seed, sigma=3.0, tile=509):
    """Sensor-like noise, so JPEG sizes and decode costs look like real photos.

    A seeded noise tile (odd size, so it does not line up with JPEG blocks) is
    repeated over the photo: deterministic and cheap.
    """
    rng = np.random.default_rng(seed)
    noise = np.clip(rng.normal(128, sigma, size=(tile, tile, 3)), 0, 255).astype(np.uint8)
    reps = (-(-img.height // tile), -(-img.width // tile), 1)
    layer = Image.fromarray(np.tile(noise, reps)[: img.height, : img.width])
    return ImageChops.add(img, layer, scale=1.0, offset=-128)


def render_photo(job):
    """Render one planned photo to ``out_dir/file`` (a multiprocessing job)."""
    faces_dir, out_dir, photo, size, quality = job
    canvas = render_background(faces_dir, photo["background"], size)
    for face in photo["faces"]:
        left, top, right, _ = face["tile"]
        tile = right - left
        with Image.open(face["source"]) as src:
            src = src.convert("RGB").resize((tile, tile), Image.LANCZOS)
        canvas.paste(src, (left, top), _face_mask(tile))
    canvas = _add_noise(canvas, photo["background"]["seed"])
    path = Path(out_dir) / photo["file"]
    canvas.save(path, "JPEG", quality=quality)
    return str(path)


def render_selfie(job):
    """Enlarge one LFW photo to a phone selfie (portrait, e.g. 3000x4000)."""
    source, path, size, quality, seed = job
    width, height = size
    side = max(width, height)
    with Image.open(source) as src:
        img = src.convert("RGB").resize((side, side), Image.BICUBIC)
    left, top = (side - width) // 2, (side - height) // 2
    img = img.crop((left, top, left + width, top + height))
    img.save(path, "JPEG", quality=quality)
    return str(path)


def generate_event(faces_dir, out_dir, spec, processes=None):
    """Write the event's photos, selfies and ground truth under ``out_dir``.

    Reuses an earlier run's files when its ground truth has the same spec.
    Returns the ground truth dict.
    """
    out_dir = Path(out_dir)
    truth_path = out_dir / GROUND_TRUTH
    if truth_path.exists():
        truth = json.loads(truth_path.read_text())
        if truth["spec"] == json.loads(json.dumps(asdict(spec))):
            return truth
    people = load_lfw_people(faces_dir)
    truth = plan_event(people, spec, load_asian_names(faces_dir))
    (out_dir / "photos").mkdir(parents=True, exist_ok=True)
    (out_dir / "selfies").mkdir(parents=True, exist_ok=True)
    jobs = [(str(faces_dir), str(out_dir), p, (spec.width, spec.height), spec.quality)
            for p in truth["photos"]]
    selfie_jobs = [(src, str(out_dir / f), tuple(spec.selfie_size), spec.quality,
                    spec.seed * 100_003 + i)
                   for group in (truth["attendees"], truth["impostors"])
                   for person in group
                   for i, (src, f) in enumerate(zip(person["selfie_sources"],
                                                    person["selfies"]))]
    with get_context("spawn").Pool(processes) as pool:
        list(pool.imap_unordered(render_photo, jobs, chunksize=2))
        list(pool.imap_unordered(render_selfie, selfie_jobs, chunksize=4))
    truth_path.write_text(json.dumps(truth, indent=1))
    return truth
