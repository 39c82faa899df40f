#!/usr/bin/env python3
"""Small test images for the image reader and the vision-language probes (tests/golden/images/).

shapes.png / shapes.jpg: 48 × 48, a red circle in the top-left cell and a blue square in the
middle-right cell of the 3 × 3 grid on black (the shapes VQA layout). shapes_96.jpg: the same
scene at 96 × 96, so the model's preprocessing has to resize it. Needs Pillow:

    .venv/bin/pip install pillow && .venv/bin/python tests/reference/make_test_images.py
"""
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "golden" / "images"


def scene(size: int) -> Image.Image:
    im = Image.new("RGB", (size, size), (0, 0, 0))
    d = ImageDraw.Draw(im)
    c = size / 3
    m = c * 0.15
    d.ellipse([m, m, c - m, c - m], fill=(230, 25, 25))            # circle, top-left
    d.rectangle([2 * c + m, c + m, 3 * c - m, 2 * c - m], fill=(30, 60, 230))  # square, right
    return im


OUT.mkdir(parents=True, exist_ok=True)
scene(48).save(OUT / "shapes.png")
scene(48).save(OUT / "shapes.jpg", quality=95)
scene(96).save(OUT / "shapes_96.jpg", quality=95)
print("wrote", sorted(p.name for p in OUT.iterdir()))
