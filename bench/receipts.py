"""Time `casebook receipts` on a folder of PEC receipts against a generated casebook.

    python bench/receipts.py [--cases 1000] [--messages 500] [--repeat 3] [--seed 1]

Generates a casebook of N cases with bench/generate.py and appends, to M of them (picked at
random), the log entry `casebook send --smtp` writes for a formal notice sent by PEC on the
generator's last day: `## 2026-11-20 pec formal-notice — Costituzione in mora` with the message's
`Message-ID: <…>` line in its note. For each message it writes two receipts, as a provider sends
them (multipart/signed around the text, `daticert.xml` and, for a delivery, `postacert.eml`;
headers X-Ricevuta and X-Riferimento-Message-ID), into one folder, in subfolders of 100:

  every message   an `accettazione`;
  19 in 20        an `avvenuta-consegna` two minutes later;
  1 in 20         an `errore-consegna` instead, with its `errore-esteso`.

Then it times, as whole processes (spawn to exit, `time.perf_counter`; peak RSS from
`os.wait4`), with `--today 2026-11-20`:

  * `receipts FOLDER` (2·M receipts), each run in a fresh copy of the casebook with its
    `.casebook-cache/` (the state after any earlier command: `validate` ran on it), and again in
    fresh copies without it (cold);
  * `receipts FOLDER` again on the casebook the first run wrote, which must add nothing: a
    digest of every file (but `.casebook-cache/`) before and after each run, and the command's
    own count, must show that not a byte changed.

Each measurement is one untimed warm-up run (none for the cold one: it follows the warm one),
then --repeat timed runs; min, median and max are printed as a Markdown table with the target
(≤ 3 s) and the command's summary line. Copies are kept until the end (see bench/README.md on
deleting thousands of files between runs). Every casebook child runs with XDG_CACHE_HOME in the
temporary folder. Exit status 1 when a command fails, a run adds other than what it should, or
the second run changed a byte. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402
from import_fatturapa import (  # noqa: E402
    CACHE_DIR,
    Failed,
    Run,
    checked,
    digest,
    progress,
    run,
    stats,
)

TODAY = "2026-11-20"
TARGET = 3.0  # seconds
FAILED_SHARE = 20  # one delivery in FAILED_SHARE fails
PER_FOLDER = 100
CREDITOR_PEC = "amministrazione@pec.example.net"
SUMMARY = re.compile(r"(\d+) receipts added to (\d+) log entries, (\d+) already there, "
                     r"(\d+) not matched")


@dataclass(frozen=True)
class Sent:
    """One message sent by PEC and logged in a case file."""

    case: Path
    message_id: str
    pec: str  # the debtor's
    at: int  # seconds into the day it was accepted


def add_sent(root: Path, m: int, rng: random.Random) -> list[Sent]:
    """Append a sent formal notice to M case files; one Sent each."""
    files = sorted((root / "cases").rglob("*.md"))
    chosen = sorted(rng.sample(range(len(files)), m))
    sent = []
    for k, index in enumerate(chosen):
        path = files[index]
        text = path.read_text("utf-8")
        found = re.search(r"^  pec: (\S+)$", text, re.MULTILINE)
        pec = found.group(1) if found else f"{path.stem}@pec.example.net"
        message_id = (f"<20261120.{path.stem}.formal-notice.{rng.getrandbits(32):08x}"
                      "@pec.example.net>")
        entry = (f"## {TODAY} pec formal-notice — Costituzione in mora\n"
                 f"Inviata con `casebook send`, 15 giorni per pagare.\n"
                 f"Message-ID: {message_id}\n")
        gap = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        path.write_text(text + gap + entry, "utf-8")
        sent.append(Sent(path, message_id, pec, 9 * 3600 + k * 7))
    return sent


def daticert(tipo: str, sent: Sent, seconds: int, reason: str | None) -> bytes:
    hh, mm, ss = seconds // 3600, seconds // 60 % 60, seconds % 60
    errore = "no-dest" if reason else "nessuno"
    detail = (f"<errore-esteso>{reason}</errore-esteso>" if reason
              else f"<consegna>{sent.pec}</consegna>" if tipo == "avvenuta-consegna" else "")
    mid = sent.message_id.replace("<", "&lt;").replace(">", "&gt;")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<postacert tipo="{tipo}" errore="{errore}">
  <intestazione>
    <mittente>{CREDITOR_PEC}</mittente>
    <destinatari tipo="certificato">{sent.pec}</destinatari>
    <risposte>{CREDITOR_PEC}</risposte>
    <oggetto>Costituzione in mora</oggetto>
  </intestazione>
  <dati>
    <gestore-emittente>Esempio PEC S.p.A.</gestore-emittente>
    <data zona="+0100"><giorno>20/11/2026</giorno><ora>{hh:02d}:{mm:02d}:{ss:02d}</ora></data>
    <identificativo>opec21.20261120.{seconds}.{tipo}@pec.example.net</identificativo>
    <msgid>{mid}</msgid>
    {detail}
  </dati>
</postacert>
""".encode()


