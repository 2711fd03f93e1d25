# ruff: noqa: E501
"""English pools: the United Kingdom and the United States.

UK numbers are in Ofcom's drama ranges (020 7946 0xxx, 0161 496 0xxx …) and US numbers in the
555-01xx range reserved for fiction; both are still valid numbers to libphonenumber.
"""

from __future__ import annotations

from random import Random

from vefa.demo.pools import Locale, Place, Texts, digits

TEXTS = Texts(
    language="en",
    products=(
        "corner sofa", "office chairs", "standing desk", "oak dining table", "memory foam mattress",
        "bookcase", "wardrobe", "bedside lamps", "kitchen cabinets", "conference table",
        "filing cabinets", "wool rug", "recliner", "bunk bed", "bar stools", "garden furniture set",
        "pendant lights", "TV unit", "workstation cluster", "reception desk", "armchair",
        "chest of drawers", "coffee table", "meeting pods",
    ),
    subjects={
        "purchase": ("Order {ref}: {product}", "Purchase of {product}", "Online order {ref} ({product})"),
        "call": (
            "Call about {product}", "Follow-up call on order {ref}", "Asked about delivery dates",
            "Price enquiry: {product}", "Check-in call",
        ),
        "email": (
            "Quote for {product}", "Re: delivery of order {ref}", "Invoice {ref}",
            "Catalogue request", "Question about the warranty",
        ),
        "sms": ("Delivery slot confirmed for order {ref}", "Order {ref} is on its way", "Appointment reminder"),
        "letter": ("Annual catalogue posted", "Warranty certificate for {product}", "Account statement"),
        "visit": (
            "Showroom visit: looked at {product}", "Site visit for measurements",
            "Visited the store with family",
        ),
        "meeting": ("Office fit-out planning", "Quarterly account review", "Design consultation: {product}"),
        "comment": ("Left a review for {product}", "Comment on the new catalogue"),
        "complaint": (
            "Complaint: {product} arrived damaged", "Complaint: late delivery of order {ref}",
            "Complaint: wrong colour delivered", "Complaint: the installer was late",
        ),
        "return": ("Return of {product} (order {ref})", "Returned {product}: did not fit"),
        "offer": (
            "Offer: 15% off {product}", "Spring sale invitation", "Loyalty offer: free delivery",
            "Trade price list sent",
        ),
        "social": ("Instagram message about {product}", "Asked on Facebook about opening hours"),
        "web": (
            "Filled in the contact form", "Requested a quote online for {product}",
            "Downloaded the office furniture catalogue",
        ),
        "fax": ("Purchase order {ref} received by fax",),
        "pos": ("In-store purchase: {product}", "Receipt {ref}: {product}"),
        "note": (
            "Prefers morning deliveries", "Moving office in the spring",
            "Interested in the new {product} range", "Budget approved for next quarter",
        ),
    },
    outcomes={
        "purchase": ("Paid by card", "Paid on invoice, 30 days", "Deposit paid", "Paid in full"),
        "call": (
            "Will call back next week", "Quote sent", "No answer, left a voicemail", "Interested",
            "Not interested for now",
        ),
        "email": ("Replied", "Waiting for a reply", "Quote accepted"),
        "complaint": ("Replacement sent", "Refund issued", "Settled with a discount", "Under investigation"),
        "return": ("Refunded", "Exchanged", "Store credit issued"),
        "offer": ("Opened", "Accepted", "No response"),
        "meeting": ("Agreed next steps", "Proposal to follow", "Decision next month"),
        "visit": ("Will order online", "Ordered in store", "Took a brochure"),
    },
    bodies={
        "call": (
            "Customer asked about lead times and finance options.",
            "Discussed the delivery window; customer prefers a Saturday.",
        ),
        "complaint": (
            "The item was scratched on one side. Photos received by e-mail.",
            "The delivery was two weeks later than promised and nobody called.",
        ),
        "meeting": (
            "Walked through the floor plan; 40 workstations in phase one.",
            "Reviewed last quarter's orders and the open service requests.",
        ),
        "note": ("Mentioned a second site opening next year.",),
    },
    activities={
        "task": (
            "Send a quote for {product}", "Prepare the contract renewal",
            "Update the delivery address", "Check stock for {product}",
        ),
        "call": (
            "Call back about {product}", "Follow-up call after delivery",
            "Call about the open complaint", "Welcome call",
        ),
        "meeting": ("Account review", "Office fit-out planning", "Product demo: {product}"),
        "appointment": ("Showroom appointment", "Measuring appointment", "Installation visit"),
    },
    job_titles=(
        "Purchasing Manager", "Office Manager", "Managing Director", "Facilities Manager",
        "Finance Director", "Operations Manager", "Head of HR", "Procurement Officer",
        "Interior Designer", "Owner",
    ),
    hobbies=(
        "reading", "gardening", "cooking", "photography", "travel", "painting", "hiking", "chess",
        "music", "DIY", "baking", "cinema", "birdwatching", "knitting",
    ),
    sports=(
        "football", "tennis", "running", "cycling", "swimming", "golf", "yoga", "basketball",
        "cricket", "rugby", "skiing",
    ),
    pets=("a dog", "two cats", "a cat", "a dog and a cat", "a parrot", "a rabbit", "fish"),
    consent_sources=("web form", "in-store sign-up", "phone call", "trade fair", "customer portal"),
    customer_notes=(
        "Long-standing customer; values quick delivery.", "Prefers e-mail to phone calls.",
        "Ask for the purchasing manager first.", "Pays reliably within 14 days.",
        "Price-sensitive; reacts well to seasonal offers.",
    ),
    lead_notes=(
        "Met at the Home & Office Fair.", "Downloaded the catalogue twice.",
        "Referred by an existing customer.", "Asked for a call back about office chairs.",
    ),
    meeting_places=("Showroom", "Customer's office", "Video call", "Café near the office"),
)  # fmt: skip

