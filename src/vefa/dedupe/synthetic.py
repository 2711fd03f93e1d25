"""A labelled set of customers with realistic duplicates, for tests and the benchmark.

Customers are Turkish, Serbian (written in Latin or Cyrillic) and Persian (written in
Persian or in Latin letters): people with first and last names, e-mail, phone, birth date,
city and postcode, and organisations with a legal form and a tax number. A share of them is
entered again, the way it happens: with a typo (a neighbouring key on the keyboard, a letter
dropped or doubled, two letters swapped), diacritics dropped (ş→s, ğ→g, č→c, đ→dj), the
dotless ı typed as i, the other script (Serbian Cyrillic ↔ Latin, Persian ↔ Latin
transliteration), first and last names swapped, the phone written another way or with a
wrong digit, the e-mail missing or mistyped, the birth date or city left out.

Hard cases are there on purpose: namesakes (the same common name, another person) and
households (people sharing a last name, an address and a landline).

``generate(n, seed=…)`` returns the rows (the columns ``vefa.dedupe.features.prepare``
reads, plus ``entity``, the truth label: rows of one entity are the same customer);
``pairwise_scores`` measures predicted clusters against the labels.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TR_FIRST = [
    "Ayşe",
    "Fatma",
    "Emine",
    "Hatice",
    "Zeynep",
    "Elif",
    "Meryem",
    "Şerife",
    "Zehra",
    "Sultan",
    "Hanife",
    "Merve",
    "Özlem",
    "Yasemin",
    "Hülya",
    "Gülsüm",
    "Esra",
    "Büşra",
    "Derya",
    "Sevgi",
    "Dilek",
    "Şule",
    "Gül",
    "Nur",
    "İlknur",
    "Ebru",
    "Tuğba",
    "Çiğdem",
    "Gökçe",
    "Mehmet",
    "Mustafa",
    "Ahmet",
    "Ali",
    "Hüseyin",
    "Hasan",
    "İbrahim",
    "İsmail",
    "Osman",
    "Yusuf",
    "Murat",
    "Ömer",
    "Ramazan",
    "Halil",
    "Süleyman",
    "Abdullah",
    "Mahmut",
    "Recep",
    "Kadir",
    "Emre",
    "Burak",
    "Serkan",
    "Gökhan",
    "Oğuz",
    "Çağlar",
    "Tolga",
    "Erkan",
    "Barış",
    "Uğur",
    "İlker",
    "Kerem",
    "Doğan",
    "Yiğit",
    "Ilgaz",
    "Işık",
    "Cem",
    "Deniz",
    "Can",
    "Tarık",
    "Sinan",
]
TR_LAST = [
    "Yılmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "Yıldız",
    "Yıldırım",
    "Öztürk",
    "Aydın",
    "Özdemir",
    "Arslan",
    "Doğan",
    "Kılıç",
    "Aslan",
    "Çetin",
    "Kara",
    "Koç",
    "Kurt",
    "Özkan",
    "Şimşek",
    "Polat",
    "Özcan",
    "Korkmaz",
    "Çakır",
    "Erdoğan",
    "Yavuz",
    "Can",
    "Acar",
    "Şen",
    "Aktaş",
    "Güler",
    "Yalçın",
    "Güneş",
    "Bozkurt",
    "Bulut",
    "Keskin",
    "Ünal",
    "Turan",
    "Gül",
    "Özer",
    "Işık",
    "Kaplan",
    "Avcı",
    "Sarı",
    "Tekin",
    "Taş",
    "Köse",
    "Yüksel",
    "Ateş",
    "Aksoy",
    "Çiftçi",
    "Uçar",
    "Tunç",
    "Karaca",
    "Ekinci",
    "Sönmez",
    "Akın",
    "Başaran",
    "Gökmen",
    "Ilgın",
    "Dağ",
    "Uysal",
    "Eren",
    "Akbulut",
    "Kocabaş",
    "Türkmen",
    "Sezer",
    "Altun",
]
SR_FIRST = [
    "Marko",
    "Nikola",
    "Stefan",
    "Luka",
    "Milan",
    "Nemanja",
    "Aleksandar",
    "Dušan",
    "Miloš",
    "Đorđe",
    "Vuk",
    "Lazar",
    "Ivan",
    "Jovan",
    "Petar",
    "Dragan",
    "Zoran",
    "Goran",
    "Bojan",
    "Dejan",
    "Vladimir",
    "Srđan",
    "Željko",
    "Predrag",
    "Branko",
    "Miroslav",
    "Ana",
    "Milica",
    "Jelena",
    "Marija",
    "Ivana",
    "Jovana",
    "Tijana",
    "Katarina",
    "Dragana",
    "Snežana",
    "Gordana",
    "Ljiljana",
    "Vesna",
    "Maja",
    "Nataša",
    "Sanja",
    "Tamara",
    "Teodora",
    "Sara",
    "Anđela",
    "Mila",
    "Dunja",
    "Nevena",
    "Biljana",
    "Danica",
]
SR_LAST = [
    "Jovanović",
    "Petrović",
    "Nikolić",
    "Marković",
    "Đorđević",
    "Stojanović",
    "Ilić",
    "Stanković",
    "Pavlović",
    "Milošević",
    "Popović",
    "Đukić",
    "Kostić",
    "Mitrović",
    "Živković",
    "Ristić",
    "Savić",
    "Lazić",
    "Todorović",
    "Kovačević",
    "Radović",
    "Lukić",
    "Stević",
    "Vasić",
    "Obradović",
    "Jakovljević",
    "Šarić",
    "Filipović",
    "Tomić",
    "Bogdanović",
    "Simić",
    "Vuković",
    "Babić",
    "Kojić",
    "Mladenović",
    "Milenković",
    "Zorić",
    "Ćirić",
    "Čolić",
    "Nešić",
    "Antić",
    "Vučić",
    "Grujić",
    "Šćepanović",
    "Đurić",
    "Perić",
    "Matić",
    "Janković",
    "Despotović",
    "Cvetković",
    "Ljubić",
    "Njegoš",
]
# Persian names with the usual Latin spellings (the first is the most common).
FA_FIRST = (
    ("محمد", ("Mohammad", "Mohamad", "Muhammad")),
    ("علی", ("Ali",)),
    ("حسین", ("Hossein", "Hosein", "Hussein")),
    ("رضا", ("Reza",)),
    ("مهدی", ("Mahdi", "Mehdi")),
    ("امیر", ("Amir",)),
    ("حسن", ("Hassan", "Hasan")),
    ("مرتضی", ("Morteza",)),
    ("سعید", ("Saeed", "Said")),
    ("مجید", ("Majid",)),
    ("بهرام", ("Bahram",)),
    ("کامران", ("Kamran",)),
    ("فرهاد", ("Farhad",)),
    ("داوود", ("Davoud", "Davood", "Davud")),
    ("یوسف", ("Yousef", "Yusef")),
    ("پرویز", ("Parviz",)),
    ("کیوان", ("Keyvan", "Kayvan")),
    ("جواد", ("Javad",)),
    ("بابک", ("Babak",)),
    ("شهرام", ("Shahram",)),
    ("فاطمه", ("Fatemeh", "Fatemah")),
    ("زهرا", ("Zahra",)),
    ("مریم", ("Maryam",)),
    ("سارا", ("Sara", "Sarah")),
    ("نرگس", ("Narges",)),
    ("لیلا", ("Leila", "Leyla")),
    ("شیرین", ("Shirin",)),
    ("پریسا", ("Parisa",)),
    ("مینا", ("Mina",)),
    ("نازنین", ("Nazanin",)),
    ("الهام", ("Elham",)),
    ("سمیرا", ("Samira",)),
    ("ژاله", ("Zhaleh", "Jaleh")),
    ("گلناز", ("Golnaz",)),
    ("طاهره", ("Tahereh",)),
    ("آزاده", ("Azadeh",)),
)
FA_LAST = (
    ("محمدی", ("Mohammadi", "Mohamadi")),
    ("حسینی", ("Hosseini", "Hoseini")),
    ("احمدی", ("Ahmadi",)),
    ("رضایی", ("Rezaei", "Rezaee")),
    ("موسوی", ("Mousavi", "Musavi")),
    ("کریمی", ("Karimi",)),
    ("جعفری", ("Jafari", "Jaafari")),
    ("صادقی", ("Sadeghi", "Sadeqi")),
    ("قاسمی", ("Ghasemi", "Qasemi")),
    ("رحیمی", ("Rahimi",)),
    ("کاظمی", ("Kazemi",)),
    ("نوری", ("Nouri", "Noori")),
    ("اکبری", ("Akbari",)),
    ("حیدری", ("Heydari", "Heidari")),
    ("خسروی", ("Khosravi",)),
    ("شریفی", ("Sharifi",)),
    ("طاهری", ("Taheri",)),
    ("عباسی", ("Abbasi",)),
    ("یزدانی", ("Yazdani",)),
    ("فرهادی", ("Farhadi",)),
    ("نجفی", ("Najafi",)),
    ("سلیمانی", ("Soleimani", "Soleymani")),
    ("بهرامی", ("Bahrami",)),
    ("مرادی", ("Moradi",)),
    ("زمانی", ("Zamani",)),
    ("قربانی", ("Ghorbani", "Qorbani")),
    ("کامرانی", ("Kamrani",)),
    ("تهرانی", ("Tehrani",)),
    ("شیرازی", ("Shirazi",)),
    ("اصفهانی", ("Esfahani", "Isfahani")),
    ("پاکزاد", ("Pakzad",)),
    ("فروتن", ("Foroutan", "Forootan")),
    ("ملکی", ("Maleki",)),
    ("باقری", ("Bagheri", "Baqeri")),
)
# (country, phone prefix, mobile prefixes, cities with postcode prefixes, e-mail domains)
TR_CITIES = (
    ("İstanbul", "34"), ("Ankara", "06"), ("İzmir", "35"), ("Bursa", "16"),
    ("Antalya", "07"), ("Konya", "42"), ("Adana", "01"), ("Gaziantep", "27"),
    ("Kayseri", "38"), ("Eskişehir", "26"), ("Trabzon", "61"), ("Diyarbakır", "21"),
    ("Muğla", "48"), ("Çanakkale", "17"), ("Şanlıurfa", "63"), ("Iğdır", "76"),
)  # fmt: skip
SR_CITIES = (
    ("Beograd", "Београд", "11"), ("Novi Sad", "Нови Сад", "21"), ("Niš", "Ниш", "18"),
    ("Kragujevac", "Крагујевац", "34"), ("Subotica", "Суботица", "24"),
    ("Čačak", "Чачак", "32"), ("Kraljevo", "Краљево", "36"), ("Šabac", "Шабац", "15"),
    ("Užice", "Ужице", "31"), ("Zrenjanin", "Зрењанин", "23"),
)  # fmt: skip
FA_CITIES = (
    ("تهران", "Tehran", "1"), ("مشهد", "Mashhad", "9"), ("اصفهان", "Isfahan", "8"),
    ("شیراز", "Shiraz", "7"), ("تبریز", "Tabriz", "5"), ("کرج", "Karaj", "3"),
    ("قم", "Qom", "37"), ("اهواز", "Ahvaz", "6"), ("کرمانشاه", "Kermanshah", "67"),
    ("رشت", "Rasht", "41"),
)  # fmt: skip
DOMAINS = ("gmail.com", "hotmail.com", "yahoo.com", "outlook.com", "mail.ru", "yandex.com")
TR_DOMAINS = ("gmail.com", "hotmail.com", "yandex.com.tr", "outlook.com")
SR_DOMAINS = ("gmail.com", "yahoo.com", "eunet.rs", "mts.rs", "outlook.com")
FA_DOMAINS = ("gmail.com", "yahoo.com", "chmail.ir", "outlook.com")
ORG_WORDS = {
    "tr": [
        "Anadolu",
        "Marmara",
        "Ege",
        "Karadeniz",
        "Toros",
        "Yıldız",
        "Güneş",
        "Doğuş",
        "Başak",
        "Çınar",
        "Kuzey",
        "Akdeniz",
        "Boğaziçi",
        "Kartal",
        "Zirve",
        "Kale",
        "Ufuk",
        "Işıl",
        "Özgür",
        "Umut",
    ],
    "sr": [
        "Dunav",
        "Morava",
        "Sava",
        "Avala",
        "Zlatibor",
        "Šumadija",
        "Vojvodina",
        "Jadran",
        "Kopaonik",
        "Tara",
        "Fruška",
        "Srem",
        "Banat",
        "Ibar",
        "Timok",
        "Drina",
        "Rudnik",
        "Ozren",
        "Javor",
        "Golija",
    ],
    "fa": ["پارس", "آریا", "البرز", "زاگرس", "دماوند", "خزر", "سپهر", "کوروش", "پردیس", "آسمان"],
}
ORG_SECTORS = {
    "tr": [
        "İnşaat",
        "Gıda",
        "Tekstil",
        "Lojistik",
        "Yazılım",
        "Otomotiv",
        "Enerji",
        "Mobilya",
        "Kimya",
        "Turizm",
    ],
    "sr": [
        "Gradnja",
        "Trgovina",
        "Transport",
        "Softver",
        "Građevina",
        "Elektro",
        "Prehrana",
        "Drvo",
        "Metal",
        "Turizam",
    ],
    "fa": ["بازرگانی", "صنایع", "فولاد", "نساجی", "ساختمان"],
}
ORG_FORMS = {"tr": ("A.Ş.", "Ltd. Şti."), "sr": ("d.o.o.", "a.d."), "fa": ("شرکت", "سهامی خاص")}

# Latin keyboard neighbours (QWERTY with Turkish letters near their keys).
_NEIGHBOURS = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij",
    "i": "uokı", "o": "ipl", "p": "oğ", "a": "qsz", "s": "adwxş", "d": "sfe", "f": "dgr",
    "g": "fht", "h": "gjy", "j": "hku", "k": "jli", "l": "kşo", "z": "xa", "x": "zcs",
    "c": "xvdç", "v": "cbf", "b": "vng", "n": "bmh", "m": "nö", "ş": "li", "ı": "ou",
    "ğ": "pü", "ü": "ğı", "ö": "mç", "ç": "öc",
}  # fmt: skip
_STRIP = str.maketrans(
    {"ş": "s", "Ş": "S", "ı": "i", "İ": "I", "ğ": "g", "Ğ": "G", "ç": "c", "Ç": "C",
     "ö": "o", "Ö": "O", "ü": "u", "Ü": "U", "č": "c", "Č": "C", "ć": "c", "Ć": "C",
     "š": "s", "Š": "S", "ž": "z", "Ž": "Z", "đ": "dj", "Đ": "Dj"}
)  # fmt: skip
_LATIN_TO_CYRILLIC = [
    ("Lj", "Љ"), ("Nj", "Њ"), ("Dž", "Џ"), ("lj", "љ"), ("nj", "њ"), ("dž", "џ"),
    *zip("ABVGDĐEŽZIJKLMNOPRSTĆUFHCČŠabvgdđežzijklmnoprstćufhcčš",
         "АБВГДЂЕЖЗИЈКЛМНОПРСТЋУФХЦЧШабвгдђежзијклмнопрстћуфхцчш", strict=True),
]  # fmt: skip
_ASCII = str.maketrans("ıİşŞğĞçÇöÖüÜ", "iIsSgGcCoOuU")


def to_cyrillic(text: str) -> str:
    """Serbian Latin to Cyrillic (the two alphabets map one to one)."""
    for latin, cyrillic in _LATIN_TO_CYRILLIC:
        text = text.replace(latin, cyrillic)
    return text


def strip_diacritics(text: str) -> str:
    return text.translate(_STRIP)


def typo(text: str, rng: random.Random) -> str:
    """One realistic typing mistake in ``text``."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 3:
        return text
    i = rng.choice(letters[1:])  # the first letter is rarely the mistyped one
    kind = rng.random()
    ch = text[i]
    if kind < 0.35 and ch.lower() in _NEIGHBOURS:
        return text[:i] + rng.choice(_NEIGHBOURS[ch.lower()]) + text[i + 1 :]
    if kind < 0.6:
        return text[:i] + text[i + 1 :]  # dropped
    if kind < 0.8:
        return text[:i] + ch + text[i:]  # doubled
    if i + 1 < len(text):
        return text[:i] + text[i + 1] + ch + text[i + 2 :]  # swapped with the next
    return text[:i]


