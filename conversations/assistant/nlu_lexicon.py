"""Word tables for the rule-based NLU: numbers, fillers, store vocabulary defaults and synonyms.

Kept apart from the rules so that adding a phrasing is usually a one-line change to a table here.
Everything is lower case; the NLU lower-cases the message before it looks anything up.
"""

from __future__ import annotations


def words(text: str) -> frozenset[str]:
    """A word list written as running text (easier to read and edit than a list literal)."""
    return frozenset(text.split())


NUMBER_WORDS: dict[str, int] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "single": 1,
    "couple": 2,
    "pair": 1,
    "dozen": 12,
    "both": 2,
}

# Multi-word quantities, tried before single words. "a pair of shoes" is one item (a pair is how shoes
# and socks are sold), while "two pairs of socks" is two: the number word wins.
QUANTITY_PHRASES: tuple[tuple[str, int], ...] = (
    ("half a dozen", 6),
    ("a couple of", 2),
    ("a couple", 2),
    ("a few", 3),
    ("a dozen", 12),
    ("a pair of", 1),
    ("a pair", 1),
)

ORDINAL_WORDS: dict[str, int] = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "sixth": 6,
    "6th": 6,
    "seventh": 7,
    "7th": 7,
    "eighth": 8,
    "8th": 8,
    "ninth": 9,
    "9th": 9,
    "tenth": 10,
    "10th": 10,
    "last": -1,
    "final": -1,
}

# Politeness and hedging removed before the rules run ("hey can you please ..." -> "...").
# Longest first; matched at the start of a clause only, repeatedly.
FILLER_PREFIXES: tuple[str, ...] = (
    "i was wondering if you could",
    "i was wondering if",
    "would you be able to",
    "would it be possible to",
    "is it possible to",
    "do you think you could",
    "could you please",
    "can you please",
    "would you please",
    "will you please",
    "could you",
    "can you",
    "would you",
    "will you",
    "can u",
    "pls",
    "please",
    "plz",
    "kindly",
    "hey there",
    "hi there",
    "hello there",
    "hey",
    "hi",
    "hello",
    "ok so",
    "okay so",
    "so",
    "um",
    "uh",
    "well",
    "actually",
    "just",
    "also",
    "now",
    "then",
    "and",
    "i'd like you to",
    "i would like you to",
    "i want you to",
    "i need you to",
    "go ahead and",
    "help me",
    "let me",
    "lets",
    "let's",
)

# Store vocabulary defaults (an apparel and sports store). At runtime the catalog's own brands and
# categories are injected through Vocabulary.build(); these are used when nothing is given.
DEFAULT_BRANDS: tuple[str, ...] = (
    "Stride",
    "Northpeak",
    "Denimworks",
    "Aerolite",
    "Summit & Co",
    "Urban Thread",
)
DEFAULT_CATEGORIES: tuple[str, ...] = (
    "running shoes",
    "trail shoes",
    "hoodies",
    "t-shirts",
    "jeans",
    "jackets",
    "backpacks",
    "socks",
    "shorts",
    "leggings",
    "caps",
)
DEFAULT_COLORS: tuple[str, ...] = (
    "black",
    "white",
    "navy",
    "grey",
    "red",
    "blue",
    "green",
    "olive",
    "yellow",
    "orange",
    "pink",
    "purple",
    "brown",
    "beige",
    "tan",
    "khaki",
    "maroon",
    "burgundy",
    "teal",
    "charcoal",
    "cream",
    "neon",
    "indigo",
    "silver",
    "gold",
)
DEFAULT_STYLES: tuple[str, ...] = (
    "denim",
    "casual",
    "sporty",
    "athletic",
    "outdoor",
    "minimalist",
    "streetwear",
    "classic",
    "slim fit",
    "relaxed fit",
    "oversized",
    "waterproof",
    "lightweight",
    "vintage",
    "retro",
    "cotton",
    "fleece",
    "wool",
)

COLOR_ALIASES: dict[str, str] = {
    "gray": "grey",
    "dark blue": "navy",
    "navy blue": "navy",
    "off white": "cream",
}

