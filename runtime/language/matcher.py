"""A stream's queries, compiled once, matched against each frame's objects.

`QueryMatcher(text_engine, queries)` reads every query into parts and phrases
(`phrases.py`), resolves words the vocabulary lacks with the text engine (the nearest
thing vgsum can see, when it is near enough), and keeps a one-line notice for every
query that asks for something vgsum cannot see. `match(objects)` then costs a few
comparisons per object: no engine runs per frame.

How strong a match is, in [0, 1]: the best object's evidence for each part, the weakest
part deciding. An object is evidence for a phrase through its detector label (its
confidence, full at `LABEL_FULL`) or through the ImageNet kinds of its appearance (their
probability mass, full at `KIND_FULL`): the latter names what COCO has no label for (a
taxi, an ambulance) and rescues the detector's misnamings (a car seen from above that it
calls a cell phone). A colour or motion the phrase asks for multiplies the evidence: 1 when
the object shows it, 0 when it shows another, something between when the engines cannot
tell (no colour read, no motion mask) or the colours are neighbours (grey and white).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vgsum.runtime.common.coco import COCO80
from vgsum.runtime.language.checks import check_query
from vgsum.runtime.language.kinds import ImageNetHead
from vgsum.runtime.language.phrases import ParsedQuery, Phrase, parse_query
from vgsum.runtime.language.seen import SeenObject
from vgsum.runtime.language.vocabulary import Target, Vocabulary, short_name

LABEL_FULL = 0.6  # detector confidence that is full evidence
KIND_FULL = 0.5  # ImageNet mass on a target's kinds that is full evidence
KIND_BAR = 0.25  # ImageNet mass needed for kinds to count, where the detector's label agrees or has no say
KIND_ALONE_BAR = 0.4  # ... and where the detector called the object something else (cell phone vs taxicab)
log = logging.getLogger(__name__)

NEAREST_BAR = 0.7  # cosine at which an unknown word is read as the nearest seeable name (kangaroo: guinea pig 0.63)
UNKNOWN_FACTOR = 0.6  # evidence kept when the phrase asks for a colour or motion the engines did not read
NEAR_COLOURS = frozenset(
    frozenset(pair)
    for pair in (
        ("grey", "white"), ("grey", "black"), ("grey", "green"), ("grey", "blue"), ("orange", "red"),
        ("orange", "yellow"), ("orange", "brown"), ("red", "brown"), ("red", "pink"), ("purple", "blue"),
        ("purple", "pink"), ("yellow", "brown"),
    )
)  # fmt: skip
NEAR_FACTOR = 0.5


@dataclass(frozen=True)
class QueryHit:
    """One query's match in one frame: its strength and the indices of the objects that made it."""

    strength: float
    objects: tuple[int, ...]


@dataclass
class CompiledQuery:
    """A query ready for matching: its parts of alternatives, every phrase with a target."""

    query: str
    parts: list[list[Phrase]]
    notice: str | None


class _SeeableIndex:
    """Embeddings of every name vgsum can see: the shipped COCO label vectors and the head's name vectors.

    Both are computed at export time with the same text engine; should the head's come from
    another text engine, the names are embedded here once per engine (seconds) and cached.
    """

    _cache: weakref.WeakKeyDictionary[Any, tuple[tuple[str, ...], np.ndarray]] = weakref.WeakKeyDictionary()

    @classmethod
    def get(cls, text_engine: Any, head: ImageNetHead | None) -> tuple[tuple[str, ...], np.ndarray]:
        names = (*COCO80, *(short_name(n) for n in (head.names if head is not None else ())))
        cached = cls._cache.get(text_engine)
        if cached is not None and cached[0] == names:
            return cached
        coco = np.asarray(text_engine.label_embeddings, dtype=np.float32)
        if head is None:
            rest = np.zeros((0, coco.shape[1]), np.float32)
        elif head.name_embeddings is not None and head.text_sha256 == _engine_sha(text_engine):
            rest = head.name_embeddings
        else:
            log.info("embedding the ImageNet names with the text engine (the head was exported with another one)")
            shorts = list(names[len(COCO80) :])
            rest = np.concatenate([text_engine.encode(shorts[i : i + 100]) for i in range(0, len(shorts), 100)])
        cls._cache[text_engine] = (names, np.concatenate([coco, rest]).astype(np.float32))
        return cls._cache[text_engine]