@dataclass
class _Person:
    language: str
    first: str
    last: str
    first_alt: str  # the other script's spelling (Serbian Cyrillic, Persian Latin)
    last_alt: str


def _ascii_local(text: str) -> str:
    from vefa.dedupe.features import latin

    return "".join(ch for ch in latin(text).translate(_ASCII) if ch.isalnum())


def _phone(language: str, rng: random.Random) -> str:
    if language == "tr":
        return f"+90{rng.choice('5')}{rng.randint(30, 59)}{rng.randint(0, 9_999_999):07d}"
    if language == "sr":
        return f"+3816{rng.randint(0, 9)}{rng.randint(0, 9_999_999):07d}"
    return f"+989{rng.randint(10, 39)}{rng.randint(0, 9_999_999):07d}"


def _reformat_phone(e164: str, rng: random.Random) -> str:
    """The same number written another way (national, spaced, with 00)."""
    country = {"+90": "90", "+38": "381", "+98": "98"}[e164[:3]]
    national = e164[1 + len(country) :]
    style = rng.randrange(4)
    if style == 0 and country == "90":
        return f"0{national[:3]} {national[3:6]} {national[6:8]} {national[8:]}"
    if style == 1:
        return f"00{country} {national}"
    if style == 2:
        return f"+{country} ({national[:3]}) {national[3:6]}-{national[6:]}"
    return e164


