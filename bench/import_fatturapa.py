"""Time `casebook import fatturapa` on a folder of generated e-invoices.

    python bench/import_fatturapa.py [--invoices 1000] [--buyers 200] [--repeat 3] [--seed 1]

Writes N plain FatturaPA 1.2 (FPR12) e-invoices into a temporary folder: one invoice per file,
named like the files the SdI delivers (IT<seller VAT>_<5 characters>.xml), made out to about 200
different buyers whose VAT numbers have a correct check digit (valid for python-stdnum's
`stdnum.it.iva`; checked with it when it is installed), one in five payable on two due dates.
Then it makes an empty casebook with `casebook init` and times, as whole processes (spawn to
exit, `time.perf_counter`; peak RSS of the child from `os.wait4`):

  (a) `casebook --today 2026-12-04 import fatturapa <folder>` into the empty casebook, each run
      in a fresh copy of it (the copy is made before the clock starts);
  (b) the same import again into the casebook (a) filled: it must change nothing. A digest of
      every file of the casebook (but `.casebook-cache/`, which any command may refresh) is taken
      before and after each run; a single byte changed fails the benchmark.

Each measurement is one untimed warm-up run, then --repeat timed runs; min, median and max are
printed as a Markdown table with the targets, (a) <= 5 s and (b) <= 1 s, progress on stderr.
Copies are kept until the end (deleting thousands of files between runs makes the next run's
new files slow on some file systems, see bench/README.md). Every casebook child runs with
XDG_CACHE_HOME in the temporary folder. Exit status 1 when a command fails or (b) changed a byte.
Standard library only (python-stdnum, if present, only checks the generated VAT numbers).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from xml.sax.saxutils import escape

TODAY = "2026-12-04"
FIRST_DAY = date(2026, 1, 2)
LAST_DAY = date(2026, 12, 4)  # no invoice is dated after --today
CACHE_DIR = ".casebook-cache"
TARGET_FIRST = 5.0  # seconds, (a)
TARGET_AGAIN = 1.0  # seconds, (b)
HEAD_LINES = 8

SELLER = {"vat": "09876543210", "name": "Forniture Padane S.r.l.", "street": "Via Verdi",
          "number": "2", "cap": "20121", "town": "Milano", "province": "MI",
          "iban": "IT60X0542811101000000123456"}
SECTORS = (
    ("Costruzioni", "Fornitura cemento e laterizi", "sacchi", Decimal("6.40")),
    ("Impianti", "Cavo elettrico FG16OR16 3G2,5", "m", Decimal("1.85")),
    ("Termoidraulica", "Valvola termostatica con testa", "pz", Decimal("38.00")),
    ("Trasporti", "Servizio di trasporto merci, tratta a viaggio", "viaggi", Decimal("420.00")),
    ("Alimentari", "Farina di grano tenero tipo 00, sacchi da 25 kg", "sacchi", Decimal("14.50")),
    ("Arredamenti", "Pannello truciolare nobilitato 18 mm", "pz", Decimal("42.00")),
    ("Informatica", "Assistenza sistemistica, intervento orario", "ore", Decimal("55.00")),
    ("Meccanica", "Lavorazione CNC su disegno del cliente", "pz", Decimal("17.30")),
    ("Grafica", "Stampa cataloghi a colori, 48 pagine", "copie", Decimal("3.20")),
    ("Serramenti", "Profilo in alluminio a taglio termico", "m", Decimal("24.90")),
)
SURNAMES = ("Rossi", "Bianchi", "Colombo", "Ferrari", "Galli", "Locatelli", "Pesenti", "Rota",
            "Carminati", "Bonfanti", "Brivio", "Sala", "Moretti", "Ghisleni", "Previtali",
            "Manzoni", "Pagani", "Cattaneo", "Riva", "Zanchi", "Mazzoleni", "Valsecchi")
FORMS = ("S.r.l.", "S.r.l.", "S.p.A.", "S.n.c.", "S.a.s.", "S.r.l.s.")
TOWNS = (("Bergamo", "24121", "BG"), ("Brescia", "25121", "BS"), ("Milano", "20121", "MI"),
         ("Lecco", "23900", "LC"), ("Como", "22100", "CO"), ("Monza", "20900", "MB"),
         ("Treviglio", "24047", "BG"), ("Seriate", "24068", "BG"), ("Cremona", "26100", "CR"))
STREETS = ("Via Roma", "Via Garibaldi", "Via Mazzini", "Viale Europa", "Via dell'Industria",
           "Via dell'Artigianato", "Corso Italia", "Via Marconi", "Via Papa Giovanni XXIII")
BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CENT = Decimal("0.01")


# --- the e-invoices -----------------------------------------------------------------------


def luhn_digit(base: str) -> str:
    """The digit that makes `base` + digit pass the Luhn check (the Partita IVA's 11th)."""
    total = 0
    for at, char in enumerate(reversed(base)):
        value = int(char)
        if at % 2 == 0:  # doubled: these stand in even places once the digit is appended
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return str((10 - total % 10) % 10)


def partita_iva(rng: random.Random, taken: set[str]) -> str:
    """11 digits: a company number (not all zeros), an office code 001-100, the check digit."""
    while True:
        base = f"{rng.randint(1, 9_999_999):07d}{rng.randint(1, 100):03d}"
        number = base + luhn_digit(base)
        if number not in taken:
            taken.add(number)
            return number


@dataclass(frozen=True)
class Buyer:
    vat: str
    name: str
    street: str
    number: str
    cap: str
    town: str
    province: str
    pec: str | None
    sdi: str
    sector: int


def make_buyers(rng: random.Random, n: int) -> list[Buyer]:
    taken: set[str] = set()
    buyers = []
    for _ in range(n):
        sector = rng.randrange(len(SECTORS))
        name = f"{rng.choice(SURNAMES)} {SECTORS[sector][0]} {rng.choice(FORMS)}"
        town, cap, province = rng.choice(TOWNS)
        slug = re.sub(r"[^a-z]", "", name.split(" S.")[0].lower())
        by_pec = rng.random() < 0.5
        buyers.append(Buyer(
            vat=partita_iva(rng, taken), name=name, street=rng.choice(STREETS),
            number=str(rng.randint(1, 150)), cap=cap, town=town, province=province,
            pec=f"{slug}@pec.example.it" if by_pec else None,
            sdi="0000000" if by_pec else "".join(rng.choice(BASE36[10:] + "0123456789")
                                                   for _ in range(7)),
            sector=sector))
    return buyers


def check_vats(buyers: list[Buyer]) -> str:
    """What python-stdnum says of the VAT numbers, when it is installed."""
    try:
        import stdnum.it.iva as iva
    except ImportError:
        return "python-stdnum not installed: VAT numbers not cross-checked"
    bad = [b.vat for b in buyers if not iva.is_valid(b.vat)]
    if bad:
        raise SystemExit(f"generated VAT numbers that stdnum.it.iva refuses: {bad[:5]}")
    return f"{len(buyers)} buyer VAT numbers valid for stdnum.it.iva"


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, ROUND_HALF_UP))


