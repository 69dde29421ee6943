"""Generated race photos for ``python -m bench.bibs``: the bench's event people
(``bench.generate.plan_event``: attendees with held-out selfies, bystanders,
impostors) placed as runners, each with a bib on the chest below the face.

Every runner of an event has a bib number (3–5 digits, unique in the event). A
runner in a photo gets, deterministically by seed: a digit height of 20–120 px
(log-uniform; "bib height" in the report is this height of the digits, before
rotation) and a face 1.5–2.5 times as large (the detector's box, 40–280 px); a
font from Debian's font packages (``FONTS``); rotation ±15°; a perspective
skew; sometimes a timing-chip strip of small digits on the bib, an arm over one
side of it, motion blur over the runner, a face turned away (painted over: a
cap and the back of the head), or no bib at all (under a jacket). Runners never
overlap each other. ``ground_truth.json`` records who is where with which bib.
"""
import json
import math
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.dataset import LFW_FACE_BOX, LFW_TILE, load_asian_names, load_lfw_people
from bench.generate import EventSpec, _add_noise, _face_mask, plan_event, render_background

GROUND_TRUTH = "ground_truth.json"
# (Debian package, file): bold sans faces as race bibs use, and a Thai font's digits
FONTS = (("fonts-dejavu-core", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
         ("fonts-dejavu-core", "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"),
         ("fonts-liberation", "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
         ("fonts-liberation",
          "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf"),
         ("fonts-liberation", "/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf"),
         ("fonts-tlwg-waree-ttf", "/usr/share/fonts/truetype/tlwg/Waree-Bold.ttf"))
PAPER = ((250, 250, 250), (255, 236, 120), (200, 230, 255), (255, 255, 255))
INK = ((10, 10, 10), (20, 20, 120), (150, 10, 10))
SHIRTS = ((30, 80, 160), (200, 40, 40), (20, 20, 20), (240, 240, 240), (250, 140, 20),
          (40, 150, 70), (120, 60, 160))
SKIN = ((224, 172, 140), (176, 120, 90), (120, 80, 55))


@dataclass(frozen=True)
class RaceSpec:
    """What to generate; the seed alone decides everything else."""

    seed: int = 1
    photos: int = 40
    attendees: int = 12
    impostors: int = 3
    width: int = 2400
    height: int = 1600
    max_people: int = 4
    min_bib: int = 20          # digit height, px
    max_bib: int = 120
    face_per_bib: tuple = (1.5, 2.5)   # face box width / digit height
    min_face: int = 40
    max_face: int = 280
    rotation: float = 15.0     # degrees either way
    perspective: float = 0.08  # corner shift, share of the bib's size
    chip: float = 0.3          # share of bibs with a timing-chip strip
    occluded: float = 0.2      # ... with an arm over one side
    blurred: float = 0.25      # runners with motion blur
    hidden_face: float = 0.15  # runners whose face is turned away
    no_bib: float = 0.08       # runners whose bib does not show
    selfie_size: tuple = (600, 800)
    quality: int = 90


def available_fonts():
    """The fonts of ``FONTS`` installed here (at least one is needed)."""
    found = [path for _package, path in FONTS if Path(path).is_file()]
    if not found:
        raise RuntimeError("no bib font found: install " +
                           ", ".join(sorted({p for p, _ in FONTS})))
    return found


def plan_race(people, spec, asian=()):
    """The ground truth of one race event: the bench's people, placed as runners."""
    base = plan_event(people, EventSpec(
        seed=spec.seed, photos=spec.photos, attendees=spec.attendees,
        impostors=spec.impostors, width=spec.width, height=spec.height,
        max_people=spec.max_people, min_appearances=2, max_appearances=5, selfies=1,
        selfie_size=tuple(spec.selfie_size), quality=spec.quality), asian)
    rng = np.random.default_rng(spec.seed + 7919)
    fonts = available_fonts()
    names = sorted({f["person"] for p in base["photos"] for f in p["faces"]})
    lengths = rng.integers(3, 6, size=len(names))
    bibs, used = {}, set()
    for name, length in zip(names, lengths):
        low, high = 10 ** (int(length) - 1), 10 ** int(length)
        while True:
            value = str(int(rng.integers(low, high)))
            if value not in used:
                used.add(value)
                bibs[name] = value
                break
    for photo in base["photos"]:
        runners, rects = [], []
        for face in photo["faces"]:
            runner = _place_runner(rng, spec, rects, face, bibs[face["person"]], fonts)
            if runner is not None:
                rects.append(runner.pop("rect"))
                runners.append(runner)
        photo["faces"] = sorted(runners, key=lambda r: r["tile"][1])
    for attendee in base["attendees"]:
        attendee["photos"] = [p["file"] for p in base["photos"]
                              if any(f["person"] == attendee["person"] for f in p["faces"])]
    base["spec"] = asdict(spec)
    base["bibs"] = bibs
    return base


def _place_runner(rng, spec, rects, face, number, fonts):
    """A spot, sizes and looks for one runner, or None when none is free."""
    scale_face = LFW_FACE_BOX[2] - LFW_FACE_BOX[0]
    for _ in range(200):
        digit = math.exp(rng.uniform(math.log(spec.min_bib), math.log(spec.max_bib)))
        face_px = int(np.clip(digit * rng.uniform(*spec.face_per_bib), spec.min_face,
                              spec.max_face))
        digit = int(round(min(digit, face_px / spec.face_per_bib[0] * 1.2)))
        tile = int(round(face_px * LFW_TILE / scale_face))
        k = tile / LFW_TILE
        chin = LFW_FACE_BOX[3] * k
        bib_w = digit * (0.72 * len(number) + 0.8)
        body_h = chin + face_px * 0.5 + digit * 2.6
        width = max(tile, bib_w * 1.5)
        if width >= spec.width or body_h >= spec.height:
            continue
        left = int(rng.integers(0, int(spec.width - width)))
        top = int(rng.integers(0, int(spec.height - body_h)))
        rect = (left, top, left + width, top + body_h)
        if not all(rect[2] <= r[0] or r[2] <= rect[0] or rect[3] <= r[1] or r[3] <= rect[1]
                   for r in rects):
            continue
        tile_left = int(left + (width - tile) / 2)
        box = [top + round(LFW_FACE_BOX[1] * k), tile_left + round(LFW_FACE_BOX[2] * k),
               top + round(LFW_FACE_BOX[3] * k), tile_left + round(LFW_FACE_BOX[0] * k)]
        has_bib = bool(rng.random() >= spec.no_bib)
        return {**face, "face_px": face_px, "box": box,
                "tile": [tile_left, top, tile_left + tile, top + tile], "rect": rect,
                "bib": number if has_bib else None, "digit_px": digit,
                "bib_centre": [int(left + width / 2), int(top + chin + face_px * 0.45
                                                          + digit * 1.0)],
                "font": fonts[int(rng.integers(len(fonts)))],
                "paper": int(rng.integers(len(PAPER))), "ink": int(rng.integers(len(INK))),
                "shirt": int(rng.integers(len(SHIRTS))), "skin": int(rng.integers(len(SKIN))),
                "angle": float(rng.uniform(-spec.rotation, spec.rotation)),
                "skew": rng.uniform(-spec.perspective, spec.perspective, size=8).round(3)
                .tolist(),
                "chip": (str(int(rng.integers(10_000, 1_000_000)))
                         if rng.random() < spec.chip else None),
                "occlusion": (float(rng.uniform(0.08, 0.18)) * (1 if rng.random() < 0.5
                                                                else -1)
                              if rng.random() < spec.occluded else 0.0),
                "blur": (int(round(digit * rng.uniform(0.1, 0.25))) + 2
                         if rng.random() < spec.blurred else 0),
                "blur_angle": float(rng.uniform(-20, 20)),
                "hidden_face": bool(rng.random() < spec.hidden_face)}
    return None


# -- drawing ------------------------------------------------------------------
def _perspective_coeffs(src, dst):
    """PIL PERSPECTIVE coefficients mapping output points ``dst`` to input ``src``."""
    rows = []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    return np.linalg.solve(np.array(rows, float), np.array(src, float).reshape(8)).tolist()


def bib_patch(runner):
    """(RGBA patch, L mask of its digits) of one runner's bib, transformed."""
    digit = runner["digit_px"]
    face = ImageFont.truetype(runner["font"], int(digit * 1.37))
    number = runner["bib"]
    left, upper, right, lower = face.getbbox(number)
    text_w, text_h = right - left, lower - upper
    pad_x, pad_y = int(digit * 0.4), int(digit * 0.45)
    chip_h = int(digit * 0.5) if runner["chip"] else 0
    width, height = text_w + 2 * pad_x, text_h + 2 * pad_y + chip_h
    paper = Image.new("RGBA", (width, height), PAPER[runner["paper"]] + (255,))
    digits = Image.new("L", (width, height), 0)
    draw, mark = ImageDraw.Draw(paper), ImageDraw.Draw(digits)
    at = (pad_x - left, pad_y - upper)
    draw.text(at, number, fill=INK[runner["ink"]], font=face)
    mark.text(at, number, fill=255, font=face)
    band = max(2, int(digit * 0.18))  # the race's coloured band, no letters: not a bib
    draw.rectangle((0, 0, width, band), fill=SHIRTS[runner["shirt"]])
    if runner["chip"]:
        small = ImageFont.truetype(runner["font"], max(6, int(digit * 0.3)))
        draw.text((pad_x, height - chip_h - pad_y // 3), runner["chip"], fill=(40, 40, 40),
                  font=small)
    if runner["occlusion"]:  # an arm over one side: up to ~18% of the bib's width
        share = abs(runner["occlusion"])
        x0, x1 = ((0, int(width * share)) if runner["occlusion"] < 0
                  else (int(width * (1 - share)), width))
        arm = (x0, int(height * 0.1), x1, height)
        draw.rectangle(arm, fill=SKIN[runner["skin"]] + (255,))
        mark.rectangle(arm, fill=0)
    skew = np.array(runner["skew"]).reshape(4, 2) * (width, height)
    corners = np.array([(0, 0), (width, 0), (width, height), (0, height)], float)
    moved = corners + skew
    shift = moved.min(axis=0)
    moved -= shift
    size = tuple(int(v) + 1 for v in moved.max(axis=0))
    coeffs = _perspective_coeffs(corners.tolist(), moved.tolist())
    paper = paper.transform(size, Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    digits = digits.transform(size, Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    paper = paper.rotate(runner["angle"], Image.BICUBIC, expand=True)
    digits = digits.rotate(runner["angle"], Image.BICUBIC, expand=True)
    return paper, digits


def _motion_blur(canvas, rect, length, angle):
    import cv2
    left, top, right, bottom = (int(v) for v in rect)
    region = np.asarray(canvas.crop((left, top, right, bottom)))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    turn = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, turn, (length, length))
    kernel /= max(kernel.sum(), 1e-6)
    canvas.paste(Image.fromarray(cv2.filter2D(region, -1, kernel)), (left, top))


def draw_runner(canvas, runner):
    """Draw one runner (shirt, bib, face) on ``canvas``; return the bib's digit box."""
    left, top, right, _ = runner["tile"]
    tile = right - left
    face_px = runner["face_px"]
    chin = runner["box"][2]
    cx = (left + right) // 2
    draw = ImageDraw.Draw(canvas)
    shirt_w = max(face_px * 1.4, runner["digit_px"] * (0.72 * len(runner["bib"] or "0000")
                                                       + 0.8) * 1.3)
    bottom = min(canvas.height, runner["bib_centre"][1] + runner["digit_px"] * 1.6)
    draw.rounded_rectangle((cx - shirt_w / 2, chin + face_px * 0.15, cx + shirt_w / 2, bottom),
                           radius=int(face_px * 0.3), fill=SHIRTS[runner["shirt"]])
    digit_box = None
    if runner["bib"]:
        patch, digits = bib_patch(runner)
        at = (int(runner["bib_centre"][0] - patch.width / 2),
              int(runner["bib_centre"][1] - patch.height / 2))
        canvas.paste(patch, at, patch)
        found = digits.point(lambda v: 255 if v > 96 else 0).getbbox()
        if found:
            digit_box = [found[0] + at[0], found[1] + at[1], found[2] + at[0],
                         found[3] + at[1]]
    with Image.open(runner["source"]) as src:
        src = src.convert("RGB").resize((tile, tile), Image.LANCZOS)
    canvas.paste(src, (left, top), _face_mask(tile))
    if runner["hidden_face"]:  # turned away: the back of the head under a cap
        t, r, b, l_ = runner["box"]
        pad = face_px * 0.25
        draw.ellipse((l_ - pad, t - pad * 1.5, r + pad, b + pad * 0.6), fill=(45, 32, 25))
        draw.chord((l_ - pad * 1.2, t - pad * 2.2, r + pad * 1.2, t + face_px * 0.5), 180, 360,
                   fill=SHIRTS[(runner["shirt"] + 3) % len(SHIRTS)])
    if runner["blur"]:
        rect = (max(0, cx - shirt_w / 2 - runner["blur"]), max(0, top),
                min(canvas.width, cx + shirt_w / 2 + runner["blur"]), bottom)
        _motion_blur(canvas, rect, runner["blur"], runner["blur_angle"])
    return digit_box


def render_race_photo(job):
    """Render one planned photo; return (file, [digit box or None per runner])."""
    faces_dir, out_dir, photo, size, quality = job
    canvas = render_background(faces_dir, photo["background"], size)
    boxes = [draw_runner(canvas, runner) for runner in photo["faces"]]
    canvas = _add_noise(canvas, photo["background"]["seed"])
    canvas.save(Path(out_dir) / photo["file"], "JPEG", quality=quality)
    return photo["file"], boxes


def render_selfie(job):
    """A phone selfie (portrait) of one held-out LFW photo."""
    source, path, size, quality = job
    width, height = size
    side = max(width, height)
    with Image.open(source) as src:
        img = src.convert("RGB").resize((side, side), Image.BICUBIC)
    left, top = (side - width) // 2, (side - height) // 2
    img.crop((left, top, left + width, top + height)).save(path, "JPEG", quality=quality)


def generate_race(faces_dir, out_dir, spec, processes=None):
    """Write the race event's photos, selfies and ground truth under ``out_dir``
    (an earlier run's files are reused when its spec is the same); return the truth."""
    out_dir = Path(out_dir)
    truth_path = out_dir / GROUND_TRUTH
    if truth_path.exists():
        truth = json.loads(truth_path.read_text())
        if truth["spec"] == json.loads(json.dumps(asdict(spec))):
            return truth
    truth = plan_race(load_lfw_people(faces_dir), spec, load_asian_names(faces_dir))
    (out_dir / "photos").mkdir(parents=True, exist_ok=True)
    (out_dir / "selfies").mkdir(parents=True, exist_ok=True)
    jobs = [(str(faces_dir), str(out_dir), p, (spec.width, spec.height), spec.quality)
            for p in truth["photos"]]
    selfies = [(src, str(out_dir / f), tuple(spec.selfie_size), spec.quality)
               for group in (truth["attendees"], truth["impostors"]) for person in group
               for src, f in zip(person["selfie_sources"], person["selfies"])]
    with get_context("spawn").Pool(processes) as pool:
        boxes = dict(pool.imap_unordered(render_race_photo, jobs, chunksize=2))
        list(pool.imap_unordered(render_selfie, selfies, chunksize=4))
    for photo in truth["photos"]:
        for runner, box in zip(photo["faces"], boxes[photo["file"]]):
            runner["digit_box"] = box
    truth_path.write_text(json.dumps(truth, indent=1))
    return truth