def _phone_typo(e164: str, rng: random.Random) -> str:
    i = rng.randrange(len(e164) - 4, len(e164))
    digit = str((int(e164[i]) + rng.randint(1, 9)) % 10)
    return e164[:i] + digit + e164[i + 1 :]


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
        self.next_id = 1
        self.used_emails: set[str] = set()
        self.used_tax: set[str] = set()
        # Zipf-like weights: a few names are very common (namesakes), most are rare.
        self.weights = {
            name: [1.0 / (rank + 2) ** 0.8 for rank in range(size)]
            for name, size in (
                ("tr_first", len(TR_FIRST)),
                ("tr_last", len(TR_LAST)),
                ("sr_first", len(SR_FIRST)),
                ("sr_last", len(SR_LAST)),
                ("fa_first", len(FA_FIRST)),
                ("fa_last", len(FA_LAST)),
            )
        }

    def pick(self, values: Sequence[Any], weights: str) -> Any:
        return self.rng.choices(values, self.weights[weights])[0]

    def person_names(self, language: str, last: str | None = None) -> _Person:
        rng = self.rng
        if language == "tr":
            first = self.pick(TR_FIRST, "tr_first")
            if rng.random() < 0.12:  # a second given name
                first = f"{first} {self.pick(TR_FIRST, 'tr_first')}"
            surname = last or self.pick(TR_LAST, "tr_last")
            return _Person("tr", first, surname, first, surname)
        if language == "sr":
            first = self.pick(SR_FIRST, "sr_first")
            surname = last or self.pick(SR_LAST, "sr_last")
            return _Person("sr", first, surname, to_cyrillic(first), to_cyrillic(surname))
        fa_first, fa_first_latin = self.pick(FA_FIRST, "fa_first")
        if last:
            fa_last, fa_last_latin = next((p, lat) for p, lat in FA_LAST if p == last)
        else:
            fa_last, fa_last_latin = self.pick(FA_LAST, "fa_last")
        return _Person(
            "fa",
            fa_first,
            fa_last,
            rng.choice(fa_first_latin),
            rng.choice(fa_last_latin),
        )

    def email_for(self, first: str, last: str, language: str) -> str:
        rng = self.rng
        domains = {"tr": TR_DOMAINS, "sr": SR_DOMAINS, "fa": FA_DOMAINS}[language]
        first_part = _ascii_local(first.split()[0]) or "user"
        last_part = _ascii_local(last) or "mail"
        for _attempt in range(20):
            style = rng.randrange(4)
            if style == 0:
                local = f"{first_part}.{last_part}"
            elif style == 1:
                local = f"{first_part}{last_part}{rng.randint(1, 99)}"
            elif style == 2:
                local = f"{first_part[0]}{last_part}{rng.randint(60, 2005)}"
            else:
                local = f"{first_part}_{rng.randint(100, 99999)}"
            email = f"{local}@{rng.choice(domains)}"
            if email not in self.used_emails:
                self.used_emails.add(email)
                return email
        email = f"{first_part}.{last_part}.{self.next_id}@{rng.choice(domains)}"
        self.used_emails.add(email)
        return email

    def location(self, language: str) -> tuple[str, str, str]:
        """(city as written, city in the other script or the same, postcode)."""
        rng = self.rng
        if language == "tr":
            city, code = rng.choice(TR_CITIES)
            return city, city, f"{code}{rng.randint(0, 999):03d}"
        if language == "sr":
            latin_city, cyrillic, code = rng.choice(SR_CITIES)
            return latin_city, cyrillic, f"{code}{rng.randint(0, 999):03d}"
        persian, latin_city, code = rng.choice(FA_CITIES)
        return persian, latin_city, f"{code}{rng.randint(0, 10**9 - 1):09d}"[:10]

    def tax_number(self) -> str:
        while True:
            value = f"{self.rng.randint(10**9, 10**10 - 1)}"
            if value not in self.used_tax:
                self.used_tax.add(value)
                return value


