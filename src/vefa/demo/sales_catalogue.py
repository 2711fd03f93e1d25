"""What the demo company sells and who it competes with (data for ``vefa.demo.sales``).

Prices are the company's export list in euros; the other currencies are derived from the
demo exchange rates. The "family" of a product is the English name of the product the
contact history mentions ("Order … : corner sofa"), so an order's first line is what its
purchase interaction says was bought.
"""

from __future__ import annotations

# Quantity classes: "s" seats and small items (many per office), "d" desks and cabinets,
# "m" sold by the metre or square metre, "h" hours of work, "1" one per order.
# (category code, category name, ((family, name, price in EUR, unit, quantity class), …))
CATALOGUE: tuple[tuple[str, str, tuple[tuple[str, str, int, str, str], ...]], ...] = (
    ("SOF", "Sofas & armchairs", (
        ("corner sofa", "Corner sofa Bosphorus, fabric", 1890, "piece", "1"),
        ("corner sofa", "Corner sofa Kensington, modular", 2450, "piece", "1"),
        ("corner sofa", "Corner sofa Sava, linen", 1390, "piece", "1"),
        ("corner sofa", "Corner sofa Alborz, leather", 2990, "piece", "1"),
        ("", "Sofa bed Nomad", 1090, "piece", "1"),
        ("", "Three-seat sofa Oslo", 990, "piece", "1"),
        ("", "Two-seat sofa Oslo", 790, "piece", "1"),
        ("recliner", "Recliner Comfort, manual", 690, "piece", "1"),
        ("recliner", "Recliner Comfort Plus, electric", 1190, "piece", "1"),
        ("recliner", "Recliner Lounge, leather", 1590, "piece", "1"),
        ("armchair", "Armchair Berjer, classic", 540, "piece", "1"),
        ("armchair", "Armchair Oslo", 420, "piece", "1"),
        ("armchair", "Wing chair Ankara", 680, "piece", "1"),
        ("armchair", "Accent chair Tabriz", 390, "piece", "1"),
    )),
    ("SEA", "Office seating", (
        ("office chairs", "Task chair Ergo 100", 189, "piece", "s"),
        ("office chairs", "Task chair Ergo 300, mesh", 329, "piece", "s"),
        ("office chairs", "Task chair Ergo 500, 24-hour use", 459, "piece", "s"),
        ("office chairs", "Executive chair Prime, leather", 649, "piece", "d"),
        ("office chairs", "Conference chair Meet", 149, "piece", "s"),
        ("office chairs", "Visitor chair Guest", 119, "piece", "s"),
        ("", "Stacking chair Stack", 69, "piece", "s"),
        ("bar stools", "Bar stool Pera", 129, "piece", "s"),
        ("bar stools", "Bar stool Soho, height adjustable", 159, "piece", "s"),
        ("bar stools", "Counter stool Novi", 109, "piece", "s"),
        ("", "Lounge chair Foyer", 390, "piece", "d"),
        ("", "Ergonomic footrest", 39, "piece", "s"),
    )),
    ("OFF", "Office furniture", (
        ("standing desk", "Standing desk Lift 140×70", 549, "piece", "d"),
        ("standing desk", "Standing desk Lift Pro 160×80", 749, "piece", "d"),
        ("standing desk", "Desk frame Lift, electric", 349, "piece", "d"),
        ("workstation cluster", "Bench workstation, 2 persons", 990, "piece", "d"),
        ("workstation cluster", "Bench workstation, 4 persons", 1790, "piece", "d"),
        ("workstation cluster", "Bench workstation, 6 persons", 2490, "piece", "d"),
        ("", "Acoustic desk screen", 129, "piece", "s"),
        ("", "Monitor arm, dual", 119, "piece", "s"),
        ("reception desk", "Reception desk Welcome", 1690, "piece", "1"),
        ("reception desk", "Reception desk Welcome XL", 2590, "piece", "1"),
        ("reception desk", "Reception counter module", 890, "piece", "1"),
        ("meeting pods", "Meeting pod, 1 person", 5900, "piece", "1"),
        ("meeting pods", "Meeting pod, 4 persons", 14900, "piece", "1"),
        ("meeting pods", "Phone booth Quiet", 3900, "piece", "1"),
        ("", "Acoustic wall panel", 89, "m2", "m"),
        ("", "Mobile whiteboard", 249, "piece", "1"),
    )),
    ("TAB", "Tables", (
        ("oak dining table", "Oak dining table, 6 seats", 1290, "piece", "1"),
        ("oak dining table", "Oak dining table, extendable, 8 seats", 1890, "piece", "1"),
        ("oak dining table", "Walnut dining table", 1590, "piece", "1"),
        ("", "Dining chair Oak", 189, "piece", "s"),
        ("conference table", "Conference table, 8 seats", 1490, "piece", "d"),
        ("conference table", "Conference table, 12 seats", 2390, "piece", "1"),
        ("conference table", "Boardroom table, 20 seats", 4890, "piece", "1"),
        ("conference table", "Modular meeting table", 690, "piece", "d"),
        ("coffee table", "Coffee table Kula", 249, "piece", "1"),
        ("coffee table", "Coffee table, marble top", 490, "piece", "1"),
        ("coffee table", "Side tables Duo (set of 2)", 179, "piece", "1"),
        ("TV unit", "TV unit Frame 180 cm", 449, "piece", "1"),
        ("TV unit", "TV unit Frame 240 cm", 599, "piece", "1"),
        ("TV unit", "Media wall unit", 890, "piece", "1"),
        ("", "Café table Bistro", 159, "piece", "d"),
    )),
    ("BED", "Beds & mattresses", (
        ("memory foam mattress", "Memory foam mattress 90×200", 449, "piece", "1"),
        ("memory foam mattress", "Memory foam mattress 140×200", 649, "piece", "1"),
        ("memory foam mattress", "Memory foam mattress 160×200", 749, "piece", "1"),
        ("memory foam mattress", "Memory foam mattress 180×200", 849, "piece", "1"),
        ("", "Mattress topper 160×200", 129, "piece", "1"),
        ("", "Memory foam pillow", 49, "piece", "s"),
        ("bunk bed", "Bunk bed Twin, pine", 590, "piece", "1"),
        ("bunk bed", "Bunk bed with desk", 890, "piece", "1"),
        ("bunk bed", "Loft bed Up", 690, "piece", "1"),
        ("", "Double bed frame, oak", 690, "piece", "1"),
        ("", "King-size bed, upholstered", 990, "piece", "1"),
    )),
    ("STO", "Storage", (
        ("bookcase", "Bookcase Libra, 5 shelves", 249, "piece", "d"),
        ("bookcase", "Bookcase Libra, wide", 349, "piece", "d"),
        ("bookcase", "Modular shelving unit", 429, "piece", "d"),
        ("wardrobe", "Wardrobe, 2 doors", 590, "piece", "1"),
        ("wardrobe", "Wardrobe, 3 doors with mirror", 890, "piece", "1"),
        ("wardrobe", "Sliding-door wardrobe 240 cm", 1390, "piece", "1"),
        ("filing cabinets", "Filing cabinet, 3 drawers", 289, "piece", "d"),
        ("filing cabinets", "Filing cabinet, 4 drawers", 349, "piece", "d"),
        ("filing cabinets", "Mobile pedestal", 189, "piece", "s"),
        ("filing cabinets", "Lateral filing cabinet", 489, "piece", "d"),
        ("filing cabinets", "Locker unit, 8 doors", 790, "piece", "d"),
        ("chest of drawers", "Chest of drawers, 4 drawers", 349, "piece", "1"),
        ("chest of drawers", "Chest of drawers, 6 drawers", 459, "piece", "1"),
        ("chest of drawers", "Dresser with mirror", 590, "piece", "1"),
        ("", "Glass display cabinet", 590, "piece", "1"),
        ("", "Shoe cabinet", 199, "piece", "1"),
    )),
    ("LIG", "Lighting", (
        ("bedside lamps", "Bedside lamps Nur (pair)", 89, "piece", "1"),
        ("bedside lamps", "Ceramic table lamp", 69, "piece", "1"),
        ("bedside lamps", "Arc floor lamp", 189, "piece", "1"),
        ("pendant lights", "Pendant light Kubbe, brass", 229, "piece", "1"),
        ("pendant lights", "Pendant cluster, 3 lights", 349, "piece", "1"),
        ("pendant lights", "Linear LED pendant for offices", 289, "piece", "s"),
        ("pendant lights", "Chandelier Shiraz", 890, "piece", "1"),
        ("", "LED desk lamp", 59, "piece", "s"),
        ("", "Wall light", 79, "piece", "s"),
        ("", "Outdoor wall lantern", 99, "piece", "s"),
    )),
    ("RUG", "Rugs & textiles", (
        ("wool rug", "Wool rug 160×230", 390, "piece", "1"),
        ("wool rug", "Wool rug 200×300", 690, "piece", "1"),
        ("wool rug", "Hand-knotted rug 200×300", 1890, "piece", "1"),
        ("wool rug", "Runner rug 80×300", 190, "piece", "1"),
        ("", "Blackout curtains (pair)", 119, "piece", "s"),
        ("", "Cushion set (4 pieces)", 59, "package", "1"),
        ("", "Carpet tiles", 29, "m2", "m"),
    )),
    ("KIT", "Kitchens", (
        ("kitchen cabinets", "Kitchen base cabinet 60 cm", 229, "piece", "s"),
        ("kitchen cabinets", "Kitchen wall cabinet 60 cm", 169, "piece", "s"),
        ("kitchen cabinets", "Tall larder unit", 449, "piece", "1"),
        ("kitchen cabinets", "Kitchen island", 1290, "piece", "1"),
        ("kitchen cabinets", "Oak worktop", 149, "m", "m"),
        ("", "Fridge housing unit", 399, "piece", "1"),
    )),
    ("GAR", "Garden", (
        ("garden furniture set", "Garden dining set, 6 seats", 990, "piece", "1"),
        ("garden furniture set", "Rattan lounge set", 1290, "piece", "1"),
        ("garden furniture set", "Teak garden bench", 390, "piece", "1"),
        ("", "Sun lounger", 249, "piece", "s"),
        ("", "Parasol 3 m", 189, "piece", "1"),
        ("", "Stacking garden chair", 69, "piece", "s"),
    )),
    ("SRV", "Services", (
        ("", "Delivery and assembly", 49, "service", "1"),
        ("", "Installation", 35, "hour", "h"),
        ("", "Interior design consultation", 75, "hour", "h"),
        ("", "Office space planning", 490, "day", "1"),
        ("", "Kitchen planning", 150, "service", "1"),
        ("", "Extended warranty, 3 years", 99, "service", "1"),
        ("", "Removal of old furniture", 59, "service", "1"),
    )),
)  # fmt: skip