def receipt(tipo: str, sent: Sent, seconds: int, reason: str | None = None) -> bytes:
    """A receipt as a provider sends it: multipart/signed around multipart/mixed."""
    hh, mm, ss = seconds // 3600, seconds // 60 % 60, seconds % 60
    mixed = EmailMessage()
    mixed.set_content(f"Ricevuta di {tipo}\n\nIl giorno 20/11/2026 alle ore "
                      f"{hh:02d}:{mm:02d}:{ss:02d} (+0100) il messaggio \"Costituzione in mora\" "
                      f"proveniente da \"{CREDITOR_PEC}\" ...\n")
    mixed.add_attachment(daticert(tipo, sent, seconds, reason), maintype="application",
                         subtype="xml", filename="daticert.xml")
    if tipo == "avvenuta-consegna":
        original = EmailMessage()
        original["Message-ID"] = sent.message_id
        original["Subject"] = "Costituzione in mora"
        original.set_content("Spettabile ditta, con la presente ...\n")
        mixed.add_attachment(original, filename="postacert.eml")
    signature = EmailMessage()
    signature.set_content(b"\x30\x82" + bytes(600), maintype="application",
                          subtype="pkcs7-signature", filename="smime.p7s")
    signed = EmailMessage()
    signed["Date"] = f"Fri, 20 Nov 2026 {hh:02d}:{mm:02d}:{ss:02d} +0100"
    signed["From"] = "posta-certificata@pec.example.net"
    signed["To"] = CREDITOR_PEC
    signed["Subject"] = f"{tipo.upper()}: Costituzione in mora"
    signed["Message-ID"] = f"<opec21.{seconds}.{tipo}@pec.example.net>"
    signed["X-Ricevuta"] = tipo
    signed["X-Riferimento-Message-ID"] = sent.message_id
    signed["MIME-Version"] = "1.0"
    signed["Content-Type"] = ('multipart/signed; protocol="application/pkcs7-signature"; '
                              'micalg=sha-256')
    signed.set_payload([mixed, signature])
    return signed.as_bytes(policy=policy.SMTP)


def write_receipts(folder: Path, sent: list[Sent], rng: random.Random) -> tuple[int, int]:
    """Two receipts per message; (receipts written, delivery failures among them)."""
    written = failed = 0
    for k, message in enumerate(sent):
        sub = folder / f"{k // PER_FOLDER + 1:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{k:05d}-1-accettazione.eml").write_bytes(
            receipt("accettazione", message, message.at))
        if rng.randrange(FAILED_SHARE):
            second = receipt("avvenuta-consegna", message, message.at + 120)
            name = "avvenuta-consegna"
        else:
            second = receipt("errore-consegna", message, message.at + 120,
                             "5.1.1 - casella del destinatario piena")
            name = "errore-consegna"
            failed += 1
        (sub / f"{k:05d}-2-{name}.eml").write_bytes(second)
        written += 2
    return written, failed


def counts(r: Run) -> tuple[int, int, int, int]:
    found = [m for line in r.out.splitlines() if (m := SUMMARY.match(line.strip()))]
    if not found:
        raise Failed("receipts printed no 'N receipts added to M log entries, …' line:\n  "
                     + "\n  ".join(r.out.splitlines()[-5:]))
    added, entries, already, unmatched = map(int, found[-1].groups())
    return added, entries, already, unmatched