def _birth(rng: random.Random) -> str:
    start = datetime.date(1945, 1, 1).toordinal()
    return datetime.date.fromordinal(start + rng.randrange(365 * 60)).isoformat()


def _person_row(g: _Generator, language: str, entity: int, last: str | None = None) -> dict:
    rng = g.rng
    names = g.person_names(language, last)
    # Serbian customers write Latin or Cyrillic; Persian ones Persian or Latin letters.
    alt = (language == "sr" and rng.random() < 0.4) or (language == "fa" and rng.random() < 0.3)
    first, last_name = (names.first_alt, names.last_alt) if alt else (names.first, names.last)
    city, city_alt, postcode = g.location(language)
    return {
        "entity": entity,
        "language": language,
        "kind": "person",
        "first_name": first,
        "last_name": last_name,
        "display_name": f"{first} {last_name}",
        "_names": names,
        "_alt": alt,
        "email": g.email_for(names.first_alt if language == "fa" else names.first,
                             names.last_alt if language == "fa" else names.last, language)
        if rng.random() < 0.85
        else "",
        "phone": _phone(language, rng) if rng.random() < 0.9 else "",
        "tax_number": "",
        "birth_date": _birth(rng) if rng.random() < 0.6 else "",
        "city": city_alt if alt and language == "sr" else city,
        "_city_alt": city_alt,
        "postcode": postcode,
    }  # fmt: skip