# Everyday words for a category -> the canonical default category. Only applied when the target category
# exists in the injected vocabulary.
CATEGORY_SYNONYMS: dict[str, str] = {
    "running shoe": "running shoes",
    "runners": "running shoes",
    "running sneakers": "running shoes",
    "sneakers": "running shoes",
    "sneaker": "running shoes",
    "trainers": "running shoes",
    "trail runners": "trail shoes",
    "trail running shoes": "trail shoes",
    "hiking shoes": "trail shoes",
    "hoody": "hoodies",
    "hoodys": "hoodies",
    "sweatshirt": "hoodies",
    "sweatshirts": "hoodies",
    "tee": "t-shirts",
    "tees": "t-shirts",
    "tshirt": "t-shirts",
    "tshirts": "t-shirts",
    "t shirt": "t-shirts",
    "t shirts": "t-shirts",
    "shirt": "t-shirts",
    "shirts": "t-shirts",
    "denim jeans": "jeans",
    "jean": "jeans",
    "coat": "jackets",
    "coats": "jackets",
    "parka": "jackets",
    "rain jacket": "jackets",
    "bag": "backpacks",
    "bags": "backpacks",
    "rucksack": "backpacks",
    "daypack": "backpacks",
    "tights": "leggings",
    "legging": "leggings",
    "hat": "caps",
    "hats": "caps",
    "baseball cap": "caps",
    "sock": "socks",
    "short": "shorts",
}

# Which kind of size a category takes ("size M" for a hoodie is a tops size, not a shoe size).
CATEGORY_SIZE_KIND: dict[str, str] = {
    "running shoes": "shoes",
    "trail shoes": "shoes",
    "hoodies": "tops",
    "t-shirts": "tops",
    "jackets": "tops",
    "jeans": "bottoms",
    "shorts": "bottoms",
    "leggings": "bottoms",
}
SIZE_KIND_WORDS: dict[str, str] = {
    "shoe": "shoes",
    "shoes": "shoes",
    "sneaker": "shoes",
    "sneakers": "shoes",
    "trainers": "shoes",
    "boots": "shoes",
    "footwear": "shoes",
    "top": "tops",
    "tops": "tops",
    "shirt": "tops",
    "shirts": "tops",
    "tshirts": "tops",
    "jacket": "tops",
    "jackets": "tops",
    "hoodie": "tops",
    "hoodies": "tops",
    "sweater": "tops",
    "sweaters": "tops",
    "bottom": "bottoms",
    "bottoms": "bottoms",
    "pants": "bottoms",
    "trousers": "bottoms",
    "jeans": "bottoms",
    "shorts": "bottoms",
    "leggings": "bottoms",
    "waist": "bottoms",
    "inseam": "bottoms",
}

LETTER_SIZES: dict[str, str] = {
    "xxs": "XXS",
    "xs": "XS",
    "s": "S",
    "m": "M",
    "l": "L",
    "xl": "XL",
    "xxl": "XXL",
    "2xl": "XXL",
    "xxxl": "XXXL",
    "3xl": "XXXL",
    "extra small": "XS",
    "x-small": "XS",
    "x small": "XS",
    "small": "S",
    "medium": "M",
    "med": "M",
    "large": "L",
    "extra large": "XL",
    "x-large": "XL",
    "x large": "XL",
    "extra extra large": "XXL",
    "xx-large": "XXL",
}

# The sizes a rule may name ({SIZE} in ``nlu/rules.py``): every letter size and its spelt-out name but
# "med", which is also an everyday word ("I'm a med student").
SIZE_WORDS: tuple[str, ...] = tuple(word for word in LETTER_SIZES if word != "med")

# Product nouns that are not categories but still show the message is about the store's goods.
PRODUCT_NOUNS: frozenset[str] = words(
    """
    shoe shoes sneaker sneakers trainer trainers boot boots sandals jacket jackets coat coats parka
    fleece vest shirt shirts tee tees tops sweater sweaters pullover pants trousers joggers sweatpants
    jeans shorts leggings tights socks sock cap caps hat hats beanie backpack backpacks bag bags hoodie
    hoodies item items product products gear clothes clothing outfit apparel runners windbreaker gloves
    scarf belt bottle
    """
)

