"""What every benchmark script records beside its figures (machine, code, command) and
how it writes its own section of RESULTS.md. Imported by the scripts in this folder."""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
RESULTS_HEADER = """# Benchmark results

Figures measured by the scripts in `benchmarks/`, per `../shared/QUALITY.md`: medians,
compared as ratios within one run, each with the command that produced it. Machines are
shared and noisy; rerun the command rather than comparing absolute figures across runs.
"""


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1])
        memory = f", {kb / 2**20:.1f} GB RAM"
    return f"{os.cpu_count()} cores (`nproc` {len(os.sched_getaffinity(0))}), {cpu}{memory}"


def commit() -> str:
    git = shutil.which("git")
    if git is None:
        return "unknown commit"

    def output(*arguments: str) -> str:
        done = subprocess.run(  # noqa: S603 - git, resolved on PATH, with fixed arguments
            [git, *arguments], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    head = output("rev-parse", "--short", "HEAD")
    if not head:
        return "unknown commit"
    dirty = output("status", "--porcelain", "--untracked-files=no")
    return f"commit {head}" + (" with uncommitted changes" if dirty else "")


def command(script: str, argv: list[str]) -> str:
    python = Path(sys.executable)
    try:
        python_text = str(python.relative_to(ROOT))
    except ValueError:
        python_text = str(python)
    return f"cd {ROOT} && " + shlex.join([python_text, f"benchmarks/{script}", *argv])


def results_write(section: str, heading: str, path: Path = RESULTS) -> None:
    """Replace the section under `heading` in RESULTS.md (up to the next "## "), or append
    it. A hand-written "### Diagnosis" subsection at the end of the old section is kept."""
    text = path.read_text(encoding="utf-8") if path.exists() else RESULTS_HEADER
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    body = section.rstrip("\n") + "\n"
    found = pattern.search(text)
    if found and "\n### Diagnosis" in found.group(0):
        kept = found.group(0)[found.group(0).index("\n### Diagnosis") :]
        body = body + kept.rstrip("\n") + "\n"
    if found:
        text = pattern.sub(lambda _: body + "\n", text, count=1).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + body
    path.write_text(text, encoding="utf-8")


def log(text: str) -> None:
    """Progress on stderr, stamped, so that stdout carries only the figures."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%H:%M:%S")
    print(f"[{stamp}] {text}", file=sys.stderr, flush=True)