def progressive(k: int) -> str:
    """The 5 characters after the underscore of an SdI file name, from a counter."""
    chars = []
    for _ in range(5):
        k, digit = divmod(k, 36)
        chars.append(BASE36[digit])
    return "".join(reversed(chars))


def _party(vat: str, name: str, street: str, number: str, cap: str, town: str,
           province: str) -> str:
    return f"""<DatiAnagrafici>
        <IdFiscaleIVA>
          <IdPaese>IT</IdPaese>
          <IdCodice>{vat}</IdCodice>
        </IdFiscaleIVA>
        <CodiceFiscale>{vat}</CodiceFiscale>
        <Anagrafica>
          <Denominazione>{escape(name)}</Denominazione>
        </Anagrafica>{{regime}}
      </DatiAnagrafici>
      <Sede>
        <Indirizzo>{escape(street)}</Indirizzo>
        <NumeroCivico>{number}</NumeroCivico>
        <CAP>{cap}</CAP>
        <Comune>{escape(town)}</Comune>
        <Provincia>{province}</Provincia>
        <Nazione>IT</Nazione>
      </Sede>"""


def einvoice(rng: random.Random, k: int, buyer: Buyer, issued: date) -> tuple[str, str]:
    """(file name, XML) of the k-th e-invoice."""
    code = progressive(k + 1)
    number = f"{issued.year}/{k + 1:05d}"
    what, unit, price = SECTORS[buyer.sector][1:]
    lines, net = [], Decimal(0)
    for n in range(1, rng.randint(1, 4) + 1):
        quantity = Decimal(rng.randint(1, 120))
        unit_price = (price * Decimal(rng.randint(80, 125)) / 100).quantize(CENT)
        total = (quantity * unit_price).quantize(CENT)
        net += total
        lines.append(f"""      <DettaglioLinee>
        <NumeroLinea>{n}</NumeroLinea>
        <Descrizione>{escape(what)}{f", lotto {n}" if n > 1 else ""}</Descrizione>
        <Quantita>{quantity}.00</Quantita>
        <UnitaMisura>{unit}</UnitaMisura>
        <PrezzoUnitario>{unit_price}</PrezzoUnitario>
        <PrezzoTotale>{total}</PrezzoTotale>
        <AliquotaIVA>22.00</AliquotaIVA>
      </DettaglioLinee>""")
    vat = (net * Decimal("0.22")).quantize(CENT, ROUND_HALF_UP)
    gross = net + vat
    terms = rng.choice((30, 30, 60, 60, 90))
    if rng.random() < 0.2:  # two due dates: half now, the rest a month later
        first = (gross / 2).quantize(CENT)
        parts = [(issued + timedelta(days=terms), first),
                 (issued + timedelta(days=terms + 30), gross - first)]
        condition = "TP01"
    else:
        parts = [(issued + timedelta(days=terms), gross)]
        condition = "TP02"
    payments = "\n".join(f"""      <DettaglioPagamento>
        <ModalitaPagamento>MP05</ModalitaPagamento>
        <DataScadenzaPagamento>{due.isoformat()}</DataScadenzaPagamento>
        <ImportoPagamento>{money(amount)}</ImportoPagamento>
        <IBAN>{SELLER["iban"]}</IBAN>
      </DettaglioPagamento>""" for due, amount in parts)
    pec = f"\n      <PECDestinatario>{buyer.pec}</PECDestinatario>" if buyer.pec else ""
    seller = _party(SELLER["vat"], SELLER["name"], SELLER["street"], SELLER["number"],
                    SELLER["cap"], SELLER["town"], SELLER["province"]).replace(
        "{regime}", "\n        <RegimeFiscale>RF01</RegimeFiscale>")
    client = _party(buyer.vat, buyer.name, buyer.street, buyer.number, buyer.cap, buyer.town,
                    buyer.province).replace("{regime}", "")
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<p:FatturaElettronica versione="FPR12" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    xmlns:p="http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <FatturaElettronicaHeader>
    <DatiTrasmissione>
      <IdTrasmittente>
        <IdPaese>IT</IdPaese>
        <IdCodice>{SELLER["vat"]}</IdCodice>
      </IdTrasmittente>
      <ProgressivoInvio>{code}</ProgressivoInvio>
      <FormatoTrasmissione>FPR12</FormatoTrasmissione>
      <CodiceDestinatario>{buyer.sdi}</CodiceDestinatario>{pec}
    </DatiTrasmissione>
    <CedentePrestatore>
      {seller}
    </CedentePrestatore>
    <CessionarioCommittente>
      {client}
    </CessionarioCommittente>
  </FatturaElettronicaHeader>
  <FatturaElettronicaBody>
    <DatiGenerali>
      <DatiGeneraliDocumento>
        <TipoDocumento>TD01</TipoDocumento>
        <Divisa>EUR</Divisa>
        <Data>{issued.isoformat()}</Data>
        <Numero>{number}</Numero>
        <ImportoTotaleDocumento>{money(gross)}</ImportoTotaleDocumento>
      </DatiGeneraliDocumento>
    </DatiGenerali>
    <DatiBeniServizi>
{chr(10).join(lines)}
      <DatiRiepilogo>
        <AliquotaIVA>22.00</AliquotaIVA>
        <ImponibileImporto>{money(net)}</ImponibileImporto>
        <Imposta>{money(vat)}</Imposta>
        <EsigibilitaIVA>I</EsigibilitaIVA>
      </DatiRiepilogo>
    </DatiBeniServizi>
    <DatiPagamento>
      <CondizioniPagamento>{condition}</CondizioniPagamento>
{payments}
    </DatiPagamento>
  </FatturaElettronicaBody>
