"""The README's screenshots, from the browser tests' full-page shots in var/screenshots/.

`make screenshots` runs the tests that take them, then this: each shot is cut to its first
screens, scaled down and reduced to a small palette into docs/screenshots/, so the
README shows the pages as they are today at a few tens of KB each.
"""

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
OUT = ROOT / "docs" / "screenshots"

DESKTOP = (800, 860)  # width, and at most this height after scaling
PHONE = (260, 560)

# The README's name for each page, the shot it comes from, and its kind.
PAGES = [
    ("queue", "demo-queue-1440", DESKTOP),
    ("queue-phone", "demo-queue-390", PHONE),
    ("conversation", "demo-conversation-1440", DESKTOP),
    ("conversation-phone", "demo-conversation-390", PHONE),
    ("sla-dashboard", "demo-sla-dashboard-1440", DESKTOP),
    ("sla-dashboard-phone", "demo-sla-dashboard-390", PHONE),
    ("reports", "demo-reports-1440", DESKTOP),
    ("reports-phone", "demo-reports-390", PHONE),
    ("client-profile", "demo-client-1440", DESKTOP),
    ("company", "company-desktop", DESKTOP),
    ("help-centre", "help-centre", DESKTOP),
    ("portal-phone", "portal-requests", PHONE),
    ("client-page", "client-page", DESKTOP),
    ("settings-inbox", "settings:inbox", DESKTOP),
]
SCREENSHOT_MODULES = [
    "tests/e2e/test_demo_pages.py",
    "tests/e2e/test_settings.py",
    "tests/e2e/test_client_panel_reports.py",
    "tests/e2e/test_knowledge_base.py",
    "tests/e2e/test_portal.py",
    "tests/e2e/test_client_pages.py",
]


def reduce(source: Path, target: Path, size: tuple[int, int]) -> int:
    """Scale the shot to the width, cut it to the height, keep 48 colours; the bytes written."""
    width, height = size
    with Image.open(source) as image:
        image = image.convert("RGB")
        scaled = image.resize(
            (width, round(image.height * width / image.width)), Image.Resampling.LANCZOS
        )
        cut = scaled.crop((0, 0, width, min(scaled.height, height)))
        cut.quantize(colors=48, method=Image.Quantize.FASTOCTREE).save(target, optimize=True)
    return target.stat().st_size


def main() -> int:
    missing = [shot for _, shot, _ in PAGES if not (SHOTS / f"{shot}.png").exists()]
    if missing:
        print(f"No shot yet for {', '.join(missing)}: run the browser tests first.")
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    total = 0
    for name, shot, size in PAGES:
        total += reduce(SHOTS / f"{shot}.png", OUT / f"{name}.png", size)
    print(f"{len(PAGES)} screenshots in docs/screenshots/, {total // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
