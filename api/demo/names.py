"""The invented words the demo builds people, places and schools from.

Everything is made up: first names and surnames are generic lists combined at random, streets and
towns are invented ("Exampleton"), and postcodes use the non-existent ``XX`` area.
"""

from __future__ import annotations

GIRLS = (
    "Amelia", "Ava", "Chloe", "Daisy", "Ella", "Emily", "Erin", "Evie", "Florence", "Freya",
    "Grace", "Hannah", "Harriet", "Holly", "Imogen", "Isla", "Ivy", "Jessica", "Katherine",
    "Layla", "Lily", "Lucy", "Maisie", "Matilda", "Megan", "Mia", "Millie", "Molly", "Niamh",
    "Olivia", "Phoebe", "Poppy", "Rosie", "Ruby", "Scarlett", "Sienna", "Sophie", "Elizabeth",
    "Willow", "Zara",
)  # fmt: skip
BOYS = (
    "Alexander", "Alfie", "Archie", "Benjamin", "Callum", "Charlie", "Daniel", "Dylan", "Ethan",
    "Finley", "Freddie", "George", "Harry", "Harvey", "Henry", "Isaac", "Jack", "Jacob", "James",
    "Jayden", "Joseph", "Kai", "Leo", "Logan", "Lucas", "Mason", "Max", "Noah", "Oliver", "Oscar",
    "Owen", "Reuben", "Riley", "Samuel", "Theo", "Thomas", "Toby", "Tyler", "William", "Zachary",
)  # fmt: skip
PREFERRED = {
    "Alexander": "Alex", "Benjamin": "Ben", "Samuel": "Sam", "Thomas": "Tom", "Joseph": "Joe",
    "Zachary": "Zac", "Katherine": "Katie", "Elizabeth": "Beth", "Jessica": "Jess",
    "Matilda": "Tilly", "Harriet": "Hattie", "Florence": "Flo",
}  # fmt: skip
WOMEN = (
    "Amanda", "Charlotte", "Claire", "Danielle", "Donna", "Emma", "Gemma", "Hayley", "Helen",
    "Jade", "Jennifer", "Joanne", "Karen", "Kelly", "Kirsty", "Laura", "Leanne", "Lisa", "Louise",
    "Michelle", "Natalie", "Nicola", "Rachel", "Rebecca", "Samantha", "Sarah", "Stacey", "Tracey",
    "Victoria", "Zoe",
)  # fmt: skip
MEN = (
    "Adam", "Andrew", "Anthony", "Ben", "Carl", "Chris", "Craig", "Darren", "David", "Dean",
    "Gary", "Ian", "Jamie", "Jason", "Lee", "Mark", "Martin", "Matthew", "Michael", "Neil", "Paul",
    "Peter", "Richard", "Robert", "Scott", "Simon", "Stephen", "Steven", "Stuart", "Wayne",
)  # fmt: skip
GRANDMOTHERS = ("Brenda", "Carol", "Linda", "Margaret", "Maureen", "Patricia", "Pauline", "Susan")
GRANDFATHERS = ("Brian", "Derek", "Graham", "Keith", "Kenneth", "Malcolm", "Roger", "Terry")
SURNAMES = (
    "Ashcombe", "Ashworth", "Bamford", "Birkett", "Blackwood", "Bramley", "Brockley", "Calder",
    "Carwood", "Dalby", "Denholm", "Eastwood", "Elland", "Fairley", "Fenwick", "Garside",
    "Gilmour", "Hadfield", "Harwood", "Hebden", "Holroyd", "Ingham", "Kearsley", "Kirkham",
    "Langley", "Larkin", "Lindley", "Marsden", "Medlock", "Moorcroft", "Netherton", "Oakley",
    "Ormerod", "Pendle", "Pickup", "Quarmby", "Radcliffe", "Ramsden", "Redfern", "Rigby",
    "Rushton", "Sandiford", "Shackleton", "Sowerby", "Stansfield", "Sutcliffe", "Tattersall",
    "Thornber", "Tillotson", "Towneley", "Turton", "Unsworth", "Wadsworth", "Walmsley",
    "Waddington", "Whitworth", "Wilding", "Winstanley", "Worsley", "Yarwood", "Abbott", "Barlow",
    "Chadwick", "Dawson", "Entwistle", "Fletcher", "Greenhalgh", "Haworth", "Kenyon", "Lowe",
    "Mercer", "Nuttall", "Parr", "Riley", "Seddon", "Taylor", "Warburton", "Whittle",
)  # fmt: skip
STREET_NAMES = (
    "Linnet", "Curlew", "Heron", "Kestrel", "Plover", "Wren", "Rowan", "Hawthorn", "Larch",
    "Sycamore", "Juniper", "Bracken", "Foxglove", "Meadow", "Orchard", "Mill", "Church", "Station",
    "Chapel", "Park", "Canal", "Brook", "Field", "Quarry", "Willow", "Alder", "Heather", "Thistle",
)  # fmt: skip
STREET_TYPES = ("Road", "Street", "Close", "Avenue", "Drive", "Way", "Grove", "Lane", "Crescent")
TOWNS = ("Exampleton", "Sampleford", "Demoby", "Testbury", "Mockley Green")
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
SCHOOL_PREFIXES = (
    "Lark", "Oak", "Ash", "Brook", "Hazel", "Willow", "Rowan", "Holly", "Elm", "Birch", "Heather",
    "Thorn", "Fern", "Maple", "Alder", "Beech", "Cedar", "Linden",
)  # fmt: skip
SCHOOL_SUFFIXES = (
    "field", "brook", "wood", "hill", "dale", "mead", "bank", "croft", "lea", "side", "gate",
    "well",
)  # fmt: skip
