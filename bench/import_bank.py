"""Time `casebook import bank` on a camt.053 statement against a large generated casebook.

    python bench/import_bank.py [--cases 10000] [--credits 5000] [--repeat 3] [--seed 1]

Generates a casebook of N cases with bench/generate.py (its invoices are numbered 2025/00001,
2026/00001, …) and gives one case in seven a `debtor.iban`, as earlier imports would have
learned it. From that casebook's own export (`casebook export --format json`, untimed) it builds
one camt.053.001.02 statement of the creditor's account with M booked credits (and one booked
debit per 50 credits, which the import must pass over), dated 2026-11-02 to 2026-11-20:

  40 %  an invoice number in the remittance text, written in varied ways ("SALDO FT 101/2026",
        "fattura n. 2026/101", "RIF. FT. 2026-00101", "Bonifico fatt. 101 del 2026", the
        number as the casebook writes it), for its residual or part of it;
  15 %  from the IBAN stored on the debtor, with a text naming no invoice;
  20 %  from the debtor's name as a bank writes it (upper case, "SRL", "SPA"), no IBAN;
  15 %  exactly the residual of an open invoice, from a payer that is no debtor;
  10 %  nothing the casebook knows (other payers, other amounts).

Then it times, as whole processes (spawn to exit, `time.perf_counter`; peak RSS from
`os.wait4`), with `--today 2026-11-20` (the generator's last day):

  * `import bank statement.xml --dry-run` on the casebook;
  * the real import, each run in a fresh copy of the casebook with its `.casebook-cache/` (the
    state after any earlier command), and again in fresh copies without it (cold);
  * a second real import into the casebook the first one wrote, which must add nothing: a
    digest of every file (but `.casebook-cache/`) before and after each run, and the command's
    own count of payments matched, must show that not a byte changed.

Each measurement is one untimed warm-up run (none for the cold import: it follows the warm one),
then --repeat timed runs; min, median and max are printed as a Markdown table with the target
(the import <= 3 s), and the matched / not matched / already recorded counts from the command's
last line. Copies are kept until the end (see bench/README.md on deleting thousands of files
between runs). Every casebook child runs with XDG_CACHE_HOME in the temporary folder. Exit
status 1 when a command fails or the second import changed a byte. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

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
FIRST_BOOKING = date(2026, 11, 2)
LAST_BOOKING = date(2026, 11, 20)
TARGET = 3.0  # seconds, the import
CREDITOR_IBAN = "IT60X0542811101000000123456"  # bench/generate.py's creditor
IBAN_SHARE = 7  # one case in IBAN_SHARE gets a debtor.iban
SUMMARY = re.compile(r"(\d+) payments matched to (\d+) cases, (\d+) not matched, "
                     r"(\d+) already recorded")
MIX = (("number", 0.40), ("iban", 0.15), ("name", 0.20), ("amount", 0.15), ("nothing", 0.10))
THIRD_PARTIES = ("FIDUCIARIA LOMBARDA SPA", "STUDIO ASSOCIATO ROTA E PESENTI",
                 "BANCA DI CREDITO COOPERATIVO - CONTO TERZI", "FACTORIT SPA",
                 "CONSORZIO ARTIGIANI BERGAMASCHI", None)
STRANGERS = ("ASSICURAZIONI OROBIE SPA", "AGENZIA DELLE ENTRATE RIMBORSI",
             "GESTORE SERVIZI ENERGETICI GSE SPA", "INPS - SEDE DI BERGAMO",
             "CONDOMINIO VIA TASSO 12", "NOLEGGI ALPINI SRL")
STRANGER_TEXTS = ("RIMBORSO SINISTRO N. 88213", "RIMBORSO IVA ANNO 2025", "CONGUAGLIO TARIFFA",
                  "STORNO PAGAMENTO DOPPIO", "RESTITUZIONE DEPOSITO CAUZIONALE", "")
PLAIN_TEXTS = ("BONIFICO A VOSTRO FAVORE", "PAGAMENTO FORNITURE", "ACCONTO", "SALDO POSIZIONE",
               "PAGAMENTO COME DA ACCORDI", "")

# --- IBANs ---------------------------------------------------------------------------------

_CIN_ODD = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25,
            24, 23)


def _value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A")


def italian_iban(abi: int, cab: int, account: int) -> str:
    """A valid Italian IBAN: its CIN letter and its two check digits computed."""
    bban = f"{abi:05d}{cab:05d}{account:012d}"
    cin = chr(ord("A") + sum(_CIN_ODD[_value(c)] if at % 2 == 0 else _value(c)
                             for at, c in enumerate(bban)) % 26)
    body = cin + bban
    numeric = "".join(str(int(c, 36)) for c in body + "IT00")
    return f"IT{98 - int(numeric) % 97:02d}{body}"


# --- the casebook --------------------------------------------------------------------------


def add_ibans(root: Path, rng: random.Random) -> dict[str, str]:
    """Give one case in IBAN_SHARE a `debtor.iban` (inserted under its name); by case id."""
    given: dict[str, str] = {}
    for path in sorted((root / "cases").rglob("*.md")):
        if rng.randrange(IBAN_SHARE):
            continue
        text = path.read_text("utf-8")
        head, sep, rest = text.partition("\n  name: ")
        line_end = rest.index("\n")
        iban = italian_iban(rng.choice((3069, 5034, 8899, 2008, 5696, 3062)),
                            rng.randint(10000, 99999), len(given) * 7919 + 100_003)
        path.write_text(head + sep + rest[:line_end] + f"\n  iban: {iban}" + rest[line_end:],
                        "utf-8")
        case_id = path.relative_to(root / "cases").with_suffix("").as_posix()
        given[case_id] = iban
    return given


def bank_name(name: str, rng: random.Random) -> str:
    """The debtor's name as a bank prints it."""
    upper = name.upper()
    if rng.random() < 0.5:
        upper = (upper.replace("S.R.L.S.", "SRLS").replace("S.R.L.", "SRL")
                 .replace("S.P.A.", "SPA").replace("S.N.C.", "SNC").replace("S.A.S.", "SAS"))
    return upper


