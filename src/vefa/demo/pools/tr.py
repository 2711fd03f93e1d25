# ruff: noqa: E501
"""Turkish pools: Türkiye."""

from __future__ import annotations

from random import Random

from vefa.demo.pools import Locale, Place, Texts

TEXTS = Texts(
    language="tr",
    products=(
        "köşe koltuk", "ofis sandalyesi", "ayarlanabilir masa", "meşe yemek masası", "visco yatak",
        "kitaplık", "gardırop", "abajur", "mutfak dolabı", "toplantı masası", "dosya dolabı",
        "yün halı", "berjer", "ranza", "bar taburesi", "bahçe mobilyası takımı", "sarkıt aydınlatma",
        "TV ünitesi", "çalışma istasyonu", "karşılama bankosu", "çalışma koltuğu", "şifonyer",
        "orta sehpa", "toplantı kabini",
    ),
    subjects={
        "purchase": ("Sipariş {ref}: {product}", "{product} satın alımı", "Online sipariş {ref} ({product})"),
        "call": (
            "{product} hakkında görüşme", "{ref} numaralı sipariş için takip araması",
            "Teslimat tarihini sordu", "Fiyat sorgusu: {product}", "Memnuniyet araması",
        ),
        "email": (
            "{product} için teklif", "Ynt: {ref} siparişinin teslimatı", "Fatura {ref}",
            "Katalog talebi", "Garanti hakkında soru",
        ),
        "sms": ("{ref} siparişi için teslimat saati onaylandı", "{ref} siparişiniz yola çıktı", "Randevu hatırlatması"),
        "letter": ("Yıllık katalog gönderildi", "{product} garanti belgesi", "Cari hesap ekstresi"),
        "visit": ("Mağaza ziyareti: {product} inceledi", "Ölçü için yerinde keşif", "Ailesiyle mağazayı ziyaret etti"),
        "meeting": ("Ofis yerleşim planı toplantısı", "Üç aylık hesap değerlendirmesi", "Tasarım danışmanlığı: {product}"),
        "comment": ("{product} için yorum bıraktı", "Yeni katalog hakkında yorum"),
        "complaint": (
            "Şikâyet: {product} hasarlı geldi", "Şikâyet: {ref} siparişi gecikti",
            "Şikâyet: yanlış renk teslim edildi", "Şikâyet: montaj ekibi geç kaldı",
        ),
        "return": ("{product} iadesi (sipariş {ref})", "{product} iade edildi: ölçüsü uymadı"),
        "offer": (
            "Kampanya: {product} %15 indirimli", "Bahar indirimi daveti", "Sadakat teklifi: ücretsiz teslimat",
            "Bayi fiyat listesi gönderildi",
        ),
        "social": ("Instagram'dan {product} hakkında mesaj", "Facebook'tan çalışma saatlerini sordu"),
        "web": ("İletişim formunu doldurdu", "{product} için online teklif istedi", "Ofis mobilyası kataloğunu indirdi"),
        "fax": ("{ref} numaralı satın alma siparişi faksla geldi",),
        "pos": ("Mağazadan alışveriş: {product}", "Fiş {ref}: {product}"),
        "note": (
            "Sabah teslimatı tercih ediyor", "İlkbaharda ofis taşıyacak",
            "Yeni {product} serisiyle ilgileniyor", "Gelecek çeyrek için bütçe onaylandı",
        ),
    },
    outcomes={
        "purchase": ("Kredi kartıyla ödendi", "Faturalı, 30 gün vadeli", "Kapora alındı", "Peşin ödendi"),
        "call": ("Haftaya geri arayacak", "Teklif gönderildi", "Ulaşılamadı, mesaj bırakıldı", "İlgileniyor", "Şimdilik ilgilenmiyor"),
        "email": ("Yanıtlandı", "Yanıt bekleniyor", "Teklif kabul edildi"),
        "complaint": ("Yenisi gönderildi", "Ücret iadesi yapıldı", "İndirimle çözüldü", "İnceleniyor"),
        "return": ("Ücret iade edildi", "Değişim yapıldı", "Hediye çeki verildi"),
        "offer": ("Açıldı", "Kabul edildi", "Yanıt yok"),
        "meeting": ("Sonraki adımlarda anlaşıldı", "Teklif hazırlanacak", "Karar gelecek ay"),
        "visit": ("Online sipariş verecek", "Mağazadan sipariş verdi", "Broşür aldı"),
    },
    bodies={
        "call": ("Müşteri teslim süresini ve taksit seçeneklerini sordu.", "Teslimat için cumartesi gününü tercih ediyor."),
        "complaint": (
            "Ürünün bir yüzünde çizik var. Fotoğraflar e-postayla geldi.",
            "Teslimat söz verilenden iki hafta geç yapıldı ve kimse aramadı.",
        ),
        "meeting": ("Kat planı üzerinden geçildi; ilk aşamada 40 çalışma alanı.", "Geçen çeyreğin siparişleri ve açık servis talepleri görüşüldü."),
        "note": ("Gelecek yıl ikinci bir şube açacağını söyledi.",),
    },
    activities={
        "task": ("{product} için teklif gönder", "Sözleşme yenilemesini hazırla", "Teslimat adresini güncelle", "{product} stok kontrolü"),
        "call": ("{product} hakkında geri ara", "Teslimat sonrası takip araması", "Açık şikâyet için ara", "Hoş geldiniz araması"),
        "meeting": ("Hesap değerlendirmesi", "Ofis yerleşim planlaması", "Ürün tanıtımı: {product}"),
        "appointment": ("Mağaza randevusu", "Ölçü randevusu", "Montaj ziyareti"),
    },
    job_titles=(
        "Satın Alma Müdürü", "Ofis Yöneticisi", "Genel Müdür", "İdari İşler Müdürü", "Mali İşler Direktörü",
        "Operasyon Müdürü", "İnsan Kaynakları Müdürü", "Satın Alma Uzmanı", "İç Mimar", "Şirket Sahibi",
    ),
    hobbies=(
        "kitap okumak", "bahçecilik", "yemek yapmak", "fotoğrafçılık", "seyahat", "resim", "doğa yürüyüşü",
        "satranç", "müzik", "el işi", "pasta yapmak", "sinema", "balık tutmak", "seramik",
    ),
    sports=("futbol", "basketbol", "voleybol", "tenis", "koşu", "bisiklet", "yüzme", "yoga", "kayak", "güreş"),
    pets=("köpek", "iki kedi", "kedi", "kedi ve köpek", "muhabbet kuşu", "tavşan", "akvaryum balıkları"),
    consent_sources=("web formu", "mağazada kayıt", "telefon görüşmesi", "fuar", "müşteri portalı"),
    customer_notes=(
        "Eski müşterimiz; hızlı teslimata önem veriyor.", "Telefon yerine e-postayı tercih ediyor.",
        "Önce satın alma müdürünü isteyin.", "Ödemelerini 14 gün içinde düzenli yapar.",
        "Fiyata duyarlı; sezon kampanyalarına iyi yanıt veriyor.",
    ),
    lead_notes=(
        "Ev ve Ofis Fuarı'nda tanıştık.", "Kataloğu iki kez indirdi.", "Mevcut bir müşterimiz önerdi.",
        "Ofis sandalyeleri için geri aranmak istedi.",
    ),
    meeting_places=("Showroom", "Müşterinin ofisi", "Görüntülü görüşme", "Ofisin yanındaki kafe"),
)  # fmt: skip