# Tokens the spelling corrector may produce: intent keywords. The store vocabulary is added per
# Vocabulary. A typo is only corrected into one of these words.
KEYWORDS: frozenset[str] = words(
    """
    add remove delete cart basket checkout order orders status track tracking cancel refund return
    returns discount coupon promo code voucher apply show find search looking need want recommend
    suggest suggestion recommendation remember forget preference preferences memory clear empty quantity
    increase decrease reduce change update address shipping ship deliver delivery delivered support
    human agent ticket complaint damaged broken wrong missing late help hello thanks thank cheapest
    cheaper expensive newest latest size sizes color colour colors colours brand brands price under
    between available favorite favourite budget total items purchase payment everything representative
    parcel package shipped refunds cancellation checking proceed what where when show exchange ticket
    resolved complaint remember recommend prefer
    """
)

# Common English words that are never "corrected" although they sit one edit away from a keyword
# (border/order, card/cart, shows/shoes, ...), plus frequent function words. Not a dictionary: the
# corrector only considers tokens of five letters or more, so this lists the risky ones.
COMMON_WORDS: frozenset[str] = words(
    """
    about above after again against along already also although always among another answer anyone
    anything around asked aside avoid away based because become before begin behind being below beside
    best better between beyond board boarder border bored borders borrow bottom bought bread break bring
    broad brought build built calendar called camera cancer carry cards cared cares caring carts catch
    cause chair chance change chart charts cheap check cheer cheers chose chosen class clean clear
    clever climate close closed clothes cloud coach coast coated codes coded coder colder color could
    count court cover cream crowd dance dated dealer delta dinner dirty doing doors dozen dream dress
    drink drive drove early earth eight either email empty enjoy enough enter equal event every exact
    extra faith false family father fewer field fifth fight final first floor flour focus folder force
    forest forget forgot forth found frame fresh front fruit funny garden ghost given glass going goods
    grade grand grant great green greet group guess guest happy heard heart heavy hello hence horse
    hotel house human ideal image index inner input issue joint judge kinds known label large later
    laugh layer learn least leave legal level light limit lines local loose lower lucky lunch major
    maker march match maybe meant media metal meter might minor model money month moral motor mouse
    mouth movie music never night noise north noted novel nurse occur offer often older order other
    ought outer owner paint panel paper party peace phone photo piece pilot pitch place plain plane
    plant plate point pound power press price pride prime print prior prize proof proud prove quick
    quiet quite radio raise range rapid ratio reach ready refer relax reply right river rough round
    route royal rural scale scene score sense serve seven shade shake shall shape share sharp sheet
    shelf shell shift shirt shock shoot short shots shown shows sight since sixth skill sleep slide
    small smart smile smoke solid solve sound south space spare speak speed spend spent split sport
    staff stage stand start state steam steel stick still stock stone store storm story strip stuck
    study stuff style sugar suite super sweet table taken taste teach thank theme there these thing
    think third those three throw tight timer tired title today token topic total touch tower track
    trade trail train treat trend trial tried truck truly trust truth twice under union until upper
    upset urban usage usual valid value video virus visit vital voice waste watch water wheel where
    which while white whole whose woman women world worry worse worst worth would write wrong wrote
    young yours youth shower shoot hours older elder odder adder ladder cartel carton carter cartoon
    darts parts party smart start quarter heart shows shoe shore shoes shops stores sizes seize siren
    sided sides social ticket tickets tickle picket pocket rocket racket jacket docket locket socket
    buckets bracket ordered orders border borders recorder recorded disorder colder folder holder solder
    forget target figure forward backward remote devote denote mobile motive emotion promote promotion
    commotion suggest digest summer dinner winner runner runners running sunning cunning tunning
    stunning warning morning manner banner planner planning meaning learning earning turning burning
    return retire refine define deform reform inform referral refuse refused statue stature statues
    states stated cheaper chapter cheapen reader leader header heater heaven seven eleven adding padding
    wedding bedding sadden hidden ridden reason season poison prison person address addresses adders
    dress dresses express impress empress process success access weather wether whether leather feather
    father mother brother bother other others checks checked chuck chucks choke chores chose shoves
    shovel shove shook shock shocks carry curry hurry worry marry merry berry cherry sorry story glory
    recent decent percent parent patent potent intent extent extend attend attempt search starch church
    perch porch torch march marsh harsh couple county country counter counted mounted amounted helper
    helmet hello cello jello mellow yellow fellow follow hollow pillow willow exchange changed changes
    challenge charge charged charger chance chances orange arrange strange strong string spring sprint
    print prints printer pointer points joints counter encounter customer customers service services
    representative available availability information reservation reservations appointment appointments
    calendar schedule meeting meetings battery batteries restaurant restaurants insurance account
    accounts transfer transfers remove removed removing remind reminder reminders recommend recommended
    recommendation discount discounts discounted recount account amount amounts mount mounted around
    ground shopping shipping shopper shoppers chopping showing showed slower flower flowers clothing
    nothing something anything everything things thing think thinking back lack rack here hers were wore
    went want wants wanted sure shore shoot sheet shirt short black blank block blocks bloke blood
    bottle bottled bottles sold solid socket stocking stockings listing listings photo photos quote
    quotes quoted player players phone phones
    speaker speakers sneak sneaky live lives liver lover loved lovely lived living alive life sheep shop
    shops shopped stop stops stopped stored storing stories storage tracks trick tricks trucks tracker
    trains trainee soak soaked sick sicker sticks stack stacks stocks snack snacks coda mode modes node
    nodes rode rope hood hoods hook hooks hoot holds holes hole side site sites card caret carat cargo
    packet packets sports skirt skirts collar collars dollar dollars bread brain brains bland blend
    hollow rolling ruling raining ordeal prince thunder wonder wander wavy heavy greet grew prey pray
    slack quite alive waiter latter letter bitter butter feather movie movies videos game games play
    plays played playing monkey honey emails mail mails houses mouse flight flights fight lights
    night hotels motel bank banks recipe recipes doctor doctors
    """
)

