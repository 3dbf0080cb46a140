"""The understanding's rules as data: an ordered table of rows, the first row that matches a clause
names its intent.

A row is an intent, the patterns that read a clause as it (any one matching is enough), the patterns
that veto it (``unless``: the row is skipped, the next one tried) and the confidence it gives. Patterns
are regular expressions over the clause in lower case, typos corrected and filler ("can you please")
stripped; ``{CART}``, ``{ORDERISH}``, ``{ORDER_THING}``, ``{ORDER_PROGRESS}``, ``{ORDER_ASKED}``,
``{PRODUCT}``, ``{COLOR}`` and ``{SIZE}`` are filled from ``nlu_lexicon`` so the words live in one
place (``fill`` serves ``checks.py`` and ``clauses.py`` too). Intent names ending in ``*`` are families a
resolver in ``engine.py`` settles from the slots (add vs search-and-add); ``refuse:*`` refuses the whole
message. Order matters: specific rows before general ones (a complaint before "where is my order").

``python manage.py nlu_explain "text"`` prints which row read a message and why the rows before it did
not; docs/assistant-nlu.md shows how to add a phrasing and an intent.
"""

from __future__ import annotations

import re
import re._parser as _regex_parser  # type: ignore[import-not-found]  # CPython's own; typeshed has no stub
from dataclasses import dataclass
from re._constants import (  # type: ignore[import-not-found]  # CPython's own, as above
    BRANCH,
    LITERAL,
    MAX_REPEAT,
    MIN_REPEAT,
    POSSESSIVE_REPEAT,
    SUBPATTERN,
)
from typing import Any

from ..nlu_lexicon import (
    CART_WORDS,
    DEFAULT_COLORS,
    ORDER_PROGRESS_WORDS,
    ORDER_THING_WORDS,
    ORDER_WORDS,
    PRODUCT_NOUNS,
    SIZE_WORDS,
)


def _one_of(phrases: tuple[str, ...]) -> str:
    return "(?:" + "|".join(re.escape(p) for p in phrases) + ")"


PLACEHOLDERS: dict[str, str] = {
    "CART": _one_of(CART_WORDS),
    "ORDERISH": _one_of(ORDER_WORDS),
    "ORDER_THING": _one_of(ORDER_THING_WORDS),
    "ORDER_PROGRESS": _one_of(ORDER_PROGRESS_WORDS),
    # the apparel nouns and colours the store's default vocabulary knows (the live catalog adds its own
    # words through ``Vocabulary``; these are for the checks, before any catalog is consulted)
    "PRODUCT": _one_of(tuple(sorted(PRODUCT_NOUNS))),
    "COLOR": _one_of(DEFAULT_COLORS),
    # the letter sizes and their spelt-out names ("xl", "extra large"); numeric sizes are typed in the rows
    "SIZE": _one_of(SIZE_WORDS),
}
# The shopper's own order and a word about its progress, in any order ("how far along is my purchase");
# also a store-policy question's veto ("is the package delivered already" asks about that parcel).
PLACEHOLDERS["ORDER_ASKED"] = (
    r"^(?=.*\b(?:my|the|our|i|i've|we|me|an)\b.*\b{ORDER_THING}\b)(?=.*\b{ORDER_PROGRESS}\b)"
    r"|\b(?:shipping|delivery|shipment|package|parcel|order) (?:status|update|updates|info|tracking|eta)\b"
    r"|\btracking (?:info|information|number|status|details)\b"
    r"|^where(?:'s| is| are) (?:my|our)\b(?! (?:\w+ )?(?:size|sizes|cart|basket|bag|discount|code|coupon"
    r"|ticket|refund|money|account|password|points|preferences|memory|data))"
)
_PLACEHOLDER = re.compile(r"\{([A-Z_]+)\}")


def fill(pattern: str) -> str:
    """The pattern with its ``{NAME}`` placeholders filled (regex counts like ``{2,}`` are left alone)."""
    return _PLACEHOLDER.sub(lambda m: fill(PLACEHOLDERS[m.group(1)]), pattern)


# The parsed expression's repeats :func:`required_text` reads (CPython's own regex parser).
_REPEATS = (MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT)

# A question that states no preference: "what do I wear when it rains?" (unless it says "remember").
QUESTION_START = (
    r"^(?:what|what's|how|how's|when|where|why|which|who|do|does|can|could|is|are|will|would|should|may)\b"
)


@dataclass(frozen=True)
class Row:
    intent: str
    patterns: tuple[str, ...]
    confidence: float
    unless: tuple[str, ...] = ()