# Sold in the first half of the history, then taken out of the range (inactive now).
DISCONTINUED = frozenset({
    "Corner sofa Sava, linen", "Task chair Ergo 100", "Bunk bed Twin, pine",
    "Ceramic table lamp", "Runner rug 80×300", "Visitor chair Guest", "Counter stool Novi",
})  # fmt: skip
# Added to the range during the history.
INTRODUCED_LATER = frozenset({
    "Task chair Ergo 500, 24-hour use", "Phone booth Quiet", "Standing desk Lift Pro 160×80",
    "Rattan lounge set", "Monitor arm, dual", "Mattress topper 160×200", "Carpet tiles",
    "Outdoor wall lantern", "Shoe cabinet",
})  # fmt: skip
DELIVERY = "Delivery and assembly"

# (name, web site, markets where it bids)
COMPETITORS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Mobilya Dünyası Ltd.", "https://mobilyadunyasi.example", ("TR",)),
    ("Kuzey Ofis Sistemleri A.Ş.", "https://kuzeyofis.example", ("TR",)),
    ("Dekor Plus", "https://dekorplus.example", ("TR", "RS", "IR")),
    ("Albion Interiors", "https://albion-interiors.example", ("GB",)),
    ("Home & Co. Online", "https://homeandco.example", ("GB", "US")),
    ("OfficeLine Europe", "https://officeline.example", ("GB", "RS", "US")),
    ("Balkan Nameštaj d.o.o.", "https://balkan-namestaj.example", ("RS",)),
    ("Pars Mobl", "https://parsmobl.example", ("IR",)),
    ("Prairie Office Supply", "https://prairie-office.example", ("US",)),
)