# Words that look like a 6-character order code to a regex but are ordinary words or sizes.
NOT_ORDER_IDS: frozenset[str] = frozenset({"XXXL", "3XL", "2XL"})

US_STATES: frozenset[str] = words(
    """
    AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC
    ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR
    """
)

STREET_SUFFIXES: tuple[str, ...] = (
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "boulevard",
    "blvd",
    "drive",
    "dr",
    "lane",
    "ln",
    "way",
    "court",
    "ct",
    "place",
    "pl",
    "parkway",
    "pkwy",
    "highway",
    "hwy",
    "terrace",
    "circle",
    "cir",
    "square",
    "sq",
    "trail",
    "loop",
    "alley",
)

# Support subject hints: words in a complaint -> the subject the ticket gets.
SUPPORT_SUBJECTS: tuple[tuple[str, str], ...] = (
    ("damaged", "damaged"),
    ("broken", "damaged"),
    ("torn", "damaged"),
    ("ripped", "damaged"),
    ("holes", "damaged"),
    ("hole", "damaged"),
    ("stained", "damaged"),
    ("defective", "damaged"),
    ("faulty", "damaged"),
    ("wrong item", "wrong_item"),
    ("wrong size", "wrong_item"),
    ("wrong colour", "wrong_item"),
    ("wrong color", "wrong_item"),
    ("wrong product", "wrong_item"),
    ("wrong order", "wrong_item"),
    ("not what i ordered", "wrong_item"),
    ("missing", "missing"),
    ("never arrived", "missing"),
    ("never received", "missing"),
    ("didn't arrive", "missing"),
    ("did not arrive", "missing"),
    ("hasn't arrived", "late"),
    ("has not arrived", "late"),
    ("late", "late"),
    ("delayed", "late"),
    ("overdue", "late"),
    ("stuck", "late"),
    ("charged twice", "billing"),
    ("double charged", "billing"),
    ("overcharged", "billing"),
    ("charge", "billing"),
    ("payment", "billing"),
)

