"""Look at the digest the way a reader will: render a seeded digest and screenshot it with
headless Chromium at a phone's width (375 px) and a desktop mail client's (1024 px).

    python -m tools.screenshot_digest [--out build/digest-screens] [--language en uk] [--chromium PATH]

Needs Chromium (Debian: `apt-get install -y chromium`); CI has none, so this is a script a
person runs after changing templates/digest/, not a test. It seeds the demo day of
`tools/digest.py --demo` (a busy Monday and the week before it) on an in-process embedded AWS,
renders the email per language exactly as it is sent (CSS inlined, no <style> left), and
writes, per language:

    digest-<lang>.html             the email's HTML part
    digest-<lang>-375.png          phone: one column, nothing wider than the screen
    digest-<lang>-1024.png         desktop: the 600 px card centred on the grey background

What to look for: no horizontal scroll at 375 px (the script also checks the page's scroll
width in Chromium and says if it overflows); bars proportional to their numbers; arrows green
when better, red when worse; every "—" where a figure has no data.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WIDTHS = (375, 1024)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


def find_chromium(explicit: str | None) -> str:
    for candidate in (explicit, "chromium", "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return str(shutil.which(candidate))
    raise SystemExit("Chromium not found: apt-get install -y chromium (or pass --chromium PATH)")


def screenshot(chromium: str, page: Path, png: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={png}",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def measure(chromium: str, page: Path, width: int) -> tuple[int, int]:
    """(how many CSS pixels the page is wider than a `width` window — 0: no horizontal
    scrolling —, the page's full height), measured by Chromium on a copy with a probe script
    (the email itself has none)."""
    probe = page.with_name(page.stem + f"-probe-{width}.html")
    script = (
        "<script>document.title = (document.documentElement.scrollWidth - window.innerWidth) + ' '"
        " + document.documentElement.scrollHeight</script></body>"
    )
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", script), encoding="utf-8")
    try:
        with tempfile.TemporaryDirectory() as profile:
            result = subprocess.run(
                [
                    chromium,
                    *FLAGS,
                    f"--user-data-dir={profile}",
                    f"--window-size={width},2000",
                    "--dump-dom",
                    probe.resolve().as_uri(),
                ],
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
            )
    finally:
        probe.unlink()
    start = result.stdout.find("<title>") + len("<title>")
    wider, height = result.stdout[start : result.stdout.find("</title>", start)].split()
    return int(wider), int(height)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("build/digest-screens"))
    parser.add_argument("--language", nargs="+", default=["en", "uk"])
    parser.add_argument("--chromium")
    args = parser.parse_args()
    chromium = find_chromium(args.chromium)

    from tools.digest import demo_figures

    figures = demo_figures()
    from chalicelib.kpi.view import render_digest

    args.out.mkdir(parents=True, exist_ok=True)
    for language in args.language:
        page = args.out / f"digest-{language}.html"
        page.write_text(render_digest(figures, language).html or "", encoding="utf-8")
        for width in WIDTHS:
            png = args.out / f"digest-{language}-{width}.png"
            wider, height = measure(chromium, page, width)
            screenshot(chromium, page, png, width, height)  # the whole page, however long
            overflow = f"  OVERFLOWS by {wider} px" if wider > 0 else ""
            print(f"{png}  {width}x{height}{overflow}")
    sys.exit(0)


if __name__ == "__main__":
    main()