def _org_row(g: _Generator, language: str, entity: int) -> dict:
    rng = g.rng
    words = ORG_WORDS[language]
    name = f"{rng.choice(words)} {rng.choice(words)} {rng.choice(ORG_SECTORS[language])}"
    form = rng.choice(ORG_FORMS[language])
    display = f"{form} {name}" if language == "fa" else f"{name} {form}"
    city, city_alt, postcode = g.location(language)
    domain_word = _ascii_local(name.split()[0]) + _ascii_local(name.split()[1])
    return {
        "entity": entity,
        "language": language,
        "kind": "organisation",
        "first_name": "",
        "last_name": "",
        "display_name": display,
        "_names": None,
        "_alt": False,
        "email": f"info{entity}@{domain_word}.com" if rng.random() < 0.8 else "",
        "phone": _phone(language, rng) if rng.random() < 0.9 else "",
        "tax_number": g.tax_number() if rng.random() < 0.95 else "",
        "birth_date": "",
        "city": city,
        "_city_alt": city_alt,
        "postcode": postcode,
    }


def _perturb_name(row: dict[str, Any], rng: random.Random) -> None:
    """Change the names of a duplicate the way a second entry differs."""
    names: _Person | None = row["_names"]
    if names is None:  # an organisation: typo, legal form dropped or diacritics dropped
        choice = rng.random()
        if choice < 0.4:
            row["display_name"] = typo(row["display_name"], rng)
        elif choice < 0.7:
            row["display_name"] = strip_diacritics(row["display_name"]).upper()
        return
    first, last = row["first_name"], row["last_name"]
    changes = rng.choices([1, 2], [0.75, 0.25])[0]
    for _ in range(changes):
        choice = rng.random()
        if choice < 0.22:
            first = typo(first, rng)
        elif choice < 0.42:
            last = typo(last, rng)
        elif choice < 0.57:
            first, last = strip_diacritics(first), strip_diacritics(last)
            if names.language == "tr" and rng.random() < 0.5:
                first, last = first.upper(), last.upper()
        elif choice < 0.75 and names.language in ("sr", "fa"):
            # The other script: Serbian Cyrillic ↔ Latin, Persian ↔ Latin letters.
            if first == names.first_alt:
                first, last = names.first, names.last
            else:
                first, last = names.first_alt, names.last_alt
        elif choice < 0.9:
            first, last = last, first  # swapped fields
        elif names.language == "tr":
            first, last = first.replace("ı", "i"), last.replace("ı", "i")
    row["first_name"], row["last_name"] = first, last
    row["display_name"] = f"{first} {last}"