def invoice_text(number: str, rng: random.Random) -> str:
    year, _, serial = number.partition("/")
    n = int(serial)
    return rng.choice((
        f"SALDO FT {n}/{year}",
        f"fattura n. {year}/{n}",
        f"RIF. FT. {year}-{serial}",
        f"Bonifico fatt. {n} del {year}",
        f"PAGAMENTO FATTURA {number}",
        f"ACCONTO SU FT N.{n}/{year}",
    ))


def part_of(residual: Decimal, rng: random.Random) -> Decimal:
    """All of it, or (two times in five) a round part of it."""
    if rng.random() < 0.6 or residual < 200:
        return residual
    return Decimal(rng.randint(1, int(residual) // 100) * 100)


@dataclass(frozen=True)
class Entry:
    """One booked credit of the statement."""

    amount: Decimal
    text: str
    name: str | None
    iban: str | None
    earliest: date  # booked on or after this day: the statement's first, or the invoice's date


def build_credits(export: list[dict[str, Any]], ibans: dict[str, str], n: int,
                  rng: random.Random) -> tuple[list[Entry], dict[str, int]]:
    """The credits and how many of each kind. No invoice is paid more
    than its residual; an "amount" credit pays the whole residual of an invoice no other credit
    touches (else it could not equal an open amount of the casebook)."""
    left: dict[tuple[str, str], Decimal] = {}
    issued: dict[tuple[str, str], date] = {}
    debtor: dict[str, str] = {}
    for row in export:
        if row["status"] == "closed":
            continue
        debtor[row["case"]] = row["debtor"]
        for inv in row["invoices"]:
            if Decimal(inv["residual"]) > 0:
                left[(row["case"], inv["number"])] = Decimal(inv["residual"])
                issued[(row["case"], inv["number"])] = date.fromisoformat(inv["date"])
    untouched = set(left)
    pools = {"number": list(left), "amount": list(left),
             "iban": [k for k in left if k[0] in ibans],
             "name": [k for k in left if k[0] not in ibans]}

    def pick(kind: str) -> tuple[str, str] | None:
        pool = pools[kind]
        for _ in range(200):
            if not pool:
                return None
            key = rng.choice(pool)
            if left[key] > 0 and (kind != "amount" or key in untouched):
                return key
        return None

    kinds = rng.choices([k for k, _ in MIX], [w for _, w in MIX], k=n)
    credits = []
    for at, kind in enumerate(kinds):
        key = pick(kind) if kind != "nothing" else None
        if key is None:
            kinds[at] = "nothing"
            amount = Decimal(rng.randint(1000, 250_000)) / 100
            credits.append(Entry(amount, rng.choice(STRANGER_TEXTS), rng.choice(STRANGERS),
                                 None, FIRST_BOOKING))
            continue
        case, number = key
        amount = left[key] if kind == "amount" else part_of(left[key], rng)
        left[key] -= amount
        untouched.discard(key)
        name: str | None = bank_name(debtor[case], rng)
        iban = None
        text = rng.choice(PLAIN_TEXTS)
        if kind == "number":
            text = invoice_text(number, rng)
            name = name if rng.random() < 0.7 else None
        elif kind == "iban":
            iban = ibans[case]
        elif kind == "amount":
            name = rng.choice(THIRD_PARTIES)
        credits.append(Entry(amount, text, name, iban, max(FIRST_BOOKING, issued[key])))
    counts = {k: kinds.count(k) for k, _ in MIX}
    return credits, counts


def statement(credits: list[Entry], rng: random.Random) -> str:
    """A camt.053.001.02 statement: the credits in booking-date order (none booked before
    the invoice it pays was issued), a debit every 50."""
    booked = sorted(((credit.earliest + timedelta(days=rng.randint(
        0, max(0, (LAST_BOOKING - credit.earliest).days))), at)
        for at, credit in enumerate(credits)))
    entries = []
    for k, (day, at) in enumerate(booked):
        credit = credits[at]
        ref = f"{day:%Y%m%d}{k + 1:08d}"
        party = ""
        if credit.name or credit.iban:
            nm = f"<Dbtr><Nm>{escape(credit.name)}</Nm></Dbtr>" if credit.name else ""
            acct = (f"<DbtrAcct><Id><IBAN>{credit.iban}</IBAN></Id></DbtrAcct>"
                    if credit.iban else "")
            party = f"\n            <RltdPties>{nm}{acct}</RltdPties>"
        remittance = (f"\n            <RmtInf><Ustrd>{escape(credit.text)}</Ustrd></RmtInf>"
                      if credit.text else "")
        entries.append(f"""      <Ntry>
        <NtryRef>{k + 1}</NtryRef>
        <Amt Ccy="EUR">{credit.amount:.2f}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>{day.isoformat()}</Dt></BookgDt>
        <ValDt><Dt>{day.isoformat()}</Dt></ValDt>
        <AcctSvcrRef>{ref}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs><EndToEndId>E2E{ref}</EndToEndId></Refs>{party}{remittance}
          </TxDtls>
        </NtryDtls>
        <AddtlNtryInf>BONIFICO SEPA A VOSTRO FAVORE</AddtlNtryInf>
      </Ntry>""")
        if k % 50 == 49:
            entries.append(f"""      <Ntry>
        <NtryRef>D{k + 1}</NtryRef>
        <Amt Ccy="EUR">{rng.randint(500, 90_000) / 100:.2f}</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>{day.isoformat()}</Dt></BookgDt>
        <AcctSvcrRef>D{ref}</AcctSvcrRef>
        <AddtlNtryInf>ADDEBITO SDD FORNITURA</AddtlNtryInf>
      </Ntry>""")
    body = "\n".join(entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>BENCH-{TODAY}</MsgId><CreDtTm>{TODAY}T21:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>BENCH-{TODAY}-1</Id>
      <CreDtTm>{TODAY}T21:00:00</CreDtTm>
      <FrToDt><FrDtTm>{FIRST_BOOKING}T00:00:00</FrDtTm><ToDtTm>{TODAY}T23:59:59</ToDtTm></FrToDt>
      <Acct><Id><IBAN>{CREDITOR_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>
{body}
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


# --- timing --------------------------------------------------------------------------------


def counts(r: Run) -> tuple[int, int, int, int]:
    found = [m for line in r.out.splitlines() if (m := SUMMARY.match(line.strip()))]
    if not found:
        raise Failed("the import printed no 'N payments matched to M cases, …' line:\n  "
                     + "\n  ".join(r.out.splitlines()[-5:]))
    matched, cases, unmatched, already = map(int, found[-1].groups())
    return matched, cases, unmatched, already


def said(r: Run) -> str:
    return next(line.strip() for line in r.out.splitlines() if SUMMARY.match(line.strip()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", "-n", type=int, default=10_000,
                        help="cases in the casebook (default 10000)")
    parser.add_argument("--credits", type=int, default=5000,
                        help="booked credits in the statement (default 5000)")
    parser.add_argument("--repeat", "--runs", type=int, default=3,
                        help="timed runs of each measurement (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--casebook", type=Path,
                        default=Path(sys.executable).with_name("casebook"),
                        help="the casebook executable (default: beside this Python)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.cases < 10 or args.credits < 1 or args.repeat < 1:
        parser.error("--cases must be at least 10, --credits and --repeat at least 1")
    exe = str(args.casebook)
    if not Path(exe).exists():
        parser.error(f"{exe} not found (use --casebook)")

    work = Path(tempfile.mkdtemp(prefix="casebook-bench-bank-"))
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "xdg-cache")}
    env.pop("CASEBOOK_TODAY", None)
    rng = random.Random(args.seed)
    rows: list[tuple[str, list[float], list[float], float | None, str]] = []
    broken: list[str] = []  # what the second import changed, when it did
    try:
        base = work / "base"
        started = time.perf_counter()
        generate(base, args.cases, args.seed)
        ibans = add_ibans(base, rng)
        progress(f"generated {args.cases} cases ({len(ibans)} with debtor.iban) in "
                 f"{time.perf_counter() - started:.1f} s")
        checked(run([exe, "--today", TODAY, "validate"], base, env, args.timeout),
                "validate of the generated casebook")
        export = json.loads(checked(run([exe, "--today", TODAY, "export", "--format", "json"],
                                        base, env, args.timeout), "export").out)
        credits, kinds = build_credits(export, ibans, args.credits, rng)
        xml = statement(credits, rng)
        path = work / "statement.xml"
        path.write_text(xml, "utf-8")
        mix = ", ".join(f"{v} by {k}" for k, v in kinds.items())
        progress(f"statement: {args.credits} credits ({mix}), {args.credits // 50} debits, "
                 f"{len(xml) // 1024} KiB")
        importing = [exe, "--today", TODAY, "import", "bank", str(path)]

        def measure(label: str, cmd: list[str], fresh: str | None, warm_up: bool,
                    target: float | None) -> tuple[Run, Path]:
            times, rss = [], []
            book = base
            r = None
            for attempt in range(0 if warm_up else 1, args.repeat + 1):
                if fresh is not None:
                    book = work / f"{fresh}-{attempt}"
                    shutil.copytree(base, book, ignore=shutil.ignore_patterns(CACHE_DIR)
                                    if fresh == "cold" else None)
                r = checked(run(cmd, book, env, args.timeout), label)
                if attempt:
                    times.append(r.seconds)
                    rss.extend([r.rss_mib] if r.rss_mib else [])
                progress(f"{label}: {'warm-up' if not attempt else f'run {attempt}'} "
                         f"{r.seconds:.2f} s — {said(r)}")
            assert r is not None
            rows.append((label, times, rss, target, said(r)))
            return r, book

        dry, _ = measure("`import bank --dry-run`", [*importing, "--dry-run"], None, True, None)
        first, book = measure("`import bank` (fresh copy, with its cache)", importing, "warm",
                              True, TARGET)
        measure("`import bank` (fresh copy, no `.casebook-cache/`)", importing, "cold", False,
                TARGET)
        if counts(first)[:3] != counts(dry)[:3]:
            raise Failed(f"the dry run and the import disagree: {said(dry)!r} vs "
                         f"{said(first)!r}")
        before, files = digest(book)
        times, rss = [], []
        expected = counts(first)[0]
        for attempt in range(args.repeat + 1):
            r = checked(run(importing, book, env, args.timeout), "second import")
            after, _ = digest(book)
            matched, _cases, _unmatched, already = counts(r)
            if after != before or matched or already < expected:
                added = [line.strip() for line in r.out.splitlines()
                         if line.startswith(("cases/", "  + "))]
                broken.append(f"the second import (run {attempt}) changed the casebook "
                              f"({book}): digest {before[:16]} → {after[:16]}; it said "
                              f"{said(r)!r}:\n  " + "\n  ".join(added[:12]))
                before, expected = after, expected + matched
            if attempt:
                times.append(r.seconds)
                rss.extend([r.rss_mib] if r.rss_mib else [])
            changed = "CHANGED" if broken and broken[-1].startswith(
                f"the second import (run {attempt})") else "unchanged"
            progress(f"second import: {'warm-up' if not attempt else f'run {attempt}'} "
                     f"{r.seconds:.2f} s — {changed} ({files} files) — {said(r)}")
        rows.append(("`import bank` again (must add nothing)", times, rss, TARGET, said(r)))
    except Failed as failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            progress(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(f"casebook import bank: {args.cases} cases ({len(ibans)} with debtor.iban), a "
          f"camt.053.001.02 statement of {args.credits} booked credits "
          f"({', '.join(f'{v} {k}' for k, v in kinds.items())}) and {args.credits // 50} "
          f"debits; --today {TODAY}; {args.repeat} timed runs\n")
    print("| measurement | min s | median s | max s | peak MiB | target | last line |")
    print("|---|---:|---:|---:|---:|---|---|")
    for label, times, rss, target, line in rows:
        low, mid, high = stats(times)
        goal = f"≤ {target:g} s {'✓' if mid <= target else '✗'}" if target else ""
        peak = f"{max(rss):.0f}" if rss else "–"
        print(f"| {label} | {low:.2f} | {mid:.2f} | {high:.2f} | {peak} | {goal} | {line} |")
    if broken:
        print("\n**FAILED**: importing the same statement again must add nothing, and it did:")
        for why in broken:
            print(f"\n    {why}")
        print(f"\nFAILED: {len(broken)} run(s) of the second import changed the casebook",
              file=sys.stderr)
        return 1
    print(f"\nThe second import left every byte of the casebook unchanged ({files} files, "
          f"`{CACHE_DIR}/` not counted).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