def _engine_sha(text_engine: Any) -> str | None:
    engine = getattr(text_engine, "engine", None)
    return None if engine is None else engine.sidecar.get("sha256")


class QueryMatcher:
    """One stream's queries: compile on change (construct anew), `match` every frame, `notices` for the operator."""

    def __init__(self, text_engine: Any, queries: Sequence[str], *, head: ImageNetHead | None | bool = True) -> None:
        """Check and compile `queries` (a UserError for an empty, huge or non-UTF-8 one).

        `head`: the ImageNet classifier whose names the objects' kinds carry; True (default)
        loads it from the text engine's folder when it is there, None or False does without.
        """
        self.text_engine = text_engine
        self.head = _head_beside(text_engine) if head is True else (head or None)
        self.has_kinds = self.head is not None
        self.vocabulary = Vocabulary(self.head.names if self.head is not None else ())
        cleaned = list(dict.fromkeys(check_query(q) for q in queries))
        self._names_index: tuple[tuple[str, ...], np.ndarray] | None = None
        self.compiled = [self._compile(q) for q in cleaned]
        self.queries = [c.query for c in self.compiled]
        self.last_hits: dict[str, QueryHit] = {}

    # -- compiling ------------------------------------------------------------------------
    def _nearest(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        """The k seeable names nearest to `text` by the text engine's cosine."""
        if self._names_index is None:
            self._names_index = _SeeableIndex.get(self.text_engine, self.head)
        names, vectors = self._names_index
        query = self.text_engine.encode([text])[0]
        sims = vectors @ query
        order = np.argsort(-sims)
        picked: list[tuple[str, float]] = []
        for i in order:
            name = names[int(i)]
            if name not in (p[0] for p in picked):
                picked.append((name, float(sims[int(i)])))
            if len(picked) == k:
                break
        return picked

    def _compile(self, query: str) -> CompiledQuery:
        parsed: ParsedQuery = parse_query(query, self.vocabulary)
        parts: list[list[Phrase]] = []
        unseen: list[tuple[str, list[tuple[str, float]]]] = []
        notes: list[str] = []
        for part in parsed.parts:
            resolved = []
            for phrase in part:
                if phrase.target is None:
                    nearest = self._nearest(phrase.text)
                    if nearest and nearest[0][1] >= NEAREST_BAR:
                        target = self.vocabulary.lookup(nearest[0][0].split())
                        if target is not None:
                            phrase = Phrase(phrase.text, target, phrase.colour, phrase.moving)
                            notes.append(f"'{phrase.text}' is read as '{target.name}'")
                    if phrase.target is None:
                        unseen.append((phrase.text, nearest))
                        continue
                if phrase.target.labels or self.has_kinds:
                    resolved.append(phrase)
                else:
                    unseen.append((phrase.text, []))
                if phrase.target.note and phrase.target.note not in notes:
                    notes.append(phrase.target.note)
            if resolved:
                parts.append(resolved)
        notes.extend(f"'{place}' is read as where, not as something to find" for place in parsed.places)
        if not parts and not parsed.parts:
            nearest = self._nearest(query)
            unseen.append((query, nearest))
        notice = self._notice(query, parts, unseen, notes)
        return CompiledQuery(query=query, parts=parts, notice=notice)

    def _notice(
        self,
        query: str,
        parts: list[list[Phrase]],
        unseen: list[tuple[str, list[tuple[str, float]]]],
        notes: list[str],
    ) -> str | None:
        lines = []
        for text, nearest in unseen:
            near = ", ".join(name for name, _ in nearest) if nearest else ""
            needs = "" if self.has_kinds else " (the ImageNet classifier is not installed: `vgsum export imagenet`)"
            lines.append(
                f"'{text}' names nothing vgsum can see{needs}" + (f"; nearest it can see: {near}" if near else "")
            )
        if unseen and not parts:
            lines.append("the query is kept but matches no frame")
        elif unseen:
            lines.append(
                "matching on " + " + ".join("/".join(p.target.name for p in part if p.target) for part in parts)
            )
        lines.extend(notes)
        return f"query '{query}': " + "; ".join(lines) if lines else None

    # -- matching ---------------------------------------------------------------------------
    def match(self, objects: Sequence[SeenObject]) -> dict[str, float]:
        """{query: strength in (0, 1]} for the queries this frame's objects match; `last_hits` names the objects."""
        return {query: hit.strength for query, hit in self.match_objects(objects).items()}

    def match_objects(self, objects: Sequence[SeenObject]) -> dict[str, QueryHit]:
        """Per matched query: its strength and which objects (indices into `objects`) matched it."""
        hits: dict[str, QueryHit] = {}
        for compiled in self.compiled:
            if not compiled.parts:
                continue
            strength, used = 1.0, set()
            for part in compiled.parts:
                best, best_index = 0.0, -1
                for index, obj in enumerate(objects):
                    for phrase in part:
                        value = phrase_evidence(phrase, obj)
                        if value > best:
                            best, best_index = value, index
                strength = min(strength, best)
                if best <= 0.0:
                    break
                used.add(best_index)
            if strength > 0.0:
                hits[compiled.query] = QueryHit(strength=round(strength, 4), objects=tuple(sorted(used)))
        self.last_hits = hits
        return hits

    def notices(self) -> dict[str, str]:
        """query -> one line for the operator, for queries that ask for something vgsum cannot see (or tell apart)."""
        return {c.query: c.notice for c in self.compiled if c.notice}


def target_evidence(target: Target, obj: SeenObject) -> float:
    """How surely `obj` is what `target` names, in [0, 1], from its label (or its track's) and its ImageNet kinds."""
    score = obj.score if obj.label in target.labels else 0.0
    score = max([score, *(s for label, s in obj.track_labels.items() if label in target.labels)])
    evidence = min(1.0, score / LABEL_FULL)
    if target.kinds and obj.kinds:
        mass = sum(p for name, p in obj.kinds if name in target.kinds)
        disagrees = bool(target.labels) and obj.label not in target.labels
        if mass >= (KIND_ALONE_BAR if disagrees else KIND_BAR):
            evidence = max(evidence, min(1.0, mass / KIND_FULL))
    return evidence


def phrase_evidence(phrase: Phrase, obj: SeenObject) -> float:
    """`target_evidence` times how well the object's colour and motion fit what the phrase asks."""
    if phrase.target is None:
        return 0.0
    evidence = target_evidence(phrase.target, obj)
    if evidence <= 0.0:
        return 0.0
    if phrase.colour is not None:
        if obj.colour is None:
            evidence *= UNKNOWN_FACTOR
        elif obj.colour != phrase.colour:
            evidence *= NEAR_FACTOR if frozenset((obj.colour, phrase.colour)) in NEAR_COLOURS else 0.0
    if phrase.moving is not None:
        if obj.moving is None:
            evidence *= UNKNOWN_FACTOR
        elif obj.moving != phrase.moving:
            evidence = 0.0
    return evidence


_HEADS: dict[tuple[str, float], ImageNetHead | None] = {}  # (folder, mtime) -> head: one load for all streams


def _head_beside(text_engine: Any) -> ImageNetHead | None:
    """The ImageNet head in the text engine's folder, when `vgsum export imagenet` put one there (loaded once)."""
    from vgsum.runtime.engines.manifest import IMAGENET_HEAD
    from vgsum.runtime.engines.text import engine_folder

    engine = getattr(text_engine, "engine", None)
    if engine is None:
        return None
    folder = engine_folder(engine)
    path = folder / IMAGENET_HEAD
    key = (str(path), path.stat().st_mtime if path.is_file() else 0.0)
    if key not in _HEADS:
        _HEADS[key] = ImageNetHead.load_optional(folder)
    return _HEADS[key]


__all__ = ["QueryHit", "QueryMatcher", "SeenObject", "phrase_evidence", "short_name", "target_evidence"]