# Store policy topics for general questions (the assistant answers them from staff-edited entries).
QUESTION_TOPICS: tuple[tuple[str, str], ...] = (
    ("return", "returns"),
    ("exchange", "returns"),
    ("refund", "returns"),
    ("ship", "shipping"),
    ("deliver", "shipping"),
    ("postage", "shipping"),
    ("size chart", "sizing"),
    ("size guide", "sizing"),
    ("sizing", "sizing"),
    ("fit", "sizing"),
    ("run small", "sizing"),
    ("run large", "sizing"),
    ("true to size", "sizing"),
    ("pay", "payment"),
    ("payment", "payment"),
    ("credit card", "payment"),
    ("paypal", "payment"),
    ("apple pay", "payment"),
    ("discount", "discounts"),
    ("coupon", "discounts"),
    ("promo", "discounts"),
    ("sale", "discounts"),
    ("store hours", "store"),
    ("open", "store"),
    ("location", "store"),
    ("warranty", "warranty"),
    ("guarantee", "warranty"),
    ("privacy", "privacy"),
    ("data", "privacy"),
    ("account", "account"),
    ("password", "account"),
    ("sign in", "account"),
    ("log in", "account"),
    ("stock", "availability"),
    ("available", "availability"),
    ("restock", "availability"),
    ("wash", "care"),
    ("care", "care"),
    ("material", "materials"),
    ("made of", "materials"),
)

# Things a clothing store's chat never acts on: a cart, order or support verb next to one of these is
# about something else ("add walnuts to my shopping list", "my luggage never arrived", "speak to
# customer service about my flight"). Only consulted when the clause names nothing the store sells.
OFF_TOPIC_PHRASES: tuple[str, ...] = (
    "flight",
    "flights",
    "airline",
    "airport",
    "luggage",
    "baggage",
    "carry on",
    "carry ons",
    "hotel",
    "uber",
    "lyft",
    "taxi",
    "to do list",
    "todo list",
    "shopping list",
    "grocery list",
    "playlist",
    "song",
    "alarm",
    "reminder",
    "calendar",
    "insurance",
    "bank",
    "checking account",
    "savings account",
    "checking",
    "savings",
    "tax return",
    "pin",
    "pin number",
    "credit score",
    "car bill",
    "engine",
    "oil change",
    "recipe",
    "doctor",
    "dentist",
    "voice",
)

# Words the rules' placeholders stand for (``nlu/rules.py``: {CART}, {ORDERISH}, {ORDER_THING},
# {ORDER_PROGRESS}).
CART_WORDS: tuple[str, ...] = ("cart", "basket", "shopping bag", "bag")
ORDER_WORDS: tuple[str, ...] = (
    "order",
    "orders",
    "package",
    "parcel",
    "delivery",
    "shipment",
    "purchase",
    "stuff",
    "items",
    "refund",
)
ORDER_THING_WORDS: tuple[str, ...] = tuple(
    [
        "order",
        "orders",
        "ordered",
        "package",
        "packages",
        "packaged",
        "parcel",
        "parcels",
        "delivery",
        "deliveries",
        "shipment",
        "shipments",
        "purchase",
        "purchases",
        "purchased",
        "goods",
        "bought",
        "items",
        "stuff",
        "things",
        "shipping",
    ]
)
ORDER_PROGRESS_WORDS: tuple[str, ...] = (
    *[
        "shipped",
        "ship",
        "ships",
        "arrive",
        "arrived",
        "arriving",
        "arrives",
        "deliver",
        "delivered",
        "delivering",
        "coming",
        "come",
        "comes",
    ],
    "brought",
    "far along",
    "on its way",
    "on the way",
    "on their way",
    "dispatched",
    "sent out",
    "been sent",
    "here yet",
    "get here",
    *["where", "when"],
    "how long",
    "how soon",
    *["yet", "delayed"],
    "taking so long",
    "taking this long",
    "taking that long",
    *["news", "update", "updates", "word", "processed", "sent", "ready", "happening"],
    "going on",
    "info",
    "information",
    "check on",
    "checking on",
    "find out",
    "see if",
    "happened",
    "going",
    "what's up",
    "know about",
    "tell me about",
    "receive",
    "get",
    "gets here",
    "show up",
    "showed up",
    "turn up",
    "turned up",
    *["expected", "eta", "status", "track", "tracking", "whereabouts", "locate", "progress"],
    "in transit",
    "out for delivery",
    "delivery date",
    "arrival date",
    "ship date",
    "arrival",
    "progressing",
    "late",
    "longer",
    "on time",
    "on schedule",
    "hold up",
    "holdup",
    "on route",
    "en route",
    "mailed",
    "posted",
    "go out",
    "gone out",
    "went out",
)