def _duplicate(original: dict[str, Any], g: _Generator) -> dict[str, Any]:
    rng = g.rng
    row = dict(original)
    if rng.random() < 0.9:
        _perturb_name(row, rng)
    r = rng.random()
    if original["email"]:
        if r < 0.2:
            row["email"] = ""
        elif r < 0.35:
            local, _, domain = original["email"].partition("@")
            row["email"] = f"{typo(local, rng)}@{domain}"
        elif r < 0.43:
            row["email"] = g.email_for(row["first_name"] or "x", row["last_name"] or "y", "tr")
    r = rng.random()
    if original["phone"]:
        if r < 0.25:
            row["phone"] = ""
        elif r < 0.33:
            row["phone"] = _phone_typo(original["phone"], rng)
        else:
            row["phone"] = _reformat_phone(original["phone"], rng)
    if original["birth_date"] and rng.random() < 0.3:
        row["birth_date"] = ""
    if original["tax_number"] and rng.random() < 0.2:
        row["tax_number"] = ""
    r = rng.random()
    if r < 0.12:
        row["city"] = ""
    elif r < 0.3:
        row["city"] = original["_city_alt"]
    elif r < 0.4:
        row["city"] = strip_diacritics(original["city"])
    if rng.random() < 0.15:
        row["postcode"] = ""
    return row


