"""The dashboard in a real browser: Debian's Chromium through Playwright, from file://.

    .venv/bin/python bench/browser.py --cases 10000            # generate, build, measure
    .venv/bin/python bench/browser.py --site /tmp/big/site     # a site built already
    .venv/bin/python bench/browser.py --cases 1000,10000 --repeat 3

For each size: index.html's size, the load event, the time from a sort click and from each
keystroke in the text filter to the next animation frame, the frames slower than 50 ms while the
table scrolls over 180 frames, the renderer's JavaScript heap (CDP Performance.getMetrics) and
the renderer process's peak memory (VmHWM of the largest Chromium `--type=renderer` process,
read from /proc while the page is open). Each figure is the median of `--repeat` fresh pages.
Targets: load ≤ 1 s, sort and filter ≤ 100 ms, no frame over 50 ms, renderer memory ≤ 300 MB,
index.html ≤ 300 KB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

CHROMIUM = "/usr/bin/chromium"
DAY = date(2026, 11, 20)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

NEXT_FRAME = """([what, arg]) => new Promise(done => {
  const t0 = performance.now();
  if (what === 'sort') document.querySelectorAll('table#cases thead th')[arg].click();
  else {
    const input = document.querySelector('input[data-filter=text]');
    input.value = arg;
    input.dispatchEvent(new Event('input', {bubbles: true}));
  }
  requestAnimationFrame(() => done(performance.now() - t0));
})"""

SCROLL = """(frames) => new Promise(done => {
  const wrap = document.querySelector('[data-vtable]');
  const times = [];
  let last = performance.now(), n = 0;
  function step(now) {
    times.push(now - last); last = now; n += 1;
    wrap.scrollTop += 997;  // about 20 rows a frame, never a whole window's worth
    if (n < frames) requestAnimationFrame(step);
    else done({slow: times.slice(1).filter(t => t > 50).length,
               worst: Math.max(...times.slice(1)),
               rows: document.querySelectorAll('table#cases tbody tr').length});
  }
  requestAnimationFrame(step);
})"""


def built_site(cases: int, folder: Path) -> Path:
    from generate import generate  # bench/generate.py

    from casebook.site.build import build

    generate(folder, cases)
    build(folder, DAY)
    return folder / "site"


def renderer_peak_mb() -> float:
    """The peak resident memory (VmHWM) of the largest Chromium renderer process now running
    (the open page's: the pages measured before are closed)."""
    peak = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if b"--type=renderer" not in (entry / "cmdline").read_bytes():
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


def measure(browser, site: Path) -> dict[str, float]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((site / "index.html").as_uri())
    page.wait_for_selector("table#cases tbody tr.case-row")
    load = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    sort = max(page.evaluate(NEXT_FRAME, ["sort", column]) for column in (5, 0, 4, 7))
    typing = max(page.evaluate(NEXT_FRAME, ["text", "rossi"[:n]]) for n in range(1, 6))
    page.evaluate(NEXT_FRAME, ["text", ""])
    scroll = page.evaluate(SCROLL, 180)
    session = context.new_cdp_session(page)
    session.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in session.send("Performance.getMetrics")["metrics"]}
    renderer = renderer_peak_mb()
    context.close()
    if errors:
        raise SystemExit(f"page errors: {errors}")
    return {"load ms": load, "sort ms": sort, "filter ms": typing,
            "frames >50ms": scroll["slow"], "worst frame ms": scroll["worst"],
            "rows in DOM": scroll["rows"], "JS heap MB": metrics["JSHeapUsedSize"] / 2**20,
            "renderer MB": renderer}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the dashboard in Chromium.")
    parser.add_argument("--cases", default="10000", help="sizes, comma-separated")
    parser.add_argument("--site", type=Path, help="a built site instead of generating one")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as temp, sync_playwright() as play:
        sites = [("site", args.site)] if args.site else [
            (n, built_site(int(n), Path(temp) / n)) for n in args.cases.split(",")]
        browser = play.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        print(f"{'cases':>7} {'index KB':>9} {'load ms':>8} {'sort ms':>8} {'filter ms':>9} "
              f"{'>50ms':>6} {'worst ms':>9} {'DOM rows':>9} {'heap MB':>8} {'renderer MB':>12}")
        for name, site in sites:
            runs = [measure(browser, site) for _ in range(args.repeat)]
            med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            size = (site / "index.html").stat().st_size / 1024
            print(f"{name:>7} {size:9.0f} {med['load ms']:8.0f} {med['sort ms']:8.1f} "
                  f"{med['filter ms']:9.1f} {med['frames >50ms']:6.0f} "
                  f"{med['worst frame ms']:9.1f} {med['rows in DOM']:9.0f} "
                  f"{med['JS heap MB']:8.1f} {med['renderer MB']:12.1f}")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