# Carriers per country: (name, tracking number pattern: "#" digit, "@" letter).
CARRIERS: dict[str, tuple[tuple[str, str], ...]] = {
    "TR": (
        ("Yurtiçi Kargo", "############"),
        ("Aras Kargo", "##########"),
        ("MNG Kargo", "###########"),
    ),
    "GB": (
        ("Royal Mail", "@@#########GB"),
        ("DPD", "##############"),
        ("Parcelforce", "@@#######"),
    ),
    "US": (
        ("UPS", "1Z@@@###############"),
        ("FedEx", "############"),
        ("USPS", "9400##################"),
    ),
    "RS": (("Post Express", "PE#########RS"), ("D Express", "DE##########"), ("AKS", "##########")),
    "IR": (("Tipax", "##########"), ("Iran Post", "RR#########IR"), ("Chapar", "##########")),
}
OWN_FLEET = "Vefa delivery team"

# Value-added tax on the company's sales to each country (exports to the US carry none).
TAX_RATES = {"TR": 20, "RS": 20, "IR": 10, "GB": 20, "US": 0}

# Contract titles by interface language.
CONTRACT_TITLES: dict[str, tuple[str, ...]] = {
    "en": (
        "Office furniture maintenance",
        "Annual furniture supply agreement",
        "Furniture leasing",
        "Workplace care service",
    ),
    "tr": (
        "Ofis mobilyası bakım sözleşmesi",
        "Yıllık mobilya tedarik anlaşması",
        "Mobilya kiralama",
        "Çalışma alanı bakım hizmeti",
    ),
    "sr-latn": (
        "Održavanje kancelarijskog nameštaja",
        "Godišnji ugovor o isporuci nameštaja",
        "Lizing nameštaja",
        "Usluga održavanja radnog prostora",
    ),
    "fa": (
        "قرارداد نگهداری مبلمان اداری",
        "قرارداد سالانه تأمین مبلمان",
        "اجاره مبلمان",
        "خدمات نگهداری فضای کار",
    ),
}