</p:FatturaElettronica>
"""
    return f"IT{SELLER['vat']}_{code}.xml", xml


def write_einvoices(folder: Path, n: int, buyers_n: int, seed: int) -> tuple[int, int, str]:
    """N e-invoices in `folder`, in date order; (buyers used, files with two due dates, what
    stdnum said)."""
    rng = random.Random(seed)
    buyers = make_buyers(rng, buyers_n)
    said = check_vats(buyers)
    folder.mkdir(parents=True, exist_ok=True)
    span = (LAST_DAY - FIRST_DAY).days
    days = sorted(FIRST_DAY + timedelta(days=rng.randint(0, span)) for _ in range(n))
    used, split = set(), 0
    for k, issued in enumerate(days):
        buyer = buyers[k % buyers_n] if k < buyers_n else rng.choice(buyers)
        used.add(buyer.vat)
        name, xml = einvoice(rng, k, buyer, issued)
        split += xml.count("<DettaglioPagamento>") > 1
        (folder / name).write_text(xml, encoding="utf-8")
    return len(used), split, said


# --- running and timing -------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    rss_mib: float | None
    code: int
    out: str
    err: str


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> Run:
    """One child, spawn to exit; its output is read from files after it ends."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err)
        rss = None
        try:
            if hasattr(os, "wait4"):
                _pid, status, usage = os.wait4(proc.pid, 0)
                seconds = time.perf_counter() - start
                proc.returncode = os.waitstatus_to_exitcode(status)
                rss = usage.ru_maxrss / 1024
            else:
                proc.wait(timeout)
                seconds = time.perf_counter() - start
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        out.seek(0)
        err.seek(0)
        return Run(seconds, rss, proc.returncode, out.read().decode("utf-8", "replace"),
                   err.read().decode("utf-8", "replace"))


