"""Split a query into phrases and read what each asks for: a thing, its colour, whether it moves.

"a car drives into the parking lot" is a car that moves; "someone walks in and leaves" is a
person who moves; "a red car or a truck" is either. A sentence embedded whole falls under
any label's similarity bar, so the words are read one by one against the vocabulary
(longest run of words first, plurals made singular). Rules, no NLP package: the queries
people type for cameras are short, and a rule that misreads one can be fixed in a table.

Structure: parts joined by "and", "with", "then", commas... must all be seen (AND); inside a
part, phrases joined by "or" are alternatives (OR). A part with a verb and no noun ("and
leaves") lends its motion to the part before it. A fixture named after the first noun ("a
person stands at the table", "a cat on the sofa") says where, like "the door": it stays in
view all day, so it says nothing about when, and the detector often misses furniture
under a person. So does a thing the detector has no label for, named after a preposition of
place ("by the fence", "in a cap"). Both are kept in `places`, not required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vgsum.runtime.language.vocabulary import Target, Vocabulary

# Colour words -> the named colours of `colour.py`.
COLOUR_WORDS: dict[str, str] = {
    "white": "white", "black": "black", "grey": "grey", "gray": "grey", "silver": "grey", "red": "red",
    "maroon": "red", "crimson": "red", "orange": "orange", "yellow": "yellow", "gold": "yellow",
    "golden": "yellow", "green": "green", "blue": "blue", "navy": "blue", "brown": "brown", "tan": "brown",
    "beige": "brown", "purple": "purple", "violet": "purple", "pink": "pink",
}  # fmt: skip


def _words(text: str) -> frozenset[str]:
    """A word table written as running text (one set per line of thought, not one word per line)."""
    return frozenset(text.split())


MOVING_WORDS = _words(
    """
    walk walks walking walked run runs running ran drive drives driving drove move moves moving moved enter
    enters entering entered leave leaves leaving arrive arrives arriving arrived come comes coming came go goes
    going went cross crosses crossing crossed pass passes passing passed ride rides riding rode approach
    approaches approaching approached exit exits exiting exited jog jogs jogging rush rushes rushing wander
    wanders wandering fly flies flying flew chase chases chasing follow follows following pull pulls pulling
    pulled speed speeds speeding turn turns turning reverse reverses reversing climb climbs climbing jump jumps
    jumping steal steals stealing carry carries carrying
    """
)
STILL_WORDS = _words(
    """
    parked stand stands standing stood sit sits sitting sat still stationary idle wait waits waiting waited
    stopped lying lies sleeping sleeps loiter loiters loitering unattended abandoned
    """
)
AND_WORDS = frozenset({"and", "with", "then", "while", "but", "plus", "before", "after", "also"})
OR_WORDS = frozenset({"or", "either"})
# Where things happen, not what: "into the parking lot" names no object to find.
PLACE_WORDS = _words(
    """
    room parking lot street road sidewalk pavement yard garden driveway door doorway gate entrance exit hall
    hallway corridor office kitchen floor area scene view camera frame building house shop store garage lobby
    place spot left right front back side corner outside inside background foreground
    """
)
# COCO labels of things that stay where they are: named after the subject they say where it is, not when.
FIXTURE_LABELS = frozenset(
    {
        "bench", "chair", "couch", "bed", "dining table", "toilet", "sink", "refrigerator", "oven", "microwave",
        "tv", "potted plant", "fire hydrant", "stop sign", "parking meter", "traffic light", "clock",
    }
)  # fmt: skip
STOP_WORDS = _words(
    """
    a an the some any this that these those there here is are was were be been being it its their his her they
    them he she of in into onto on at to from by for over under through across around near past up down out off
    away toward towards along between behind beside next one two three several many few who which what when
    where very just only again all someone's s
    """
)


# Verbs that are neither moving nor still, so that "watches" is not a watch nor "flies" a fly.
ACTION_WORDS = _words(
    """
    watch watches watching watched look looks looking looked hold holds holding held use uses using used play
    plays playing played throw throws throwing threw catch catches catching caught open opens opening opened
    close closes closing closed check checks checking checked
    """
)
LOCATING_WORDS = _words("at by near beside behind in on under next inside outside against beneath below above")
NOT_THINGS = STOP_WORDS | MOVING_WORDS | STILL_WORDS | PLACE_WORDS | ACTION_WORDS  # never read as a thing alone


@dataclass(frozen=True)
class Phrase:
    """One noun of a query with what the words around it add."""

    text: str  # the words it was read from
    target: Target | None  # None: words that name nothing in the vocabulary (resolved by the text engine)
    colour: str | None = None
    moving: bool | None = None


@dataclass(frozen=True)
class ParsedQuery:
    """A query as parts that must all be seen, each a list of alternatives."""

    query: str
    parts: list[list[Phrase]] = field(default_factory=list)
    places: list[str] = field(default_factory=list)  # words saying where the subject is: not required

    def phrases(self) -> list[Phrase]:
        """Every phrase, in order."""
        return [phrase for part in self.parts for phrase in part]


def words_of(text: str) -> list[str]:
    """Lower-case words, punctuation as its own token where it separates (commas, semicolons)."""
    text = text.lower().replace("’", "'")
    return re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*|[,;.!?]", text)


def _split(tokens: list[str], separators: frozenset[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for token in tokens:
        if token in separators:
            parts.append([])
        else:
            parts[-1].append(token)
    return [part for part in parts if part]


def _motion(tokens: list[str]) -> bool | None:
    moving = any(t in MOVING_WORDS for t in tokens)
    still = any(t in STILL_WORDS for t in tokens)
    return None if moving == still else moving


def _read_alternative(tokens: list[str], vocabulary: Vocabulary, places: list[str]) -> list[Phrase]:
    """The nouns of one alternative (longest word runs first), with a colour word that comes before each.

    After the alternative's first noun, a fixture ("at the table") or, after a preposition of
    place, a thing with no detector label ("by the fence", "in a cap") goes to `places` instead.
    """
    found: list[Phrase] = []
    motion = _motion(tokens)
    colour: str | None = None
    leftover: list[str] = []
    located = False  # a preposition of place came since the last noun
    i = 0
    while i < len(tokens):
        token = tokens[i]
        located = located or token in LOCATING_WORDS
        if (
            token in COLOUR_WORDS
            and _names_later(tokens[i + 1 :], vocabulary)
            and not _names_here(tokens[i:], vocabulary)
        ):
            colour, i = COLOUR_WORDS[token], i + 1
            continue
        for n in range(min(vocabulary.longest, len(tokens) - i), 0, -1):
            run = tokens[i : i + n]
            verb_or_place = " ".join(run) in PLACE_WORDS or (n == 1 and token in NOT_THINGS)  # "drives": no disk drive
            target = None if verb_or_place else vocabulary.lookup(run)
            if target is not None:
                where = target.labels <= FIXTURE_LABELS if target.labels else located
                if found and where:
                    places.append(" ".join(run))
                else:
                    found.append(Phrase(text=" ".join(run), target=target, colour=colour, moving=motion))
                colour, i, located = None, i + n, False
                break
        else:
            if not _ignored(token, tokens[i + 1 : i + 2]):
                leftover.append(token)
            elif " ".join(tokens[i : i + 2]) in PLACE_WORDS:
                i += 1  # a two-word place ("parking lot")
            i += 1
    if not found and leftover:
        found.append(Phrase(text=" ".join(leftover), target=None, colour=colour, moving=motion))
    return found


def _ignored(token: str, following: list[str]) -> bool:
    two = " ".join([token, *following])
    return token in NOT_THINGS or two in PLACE_WORDS or token.isdigit()


def _names_here(tokens: list[str], vocabulary: Vocabulary) -> bool:
    """Whether a run of two or more words from here names something ("golden retriever": not a golden one)."""
    return any(vocabulary.lookup(tokens[:n]) is not None for n in range(2, min(vocabulary.longest, len(tokens)) + 1))


def _names_later(tokens: list[str], vocabulary: Vocabulary) -> bool:
    """Whether a noun follows in the same alternative (so a colour word before it is a colour, not "an orange")."""
    return any(
        vocabulary.lookup(tokens[i : i + n]) is not None
        for i in range(len(tokens))
        for n in range(1, min(vocabulary.longest, len(tokens) - i) + 1)
    )


def parse_query(query: str, vocabulary: Vocabulary) -> ParsedQuery:
    """Read `query` into parts of alternative phrases; words naming nothing known become target-less phrases."""
    tokens = words_of(query)
    parts: list[list[Phrase]] = []
    places: list[str] = []
    for chunk in _split(tokens, AND_WORDS | frozenset({",", ";", ".", "!", "?"})):
        alternatives = [_read_alternative(a, vocabulary, places) for a in _split(chunk, OR_WORDS)]
        alternatives = [a for a in alternatives if a]
        motion = _motion(chunk)
        if len(alternatives) == 1 and len(alternatives[0]) > 1:  # "a person riding a bike": both
            parts.extend([phrase] for phrase in alternatives[0])
        elif alternatives:
            parts.append([phrase for alternative in alternatives for phrase in alternative])
        elif motion is not None and parts:  # "... and leaves": the motion of the thing before
            parts[-1] = [_with_motion(p, motion) for p in parts[-1]]
    return ParsedQuery(query=query, parts=parts, places=places)


def _with_motion(phrase: Phrase, moving: bool) -> Phrase:
    return Phrase(text=phrase.text, target=phrase.target, colour=phrase.colour, moving=moving)
