"""The Lambda package: how big it is and how long a cold start spends importing it.

    python -m bench.package [--zip build/dev/deployment.zip] [--runs 5] [--arch arm64]

Without --zip it builds the dev stage first (tools/build.py, ~15 s). The zip is unpacked and
each measurement runs in a fresh `python -S` (no site-packages: only the package, as on
Lambda) with PYTHONDONTWRITEBYTECODE=1 (Lambda's disk is read-only: nothing is cached
between cold starts). Three variants of the same tree:
- as shipped: with the .pyc the build compiles (unchecked-hash);
- without .pyc: what a plain `chalice package` zip costs (every module compiled per cold start);
against a bare `python -S -c pass`. Figures are medians of --runs fresh processes.
`import app` loads no feature (app.py imports each on its handler's first call), so the ratio
the issue sets (<= 1.3x `import boto3`) is also shown for what a webhook cold start imports
before it answers: app plus the webhook path (chalicelib.webhooks and what it imports).
--arch arm64 builds the arm64 zip and shows its sizes only: its binaries do not load here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

from bench.common import table

IMPORT_APP = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"
IMPORT_WEBHOOK = "import time; t = time.perf_counter(); import app, chalicelib.webhooks; print(time.perf_counter() - t)"
# what the form's first call adds before any AWS call: the desk's settings and its calendar
WEBHOOK_FIRST_CALL = (
    "import time; t = time.perf_counter(); import app, chalicelib.webhooks; "
    "from chalicelib.config import settings; settings().calendar_for(settings().routing.default_queue); "
    "print(time.perf_counter() - t)"
)
IMPORT_BOTO3 = "import time; t = time.perf_counter(); import boto3; print(time.perf_counter() - t)"
FIRST_REQUEST = (
    "import time; t = time.perf_counter(); import app; from chalicelib import aws, models; "
    "aws.client('sqs'); models.connection().client; print(time.perf_counter() - t)"
)


def sizes(path: Path) -> tuple[list[tuple[str, str]], int, int]:
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    zipped: Counter[str] = Counter()
    unzipped: Counter[str] = Counter()
    for info in infos:
        top = info.filename.split("/", 1)[0].split("-", 1)[0].removesuffix(".py")
        zipped[top] += info.compress_size
        unzipped[top] += info.file_size
    rows = [
        (name, f"{zipped[name] / 1e6:5.1f} MB zipped  {unzipped[name] / 1e6:5.1f} MB unzipped")
        for name, _ in zipped.most_common(8)
    ]
    pyc = sum(i.compress_size for i in infos if i.filename.endswith(".pyc"))
    rows.append(("(of which .pyc)", f"{pyc / 1e6:5.1f} MB zipped"))
    return rows, path.stat().st_size, sum(i.file_size for i in infos)


def _env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PROMPTLY_STAGE": "dev",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_SERVICE_NAME": "promptly",
    }


def timed(code: str, cwd: Path, runs: int) -> tuple[float, float]:
    """(median in-process seconds, median whole-process seconds) over `runs` fresh interpreters."""
    inner, whole = [], []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-S", "-c", code], cwd=cwd, env=_env(), capture_output=True, text=True, check=False
        )
        whole.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        inner.append(float(done.stdout.strip().splitlines()[-1] or 0))
    return statistics.median(inner), statistics.median(whole)


def app_against_boto3(cwd: Path, runs: int) -> tuple[float, float, float, float]:
    """Medians of `import app`, of app + the webhook path, of that + the desk's settings and
    calendar (the form's first call before AWS) and of `import boto3` from the same tree, runs
    interleaved (app, webhook, first call, boto3, app, ...) so all see the same machine load.
    The issue's target: ratio <= 1.3."""
    app_runs, webhook_runs, first_runs, boto3_runs = [], [], [], []
    for _ in range(runs):
        app_runs.append(timed(IMPORT_APP, cwd, 1)[0])
        webhook_runs.append(timed(IMPORT_WEBHOOK, cwd, 1)[0])
        first_runs.append(timed(WEBHOOK_FIRST_CALL, cwd, 1)[0])
        boto3_runs.append(timed(IMPORT_BOTO3, cwd, 1)[0])
    median = statistics.median
    return median(app_runs), median(webhook_runs), median(first_runs), median(boto3_runs)


def import_time_by_package(cwd: Path, count: int = 8) -> list[tuple[str, str]]:
    """`python -X importtime` of app + the webhook path: self time summed per top-level package."""
    done = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-c", "import app, chalicelib.webhooks"],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    by_package: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[0].strip().isdigit():
            by_package[parts[2].strip().split(".", 1)[0]] += int(parts[0])
    return [(name, f"{micros / 1000:5.0f} ms") for name, micros in by_package.most_common(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zip", type=Path, help="a built deployment.zip (default: build the dev stage now)")
    parser.add_argument("--before", type=Path, help="another deployment.zip to compare sizes with")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--arch", choices=("x86_64", "arm64"), default="x86_64", help="the zip to build")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="promptly-bench-") as tmp:
        work = Path(tmp)
        path = args.zip
        if path is None:
            from tools import build

            path = build.build("dev", work / "build", args.arch) / "deployment.zip"
        rows, zipped, unzipped = sizes(path)
        first = [("deployment.zip", f"{zipped / 1e6:5.1f} MB zipped  {unzipped / 1e6:5.1f} MB unzipped")]
        if args.before:
            _, before_zipped, before_unzipped = sizes(args.before)
            first.insert(
                0, ("--before zip", f"{before_zipped / 1e6:5.1f} MB zipped  {before_unzipped / 1e6:5.1f} MB unzipped")
            )
        print(table("Package (Lambda limits: 50 MB zipped, 250 MB unzipped; target <= 15 MB zipped)", first + rows))
        if args.arch != "x86_64":
            print(f"\n(no cold import measured: the {args.arch} binaries do not load on this machine)")
            return
        shipped = work / "shipped"
        with zipfile.ZipFile(path) as archive:
            archive.extractall(shipped)
        bare = work / "no-pyc"
        shutil.copytree(shipped, bare, ignore=shutil.ignore_patterns("__pycache__"))

        _, empty = timed("pass; print(0)", shipped, args.runs)
        results = []
        for label, tree in (("as shipped (.pyc, unchecked-hash)", shipped), ("without .pyc", bare)):
            app_inner, app_whole = timed(IMPORT_APP, tree, args.runs)
            first_inner, _ = timed(FIRST_REQUEST, tree, args.runs)
            results.append(
                (
                    label,
                    (
                        f"import app {app_inner * 1000:5.0f} ms · process {app_whole * 1000:5.0f} ms"
                        f" · + first clients {first_inner * 1000:5.0f} ms"
                    ),
                )
            )
        app_s, webhook_s, first_s, boto3_s = app_against_boto3(shipped, args.runs)
        results.append(
            (
                "as shipped, interleaved with import boto3",
                (
                    f"import app {app_s * 1000:5.0f} ms · import boto3 {boto3_s * 1000:5.0f} ms · "
                    f"ratio {app_s / boto3_s:.2f}x (target <= 1.3x)"
                ),
            )
        )
        results.append(
            (
                "webhook path (app + chalicelib.webhooks)",
                f"import     {webhook_s * 1000:5.0f} ms · ratio to boto3 {webhook_s / boto3_s:.2f}x",
            )
        )
        results.append(
            (
                "+ the desk's settings and calendar",
                f"first call {first_s * 1000:5.0f} ms · ratio to boto3 {first_s / boto3_s:.2f}x",
            )
        )
        print()
        print(
            table(
                f"Cold import, fresh `python -S`, median of {args.runs} (bare `python -S -c pass`: "
                f"{empty * 1000:.0f} ms)",
                results,
            )
        )
        print()
        print(
            table(
                "Where the webhook path's imports go (app + chalicelib.webhooks, as shipped; -X importtime self time)",
                import_time_by_package(shipped),
            )
        )


if __name__ == "__main__":
    main()