def required_text(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Pieces of text one of which every match of ``pattern`` contains (``None``: none found).

    Read off the parsed expression: a run of literal characters is required where it stands; of a
    sequence the most telling required piece is kept; an alternation requires one of its branches'
    pieces (nothing, if any branch requires nothing); a repeat that must occur once requires its
    item's. Anchors, classes, lookarounds and optional parts require nothing. Case-insensitive
    expressions are not read (their literals would not be compared as written)."""
    if pattern.flags & re.IGNORECASE:
        return None
    return _required(list(_regex_parser.parse(pattern.pattern, pattern.flags)))


def _required(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    candidates: list[frozenset[str]] = []
    run = ""
    for op, argument in items:
        if op is LITERAL:
            run += chr(argument)
            continue
        if run:
            candidates.append(frozenset({run}))
            run = ""
        found: frozenset[str] | None = None
        if op is SUBPATTERN:
            _group, add_flags, _del_flags, inner = argument
            if add_flags & re.IGNORECASE:
                return None  # an inline (?i): this part's literals match other cases too
            found = _required(list(inner))
        elif op is BRANCH:
            pieces: set[str] = set()
            for branch in argument[1]:
                branch_needs = _required(list(branch))
                if not branch_needs:
                    break  # a branch that needs nothing: the alternation needs nothing
                pieces |= branch_needs
            else:
                found = frozenset(pieces)
        elif op in _REPEATS and argument[0] >= 1:
            found = _required(list(argument[2]))
        if found:
            candidates.append(found)
    if run:
        candidates.append(frozenset({run}))
    # The piece set whose shortest piece is longest rules out the most texts.
    return max(candidates, key=lambda pieces: (min(map(len, pieces)), -len(pieces)), default=None)


@dataclass(frozen=True)
class Rule:
    """A row compiled: ``pattern`` is all its patterns in one expression (one search per clause), and
    ``needs`` a search for the pieces of text one of which any match contains (``required_text``): a
    clause with none of them is passed over without running ``pattern``. Python's regex engine tries
    every alternative at every position, and a row of a dozen alternatives took 10-40 µs a clause;
    plain pieces of text are found much faster (the benchmark's six messages: 830 -> 390 µs through
    the rows)."""

    number: int
    intent: str
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    confidence: float
    pattern: re.Pattern[str]
    needs: re.Pattern[str] | None

    @classmethod
    def compile(cls, number: int, row: Row) -> Rule:
        patterns = tuple(re.compile(fill(p)) for p in row.patterns)
        combined = re.compile("|".join(f"(?:{p.pattern})" for p in patterns))
        unless = tuple(re.compile(fill(p)) for p in row.unless)
        pieces = required_text(combined)
        needs = re.compile("|".join(map(re.escape, sorted(pieces)))) if pieces else None
        return cls(number, row.intent, patterns, unless, row.confidence, combined, needs)

    def matches(self, text: str) -> bool:
        """Whether any of the row's patterns is found in ``text``."""
        if self.needs is not None and self.needs.search(text) is None:
            return False
        return self.pattern.search(text) is not None

    def matching_pattern(self, text: str) -> int | None:
        """The index of the first of the row's patterns found in ``text`` (None: no match)."""
        if not self.matches(text):
            return None
        return next(i for i, p in enumerate(self.patterns) if p.search(text))

    def vetoed_by(self, text: str) -> int | None:
        """The index of the first ``unless`` pattern found in ``text`` (None: not vetoed)."""
        return next((i for i, p in enumerate(self.unless) if p.search(text)), None)


ROWS: tuple[Row, ...] = (
    Row(
        "refuse:instructions",
        (
            r"\b(?:ignore|disregard|forget|override|bypass) (?:all |your |the |any |previous |prior "
            r"|earlier |of |these |those |system )*(?:instructions|rules|prompts?|guidelines|restriction"
            r"s)\b",
            r"\byou are now\b",
            r"\b(?:admin|developer|god|debug) mode\b",
            r"\bpretend (?:you are|to be)\b",
            r"\b(?:set|change|make|update) the price\b",
            r"\bfor free\b",
            r"\b100 ?% (?:off|discount)\b",
        ),
        0.95,
    ),
    Row(
        "refuse:other_user",
        (
            r"[\w.+-]+@[\w-]+\.[a-z]{2,}",
            r"\b(?:for|of|on behalf of|as|from|belonging to) (?:the |another |a different |some )?"
            r"(?:user|customer|account|shopper)\b(?! (?:page|settings|details))",
            r"\b(?:user|customer) (?:id|#|number)\b",
            r"\b(?:someone|somebody) else's\b",
            r"\bother (?:users|customers)\b",
        ),
        0.95,
    ),
    Row(
        "out_of_scope",
        (
            r"^(?:write|compose|sing|tell me|make up|create)\b.*\b(?:poem|story|joke|song|essay|haiku"
            r"|limerick|rap)\b",
        ),
        0.9,
    ),
    # why the shopper is leaving the cart ("too expensive", "I'll think about it"); the reason slot says
    # which (slots._abandonment_reason). Not when the same breath asks to remove, cancel or return something.
    Row(
        "abandonment_reason",
        (
            r"\bshipping\b.*\b(?:too (?:much|expensive|high|steep)|costs? (?:too much|a lot)|so expensive)\b",
            r"\b(?:too|way too|so|really) (?:expensive|pricey|costly)\b",
            r"\bcan'?t afford\b",
            r"\bi'?ll (?:think about it|sleep on it|decide later)\b",
            r"\bneed (?:some )?time to (?:think|decide)\b",
            r"\bnot sure yet\b",
            r"\b(?:i )?(?:don'?t|do not) want (?:it|them|this|these|that|those|any of (?:it|them))\b",
            r"\bnot interested\b",
        ),
        0.9,
        unless=(r"\b(?:remove|delete|take (?:it|them) out|cancel|refund|return|cheaper|less expensive)\b",),
    ),
    Row(
        "support_close",
        (
            r"\b(?:close|resolve|end|withdraw|shut|cancel)\b.*\b(?:ticket|case|support request|complaint"
            r"|support issue)\b",
            r"\bmark\b.*\bresolved\b",
            r"\bmy (?:issue|problem|complaint)\b.*\b(?:resolved|solved|fixed|sorted)\b",
            r"\b(?:issue|problem) (?:is|has been) (?:resolved|solved|fixed|sorted)\b",
        ),
        0.9,
        # "is my issue resolved?" asks how the ticket stands (support_status)
        unless=(
            r"^(?:is|has|was|are|have|did)\b.*\bmy (?:issue|problem|complaint)\b.*\b(?:resolved|solved"
            r"|fixed|sorted)\b",
        ),
    ),
    Row(
        "support_status",
        (
            r"\b(?:status|update|updates|news|progress|reply|replies|response|answer)\b.*\b(?:ticket"
            r"|case|support request|complaint)\b",
            r"\b(?:ticket|case|complaint|support request)\b.*\b(?:status|update|progress|open|closed"
            r"|resolved|solved|pending|answered|replied)\b",
            r"\b(?:has|have|did) (?:anyone|someone|support|an agent|staff|the team|a human|you guys)\b.*"
            r"\b(?:replied|responded|answered|got back|gotten back|get back|looked|contacted|reply"
            r"|respond|answer)\b",
            r"\bcheck (?:on )?(?:my |the )?(?:ticket|case|complaint|support request)\b",
            r"\bheard back\b",
            r"\b(?:where|what) is (?:happening with )?my (?:ticket|case|complaint)\b",
            r"\bmy (?:ticket|tickets|support tickets?|cases?)\b$",
        ),
        0.88,
    ),
    Row(
        "support_escalation",
        (
            r"\b(?:get|find|bring|call) (?:me )?(?:a |an |the |some )?(?:human|real person|person|agent"
            r"|representative|manager)\b",
            r"\b(?:talk|speak|chat|connect|transfer|put)\b.*\b(?:human|person|agent|representative"
            r"|rep|someone|somebody|manager|supervisor|operator|staff|customer service|customer support"
            r"|customer care|support team|live agent)\b",
            r"^(?:a )?(?:human|agent|representative|operator|real person|live agent|customer service)"
            r"(?: please| now)?$",
            r"\b(?:contact|call|email|reach|get)\b.*\b(?:support|customer service|customer care|help des"
            r"k|helpdesk)\b",
            r"\b(?:open|create|file|raise|submit|start|log|make)\b.*\b(?:ticket|complaint|case|support r"
            r"equest|dispute|claim)\b",
            r"\bi (?:want|need|'d like|would like) (?:to )?(?:complain|make a complaint|a human|a person"
            r"|an agent|a real person|someone real)\b",
            r"\b(?:can|could) (?:someone|somebody|a person|anyone|a human) help\b",
            r"\bi need (?:a|some) (?:person|human|real person)\b",
            r"\bcomplain\b",
            r"\bthis is (?:unacceptable|ridiculous|terrible|a joke|outrageous)\b",
            r"\b(?:nobody|no one) (?:is )?help",
        ),
        0.9,
    ),
    Row(
        "clear_memory",
        (
            r"\b(?:forget|clear|delete|erase|wipe|remove|reset|purge)\b.*\b(?:everything|all)\b.*\b"
            r"(?:about me|you know|you remember|you have|you've saved|my data|i told you|stored|saved"
            r"|on me)\b",
            r"\b(?:clear|delete|erase|wipe|reset|purge|forget|remove)\b\s+(?:all\s+)?(?:of\s+)?(?:my"
            r"|the|your)\s+(?:saved |stored |personal |chat |interaction |conversation |shopping )?"
            r"(?:memory|memories|data|profile|history|information|info|preferences)\b",
            r"\bforget (?:about )?me\b",
            r"^forget everything\b",
            r"\bdon't remember anything\b",
            r"\bforget all (?:my |of my )?preferences\b",
            r"\bforget (?:everything|all) (?:you|i)\b",
            r"\b(?:forget|clear|delete|erase|wipe|purge)\b (?:what|whatever|anything) (?:you (?:know"
            r"|remember|have|saved|stored|learned|learnt)|i (?:told|said to) you)\b",
        ),
        0.9,
    ),
    Row(
        "forget_preference",
        (
            r"\b(?:forget|stop remembering|don't remember|do not remember|unsave|erase|remove|delete"
            r"|drop|clear|reset|undo)\b.*\b(?:preference|preferred|favorite|favorites|likes|dislikes"
            r"|size on file|saved size|saved sizes|my (?:\w+ )?size|my (?:\w+ )?sizes|my (?:color|brand"
            r"|style|budget|price range|price limit|fit)|that i|i (?:like|love|prefer|hate|dislike"
            r"|don't like|wear)|from my (?:memory|profile|preferences|likes|dislikes|favorites|favorite "
            r"\w+|(?:dis)?liked \w+))\b",
            r"\bi no longer (?:like|prefer|wear|love|hate|dislike)\b",
            r"\bi (?:don't|do not) (?:like|love|prefer) \w+(?: \w+)? any ?more\b",
        ),
        0.88,
    ),
    Row(
        "show_memory",
        (
            r"\bwhat (?:do|did|have) you (?:remember|know|saved|stored|learned|learnt|got)\b.*\b(?:me"
            r"|my|i)\b",
            r"\bwhat do you (?:remember|know)$",
            r"\bwhat have you (?:remembered|saved|stored|learned|learnt)\b",
            r"\b(?:show|see|view|list|display|tell me|check|review|read)\b.*\bmy (?:preferences|saved pr"
            r"eferences|memory|profile|saved sizes|sizes|likes|data|style profile|favorites|saved \w+)\b",
            r"\bwhat(?:'s| is| are) my (?:shoe |top |bottom |saved |usual |current )?(?:size|sizes"
            r"|preferences|favorite \w+|budget|style)\b",
            r"\bdo you (?:remember|know) (?:my|what i|anything about me|me)\b",
            r"\bwhat (?:info|information|data) do you (?:have|keep|store)\b",
            r"\bwhat(?:'s| is) (?:saved|stored|in my memory|on file)\b",
            r"\b(?:download|export|get a copy of) my (?:data|memory|information)\b",
            r"\bwhat do you have on (?:file|record)\b",
            r"^(?:my )?(?:memory|preferences)$",
            r"\bwhat you(?:'ve| have)? (?:learned|learnt|saved|stored|remember(?:ed)?|know)\b.*\bme\b",
            r"\bwhat \w+ (?:do|did) you (?:have )?(?:saved|stored|on file|remember)\b",
            r"\bwhat \w+ (?:have|has|did) you (?:saved|stored|remembered|kept|noted)\b",
            r"\bwhat \w+ (?:do|did) i have (?:saved|stored|on file)\b",
        ),
        0.9,
    ),
    Row(
        "recommend",
        (
            r"\b(?:recommend|recommendation|recommendations|suggest|suggestion|suggestions)\b",
            r"\bwhat (?:should|would|could) i (?:buy|get|wear|pick|choose)\b",
            r"\bwhat would (?:you pick|look good|suit me)\b",
            r"\b(?:pick|choose|find) (?:something|anything|some stuff|an outfit|me something) for me\b",
            r"\banything (?:new )?(?:for me|in my style|in my size|i might like|i'd like|that suits me"
            r"|you think i'd like)\b",
            r"\b(?:in|for|match|matches|matching|suits?|fit) my (?:style|taste|size|preferences)\b",
            r"\bsurprise me\b",
            r"\bwhat do you think i(?:'d| would) like\b",
            r"\bpersonali[sz]ed\b",
            r"\bbased on (?:my|what i)\b",
            r"\bsomething i(?:'d| would| might) like\b",
            r"\bwhat(?:'s| is) good for me\b",
            r"\bwhat goes (?:well )?with\b",
            r"\bcomplete (?:my|the|this) (?:look|outfit)\b",
            r"\bpicks for me\b",
            r"\bsuits? me\b",
            r"\b(?:things|stuff|something|anything|items|products) (?:that )?i(?:'d| would| might| will)"
            r"? (?:like|love|enjoy)\b",
            r"\bwhat(?:'s| is) new (?:for me|that i(?:'d| would| might) (?:like|love)|in my (?:style"
            r"|size))\b",
            r"\b(?:any|got any|have any|some) (?:picks|ideas) for me\b",
        ),
        0.85,
    ),
    Row(
        "save_preference",
        (
            r"^remember\b",
            r"\b(?:please )?remember (?:that |me )?\b(?:i|my)\b",
            r"\b(?:note|save|keep in mind|store|record) (?:that|down)\b",
            r"\b(?:i|we) (?:really |also |generally |usually |mostly |totally |absolutely |do |kinda "
            r"|kind of |much )?(?:like|love|prefer|adore|enjoy|fancy|dig)\b(?! to\b)",
            r"\b(?:i|we) (?:don't|do not|never|really don't|hardly ever|rarely) (?:like|wear|buy|love"
            r"|care for)\b",
            r"\bi (?:hate|dislike|detest|can't stand|cannot stand|avoid|loathe)\b",
            r"\b(?:not a|no) fan of\b",
            r"\bi(?:'m| am) (?:not )?(?:into|a fan of|a big fan of)\b",
            r"\bmy (?:\w+ )?size is\b",
            r"\bi(?:'m| am) (?:a |an )?size\b",
            r"\bi(?:'m| am) (?:a |an )(?:{SIZE}|\d{1,2}(?:\.5)?)\b",
            r"\bi (?:usually |normally |typically |always |generally |mostly )?(?:wear|take)\b(?! "
            r"(?:off|out|back|it|them|the|a look))",
            r"\bmy (?:favorite|preferred) (?:brand|brands|color|colors|style|category)\b",
            r"\bmy (?:budget|price range|price limit) is\b",
            r"\b(?:set|change|update|keep|save|store|record) my (?:\w+ )?(?:size|budget|preferences?"
            r"|price range|spending)\b",
            r"\bi (?:always|usually|normally|mostly|only|generally) (?:buy|get|go for|shop|choose|pick)\b",
            r"\bmy waist is\b",
            r"\bi(?: would|'d)? prefer\b",
        ),
        0.85,
        unless=(QUESTION_START + r"(?!.*remember)",),
    ),
    Row(
        "support_exchange*",
        (r"\bexchange\b",),
        0.8,
    ),
    Row(
        "policy_question*",
        (
            r"^(?:what|what's|how|how's|when|where|why|which|who|do|does|can|could|is|are|will|would"
            r"|should|may)\b",
        ),
        0.8,
    ),
    Row(
        "change_order_address",
        (
            r"\b(?:change|update|edit|correct|fix|modify|amend|replace)\b.*\baddress\b",
            r"\b(?:ship|send|deliver|redirect|reroute|mail)\b.*\b(?:to|at)\b.*\d",
            r"\bnew (?:shipping |delivery )?address\b",
            r"\baddress (?:is|should be)\b",
            r"\bline1\s*[=:]",
            r"\bwrong address\b",
            r"\b(?:ship|send|deliver|redirect) (?:it|them|my order|the order|my package)(?: instead)? to"
            r" (?!me\b|you\b)",
        ),
        0.9,
        # another address than the delivery one ("update my email address") is not an order's
        unless=(r"\b(?:billing|email|house|houses) address\b",),
    ),
    Row(
        "order_status",
        (
            r"\b(?:where|when|status)\b.*\brefund\b",
            r"\brefund status\b",
            r"\bhow (?:long|soon)\b.*\bmy refund\b",
        ),
        0.85,
    ),
    Row(
        "request_refund",
        (
            r"\brefund\b",
            r"\bmoney back\b",
            r"\breimburse",
            r"\b(?:return|send back|sending back)\b",
            r"\bsend (?:it|them|these|those|this|(?:these|those|this|the|my) \w+(?: \w+)?) back\b",
            r"\bchargeback\b",
        ),
        0.88,
        # the taxman's refund is not ours; "return policy" asks about the policy, "return to" / "return
        # flight" / "return home" are not sending anything back
        unless=(
            r"\btax refund\b",
            r"\b(?:return|send back|sending back) (?:to|policy|on|flight|trip|date|home)\b",
        ),
    ),
    Row(
        "cancel*",
        (
            r"^(?:cancel|call off|abort|void|revoke)\b",
            r"\bcancel\b",
            r"^(?:scrap|nix|kill|drop|ditch) (?:my |the |this |that )?(?:order|purchase)\b",
            r"\b(?:don't|do not|no longer) want (?:my|the|this|that) (?:order|purchase)\b",
            r"\bstop (?:my |the )?(?:order|shipment|delivery)\b",
        ),
        0.9,
    ),
    Row(
        "support_escalation",
        (
            r"\b(?:arrived|came|is|was|were|are|got here|showed up|delivered|it's)\b.*\b(?:damaged"
            r"|broken|torn|ripped|defective|faulty|crushed|stained|soaked|scratched|ripped)\b",
            r"\b(?:with|has|have|got|had|full of) (?:a |some )?holes?\b",
            r"\bholes? in (?:it|them|the)\b",
            r"\b(?:damaged|broken|torn|defective|faulty)\b.*\b(?:item|items|order|package|parcel|product"
            r"|box|zipper|delivery|arrived)\b",
            r"\b(?:received|got|sent me|delivered|shipped me)\b.*\bwrong\b",
            r"\bwrong (?:item|size|color|product|order|thing|one|package)\b",
            r"\b(?:never|didn't|did not|hasn't|has not|haven't|have not|still haven't|still not)\b.*\b"
            r"(?:arrived|received|come|came|shown up|showed up|delivered|gotten)\b",
            r"\b(?:missing|lost)\b.*\b(?:item|items|package|parcel|order|delivery|piece|shoe|box)\b",
            r"\b(?:order|package|parcel|delivery|shipment)\b.*\b(?:is|was|got|seems|are|it's|running)\b."
            r"*\b(?:late|delayed|overdue|stuck|lost|missing)\b",
            r"\b(?:charged twice|double charged|overcharged|charged me twice|charged too much)\b",
        ),
        0.85,
        # "I haven't received my order yet" asks where it is (the order_status rows below answer);
        # a complaint word ("never", "damaged", "late") keeps it a complaint
        unless=(
            r"^(?!.*\b(?:damaged|broken|torn|ripped|defective|faulty|wrong|missing|lost|never|charged"
            r"|overcharged|late|delayed|overdue|stuck|holes?)\b)(?=.*\byet\b)",
        ),
    ),
    Row(
        "multi_status",
        (
            r"\b(?:all|every|each|both) (?:of )?(?:my )?orders\b",
            r"\bmy (?:recent |past |previous |last \w+ |open |current |other )?orders\b",
            r"\border history\b",
            r"\bpurchase history\b",
            r"\b(?:list|show|see|view)\b.*\borders\b",
            r"\b(?:list|show|see|view)\b.*\b(?:every|all|each) (?:of )?(?:my )?orders?\b",
            r"\borders? i(?:'ve| have) (?:made|placed)\b",
            r"\bwhat (?:have|did) i (?:ordered|order|bought|buy|purchased)\b",
            r"\border status(?:es)? (?:of|for) (?:all|everything)\b",
        ),
        0.88,
    ),
    Row(
        "order_status",
        (
            r"\bwhere(?:'s| is| are)\b.*\b(?:{ORDERISH}|it|my stuff)\b",
            r"\b(?:track|tracking|trace)\b",
            r"\b(?:status|progress|eta|update)\b.*\b{ORDERISH}\b",
            r"\border\b.*\bstatus\b",
            r"\b(?:has|have|did|is|was|hasn't|has not)\b.*\b(?:{ORDERISH}|it|they)\b.*\b(?:ship|shipped"
            r"|arrive|arrived|deliver|delivered|dispatched|sent|on its way|on the way|out for delivery"
            r"|left)\b",
            r"\bwhen (?:will|does|is|should|do|can|would)\b.*\b(?:{ORDERISH}|it|they)\b.*\b(?:arrive"
            r"|come|ship|get here|be delivered|delivered|be here|show up|reach|shipped|coming|due|turn u"
            r"p)\b",
            r"\bhow long\b.*\b(?:my order|my package|my parcel|my delivery)\b",
            r"^(?:what about |and |how about |check |check on )?(?:my |the )?orders?(?: #?[a-z0-9_]*\d[a"
            r"-z0-9_]*)?$",
            r"\b(?:check|look up|look into)(?: on)? (?:my |the |on my )?(?:order|orders|package|delivery"
            r")\b",
            r"\bmy (?:last|latest|recent|most recent) order\b",
            r"\b(?:is|are) (?:my|the) (?:order|package|parcel)\b",
        ),
        0.88,
    ),
    Row(
        "order_status",
        (
            r"^(?=.*\b(?:my|the|me|our) (?:\w+ )?(?:order|ordered|package|packaged|parcel|delivery"
            r"|shipment)s?\b)(?=.*\b(?:where|when|track|tack|tracking|locate|find|trace|status|updates?"
            r"|location|arrive|arrived|deliver|delivered|shipped|coming|distributed|dropped off|show"
            r"(?:ed)? up|expect|receive|be here|transit|going on|get here|been sent|on its way)\b)",
        ),
        0.85,
    ),
    # the shopper's own order and a word about its progress, in any order: outside phrasings, tuned on
    # CLINC150's train and val splits only
    Row("order_status", ("{ORDER_ASKED}",), 0.85),
    Row(
        "order_status",
        (
            r"^(?:when|where|has|have|did|is|are|will|do you know|can you tell me|i want to know|i'd lik"
            r"e to know|tell me|how (?:much )?long(?:er)? (?:until|till|before))\b.*\bmy(?: [\w']+){1,4} "
            r"(?:arrive|arrives|arriving|arrived|ship|ships|shipped|be delivered|been delivered|get here"
            r"|gets here|be here|here yet|in yet|come|comes|coming|show up|shows up)\b",
            # "I'm still waiting for my package", "how is my order doing"
            r"\bwaiting (?:on|for) (?:my|the|our) (?:[\w']+ )?{ORDER_THING}\b",
            r"\bhow(?: is|'s| are)? (?:my|the|our) (?:[\w']+ )?{ORDERISH}(?: is| are)? (?:doing|coming al"
            r"ong|getting on)\b",
        ),
        0.8,
    ),
    Row(
        "apply_discount",
        (
            r"\b(?:apply|use|redeem|enter|add|try|put in|input|got|have)\b.*\b(?:code|coupon|promo"
            r"|voucher|discount)\b",
            r"\b(?:code|coupon|promo|voucher)\b\s*[:=]?\s*[a-z]*\d[a-z0-9]*\b",
            r"^(?:apply|redeem)\s+\S*\d",
            r"^(?:discount|promo|coupon|voucher) code\b",
        ),
        0.9,
    ),
    Row(
        "checkout",
        (
            r"^(?:checkout|check out)(?: now| please| my cart| everything)?$",
            r"^checkout\b",
            r"\b(?:go|proceed|continue|take me|move on|head) to (?:the )?(?:checkout|check out|payment)\b",
            r"\b(?:place|complete|finish|finalize|submit|confirm) (?:my |the |this |an )?(?:order|purcha"
            r"se)\b",
            r"\bready to (?:pay|checkout|check out|order|buy|purchase)\b",
            r"^pay(?: now| for (?:it|this|them|my order|everything|my cart))?$",
            r"\bbuy (?:it |them |everything |all )?now\b",
            r"\btake my money\b",
            r"\bpurchase (?:everything|my cart|the cart|all of it)\b",
            r"\bbuy (?:everything|what's) in my cart\b",
            r"\bcheckout\b",
            r"\bcheck out\b(?! (?:this|these|that|the|our|your|those|some|what|my (?!cart|basket|order"
            r"|bag))\b)",
            r"\bi(?:'m| am) done shopping\b",
            r"^finish up$",
            r"\bfinish shopping\b",
            r"\bpay for (?:my|the) (?:cart|order|items|stuff)\b",
        ),
        0.9,
    ),
    Row(
        "clear_cart",
        (
            r"\b(?:clear|empty|reset|wipe|trash|dump|nuke)\b.*\b{CART}\b",
            r"\b(?:remove|delete|take out|get rid of|drop|throw out)\s+(?:everything|all items|all the i"
            r"tems|all of it|all of them|every item|all my items|all my stuff)\b",
            r"\bempty (?:it|my cart)\b",
            r"\bstart over\b",
            r"^(?:clear|empty)(?: it| everything| all)?$",
            r"\b{CART} (?:cleared|emptied)\b",
        ),
        0.9,
        # "delete everything from my shopping list" empties something else
        unless=(
            r"\b(?:remove|delete|take out|get rid of|drop|throw out)\s+(?:everything|all items|all the i"
            r"tems|all of it|all of them|every item|all my items|all my stuff)\b.*\b(?:list|calendar|fol"
            r"der|inbox|phone|account|history|memory|data|preferences)\b",
        ),
    ),
    Row(
        "view_cart",
        (
            r"\b(?:show|view|see|open|check|display|review|look at|go to|what's in|what is in|what do i "
            r"have in|what have i got in|what's on|list|whats in)\b.*\b(?:cart|basket|shopping bag"
            r"|my bag)\b",
            r"^(?:what's|what does|how's|how does|whats) my (?:cart|basket)\b",
            r"^(?:my |the |view |show )?(?:cart|basket|shopping cart)$",
            r"\b(?:cart|basket) (?:total|summary|contents|subtotal)\b",
            r"\bwhat(?:'s| is) (?:my|the) (?:total|subtotal|order total)\b",
            r"\bhow much (?:is|are|do i owe|will it cost|does it come to)\b.*\b(?:cart|total|everything"
            r"|all)\b",
            r"\bhow many (?:items|things)\b.*\b(?:cart|basket)\b",
            r"\bwhat did i (?:add|put)\b",
            r"\bwhat(?:'s| is| do i have) in (?:my|the) (?:cart|basket)\b",
        ),
        0.9,
    ),
    Row(
        "adjust*",
        (
            r"\b(?:increase|raise|bump|increment|decrease|reduce|lower|lessen|decrement|double|halve)\b"
            r"(?=.*\b(?:quantity|qty|number of|amount of|cart|basket|it|them|that|those|these|one|by"
            r"|to)\b)",
            r"\btake (?:one|two|three|\d{1,2}|a couple)\b.*\bout\b",
            r"\b(?:\d{1,2}|one|two|three|four|five|a couple|a few) (?:more|less|fewer|extra|additional)\b"
            r"(?! than)",
            r"^(?:add |get |give me |i'll take |i'll have |i want |i need |put in |throw in )?(?:another"
            r"|one more)\b",
            r"\b(?:remove|take out|take off|drop|delete|minus|subtract|take away)\s+(?:one|two|three"
            r"|four|five|\d{1,2}|a couple)\b(?!\s*(?:more|less|of my orders|dollars))",
        ),
        0.88,
    ),
    Row(
        "update_cart",
        (
            r"^(?:make|change|set|update|adjust|switch|modify|edit)\b.*\b(?:to|it|them|that|those|these"
            r"|this|quantity|qty|amount|number)\b",
            r"\b(?:change|update|set)\b.*\b(?:quantity|qty|amount)\b",
            r"\b(?:i|we) (?:only (?:want|need)|(?:want|need) (?:only|just))\b",
            r"\bjust (?:one|\d+)(?: of (?:them|those|it))?(?: instead| please)?$",
            r"^(?:make|change) (?:it|that|them)\b",
            r"^(?:make|set) (?:the |my )?\w+(?: \w+)? (?:\d{1,2}|one|two|three|four|five|six)\b",
        ),
        0.85,
    ),
    Row(
        "remove*",
        (
            r"^(?:remove|delete|drop|ditch|discard|get rid of|take out|take off|throw out|toss out"
            r"|scrap|nix|bin)\b",
            r"\b(?:remove|delete|take out|take off|get rid of|throw out)\b",
            r"\b(?:take|drop|pull)\b.*\b(?:out|off)\b",
            r"\b(?:don't|do not|no longer) (?:want|need)\b",
            r"\bout of (?:my |the )?{CART}\b",
            r"\bfrom (?:my |the )?{CART}\b",
        ),
        0.88,
    ),
    Row(
        "add*",
        (
            r"^(?:add|throw|toss|stick|pop|include|grab|buy|purchase|order|get me|get|i'll take|i will t"
            r"ake|i'll have|i'll get|give me|send me)\b",
            r"^put\b(?=.*\b(?:in|into)\b)",
            r"\b(?:add|put)\b.*\b{CART}\b",
            r"\b(?:to|into|in) (?:my |the )?(?:cart|basket|shopping bag)\b",
            r"^(?:can|could|may) i (?:get|have|grab|buy|order|purchase)\b",
            r"\bi(?:'ll| will) (?:take|have|get|buy|go with|go for)\b",
            r"^(?:let's|lets) go with\b",
            r"^(?:i want|i need|i'd like|i would like|i wanna) (?:to buy|to order|to purchase|to get)\b",
            r"^(?:i want|i need|i'd like|i would like)\b",
        ),
        0.88,
    ),
    Row(
        "product_search",
        (
            r"^(?:show|find|search|look|looking|browse|display|list|see|view|what about|how about)\b",
            r"\b(?:do you|d'you|you guys|does the store)\s+(?:have|sell|carry|stock|got|offer)\b",
            r"\bgot any\b",
            r"\bhave you got\b",
            r"\b(?:are there|is there)\b.*\b(?:any|some)\b",
            r"\bi(?:'m| am)\s+(?:looking|searching|shopping|hunting)\b",
            r"\bin the market for\b",
            r"\bshop for\b",
            r"\b(?:cheaper|cheapest|newest|latest|new arrivals|what's new|more expensive)\b",
            r"\bin stock\b",
            r"\bavailable\b",
            r"\bsomething (?:else|similar|like)\b",
            r"\bother (?:colors|options|sizes)\b",
            r"\bmore like\b",
            r"\bwhere (?:can|could|do) i (?:get|buy|find)\b",
        ),
        0.85,
    ),
)

RULES: tuple[Rule, ...] = tuple(Rule.compile(number, row) for number, row in enumerate(ROWS, start=1))

# A whole word in a pattern's source: letters between regex punctuation, not part of a longer token
# ("pricey" in "(?:expensive|pricey|costly)"); an optional last letter ("costs?") gives both forms.
_SPELLED = re.compile(r"(?<![A-Za-z\\?\])])([a-z]{3,})(\??)(?![a-z(\[{*+])")


def _spelled_words(patterns: tuple[str, ...]) -> frozenset[str]:
    found: set[str] = set()
    for pattern in patterns:
        for word, optional in _SPELLED.findall(pattern):
            found.add(word)
            if optional:
                found.add(word[:-1])
    return frozenset(found)


# Every word the rules match, their placeholders filled. The typo corrector knows them all: "too
# pricey" must not be read as "too price", nor "submit a complaint" as a search for the brand Summit.
RULE_WORDS: frozenset[str] = _spelled_words(
    tuple(p.pattern for rule in RULES for p in rule.patterns + rule.unless)
)
ORDER_ASKED = re.compile(fill("{ORDER_ASKED}"))