_GB_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _gb_postcode(rng: Random, place: Place) -> str:
    outward = rng.choice(place.postal.split())
    return f"{outward} {rng.randrange(1, 10)}{rng.choice(_GB_LETTERS)}{rng.choice(_GB_LETTERS)}"


def _gb_vat(rng: Random) -> str:
    # HMRC's check: weights 8…2 over seven digits plus the two check digits ≡ 0 (mod 97).
    body = digits(rng, 7)
    total = sum(int(d) * w for d, w in zip(body, range(8, 1, -1), strict=True))
    return f"GB{body}{(-total) % 97:02d}"


def _us_zip(rng: Random, place: Place) -> str:
    return f"{place.postal}{rng.randrange(100):02d}"


def _us_ein(rng: Random) -> str:
    return f"{rng.choice(('13', '20', '26', '27', '45', '46', '47', '81', '82', '83'))}-{digits(rng, 7)}"


def _house_first(rng: Random, street: str) -> str:
    return f"{rng.randrange(1, 240)} {street}"


def _us_house_first(rng: Random, street: str) -> str:
    line = f"{rng.randrange(10, 9900)} {street}"
    return f"{line}, Apt {rng.randrange(1, 40)}" if rng.random() < 0.25 else line


_EN_FEMALE = (
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Emily",
    "Sophie",
    "Grace",
    "Mia",
    "Poppy",
    "Ella",
    "Charlotte",
    "Lily",
    "Jessica",
    "Hannah",
    "Chloe",
    "Lucy",
    "Rachel",
    "Sarah",
    "Emma",
    "Laura",
    "Megan",
    "Rebecca",
    "Zoe",
    "Alice",
    "Eleanor",
    "Harriet",
    "Catherine",
    "Fiona",
    "Joanne",
    "Helen",
    "Claire",
    "Abigail",
    "Madison",
    "Ashley",
    "Brittany",
    "Kayla",
    "Samantha",
    "Natalie",
    "Victoria",
    "Jennifer",
)
_EN_MALE = (
    "Oliver",
    "George",
    "Harry",
    "Jack",
    "Jacob",
    "Noah",
    "Charlie",
    "Thomas",
    "Oscar",
    "William",
    "James",
    "Daniel",
    "Samuel",
    "Joseph",
    "Henry",
    "Alexander",
    "Edward",
    "Matthew",
    "Benjamin",
    "Luke",
    "Ryan",
    "Adam",
    "Callum",
    "Liam",
    "Ethan",
    "Michael",
    "David",
    "Andrew",
    "Peter",
    "Richard",
    "Stephen",
    "Paul",
    "Christopher",
    "Tyler",
    "Brandon",
    "Justin",
    "Kevin",
    "Robert",
    "Anthony",
    "Nathan",
)
_EN_SURNAMES = (
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shaw",
    "Murphy",
    "Miller",
    "Cox",
    "Richards",
    "Khan",
    "Marshall",
    "Anderson",
    "Simpson",
    "Ellis",
    "Adams",
    "Singh",
    "Begum",
    "Wilkinson",
    "Foster",
    "Chapman",
    "Garcia",
    "Rodriguez",
    "Martinez",
    "Nguyen",
    "Kim",
    "O'Brien",
    "McDonald",
    "Sullivan",
)
_EN_STEMS = (
    "Northwind",
    "Blue Harbour",
    "Oakridge",
    "Redwood",
    "Kingsbridge",
    "Silverline",
    "Greenfield",
    "Brightwater",
    "Hawthorn",
    "Ashford",
    "Stonegate",
    "Riverside",
    "Westbury",
    "Highgate",
    "Lakeshore",
    "Summit",
    "Harbourview",
    "Maple Leaf",
    "Granite",
    "Cedar Point",
    "Fairway",
    "Lighthouse",
    "Copperfield",
    "Meridian",
    "Pinnacle",
    "Evergreen",
)