def said(r: Run) -> str:
    return next(line.strip() for line in r.out.splitlines() if SUMMARY.match(line.strip()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", "-n", type=int, default=1000,
                        help="cases in the casebook (default 1000)")
    parser.add_argument("--messages", type=int, default=500,
                        help="cases with a message sent by PEC, two receipts each (default 500)")
    parser.add_argument("--repeat", "--runs", type=int, default=3,
                        help="timed runs of each measurement (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--casebook", type=Path,
                        default=Path(sys.executable).with_name("casebook"),
                        help="the casebook executable (default: beside this Python)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.cases < args.messages or args.repeat < 1:
        parser.error("--messages and --repeat must be at least 1, --cases at least --messages")
    exe = str(args.casebook)
    if not Path(exe).exists():
        parser.error(f"{exe} not found (use --casebook)")

    work = Path(tempfile.mkdtemp(prefix="casebook-bench-receipts-"))
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "xdg-cache")}
    env.pop("CASEBOOK_TODAY", None)
    rng = random.Random(args.seed)
    rows: list[tuple[str, list[float], list[float], str]] = []
    broken: list[str] = []
    try:
        base = work / "base"
        started = time.perf_counter()
        generate(base, args.cases, args.seed)
        sent = add_sent(base, args.messages, rng)
        folder = work / "receipts"
        n, failed = write_receipts(folder, sent, rng)
        progress(f"generated {args.cases} cases, {len(sent)} with a sent PEC, and {n} receipts "
                 f"({failed} delivery failures) in {time.perf_counter() - started:.1f} s")
        checked(run([exe, "--today", TODAY, "validate"], base, env, args.timeout),
                "validate of the generated casebook")
        receiving = [exe, "--today", TODAY, "receipts", str(folder)]
        expected = (n, len(sent), 0, 0)

        def measure(label: str, fresh: str, warm_up: bool) -> Path:
            times, rss = [], []
            book = base
            r = None
            for attempt in range(0 if warm_up else 1, args.repeat + 1):
                book = work / f"{fresh}-{attempt}"
                shutil.copytree(base, book, ignore=shutil.ignore_patterns(CACHE_DIR)
                                if fresh == "cold" else None)
                r = checked(run(receiving, book, env, args.timeout), label)
                if counts(r) != expected:
                    raise Failed(f"{label} did not add {n} receipts to {len(sent)} log "
                                 f"entries: {said(r)!r}")
                if attempt:
                    times.append(r.seconds)
                    rss.extend([r.rss_mib] if r.rss_mib else [])
                progress(f"{label}: {'warm-up' if not attempt else f'run {attempt}'} "
                         f"{r.seconds:.2f} s — {said(r)}")
            assert r is not None
            rows.append((label, times, rss, said(r)))
            return book

        book = measure("`receipts` (fresh copy, with its cache)", "warm", True)
        measure("`receipts` (fresh copy, no `.casebook-cache/`)", "cold", False)
        before, files = digest(book)
        times, rss = [], []
        for attempt in range(args.repeat + 1):
            r = checked(run(receiving, book, env, args.timeout), "second run")
            after, _ = digest(book)
            if after != before or counts(r) != (0, 0, n, 0):
                broken.append(f"the second run (run {attempt}) changed the casebook ({book}) "
                              f"or reported additions: digest {before[:16]} → {after[:16]}; "
                              f"it said {said(r)!r}")
                before = after
            if attempt:
                times.append(r.seconds)
                rss.extend([r.rss_mib] if r.rss_mib else [])
            progress(f"second run: {'warm-up' if not attempt else f'run {attempt}'} "
                     f"{r.seconds:.2f} s — {said(r)}")
        rows.append(("`receipts` again (must add nothing)", times, rss, said(r)))
    except Failed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            progress(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(f"casebook receipts: {n} PEC receipts ({failed} delivery failures) for {len(sent)} "
          f"messages in {len(sent)} of {args.cases} cases; --today {TODAY}; {args.repeat} "
          "timed runs\n")
    print("| measurement | min s | median s | max s | peak MiB | target | last line |")
    print("|---|---:|---:|---:|---:|---|---|")
    for label, times, rss, line in rows:
        low, mid, high = stats(times)
        peak = f"{max(rss):.0f}" if rss else "–"
        print(f"| {label} | {low:.2f} | {mid:.2f} | {high:.2f} | {peak} | "
              f"≤ {TARGET:g} s {'✓' if mid <= TARGET else '✗'} | {line} |")
    if broken:
        print("\n**FAILED**: reading the same receipts again must add nothing, and it did:")
        for why in broken:
            print(f"\n    {why}")
        return 1
    print(f"\nThe second run left every byte of the casebook unchanged ({files} files, "
          f"`{CACHE_DIR}/` not counted).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
