"""Generate a large, realistic, valid casebook for benchmarks.

    python bench/generate.py DIR --cases N [--seed S]

Writes DIR/casebook.yml (an Italian creditor, the shipped default policy) and N case files
under DIR/cases/NNNN/ (at most FOLDER_SIZE files per sub-folder). The output depends only on
N and the seed. Every fact (invoice and payment dates, log entries, promises made, plans agreed,
disputes, closings) is dated on or before LAST_DAY; due dates, promised dates and instalments
may lie later, but never after 2026-12-31. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from datetime import date, timedelta
from pathlib import Path

FOLDER_SIZE = 500
FIRST_DAY = date(2025, 1, 2)
LAST_DAY = date(2026, 11, 20)  # the benchmark's --today: nothing is dated after it
END_OF_HORIZON = date(2026, 12, 31)  # due dates, promised dates, instalments, holds

STEPS = ("reminder", "written-reminder", "final-notice", "formal-notice", "legal")
STEP_CHANNELS = {
    "reminder": ("phone", "phone", "email"),
    "written-reminder": ("email",),
    "final-notice": ("email", "pec"),
    "formal-notice": ("pec",),
    "legal": ("pec", "note"),
}
STEP_TITLES = {
    "reminder": ("primo sollecito", "sollecito telefonico", "promemoria scadenza"),
    "written-reminder": ("sollecito scritto", "secondo sollecito", "sollecito con estratto conto"),
    "final-notice": ("ultimo avviso", "avviso finale prima della diffida"),
    "formal-notice": ("diffida ad adempiere", "costituzione in mora", "messa in mora via PEC"),
    "legal": ("pratica passata al legale", "incarico all'avvocato", "dossier per il legale"),
}

FIRST_NAMES = (
    "Maria", "Giulia", "Francesca", "Sara", "Chiara", "Laura", "Elena", "Alessandra", "Paola",
    "Anna", "Federica", "Silvia", "Marco", "Luca", "Andrea", "Giuseppe", "Paolo", "Francesco",
    "Alessandro", "Stefano", "Matteo", "Davide", "Roberto", "Simone", "Giovanni", "Antonio",
)
SURNAMES = (
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
    "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo",
    "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso",
    "Ferrara", "Galli", "Martini", "Leone", "Longo", "Gentile", "Martinelli", "Vitale",
    "Lombardo", "Serra", "Coppola", "De Santis", "D'Angelo", "Marchetti", "Parisi", "Villa",
    "Conte", "Ferraro", "Ferri", "Fabbri", "Bianco", "Marini", "Grasso", "Valentini", "Messina",
    "Sala", "De Angelis", "Gatti", "Pellegrini", "Palumbo", "Sanna", "Farina", "Rizzi", "Monti",
)
SECTORS = (
    ("Costruzioni", "edilizia", "materiali edili"),
    ("Edilizia", "edilizia", "fornitura cemento e laterizi"),
    ("Impianti", "impianti", "impianto elettrico"),
    ("Termoidraulica", "impianti", "caldaia e manutenzione"),
    ("Trasporti", "logistica", "servizio di trasporto"),
    ("Logistica", "logistica", "magazzinaggio"),
    ("Alimentari", "alimentare", "fornitura prodotti alimentari"),
    ("Ristorazione", "horeca", "fornitura bevande"),
    ("Arredamenti", "arredo", "mobili su misura"),
    ("Informatica", "it", "licenze software e assistenza"),
    ("Consulting", "servizi", "consulenza organizzativa"),
    ("Meccanica", "meccanica", "lavorazioni meccaniche"),
    ("Tessile", "tessile", "tessuti e filati"),
    ("Grafica", "servizi", "stampa cataloghi"),
    ("Agricola", "agricoltura", "sementi e concimi"),
    ("Serramenti", "edilizia", "serramenti in alluminio"),
)
FORMS = ("S.r.l.", "S.r.l.", "S.r.l.", "S.p.A.", "S.n.c.", "S.a.s.", "S.r.l.s.", "Soc. Coop.")
CITIES = (
    ("Milano", "20121", "MI", "02", "lombardia"), ("Bergamo", "24121", "BG", "035", "lombardia"),
    ("Brescia", "25121", "BS", "030", "lombardia"), ("Monza", "20900", "MB", "039", "lombardia"),
    ("Como", "22100", "CO", "031", "lombardia"), ("Treviglio", "24047", "BG", "0363", "lombardia"),
    ("Torino", "10121", "TO", "011", "piemonte"), ("Novara", "28100", "NO", "0321", "piemonte"),
    ("Genova", "16121", "GE", "010", "liguria"), ("Verona", "37121", "VR", "045", "veneto"),
    ("Padova", "35121", "PD", "049", "veneto"), ("Treviso", "31100", "TV", "0422", "veneto"),
    ("Bologna", "40121", "BO", "051", "emilia-romagna"),
    ("Modena", "41121", "MO", "059", "emilia-romagna"),
    ("Parma", "43121", "PR", "0521", "emilia-romagna"),
    ("Firenze", "50122", "FI", "055", "toscana"), ("Prato", "59100", "PO", "0574", "toscana"),
    ("Roma", "00184", "RM", "06", "lazio"), ("Latina", "04100", "LT", "0773", "lazio"),
    ("Napoli", "80133", "NA", "081", "campania"), ("Salerno", "84121", "SA", "089", "campania"),
    ("Bari", "70121", "BA", "080", "puglia"), ("Lecce", "73100", "LE", "0832", "puglia"),
    ("Palermo", "90133", "PA", "091", "sicilia"), ("Catania", "95131", "CT", "095", "sicilia"),
    ("Cagliari", "09124", "CA", "070", "sardegna"), ("Ancona", "60121", "AN", "071", "marche"),
    ("Perugia", "06121", "PG", "075", "umbria"), ("Trento", "38122", "TN", "0461", "trentino"),
    ("Udine", "33100", "UD", "0432", "friuli"),
)
STREETS = (
    "Via Roma", "Via Garibaldi", "Via Mazzini", "Via Cavour", "Corso Italia", "Via Verdi",
    "Viale Europa", "Via Dante", "Piazza della Repubblica", "Via Manzoni", "Via XX Settembre",
    "Via Marconi", "Via Matteotti", "Corso Vittorio Emanuele", "Via dell'Industria",
    "Via dell'Artigianato", "Via Leonardo da Vinci", "Viale Lombardia", "Via San Francesco",
)
ROLES = (
    "ufficio amministrazione", "contabilità fornitori", "titolare", "amministratore delegato",
    "responsabile acquisti", "ufficio pagamenti",
)
OWNERS = ("luca", "giulia", "marco", "sara", "paolo")
METHODS = ("bonifico", "bonifico bancario", "Ri.Ba.", "assegno", "contanti", "carta di credito")
DOMAINS = ("example.it", "example.com", "example.net", "example.org")

DISPUTE_REASONS = (
    "merce arrivata danneggiata", "quantità diverse dall'ordine", "lavori non completati",
    "fattura contestata: prezzo non concordato", "consegna in ritardo",
    "manca il documento di trasporto", "servizio non conforme al contratto",
)
HOLD_REASONS = (
    "il titolare ha chiesto di attendere", "in attesa del pagamento del cliente finale",
    "trattativa commerciale in corso", "azienda in procedura di composizione negoziata",
)
CLOSED_REASONS_PAID = ("saldato", "pagato per intero", "saldo ricevuto")
CLOSED_REASONS_OTHER = (
    "credito stralciato", "transazione a saldo e stralcio", "ceduto a società di recupero",
    "passato al legale",
)
FREE_NOTES = (
    "Cliente dal {year}. Di solito paga con 30-40 giorni di ritardo ma alla fine paga.",
    "Referente: {contact}. Preferisce essere contattato la mattina.",
    "Attenzione: ha cambiato sede legale nel {year}, usare l'indirizzo PEC aggiornato.",
    "Rapporto commerciale storico, evitare toni aggressivi nei solleciti.",
    "Ha già avuto ritardi in passato, chiedere sempre conferma scritta degli accordi.",
    "Fido interno ridotto dopo gli insoluti dell'anno scorso.",
)
# Note lines for the contact log; {c} contact, {inv} invoice, {amt} amount, {d} a date.
NOTE_PHONE = (
    "Parlato con {c}: dice che la fattura {inv} è in pagamento.",
    "{c} non risponde, lasciato messaggio in segreteria chiedendo di essere richiamati.",
    "{c} conferma di aver ricevuto la fattura {inv} ma chiede qualche giorno.",
    "Telefonata cordiale, il cliente segnala problemi di liquidità per il calo degli ordini.",
    "Richiamato dopo due tentativi a vuoto; promette di verificare con la banca.",
    "{c} chiede copia della fattura e l'IBAN aggiornato.",
)
NOTE_EMAIL = (
    "Inviato estratto conto con le fatture aperte per {amt}.",
    "Mandata copia della fattura {inv} e dell'IBAN.",
    "Risposta di {c}: il pagamento è previsto per il {d}.",
    "Nessuna risposta alla mail precedente, inviato nuovo sollecito con le fatture in allegato.",
    "Allegato il documento di trasporto firmato alla consegna.",
)
NOTE_PEC = (
    "Inviata diffida ad adempiere via PEC, termine 15 giorni per il pagamento di {amt}.",
    "Ricevuta di consegna PEC archiviata nella cartella del cliente.",
    "Costituzione in mora ai sensi dell'art. 1219 c.c. per la fattura {inv}.",
    "Indicati anche gli interessi di mora ex D.Lgs. 231/2002.",
)
NOTE_INTERNAL = (
    "Verificato in contabilità: nessun pagamento ricevuto al {d}.",
    "Controllato l'estratto conto bancario, bonifico non ancora arrivato.",
    "Sentito il commerciale: il cliente ha ancora ordini aperti con noi.",
    "Bloccate le nuove forniture fino al rientro dello scaduto di {amt}.",
    "Preparato il dossier con fatture, DDT e corrispondenza.",
    "Da ricontrollare la settimana prossima insieme all'ufficio amministrazione.",
)
NOTE_EXTRA = (
    "Totale scaduto ad oggi {amt}, comprese le fatture non ancora contestate.",
    "Ricordato che dopo la scadenza maturano gli interessi di mora previsti dalla legge.",
    "Prossimo contatto previsto entro una settimana, se nel frattempo non arriva il bonifico.",
    "Annotato tutto anche nel gestionale e avvisato il commerciale di zona.",
    "Il cliente chiede di non essere chiamato al cellulare ma al numero dell'ufficio.",
    "Da valutare la sospensione delle forniture finché la posizione non torna in regola.",
    "Secondo {c} il ritardo dipende da un cliente importante che non ha ancora pagato loro.",
    "Ribadito che la fattura {inv} è scaduta da tempo e non è mai stata contestata.",
    "Chiesto di indicare una data certa di pagamento e di confermarla per iscritto.",
    "Inviate di nuovo le coordinate bancarie: IBAN sul conto principale, causale con il "
    "numero di fattura.",
    "Il cliente propone di pagare a rate; risposto che valutiamo solo un piano scritto.",
    "Verificare a fine mese se il pagamento è arrivato, poi decidere il passo successivo.",
)

_SLUG_RE = re.compile(r"[^a-z0-9]+")
_PLAIN_RE = re.compile(r"[A-Za-z][A-Za-z0-9 .,'()/+-]*\Z")
_YAML_WORDS = frozenset(("y", "n", "yes", "no", "on", "off", "true", "false", "null"))


def slugify(text: str) -> str:
    return _SLUG_RE.sub("-", text.lower()).strip("-")


def q(text: str) -> str:
    """A YAML scalar for `text`: plain when that is safe, else a double-quoted string."""
    if _PLAIN_RE.match(text) and text.lower() not in _YAML_WORDS and not text.endswith(" "):
        return text
    return json.dumps(text, ensure_ascii=False)


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def money_it(cents: int) -> str:
    euros = f"{cents // 100:,}".replace(",", ".")
    return f"{euros},{cents % 100:02d} €"


def date_it(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


class _Generator:
    """One pass over the cases; holds the random stream and the invoice counters."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.counters: dict[int, int] = {}

    def day_between(self, start: date, end: date) -> date:
        a, b = start.toordinal(), end.toordinal()
        if b <= a:  # an empty range: the earlier bound, so LAST_DAY is never passed
            return date.fromordinal(b)
        return date.fromordinal(self.rng.randint(a, b))

    def invoice_number(self, year: int) -> str:
        n = self.counters.get(year, 0) + 1
        self.counters[year] = n
        return f"{year}/{n:05d}"

    def case(self, index: int) -> tuple[str, str]:
        """(relative path under cases/, file text) of case number `index` (0-based)."""
        rng = self.rng
        r = rng.random()
        kind = "business" if r < 0.80 else ("consumer" if r < 0.97 else "public")
        city, cap, prov, area, region = rng.choice(CITIES)
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        person = f"{first} {last}"
        tags: list[str] = []
        if kind == "business":
            sector, sector_tag, goods = rng.choice(SECTORS)
            owner_name = rng.choice(SURNAMES)
            name = (
                f"{owner_name} {sector} {rng.choice(FORMS)}"
                if rng.random() < 0.7
                else f"{sector} {rng.choice(SURNAMES)} & {owner_name} {rng.choice(FORMS)}"
            )
            tags.append(sector_tag)
        elif kind == "consumer":
            sector, goods = "", rng.choice(SECTORS)[2]
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
            person = name
            tags.append("privati")
        else:
            sector, goods = "", rng.choice(("manutenzione verde", "pulizia uffici", "forniture"))
            name = f"Comune di {city}"
            tags.append("pubblica-amministrazione")
        if rng.random() < 0.6:
            tags.append(region)
        if rng.random() < 0.15:
            tags.append(rng.choice(("vip", "rischio-alto", "storico", "estero-no")))
        base = slugify(name.split(" S.")[0].replace(" Soc. Coop.", "")) or "cliente"
        slug = f"{base[:40].rstrip('-')}-{index + 1:05d}"
        dom = rng.choice(DOMAINS)

        out: list[str] = ["---", "debtor:", f"  name: {q(name)}"]
        if kind != "business" or rng.random() < 0.4:
            out.append(f"  kind: {kind}")
        if kind != "consumer":
            out.append(f"  vat: IT{rng.randrange(10**10, 10**11):011d}")
        out.append("  address: |")
        out.append(f"    {rng.choice(STREETS)} {rng.randint(1, 180)}")
        out.append(f"    {cap} {city} {prov}")
        flat = base.replace("-", "")[:24]
        if kind != "consumer" or rng.random() < 0.3:
            out.append(f"  pec: {flat}@pec.{dom}")
        if kind == "consumer":
            out.append(f"  email: {slugify(first)}.{slugify(last)}@{dom}")
            out.append(
                f'  phone: "+39 3{rng.randint(20, 99)} {rng.randint(100, 999)} '
                f'{rng.randint(1000, 9999)}"'
            )
        else:
            out.append(f"  email: amministrazione@{flat}.{dom}")
            out.append(f'  phone: "+39 {area} {rng.randint(100000, 9999999)}"')
            out.append(f"  contact: {q(person + ', ' + rng.choice(ROLES))}")
        if rng.random() < 0.9:
            out.append(f"owner: {rng.choice(OWNERS)}")
        if tags:
            out.append(f"tags: [{', '.join(tags)}]")

        # Invoices: 1-6, issued in order, all issued on or before LAST_DAY.
        n_inv = rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5, 6))
        start = self.day_between(FIRST_DAY, date(2026, 10, 31))
        invoices: list[tuple[str, date, date, int]] = []
        day = start
        out.append("")
        out.append("invoices:")
        for k in range(n_inv):
            if k:
                day = day + timedelta(days=rng.randint(7, 60))
                if day > LAST_DAY:
                    break
            terms = rng.choice((0, 30, 30, 30, 60, 60, 90))
            due = day + timedelta(days=terms)
            if terms and rng.random() < 0.3:  # "fine mese": the end of that month
                nxt = date(due.year + due.month // 12, due.month % 12 + 1, 1)
                due = nxt - timedelta(days=1)
            due = min(due, END_OF_HORIZON)
            if rng.random() < 0.6:
                cents = rng.randint(80, 4000) * 122  # a net amount in euros + 22 % VAT
            else:
                cents = max(5000, int(rng.lognormvariate(6.8, 1.1) * 100))
            number = self.invoice_number(day.year)
            invoices.append((number, day, due, cents))
            out.append(f'  - number: "{number}"')
            out.append(f"    date: {day.isoformat()}")
            out.append(f"    due: {due.isoformat()}")
            amount = money(cents)
            out.append(f'    amount: "{amount}"' if rng.random() < 0.1 else f"    amount: {amount}")
            if rng.random() < 0.8:
                out.append(f"    description: {q(f'{goods} {date_it(day)[3:]}')}")

        total = sum(inv[3] for inv in invoices)
        first_due = min(inv[2] for inv in invoices)
        last_issue = invoices[-1][1]
        residual = {inv[0]: inv[3] for inv in invoices}
        events: list[tuple[date, str, str | None, str, list[str]]] = []  # log entries
        contact_name = person.split(",")[0]

        # Payments: some cases pay everything, some part, most nothing.
        r = rng.random()
        payments: list[tuple[date, int, str | None]] = []
        if r < 0.12:  # paid in full, invoice by invoice
            for number, inv_day, inv_due, cents in invoices:
                pay_day = self.day_between(max(inv_due, inv_day), LAST_DAY)
                payments.append((pay_day, cents, number))
                residual[number] = 0
        elif r < 0.50:
            for _ in range(rng.randint(1, 3)):
                open_inv = [inv for inv in invoices if residual[inv[0]] > 0]
                if not open_inv:
                    break
                number, inv_day, inv_due, _cents = rng.choice(open_inv)
                left = residual[number]
                part = left if rng.random() < 0.4 else max(1, left * rng.randint(2, 8) // 10)
                pay_day = self.day_between(inv_day + timedelta(days=5), LAST_DAY)
                named = rng.random() < 0.65
                payments.append((pay_day, part, number if named else None))
                residual[number] -= part
        payments.sort(key=lambda p: p[0])
        open_total = sum(residual.values())

        disputes: list[str] = []
        if rng.random() < 0.10:
            number, inv_day, _due, _cents = rng.choice(invoices)
            opened = self.day_between(inv_day + timedelta(days=3), LAST_DAY)
            named = rng.random() < 0.8
            reason = rng.choice(DISPUTE_REASONS)
            disputes.append(f'  - invoice: "{number}"' if named else "  - opened: " + str(opened))
            if named:
                disputes.append(f"    opened: {opened.isoformat()}")
            disputes.append(f"    reason: {q(reason)}")
            if rng.random() < 0.5 and opened < LAST_DAY:
                resolved = self.day_between(opened + timedelta(days=1), LAST_DAY)
                disputes.append(f"    resolved: {resolved.isoformat()}")
            what = f"la fattura {number}" if named else "l'intero credito"
            events.append((opened, "email", None, "contestazione",
                           [f"{contact_name} contesta {what}: {reason}.",
                            "Chiesto di documentare la contestazione per iscritto."]))

        promises: list[str] = []
        if open_total and first_due < LAST_DAY and rng.random() < 0.25:
            made = first_due
            for _ in range(rng.randint(1, 3)):
                made = self.day_between(made + timedelta(days=1), LAST_DAY)
                by = min(made + timedelta(days=rng.randint(5, 30)), END_OF_HORIZON)
                promises.append(f"  - made: {made.isoformat()}")
                promises.append(f"    by: {by.isoformat()}")
                amt = ""
                if rng.random() < 0.6:
                    cents = max(100, open_total * rng.randint(3, 10) // 10)
                    promises.append(f"    amount: {money(cents)}")
                    amt = " " + money_it(cents)
                events.append((made, "phone", None, f"{contact_name}, promessa",
                               [f"Promette di pagare{amt} entro il {date_it(by)}."]))
                if made >= LAST_DAY:
                    break

        plans: list[str] = []
        plan_start = first_due + timedelta(days=20)
        if open_total >= 300 and plan_start < LAST_DAY and rng.random() < 0.08:
            agreed = self.day_between(plan_start, LAST_DAY)
            plans.append(f"  - agreed: {agreed.isoformat()}")
            if rng.random() < 0.7:
                confirmed = min(agreed + timedelta(days=rng.randint(0, 3)), LAST_DAY)
                plans.append(f"    confirmed: {confirmed.isoformat()}")
            if rng.random() < 0.4:
                plans.append(f"    fallback: {rng.choice(STEPS[2:4])}")
            plans.append("    instalments:")
            count = rng.randint(2, 6)
            dues: list[date] = []
            due = agreed + timedelta(days=rng.randint(10, 20))
            while len(dues) < count and due <= END_OF_HORIZON:
                dues.append(due)
                due += timedelta(days=30)
            if not dues:
                dues.append(END_OF_HORIZON)
            share = open_total // len(dues)
            for k, due in enumerate(dues):
                cents = share if k < len(dues) - 1 else open_total - share * (len(dues) - 1)
                plans.append(f"      - {{due: {due.isoformat()}, amount: {money(cents)}}}")
            events.append((agreed, "phone", None, "piano di rientro",
                           [f"Concordato con {contact_name} un piano di rientro in {len(dues)} "
                            f"rate per {money_it(open_total)}.",
                            "Mandata la proposta per email, attendiamo conferma firmata."]))

        extra: list[str] = []
        r = rng.random()
        if r < 0.07:
            paid_all = open_total == 0 and payments
            if paid_all:
                closed = self.day_between(payments[-1][0], LAST_DAY)
                reason = rng.choice(CLOSED_REASONS_PAID)
            else:
                closed = self.day_between(max(first_due, last_issue), LAST_DAY)
                reason = rng.choice(CLOSED_REASONS_OTHER)
            extra.append(f"closed: {{date: {closed.isoformat()}, reason: {q(reason)}}}")
        elif r < 0.12:
            until = self.day_between(date(2026, 10, 1), END_OF_HORIZON)
            reason = q(rng.choice(HOLD_REASONS))
            extra.append(f"hold: {{until: {until.isoformat()}, reason: {reason}}}")

        if payments:
            out.append("")
            out.append("payments:")
            for pay_day, cents, number in payments:
                out.append(f"  - date: {pay_day.isoformat()}")
                out.append(f"    amount: {money(cents)}")
                if number is not None:
                    out.append(f'    invoice: "{number}"')
                if rng.random() < 0.8:
                    out.append(f"    method: {q(rng.choice(METHODS))}")
                if rng.random() < 0.5:
                    out.append(f"    reference: CRO {rng.randrange(10**10, 10**11):011d}")
        for key, lines in (("disputes", disputes), ("promises", promises), ("plans", plans)):
            if lines:
                out.append("")
                out.append(f"{key}:")
                out.extend(lines)
        if extra:
            out.append("")
            out.extend(extra)
        out.append("---")

        for free in rng.sample(FREE_NOTES, rng.choice((0, 0, 1, 2))):
            out.append(free.format(year=rng.randint(2005, 2024), contact=person))

        # The contact log: event entries plus generic ones, with the ladder climbed in order.
        inv_word = invoices[0][0]
        amt_word = money_it(open_total or total)
        n_log = rng.randint(3, 10)
        if len(events) > n_log:
            events = events[:n_log]
        horizon = max(first_due, start)
        cursor = horizon  # contacts follow each other at a realistic pace after the due date
        for _ in range(n_log - len(events)):
            if rng.random() < 0.15 or horizon >= LAST_DAY:
                events.append((self.day_between(start, LAST_DAY), "note", None, "", []))
                continue
            cursor += timedelta(days=rng.randint(2, 40))
            when = cursor if cursor <= LAST_DAY else self.day_between(horizon, LAST_DAY)
            events.append((when, "", None, "", []))
        events.sort(key=lambda e: e[0])
        level = 0
        for when, channel, step, title, note in events:
            if not channel:  # a generic contact after the first due date
                if level < len(STEPS) and rng.random() < 0.6:
                    step = STEPS[level]
                    level += 1
                    channel = rng.choice(STEP_CHANNELS[step])
                    title = rng.choice(STEP_TITLES[step])
                else:
                    channel = rng.choice(("phone", "phone", "email", "note"))
            if not note:
                pool = {"phone": NOTE_PHONE, "email": NOTE_EMAIL, "pec": NOTE_PEC}.get(
                    channel, NOTE_INTERNAL
                )
                note = [rng.choice(pool), *rng.sample(NOTE_EXTRA, rng.randint(2, 4))]
                later = when if channel == "note" else when + timedelta(days=rng.randint(3, 20))
                note = [
                    line.format(c=contact_name, inv=inv_word, amt=amt_word, d=date_it(later))
                    for line in note
                ]
            if not title and channel == "phone":
                title = contact_name
            head = f"## {when.isoformat()} {channel}"
            if step:
                head += f" {step}"
            if title:
                head += f" — {title}"
            out.append("")
            out.append(head)
            out.extend(note)
        out.append("")

        folder = f"{index // FOLDER_SIZE + 1:04d}"
        return f"{folder}/{slug}.md", "\n".join(out)


CASEBOOK_YML = """\
# Benchmark casebook, written by bench/generate.py. The policy is the shipped default.
creditor:
  name: Forniture Padane S.r.l.
  address: "Via Verdi 2, 20121 Milano MI"
  vat: IT09876543210
  iban: IT60X0542811101000000123456
  pec: amministrazione@pec.example.it
  email: crediti@example.it
  phone: "+39 02 000000"
  signature: Luca Verdi
locale: it
currency: EUR
"""


def generate(root: Path, n: int, seed: int = 1) -> None:
    """Write a casebook of `n` cases into `root` (created if missing); deterministic per seed."""
    root = Path(root)
    cases = root / "cases"
    cases.mkdir(parents=True, exist_ok=True)
    (root / "casebook.yml").write_text(CASEBOOK_YML, encoding="utf-8")
    (root / ".gitignore").write_text("site/\n.casebook-cache/\n", encoding="utf-8")
    gen = _Generator(seed)
    made: set[str] = set()
    for index in range(n):
        rel, text = gen.case(index)
        folder = rel.split("/", 1)[0]
        if folder not in made:
            (cases / folder).mkdir(exist_ok=True)
            made.add(folder)
        with open(cases / rel, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a benchmark casebook.")
    parser.add_argument("dir", type=Path, help="the casebook folder to write")
    parser.add_argument("--cases", type=int, required=True, help="number of case files")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)
    if args.cases < 0:
        parser.error("--cases must be >= 0")
    if (args.dir / "cases").exists() and any((args.dir / "cases").iterdir()):
        print(f"warning: {args.dir / 'cases'} is not empty; files may be overwritten",
              file=sys.stderr)
    started = time.perf_counter()
    generate(args.dir, args.cases, args.seed)
    elapsed = time.perf_counter() - started
    print(f"wrote {args.cases} cases to {args.dir} in {elapsed:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