GB = Locale(
    key="en-GB",
    language="en",
    country="GB",
    currency="GBP",
    weight=20,
    female=_EN_FEMALE,
    male=_EN_MALE,
    surnames=_EN_SURNAMES,
    places=(
        Place("London", "Greater London", "N1 NW3 SE1 SW11 E14 W5 EC1 WC2", "442079460", 3,
              ("Islington", "Camden", "Southwark", "Battersea", "Canary Wharf", "Ealing")),
        Place("Manchester", "Greater Manchester", "M1 M4 M14 M20", "441614960", 3,
              ("Ancoats", "Didsbury", "Fallowfield")),
        Place("Birmingham", "West Midlands", "B1 B5 B15 B29", "441214960", 3,
              ("Edgbaston", "Digbeth", "Selly Oak")),
        Place("Leeds", "West Yorkshire", "LS1 LS6 LS11", "441134960", 3, ("Headingley", "Holbeck")),
        Place("Bristol", "Bristol", "BS1 BS6 BS8", "441174960", 3, ("Clifton", "Redland")),
        Place("Glasgow", "Scotland", "G1 G3 G12", "441414960", 3, ("West End", "Merchant City")),
        Place("Edinburgh", "Scotland", "EH1 EH3 EH10", "441314960", 3, ("Leith", "Morningside")),
    ),
    streets=(
        "High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Mill Lane",
        "Kingsley Road", "Queen Street", "Green Lane", "Manor Road", "The Crescent", "Albert Street",
        "Springfield Road", "Richmond Terrace", "Orchard Close", "Castle Street",
    ),
    # No mobile range is reserved for fiction: people get a drama-range number in their city.
    mobile_prefixes=(),
    mobile_digits=0,
    company_stems=_EN_STEMS,
    legal_forms=("{name} Ltd", "{name} Limited", "{name} PLC", "{name} LLP"),
    email_domains=("example.com", "example.org", "example.net"),
    texts=TEXTS,
    address_line=_house_first,
    postal_code=_gb_postcode,
    tax_number=_gb_vat,
)  # fmt: skip

US = Locale(
    key="en-US",
    language="en",
    country="US",
    currency="USD",
    weight=12,
    female=_EN_FEMALE,
    male=_EN_MALE,
    surnames=_EN_SURNAMES,
    places=(
        Place("New York", "NY", "100", "121255501", 2, ("Manhattan", "Brooklyn", "Queens")),
        Place("Chicago", "IL", "606", "131255501", 2, ("Lincoln Park", "Wicker Park")),
        Place("San Francisco", "CA", "941", "141555501", 2, ("Mission", "SoMa")),
        Place("Boston", "MA", "021", "161755501", 2, ("Back Bay", "Cambridge")),
        Place("Houston", "TX", "770", "171355501", 2, ("Midtown", "Heights")),
        Place("Miami", "FL", "331", "130555501", 2, ("Brickell", "Wynwood")),
        Place("Seattle", "WA", "981", "120655501", 2, ("Capitol Hill", "Ballard")),
    ),
    streets=(
        "Maple Avenue", "Oak Street", "Main Street", "Washington Boulevard", "Lincoln Avenue",
        "Cedar Lane", "Pine Street", "Elm Street", "Park Place", "Lake Shore Drive",
        "Sunset Boulevard", "Madison Avenue", "Hillside Drive", "Broadway",
    ),
    # US mobiles share their city's area code; 555-01xx there.
    mobile_prefixes=(),
    mobile_digits=0,
    company_stems=_EN_STEMS,
    legal_forms=("{name} Inc.", "{name} LLC", "{name} Corp.", "{name} Co."),
    email_domains=("example.com", "example.net", "example.org"),
    texts=TEXTS,
    address_line=_us_house_first,
    postal_code=_us_zip,
    tax_number=_us_ein,
)  # fmt: skip
