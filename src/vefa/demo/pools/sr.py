# ruff: noqa: E501
"""Serbian pools: Serbia. Names are kept in Latin; some people write theirs in Cyrillic."""

from __future__ import annotations

from random import Random

from vefa.demo.pools import Locale, Place, Texts

# Latin → Cyrillic, digraphs first (lj, nj, dž are single Cyrillic letters).
_DIGRAPHS = {
    "Lj": "Љ",
    "LJ": "Љ",
    "lj": "љ",
    "Nj": "Њ",
    "NJ": "Њ",
    "nj": "њ",
    "Dž": "Џ",
    "DŽ": "Џ",
    "dž": "џ",
}
_LETTERS = dict(
    zip(
        "ABVGDĐEŽZIJKLMNOPRSTĆUFHCČŠabvgdđežzijklmnoprstćufhcčš",
        "АБВГДЂЕЖЗИЈКЛМНОПРСТЋУФХЦЧШабвгдђежзијклмнопрстћуфхцчш",
        strict=True,
    )
)  # fmt: skip


def to_cyrillic(text: str) -> str:
    """Serbian Latin → Serbian Cyrillic (the exact inverse of the standard transliteration)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in _DIGRAPHS:
            out.append(_DIGRAPHS[pair])
            i += 2
            continue
        out.append(_LETTERS.get(text[i], text[i]))
        i += 1
    return "".join(out)


TEXTS = Texts(
    language="sr-latn",
    products=(
        "ugaona garnitura", "kancelarijske stolice", "radni sto podesive visine", "hrastov trpezarijski sto",
        "memorijski dušek", "polica za knjige", "orman", "noćne lampe", "kuhinjski elementi",
        "konferencijski sto", "kartoteka", "vuneni tepih", "fotelja", "krevet na sprat", "barske stolice",
        "baštenska garnitura", "viseća rasveta", "TV komoda", "radne stanice", "recepcijski pult",
        "komoda", "klub sto",
    ),
    subjects={
        "purchase": ("Porudžbina {ref}: {product}", "Kupovina: {product}", "Onlajn porudžbina {ref} ({product})"),
        "call": (
            "Razgovor o proizvodu: {product}", "Poziv u vezi sa porudžbinom {ref}", "Pitao za rok isporuke",
            "Upit za cenu: {product}", "Kontrolni poziv",
        ),
        "email": ("Ponuda za {product}", "Re: isporuka porudžbine {ref}", "Račun {ref}", "Zahtev za katalog", "Pitanje o garanciji"),
        "sms": ("Potvrđen termin isporuke za porudžbinu {ref}", "Porudžbina {ref} je poslata", "Podsetnik za termin"),
        "letter": ("Poslat godišnji katalog", "Garantni list za {product}", "Izvod otvorenih stavki"),
        "visit": ("Poseta salonu: razgledao {product}", "Merenje na licu mesta", "Posetili prodavnicu sa porodicom"),
        "meeting": ("Planiranje opremanja kancelarije", "Kvartalni pregled saradnje", "Dizajnerske konsultacije: {product}"),
        "comment": ("Ostavio recenziju za {product}", "Komentar na novi katalog"),
        "complaint": (
            "Reklamacija: {product} stigao oštećen", "Reklamacija: kašnjenje porudžbine {ref}",
            "Reklamacija: isporučena pogrešna boja", "Reklamacija: monter je kasnio",
        ),
        "return": ("Povraćaj: {product} (porudžbina {ref})", "Vraćen {product}: nije odgovarao"),
        "offer": ("Akcija: {product} 15% jeftinije", "Poziv na prolećno sniženje", "Ponuda za verne kupce: besplatna dostava", "Poslat cenovnik za partnere"),
        "social": ("Poruka na Instagramu o proizvodu: {product}", "Pitao na Fejsbuku za radno vreme"),
        "web": ("Popunio kontakt formular", "Zatražio onlajn ponudu za {product}", "Preuzeo katalog kancelarijskog nameštaja"),
        "fax": ("Narudžbenica {ref} stigla faksom",),
        "pos": ("Kupovina u prodavnici: {product}", "Fiskalni račun {ref}: {product}"),
        "note": ("Više voli jutarnju isporuku", "Seli kancelariju na proleće", "Zainteresovan za novu liniju: {product}", "Odobren budžet za sledeći kvartal"),
    },
    outcomes={
        "purchase": ("Plaćeno karticom", "Plaćanje po računu, 30 dana", "Uplaćen avans", "Plaćeno u celosti"),
        "call": ("Javiće se sledeće nedelje", "Poslata ponuda", "Nije se javio, ostavljena poruka", "Zainteresovan", "Trenutno nije zainteresovan"),
        "email": ("Odgovoreno", "Čeka se odgovor", "Ponuda prihvaćena"),
        "complaint": ("Poslata zamena", "Novac vraćen", "Rešeno uz popust", "U obradi"),
        "return": ("Novac vraćen", "Zamenjeno", "Izdat vaučer"),
        "offer": ("Otvoreno", "Prihvaćeno", "Bez odgovora"),
        "meeting": ("Dogovoreni sledeći koraci", "Sledi ponuda", "Odluka sledećeg meseca"),
        "visit": ("Naručiće onlajn", "Naručio u prodavnici", "Uzeo brošuru"),
    },
    bodies={
        "call": ("Kupac je pitao za rokove isporuke i plaćanje na rate.", "Za isporuku mu najviše odgovara subota."),
        "complaint": ("Proizvod je izgreban sa jedne strane. Fotografije stigle mejlom.", "Isporuka je kasnila dve nedelje i niko nije zvao."),
        "meeting": ("Prošli smo kroz plan sprata; 40 radnih mesta u prvoj fazi.",),
        "note": ("Pomenuo da sledeće godine otvara drugi objekat.",),
    },
    activities={
        "task": ("Poslati ponudu za {product}", "Pripremiti produženje ugovora", "Ažurirati adresu isporuke", "Proveriti zalihe: {product}"),
        "call": ("Pozvati u vezi sa proizvodom: {product}", "Poziv posle isporuke", "Poziv u vezi sa otvorenom reklamacijom", "Poziv dobrodošlice"),
        "meeting": ("Pregled saradnje", "Planiranje opremanja kancelarije", "Prezentacija proizvoda: {product}"),
        "appointment": ("Termin u salonu", "Termin za merenje", "Montaža"),
    },
    job_titles=(
        "Menadžer nabavke", "Office menadžer", "Direktor", "Rukovodilac službe održavanja", "Finansijski direktor",
        "Operativni direktor", "Rukovodilac ljudskih resursa", "Referent nabavke", "Dizajner enterijera", "Vlasnik",
    ),
    hobbies=("čitanje", "baštovanstvo", "kuvanje", "fotografija", "putovanja", "slikanje", "planinarenje", "šah", "muzika", "ribolov", "pecanje", "ples"),
    sports=("fudbal", "košarka", "odbojka", "tenis", "vaterpolo", "trčanje", "biciklizam", "plivanje", "skijanje", "rukomet"),
    pets=("pas", "dve mačke", "mačka", "pas i mačka", "papagaj", "zec", "akvarijumske ribice"),
    consent_sources=("veb formular", "prijava u prodavnici", "telefonski razgovor", "sajam", "portal za kupce"),
    customer_notes=(
        "Dugogodišnji kupac; ceni brzu isporuku.", "Više voli mejl nego telefon.", "Prvo tražite menadžera nabavke.",
        "Redovno plaća u roku od 14 dana.",
    ),
    lead_notes=("Upoznali smo se na Sajmu nameštaja.", "Dva puta preuzeo katalog.", "Preporuka postojećeg kupca."),
    meeting_places=("Salon", "Kancelarija kupca", "Video poziv", "Kafić pored kancelarije"),
)  # fmt: skip


def _address(rng: Random, street: str) -> str:
    return f"{street} {rng.randrange(1, 120)}"


def _postal(rng: Random, place: Place) -> str:
    return place.postal


def _pib(rng: Random) -> str:
    # Poreski identifikacioni broj: eight digits and an ISO 7064 MOD 11,10 check digit.
    body = str(rng.randrange(10**7, 10**8))
    product = 10
    for ch in body:
        total = (int(ch) + product) % 10 or 10
        product = (2 * total) % 11
    return body + str((11 - product) % 10)


RS = Locale(
    key="sr-RS",
    language="sr-latn",
    country="RS",
    currency="RSD",
    weight=16,
    female=(
        "Milica", "Jelena", "Ana", "Marija", "Jovana", "Ivana", "Dragana", "Snežana", "Tijana", "Nevena",
        "Katarina", "Sanja", "Maja", "Teodora", "Milena", "Vesna", "Gordana", "Ljiljana", "Biljana", "Nataša",
        "Danijela", "Aleksandra", "Sofija", "Mila", "Đurđa", "Anđela", "Jasmina", "Slađana", "Nada", "Zorica",
    ),
    male=(
        "Nikola", "Marko", "Stefan", "Lazar", "Luka", "Milan", "Nenad", "Dragan", "Zoran", "Goran",
        "Miloš", "Aleksandar", "Dušan", "Vuk", "Đorđe", "Uroš", "Nemanja", "Vladimir", "Bojan", "Dejan",
        "Predrag", "Miroslav", "Srđan", "Željko", "Branislav", "Ivan", "Petar", "Filip", "Ognjen", "Danilo",
    ),
    surnames=(
        "Jovanović", "Petrović", "Nikolić", "Marković", "Đorđević", "Stojanović", "Ilić", "Stanković",
        "Pavlović", "Milošević", "Popović", "Đokić", "Kostić", "Živković", "Todorović", "Savić",
        "Mitrović", "Lazić", "Ristić", "Kovačević", "Radovanović", "Filipović", "Simić", "Marić",
        "Vuković", "Obradović", "Pešić", "Lukić", "Tomić", "Antić", "Božić", "Šarić", "Ćirić",
        "Gajić", "Knežević", "Janković", "Matić", "Vasić", "Zorić", "Bogdanović",
    ),
    places=(
        Place("Beograd", "Grad Beograd", "11000", "38111", 7, ("Vračar", "Novi Beograd", "Zemun", "Zvezdara", "Savski venac")),
        Place("Novi Sad", "Južnobački okrug", "21000", "38121", 7, ("Liman", "Grbavica", "Petrovaradin")),
        Place("Niš", "Nišavski okrug", "18000", "38118", 7, ("Medijana", "Palilula")),
        Place("Kragujevac", "Šumadijski okrug", "34000", "38134", 7, ("Centar", "Stanovo")),
        Place("Subotica", "Severnobački okrug", "24000", "38124", 7, ("Centar", "Palić")),
        Place("Čačak", "Moravički okrug", "32000", "38132", 7, ("Centar",)),
    ),
    streets=(
        "Knez Mihailova", "Bulevar kralja Aleksandra", "Nemanjina", "Takovska", "Cara Dušana",
        "Njegoševa", "Zmaj Jovina", "Kralja Petra", "Vojvode Stepe", "Bulevar oslobođenja",
        "Svetog Save", "Kneginje Ljubice", "Dositejeva", "Karađorđeva", "Resavska",
    ),
    mobile_prefixes=("38160", "38161", "38162", "38163", "38164", "38165", "38166", "38169"),
    mobile_digits=7,
    company_stems=(
        "Dunav", "Morava", "Šumadija", "Avala", "Kopaonik", "Zlatibor", "Sava", "Vojvodina", "Tara",
        "Fruška", "Drina", "Timok", "Rudnik", "Đerdap", "Jastrebac", "Stara planina",
    ),
    legal_forms=("{name} d.o.o.", "{name} a.d.", "{name} d.o.o. Beograd"),
    email_domains=("example.com", "example.net", "example.org"),
    texts=TEXTS,
    address_line=_address,
    postal_code=_postal,
    tax_number=_pib,
    cyrillic_share=0.2,
)  # fmt: skip