def generate(
    n: int,
    *,
    seed: int = 7,
    duplicate_share: float = 0.2,
    languages: Sequence[str] = ("tr", "sr", "fa"),
) -> list[dict[str, Any]]:
    """``n`` customer rows of which about ``duplicate_share`` are second (or third) entries
    of another row; ``entity`` labels the truth. Ids are 1..n in a shuffled order."""
    g = _Generator(seed)
    rng = g.rng
    rows: list[dict[str, Any]] = []
    entity = 0
    originals: list[dict[str, Any]] = []
    target_originals = max(1, round(n * (1 - duplicate_share)))
    while len(originals) < min(n, target_originals):
        entity += 1
        language = rng.choice(languages)
        if rng.random() < 0.15:
            row = _org_row(g, language, entity)
        else:
            row = _person_row(g, language, entity)
        originals.append(row)
        # A household: another person with the same last name, address and landline.
        if row["kind"] == "person" and rng.random() < 0.03 and len(originals) < target_originals:
            entity += 1
            names: _Person = row["_names"]
            other = _person_row(g, language, entity, last=names.last)
            while other["_names"].first[:4] == names.first[:4]:  # twins share a name rarely
                other = _person_row(g, language, entity, last=names.last)
            other.update(city=row["city"], postcode=row["postcode"], _city_alt=row["_city_alt"])
            if row["phone"]:
                other["phone"] = row["phone"]
            originals.append(other)
    rows.extend(originals)
    while len(rows) < n:
        original = rng.choice(originals)
        rows.append(_duplicate(original, g))
    rng.shuffle(rows)
    out = []
    for number, row in enumerate(rows[:n], start=1):
        clean = {k: v for k, v in row.items() if not k.startswith("_")}
        clean["id"] = number
        out.append(clean)
    return out


@dataclass(frozen=True)
class Scores:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def _pairs(sizes: Iterable[int]) -> int:
    return sum(s * (s - 1) // 2 for s in sizes)


def pairwise_scores(truth: Mapping[int, int], clusters: Mapping[int, int]) -> Scores:
    """Pairwise precision and recall of ``clusters`` (record id → predicted cluster; a
    record missing is alone) against ``truth`` (record id → entity)."""
    true_pairs = _pairs(Counter(truth.values()).values())
    predicted_pairs = _pairs(Counter(clusters.values()).values())
    both = Counter((clusters[rid], truth[rid]) for rid in clusters if rid in truth)
    return Scores(true_pairs, predicted_pairs, _pairs(both.values()))