def digest(root: Path) -> tuple[str, int]:
    """SHA-256 over every file's path and bytes (but the cache), and the number of files."""
    h = hashlib.sha256()
    files = sorted(p for p in root.rglob("*")
                   if p.is_file() and CACHE_DIR not in p.relative_to(root).parts)
    for path in files:
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest(), len(files)


class Failed(Exception):
    pass


def checked(r: Run, what: str) -> Run:
    if r.code != 0:
        text = (r.err.strip() or r.out.strip()).splitlines()
        raise Failed(f"{what} exited with {r.code}:\n  " + "\n  ".join(text[-HEAD_LINES:]))
    return r


def last_line(r: Run) -> str:
    lines = [line for line in r.out.splitlines() if line.strip()]
    summary = [line for line in lines if line.startswith(("added ", "would add "))]
    return summary[-1] if summary else (lines[-1] if lines else "")


def stats(times: list[float]) -> tuple[float, float, float]:
    return min(times), statistics.median(times), max(times)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", "-n", type=int, default=1000,
                        help="number of e-invoices (default 1000)")
    parser.add_argument("--buyers", type=int, default=200, help="different buyers (default 200)")
    parser.add_argument("--repeat", "--runs", type=int, default=3,
                        help="timed runs of each measurement (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--casebook", type=Path,
                        default=Path(sys.executable).with_name("casebook"),
                        help="the casebook executable (default: beside this Python)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.invoices < 1 or args.buyers < 1 or args.repeat < 1:
        parser.error("--invoices, --buyers and --repeat must be at least 1")
    exe = str(args.casebook)
    if not Path(exe).exists():
        parser.error(f"{exe} not found (use --casebook)")

    work = Path(tempfile.mkdtemp(prefix="casebook-bench-fatturapa-"))
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "xdg-cache")}
    env.pop("CASEBOOK_TODAY", None)
    try:
        folder = work / "einvoices"
        started = time.perf_counter()
        buyers, split, said = write_einvoices(folder, args.invoices, args.buyers, args.seed)
        progress(f"wrote {args.invoices} e-invoices for {buyers} buyers ({split} with two due "
                 f"dates) in {time.perf_counter() - started:.1f} s; {said}")
        empty = work / "empty"
        checked(run([exe, "--today", TODAY, "init", str(empty)], work, env, args.timeout),
                "casebook init")
        importing = [exe, "--today", TODAY, "import", "fatturapa", str(folder)]

        first: list[float] = []
        rss_first: list[float] = []
        book = empty
        for attempt in range(args.repeat + 1):  # the first is the untimed warm-up
            book = work / f"run-{attempt}"
            shutil.copytree(empty, book)
            r = checked(run(importing, book, env, args.timeout), "import fatturapa (a)")
            summary = last_line(r)
            want = f"added {args.invoices} invoices"
            if not summary.startswith(want) or f"({buyers} new)" not in summary:
                raise Failed(f"import (a) did not add what was expected ({want}, {buyers} new "
                             f"cases): {summary!r}")
            if attempt:
                first.append(r.seconds)
                rss_first.extend([r.rss_mib] if r.rss_mib else [])
            progress(f"(a) {'warm-up' if not attempt else f'run {attempt}'}: "
                     f"{r.seconds:.2f} s — {summary}")
        summary_first = summary

        again: list[float] = []
        rss_again: list[float] = []
        before, files = digest(book)
        for attempt in range(args.repeat + 1):
            r = checked(run(importing, book, env, args.timeout), "import fatturapa (b)")
            after, _ = digest(book)
            summary = last_line(r)
            if after != before:
                raise Failed(f"the second import changed the casebook ({book}): its digest "
                             f"went from {before[:16]} to {after[:16]}; the import said: "
                             f"{summary!r}")
            if not summary.startswith("added 0 invoices and 0 credit notes to 0 cases"):
                raise Failed(f"the second import reports additions: {summary!r}")
            if attempt:
                again.append(r.seconds)
                rss_again.extend([r.rss_mib] if r.rss_mib else [])
            progress(f"(b) {'warm-up' if not attempt else f'run {attempt}'}: "
                     f"{r.seconds:.2f} s — unchanged ({files} files) — {summary}")
    except Failed as failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            progress(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    rows = [(f"(a) `import fatturapa` {args.invoices} files, empty casebook", first, rss_first,
             TARGET_FIRST),
            ("(b) the same import again (changes nothing)", again, rss_again, TARGET_AGAIN)]
    print(f"casebook import fatturapa: {args.invoices} e-invoices (FPR12), {buyers} buyers, "
          f"{split} with two due dates; --today {TODAY}; {args.repeat} timed runs after a "
          f"warm-up\n")
    print("| measurement | min s | median s | max s | peak MiB | target |")
    print("|---|---:|---:|---:|---:|---|")
    for label, times, rss, target in rows:
        low, mid, high = stats(times)
        mark = "✓" if mid <= target else "✗"
        peak = f"{max(rss):.0f}" if rss else "–"
        print(f"| {label} | {low:.2f} | {mid:.2f} | {high:.2f} | {peak} | ≤ {target:g} s "
              f"{mark} |")
    print(f"\n(a) said: {summary_first}")
    print(f"(b) left every byte of the casebook unchanged ({files} files, `{CACHE_DIR}/` "
          "not counted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
