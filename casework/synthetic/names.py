"""The invented words synthetic pupils, families, streets and schools are made from.

Nothing here describes a real person or place. Forenames and surnames are short generic lists
combined at random, so any name produced is an invented combination. Streets and towns are made
up ("Exampleton"), postcodes use the ``ZZ99`` area (the NHS pseudo-postcode convention for "not
known", never a real delivery address), telephone numbers are in Ofcom's drama range
07700 900000-900999 and e-mail addresses are at ``example.net`` (RFC 2606).
"""

from __future__ import annotations

GIRLS = (
    "Abigail", "Alice", "Amber", "Anna", "Aria", "Bella", "Bethany", "Chloe", "Clara", "Daisy",
    "Eleanor", "Ella", "Eliza", "Emily", "Esme", "Eva", "Evie", "Faith", "Freya", "Georgia",
    "Grace", "Hannah", "Harper", "Heidi", "Holly", "Isabel", "Isla", "Ivy", "Jasmine", "Julia",
    "Lara", "Layla", "Lily", "Lola", "Lucy", "Maya", "Megan", "Mia", "Millie", "Nadia", "Nina",
    "Olivia", "Orla", "Phoebe", "Poppy", "Rosa", "Ruby", "Sara", "Sofia", "Willow", "Zara",
)  # fmt: skip
BOYS = (
    "Aaron", "Adam", "Alfie", "Archie", "Arthur", "Ben", "Caleb", "Charlie", "Daniel", "David",
    "Dylan", "Elliot", "Ethan", "Ezra", "Felix", "Finn", "Freddie", "George", "Harry", "Harvey",
    "Henry", "Hugo", "Isaac", "Jack", "Jacob", "Jake", "James", "Joel", "Jude", "Kai", "Leo",
    "Lewis", "Louis", "Luca", "Luke", "Max", "Nathan", "Noah", "Oliver", "Oscar", "Owen", "Reggie",
    "Rory", "Ryan", "Sam", "Theo", "Toby", "Tommy", "Tyler", "Zach",
)  # fmt: skip
# A few forenames with a usual short form, for PreferredForename.
PREFERRED = {
    "Abigail": "Abi", "Isabel": "Izzy", "Eleanor": "Ellie", "Daniel": "Dan", "Jacob": "Jake",
    "Nathan": "Nate", "Oliver": "Ollie", "Samuel": "Sam", "Thomas": "Tom", "Zachary": "Zach",
}  # fmt: skip
WOMEN = (
    "Alison", "Amy", "Carla", "Claire", "Dawn", "Donna", "Emma", "Gemma", "Hayley", "Helen",
    "Jade", "Jenna", "Joanne", "Kate", "Kelly", "Laura", "Leah", "Lisa", "Louise", "Natalie",
    "Nicola", "Rachel", "Rebecca", "Sarah", "Stacey", "Tara", "Vicky", "Zoe",
)  # fmt: skip
MEN = (
    "Andy", "Carl", "Chris", "Craig", "Darren", "Dean", "Gary", "Ian", "Jamie", "Jason", "Jon",
    "Kevin", "Lee", "Mark", "Matt", "Neil", "Paul", "Phil", "Rob", "Scott", "Sean", "Steve",
    "Stuart", "Tony", "Wayne",
)  # fmt: skip
SURNAMES = (
    "Allerton", "Ambrose", "Ashdown", "Bancroft", "Barraclough", "Bellamy", "Birchall", "Blakey",
    "Brennan", "Brookfield", "Cartwright", "Chambers", "Clayworth", "Colley", "Crossland",
    "Dainty", "Delaney", "Dunford", "Eastham", "Ellwood", "Farrow", "Fielding", "Foulds",
    "Gaskell", "Gorton", "Greaves", "Halliwell", "Hampson", "Hartley", "Heywood", "Hindle",
    "Horrocks", "Hulme", "Jagger", "Jowett", "Kershaw", "Kilner", "Lambert", "Leyland",
    "Lockwood", "Maddox", "Mellor", "Milner", "Naylor", "Norcross", "Openshaw", "Pilling",
    "Prescott", "Rawlinson", "Royle", "Scholes", "Sharples", "Shorrock", "Stott", "Swarbrick",
    "Thistlethwaite", "Tomlinson", "Upton", "Varley", "Wainwright", "Walsh", "Whalley",
    "Whiteley", "Wolstenholme", "Yates",
)  # fmt: skip
TITLES = {"Mother": ("Ms", "Mrs", "Miss"), "Father": ("Mr",)}
STREET_NAMES = (
    "Acorn", "Alder", "Beacon", "Bluebell", "Bramble", "Buttercup", "Clover", "Cobble",
    "Copper", "Daffodil", "Dovecote", "Elder", "Fieldfare", "Foxhollow", "Goldfinch", "Hazel",
    "Hollyhock", "Kingfisher", "Lapwing", "Lavender", "Marigold", "Mistle", "Nightjar",
    "Nuthatch", "Pebble", "Primrose", "Quill", "Redstart", "Sandpiper", "Skylark", "Teasel",
    "Thrush", "Wagtail", "Woodruff",
)  # fmt: skip
STREET_TYPES = ("Road", "Street", "Close", "Avenue", "Drive", "Way", "Grove", "Lane", "Crescent")
TOWNS = ("Exampleton", "Sampleford", "Demoby", "Testbury", "Mockley Green", "Fauxham")
# Letters a postcode's inward part uses (no C, I, K, M, O, V, as in real inward codes).
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