def _address(rng: Random, street: str) -> str:
    line = f"{street} No: {rng.randrange(1, 180)}"
    return f"{line} D: {rng.randrange(1, 24)}" if rng.random() < 0.6 else line


def _postal(rng: Random, place: Place) -> str:
    return f"{place.postal}{rng.randrange(1, 1000):03d}"


def _vkn(rng: Random) -> str:
    # Vergi kimlik numarası: ten digits.
    return str(rng.randrange(10**9, 10**10))


TR = Locale(
    key="tr-TR",
    language="tr",
    country="TR",
    currency="TRY",
    weight=36,
    female=(
        "Ayşe", "Fatma", "Zeynep", "Elif", "Emine", "Hatice", "Merve", "Büşra", "Esra", "Özlem",
        "Derya", "Gül", "Şule", "İrem", "Ebru", "Sibel", "Yasemin", "Nur", "Ceren", "Selin",
        "Deniz", "Tuğba", "Gizem", "Pınar", "Aslı", "Dilek", "Burcu", "Hülya", "Songül", "Nazlı",
        "Çiğdem", "Gönül", "Şeyma", "Ece", "Damla", "Sevgi", "Nilüfer", "İpek", "Melike", "Aylin",
    ),
    male=(
        "Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Hasan", "İbrahim", "İsmail", "Osman", "Yusuf",
        "Murat", "Ömer", "Ramazan", "Halil", "Süleyman", "Abdullah", "Emre", "Burak", "Serkan", "Oğuz",
        "Kerem", "Barış", "Cem", "Can", "Eren", "Tolga", "Uğur", "Volkan", "Gökhan", "Onur",
        "Şahin", "Çağrı", "Doğan", "Erdem", "Furkan", "İlker", "Kaan", "Orhan", "Selim", "Tarık",
    ),
    surnames=(
        "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir",
        "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek",
        "Polat", "Özcan", "Korkmaz", "Çakır", "Erdoğan", "Yavuz", "Can", "Acar", "Şen", "Aktaş",
        "Güler", "Yalçın", "Güneş", "Bozkurt", "Bulut", "Keskin", "Ünal", "Turan", "Gül", "Özer",
        "Işık", "Kaplan", "Avcı", "Sarı", "Tekin", "Taş", "Köse", "Yüksel", "Ateş", "Aksoy",
        "Uçar", "Sönmez", "Erdem", "Karakaya", "Türkmen", "İnce", "Akın", "Altun", "Güven", "Çınar",
    ),
    places=(
        Place("İstanbul", "İstanbul", "34", "90212", 7,
              ("Kadıköy", "Beşiktaş", "Şişli", "Üsküdar", "Bakırköy", "Ataşehir", "Sarıyer", "Beyoğlu")),
        Place("Ankara", "Ankara", "06", "90312", 7, ("Çankaya", "Keçiören", "Yenimahalle", "Etimesgut")),
        Place("İzmir", "İzmir", "35", "90232", 7, ("Karşıyaka", "Bornova", "Konak", "Buca")),
        Place("Bursa", "Bursa", "16", "90224", 7, ("Nilüfer", "Osmangazi", "Yıldırım")),
        Place("Antalya", "Antalya", "07", "90242", 7, ("Muratpaşa", "Konyaaltı", "Lara")),
        Place("Eskişehir", "Eskişehir", "26", "90222", 7, ("Tepebaşı", "Odunpazarı")),
        Place("Trabzon", "Trabzon", "61", "90462", 7, ("Ortahisar", "Akçaabat")),
        Place("Gaziantep", "Gaziantep", "27", "90342", 7, ("Şahinbey", "Şehitkamil")),
    ),
    streets=(
        "Atatürk Caddesi", "Cumhuriyet Caddesi", "İstiklal Caddesi", "Bağdat Caddesi", "Gazi Bulvarı",
        "İnönü Caddesi", "Fevzi Çakmak Sokak", "Menekşe Sokak", "Lale Sokak", "Çiçek Sokak",
        "Barış Manço Caddesi", "Şehit Mustafa Sokak", "Zübeyde Hanım Caddesi", "Gül Sokak",
        "Mimar Sinan Caddesi", "Kordon Boyu",
    ),
    mobile_prefixes=("90530", "90532", "90533", "90535", "90536", "90541", "90542", "90543", "90544", "90505", "90506", "90555", "90552"),
    mobile_digits=7,
    company_stems=(
        "Anadolu", "Boğaziçi", "Ege", "Karadeniz", "Marmara", "Yıldız", "Kuzey", "Başkent", "Akdeniz",
        "Toros", "Çınar", "Deniz", "Güneş", "Hilal", "Kardelen", "Palandöken", "Uludağ", "Kapadokya",
        "Seyhan", "Fırat", "Dicle", "Ilgaz",
    ),
    legal_forms=("{name} Sanayi ve Ticaret A.Ş.", "{name} Ltd. Şti.", "{name} Ticaret Ltd. Şti.", "{name} A.Ş."),
    email_domains=("example.com", "example.net", "example.org"),
    texts=TEXTS,
    address_line=_address,
    postal_code=_postal,
    tax_number=_vkn,
)  # fmt: skip
