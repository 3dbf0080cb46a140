"""The whole-clause checks, as data: tried in order before the table of ``rules.py``, each reads a whole
clause as one intent ("yes please", "thanks a lot", "what can you do?", "am I talking to a bot").

A :class:`Check` names the patterns that read the clause as said (politeness such as a trailing "thanks"
stripped), as typed, or as the table sees it (corrected, filler stripped); ``also`` patterns must match
too and ``unless`` patterns veto it. ``quiet`` checks hold only when the clause names nothing to act on
(``ACTION_WORDS``), so "thanks, where is my order" stays an order question. The looser readings were
tuned on CLINC150's train and val splits only, never its test split (docs/assistant-nlu.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .rules import fill

# --- whole-clause phrase sets (confirm, deny, greeting, help) -------------------------------------------


def phrase_set(phrases: str) -> re.Pattern[str]:
    """Whole-message match of one or more of the ``|``-separated phrases ("yes please", "ok do it")."""
    cleaned = {" ".join(p.split()) for p in phrases.split("|") if p.strip()}
    alts = "|".join(re.escape(p) for p in sorted(cleaned, key=len, reverse=True))
    return re.compile(rf"^(?:(?:{alts})\b[\s,.!]*)+$")


CONFIRM_WORDS = phrase_set(
    """
    yes | yeah | yep | yup | ya | yea | yes please | sure | sure thing | ok | okay | k | alright | all
    right | go ahead | confirm | confirmed | i confirm | do it | please do | sounds good | correct |
    that's right | that is right | that's correct | absolutely | definitely | of course | affirmative |
    proceed | go for it | place it | let's do it | let's go | fine | perfect | great | indeed | exactly
    | right | why not | i agree | agreed | yes i'm sure | i'm sure | please | go on | carry on | that's
    fine | works for me | deal | thanks | thank you | yes do it | yes go ahead | definitely yes | yes
    confirm | certainly | naturally | you bet | bingo
    """
)
CONFIRM_STRONG = re.compile(
    r"\b(?:yes|yeah|yep|yup|sure|confirm|confirmed|do it|go ahead|proceed|absolutely|definitely|of course"
    r"|affirmative|agreed|go for it)\b"
)
DENY_WORDS = phrase_set(
    """
    no | nope | nah | no thanks | no thank you | not now | cancel | cancel that | cancel it | never mind
    | nevermind | forget it | forget about it | don't | do not | don't do it | do not do that | don't do
    that | stop | abort | negative | i changed my mind | changed my mind | not really | no way | wait |
    hold on | not yet | leave it | skip it | skip | i don't want to | don't bother | no don't | nope not
    that | not that | no no | please don't | scratch that | no stop | actually no | no cancel | cancel
    please | don't place it | don't cancel | keep it | i'll pass | pass | not interested | not today |
    not right now | undo | undo that
    """
)
GREETING_WORDS = phrase_set(
    """
    hi | hello | hey | hiya | howdy | yo | greetings | good morning | good afternoon | good evening |
    hey there | hi there | hello there | what's up | sup | how are you | how's it going | how are you
    doing | how are things | hey hey | morning | evening | hola | heya
    """
)
THANKS_WORDS = phrase_set(
    """
    thanks | thank you | thanks a lot | thank you so much | thanks so much | much appreciated |
    appreciate it | cheers | great | awesome | perfect | cool | nice | thank you very much | many thanks
    | you're the best | you rock | lovely | brilliant
    """
)
BYE_WORDS = phrase_set(
    """
    bye | goodbye | good bye | see you | see ya | see you later | that's all | that's it | that's all
    for now | have a good day | have a nice day | later | take care | bye bye | talk later | i'm done |
    that is all | good night | catch you later
    """
)
HELP = re.compile(
    r"^(?:help|help me|i need help|help please|what can you do|what can i ask|what can i ask you"
    r"|what can you help(?: me)? with"
    r"|what do you do|how does this work|how do i use (?:this|the|you)(?: chat| assistant| bot| thing"
    r"| site)?|how do you work|what are my options|options|menu"
    r"|commands"
    r"|what should i say|who are you|what are you|are you a bot|are you a robot|are you human"
    r"|are you a real person"
    r"|are you a person|what can i do here|what do you know|what sort of things can you do"
    r"|what are you able to do"
    r"|how can you help(?: me)?|what can you help with|what kinds? of things can i ask"
    r"|tell me what you can do"
    r"|what services do you offer|can you help(?: me)?|what can this do|what are your features|start"
    r"|get started"
    r"|what (?:kinds?|sorts?|types?) of (?:things|stuff|questions|requests) (?:can|do|could) (?:you"
    r"|i)(?: \w+){0,3})"
    r"(?:\s*(?:please|\?|!))*$"
)


# Looser readings of the same small talk, yes/no and "what can you do", for phrasings the exact sets
# above miss ("thank you for all your help", "it was great to talk to you", "that is incorrect",
# "I'd like to know what you can help with", "am I talking to a bot"). Each holds only when the
# clause names nothing to act on (``ACTION_WORDS``), so "thanks, where is my order" stays an order
# question. Measured on CLINC150's phrasings of these intents (docs/assistant-nlu.md).
ACTION_WORDS = re.compile(
    fill(
        r"\b(?:add|put|remove|delete|cancel|order|orders|checkout|check out|buy|purchase|show|find|search"
        r"|refund|return|ship|shipping|track|where|change|update|apply|code|coupon|cart|basket|size|price"
        r"|cost|discount|remember|forget|recommend|ticket|agent|package|parcel|delivery|{PRODUCT}|style"
        r"|styles|brand|brands|colou?rs?|wear|prefer|arrivals"
        r"|address|pay|payment|card|stock|sale)\b"
    )
)
SMALL_TALK = re.compile(
    r"^(?:(?:hi|hello|hey|ok|okay|well|so|oh|ah|why|great|sweet|cool|thanks|thank you|ai)[,!.]* )*(?:"
    # thanks
    r"(?:thanks?|thank(?:s| you)|thx|ty|many thanks?|much obliged|cheers|ta|gracias|merci|danke)\b"
    r"|(?:i |we )?(?:really |truly |do |just )?(?:want to |wanted to |must |have to )?(?:thank you"
    r"|appreciate|apprecaite|apreciate)\b"
    r"|i(?:'m| am) (?:so |very |really |truly )?(?:grateful|thankful)\b"
    r"|(?:your|the) (?:help|assistance|time) (?:is|was) (?:\w+ )?appreciated"
    r"|you(?:'ve| have)? (?:been|did|were) (?:a |such a )?(?:\w+ ){0,2}(?:help|job|helpful)\b"
    # goodbye
    r"|(?:bye|goodbye|good bye|farewell|see (?:you|ya)|later|regards|ciao|adios|so long|sayonara|syonara"
    r"|tata|ta ta|catch you|until next time|take care)\b"
    r"|(?:talk|speak|chat) (?:to you )?(?:later|soon)\b|i(?:'m| am) (?:out of here|off|leaving|going)\b"
    r"|i (?:have|need|gotta|got) to (?:go|run|leave)\b"
    r"|(?:it|this|that)(?:'s| is| was| has been|'s been) (?:\w+ ){0,3}(?:to |talking|speaking|chatting"
    r"|conversation|chat)"
    r"|(?:i(?:'m| am) )?(?:good|great|nice|lovely|pleasant|awesome|fun|glad|happy|a pleasure)"
    r" (?:\w+ ){0,3}(?:talk|talking|speaking|chatting|chat|conversation)\b"
    r"|i had a (?:\w+ )?(?:pleasure|time|chat) (?:\w+ ){0,2}(?:talking|speaking|chatting)\b"
    r"|(?:have|enjoy) (?:a |your )?(?:\w+ ){0,2}(?:day|night|evening|weekend|afternoon|morning)\b"
    r"|(?:that|this)(?:'ll| will| would|'d) be (?:all|it|everything)\b"
    r"|i(?:'m| am) (?:all )?(?:done|good|set)\b"
    # how are you, hello
    r"|how(?:'s|'re| is| are| have| goes)(?: \w+){0,2} (?:you|your day|it going|it|life|things"
    r"|everything|you been)\b"
    r"|how goes it\b|how(?:'s| is) everything\b"
    r"|(?:are|r) (?:you|u) (?:\w+ )?(?:ok|okay|alright|all right|well|good|doing (?:ok|okay|alright|well"
    r"|good))\b"
    r"|(?:what|how) are you (?:feeling|doing)"
    r"|what(?:'s| is) (?:new|up|good|going on)(?: with you| today| there| buddy| friend| ai)?[,!.?]*$"
    r"|is (?:everything|all) (?:\w+ )?(?:ok|okay|alright|well|good)"
    r"|(?:(?:i'd|i would|i want to|let me) (?:like to )?know |tell me )how you(?:'re| are) (?:doing|feeling)"
    r"|(?:it is|it's) (?:good|nice|great) to (?:see|meet|hear from) you"
    r"|(?:good day|ahoy|greetings|hello|hi|hey)(?: (?:to you|there|hoy|anyone|is anyone|anybody))*"
    r"(?: there)?$"
    r"|(?:anyone|anybody|is anyone|is anybody) (?:there|here|home)\b"
    r")"
)
CONFIRM_LOOSE = re.compile(
    r"^(?:(?:yes|yeah|yep|yup|ok|okay|sure|indeed|correct|right|true|oh|ai|well)[,!.]* )*(?:"
    r"(?:(?:i (?:believe|think|agree|can confirm) )?(?:that )?(?:what you (?:just )?said|that|this|it|you"
    r"|the statement|the answer(?: to that)?|that statement)"
    r"(?:'s| is| was| are|'re| would be| happens to be| seems| sounds| looks)?"
    r"(?: \w+){0,3} (?:right|correct|true|accurate|factual|fine|good|great|awesome|ok|okay|spot on"
    r"|affirmative|a fact|the truth|(?:a )?yes|not false|confirmed|what i want))"
    r"|uh-?huh|uh huh|yeap|yeh|i vote yes|yes sir|yes ma'am|yes(?: i| you)? (?:am|are|do|did|is)"
    r"|(?:that|it) checks out|roger(?: that)?|10-4|affirmative|positive|true|correct|you got it"
    r"|you(?:'re| are) (?:\w+ )?right|i agree(?: with (?:\w+ ){0,6}\w+)?"
    r"|(?:my answer(?: to (?:your|the|that) question)? is|i(?:'d| would| will| am going to|'ll|"
    r" must| gotta| have to) say|i say|the answer is) yes(?: as my (?:answer|response|reply))?"
    r"|yes(?:,)? (?:is|was|would be) (?:my|the) (?:answer|response|reply)"
    r"|(?:oh |why )?(?:yes|yeah)(?: it (?:is|does|was))?"
    r")[,!.]*$"
)
DENY_LOOSE = re.compile(
    r"^(?:(?:no|nope|nah|naw|nay|negative|not really|well)[,!.]* )*(?:"
    r"(?:i (?:think|believe) )?(?:that|this|it|you|the statement|the information|what you (?:just )?said"
    r"|the answer)(?:'s| is| are|'re| was|'s not| isn't| is not| was not| wasn't| turns out to be"
    r"| seems| would be|'d be| has to be| must be)?(?: \w+){0,3} (?:incorrect|wrong|false|falsehood"
    r"|inaccurate|untrue|erroneous|(?:a )?no|(?:a )?negative|not the case|not (?:right|correct|true|it"
    r"|accurate))"
    r"|false|negative|nada|nope not (?:it|that)"
    r"|(?:that|this|it) (?:isn't|is not|wasn't|was not|'s not) (?:\w+ )?(?:right|correct|true|it)"
    r"|(?:my answer(?: to (?:your|the|that) question)? is|i(?:'d| would| will| am going to|'ll| must"
    r"| gotta| have to) (?:have to )?say(?: the answer(?: to (?:that|this|it))? is)?|i say|the answer is)"
    r" no\b.*"
    r"|no(?:,)? (?:is|was|would be|that is|that's) (?:my|the) (?:answer|response|reply)"
    r"|(?:definitely|absolutely|certainly) not|i (?:think|guess) not|i don't think so|i do not think so"
    r"|(?:no|nope|naw|nay)(?: it (?:is|does|was)(?:n't| not))?|not (?:at all|correct|right|true)"
    r")[,!.]*$"
)
CAPABILITY_QUESTION = re.compile(
    r"\bwhat (?:are |exactly |else |all )?(?:the )?(?:(?:kinds?|sorts?|types?) of )?(?:things|stuff"
    r"|subjects?|subject areas|topics|questions|queries|tasks)\b.*\b(?:you|i)\b"
    r"|\b(?:(?:kinds?|sorts?|types?) of (?:things|stuff|subjects?|topics|questions|queries|tasks)"
    r"|subject areas|subjects|topics)\b.*\b(?:you|i can ask)\b"
    r"|\bwhat (?:\w+ )?(?:can|could|are) (?:you|i) (?:\w+ )?(?:help|do|assist|ask|answer)\b"
    r"|\bwhat you (?:can|could|are able to|are capable of) (?:\w+ )?(?:help|do|assist|answer)"
    r"|\b(?:what|which) (?:subjects|topics) (?:do|can) you\b|\bwhat subjects you\b|\bcapable of\b"
    r"|\b(?:are|r) (?:you|u|an)\b.*\b(?:bot|robot|human|person|computer|machine|ai|real)\b"
    r"|\b(?:you(?:'re| are)|your|ur|u r|yourself to be|you sound like|you seem like) (?:a |an )?(?:real"
    r" |actual )?(?:bot|robot|human|computer|machine|ai|person)\b"
    r"|\b(?:is this|am i (?:talking|speaking|chatting) (?:to|with)) (?:a |an )?(?:real |actual )?(?:bot"
    r"|robot|human|person|computer|machine|ai|real person|someone real|somebody real)\b"
    r"|\b(?:could|can|might) you be (?:a |an )?(?:human|person|bot|robot|computer|machine|ai)\b"
    r"|\bwhether you(?:'re| are) (?:a |an )?(?:human|person|bot|robot|computer|machine|ai)\b"
)


# Outside phrasings of the small talk, yes/no, "what can I ask" and "are you a bot" intents. Tuned on
# CLINC150's *train* and *val* splits only; its test split is for measuring (docs/assistant-nlu.md).
# Like the looser readings above, each holds only when the clause names nothing to act on.
GREETING_LOOSE = re.compile(
    r"^(?:(?:oh|why|well)[,!.]* )?"
    r"(?:hi|hello|hey|heyo|hiya|howdy|aloha|bonjour|hola|salutations|greetings|good (?:morning|afternoon"
    r"|evening|day)|yo|wassup|whassup|sup|what's happening|heller)"
    r"(?:[,!.]* (?!(?:i|can|could|would|do|does|is|are|what|where|how|please|need|want)\b)[a-z']+){0,2}"
    r"[,!.]*$"
    r"|^(?:i )?(?:just )?(?:wanted|want|wanna|came|am here) to say (?:hi|hello|hey)\b"
    r"|^(?:(?:can|could|would) you )?(?:tell me |let me know )?how(?:'ve|'s|s|'re| is| are| have| do| did"
    r"| has)?(?: (?:are|have|is))? (?:ya|you|you're|you've|u|the ai|my ai|you all|things|life)"
    r"(?: (?:are|been|doing|doin|feeling|feel|do|going|today|lately|all|holding up))*$"
    r"|^(?:have you been|are things going|is everything going|are you doing|are you keeping) (?:\w+ )?"
    r"(?:good|well|ok|okay|alright|fine)(?: for you| today| lately)?$"
    r"|^(?:it's |it is |it was |always |so |very |really )?(?:good|nice|great|lovely|glad|pleased"
    r"|a pleasure|fun|pleasant) (?:to )?(?:see|seeing|meet|meeting|talk|talking|speak|speaking|chat"
    r"|chatting|convers\w*)(?: (?:to|with))? you\b"
)
BYE_LOOSE = re.compile(
    r"^(?:(?:ok|okay|well|alright|so)[,!.]* )?(?:"
    r"peace(?: out)?|tootles|buh-?bye|cya(?: later)?|fare ?well|fairwell|goodnight|nighty night"
    r"|have a good one|take it easy|(?:i'll |i will )?see you around|ttyl|i'm outta here|gotta go"
    r"|(?:i|we)(?:'ll| will) (?:talk|speak|chat)(?: to you| with you)? (?:later|soon|again|another time)"
    r"|i(?:'m| am) saying (?:goodbye|bye)"
    r"|i (?:have to|need to|must|gotta|got to) (?:say )?(?:goodbye|bye)"
    r"|i(?:'ve| have)? ?(?:got|have|need|must|gotta) to (?:run|go|leave|get going|head out|be going|take off)"
    r"|i(?:'ll| will) be (?:leaving|going|off|heading out)"
    r"|i (?:enjoyed|liked|loved) (?:talking|speaking|chatting|conversing) (?:to|with) you"
    r"|i had (?:fun|a good time|a great time|a nice time) (?:talking|speaking|chatting|conversing)"
    r" (?:to|with) you"
    r")\b(?: now| ai| then| for now| everyone)?[,!.]*$"
)
THANKS_LOOSE = re.compile(
    r"^(?:(?:oh|well|wow|ok|okay)[,!.]* )?(?:"
    r"(?:much )?appreciated|special thanks(?: to you)?|that you so much|thank you so much"
    r"|you have my (?:\w+ )?(?:gratitude|thanks)|i have (?:much |so much |a lot of )?gratitude\b.*"
    r"|i (?:can ?not|cannot|can't) thank you enough|i (?:need|want|would like|'d like|wanted) to thank you"
    r"|let me thank you|i owe you(?: one| big| big time)?"
    r"|(?:good|great|nice) (?:job|work)\b.*|well done\b.*|(?:nice, |really |very )?(?:excellent|great)"
    r"|your (?:answer|answers|help|efforts?|assistance|work|response)\b.*\b(?:appreciated|pleased"
    r"|enjoyable|good|great|helpful|perfect|unnoticed|wonderful|excellent)\b.*"
    r"|i(?:'m| am) (?:so |very |really )?(?:happy|glad|pleased|satisfied) (?:with|that|you|about)\b.*"
    r"|you (?:were|are|'re) (?:so |very |really |such a )?(?:kind|nice|sweet|helpful|a doll|a star"
    r"|a lifesaver|the best)\b.*"
    r"|you(?:'re|re| are) a (?:doll|star|gem|lifesaver|life saver)|good looking out|kudos(?: to you)?"
    r"|(?:that|this|it|you)(?:'s|'ve been| is| was| were| have been| has been) (?:very |so |really |super "
    r"|extremely |incredibly |most |a )?(?:helpful|useful|great help|big help|huge help"
    r"|exactly what i (?:needed|wanted))"
    r"|you (?:helped|assisted) (?:me )?(?:a lot|so much|greatly|tremendously|out)?"
    r"|you(?:'re|re| are) (?:so |really |truly )?(?:awesome|amazing|wonderful|fantastic|brilliant|great"
    r"|the best)|you did (?:great|good|well|a (?:great|good|fine) job)"
    r"|thanks (?:a bunch|a ton|a million|heaps|loads)|that's all i needed"
    r")(?: (?:for|with) [a-z' ]{1,40})?[,!.]*$"
    r"|.*\b(?:thanks|thank you|thankful|grateful|gratitude|appreciate|appreciated|appreciation)\b"
)
TRUTH = r"(?:right|correct|true|the case|accurate|factual|proper|valid|what i (?:want|meant|said|asked))"
NEGATION = re.compile(r"\bnot\b|n't\b|\bnever\b|\bcannot\b")
YES_LOOSE = re.compile(
    r"^(?!.*(?:\bnot\b|n't\b|\bnever\b|\bno\b|\bfalse\b|\bwrong\b|\bincorrect\b))(?:"
    r"(?:(?:oh|well|ok|okay|so)[,!.]* )?(?:yes|yeah|yep|yup|yea|affirmative|affirmitive|true)\b(?: \w+){0,8}"
    r"|(?:[\w']+ ){0,8}(?:(?:a |the )?true|correct|accurate|valid|facts?|makes sense)"
    r"(?: (?:statement|for sure|as well|indeed|about that))?"
    r"|accepted|approved|agreed|certainly|indubitably|exactly(?: right)?|precisely|right on|by all means"
    r"|(?:that's|that is|it's|this is) (?:exactly )?(?:the one|what i (?:want|wanted|need|needed|meant))"
    r"|i (?:think|believe|guess|suppose|reckon) so|(?:it|i|you|that) (?:is|do|does|did|am|are|was|have)"
    r"|.*\b(?:is|say|be|'s|answer|response) (?:a )?(?:yes|affirmative)\b.*"
    r"|(?:yes|true|affirmative) (?:is|as) my (?:answer|response|reply)"
    r"|(?:very|so|for sure|definitely|very much|absolutely) true|.*\bvery much true"
    r"|(?:let's |please )?do that|(?:agreed|i agree)\b.*"
    r"|(?=.*\b(?:yes|yeah|yep|yup|affirmative|true|correct)\b)(?:[\w',!.]+ ?){1,10}"
    r")[,!.]*$"
    r"|^(?:that|this|it|what you said|you)(?:'s| is| was| are|'re) not (?:false|wrong|incorrect|untrue)"
    r"(?: about (?:that|it|this))?[,!.]*$"
)
NO_LOOSE = re.compile(
    r"^(?!(?:what|how|why|where|when|who|which)\b)(?:"
    r"(?=.*(?:\bnot\b|n't\b|\bcannot\b|\bnever\b))(?=.*\b" + TRUTH + r"\b)(?:[\w']+[,!.]* ?){1,14}"
    r"|(?:[\w'\"]+[,!.]* ){0,9}\"?(?:false|incorrect|wrong|untrue|invalid|fake|inaccurate|negative|negatory"
    r"|nope|nah|no)\b(?: (?:for sure|from me|at all|on that(?: one)?|statement|answer|sir|i think|there))?"
    r"|not happening|it seems not|i would prefer not|i'd prefer not|i disagree\b.*|no good"
    r")[,!.\"]*$"
)
BOT_WORDS = re.compile(
    r"\b(?:bot|robot|chatbot|human|humans|person|computer|machine|ai|artificial|real|alive|living"
    r"|life form|automated|automation|program|software|sentient|conscious|android)\b"
)
YOU_WORDS = re.compile(r"\b(?:you|your|yourself|you're|ya|u|the ai)\b")
ASK_WORDS = re.compile(
    r"\b(?:ask|asked|answer|answers|assist|help|use|using|benefit|capabilities|capable|skills|abilities"
    r"|able|familiar|commands|questions|queries|subjects|topics|categories)\b"
)
ASK_TARGET = re.compile(r"\b(?:you|your|yourself|the ai|ai|commands|questions|queries|permissible|allowed)\b")
ASK_SHAPE = re.compile(
    r"^(?:what|what's|which|how|is there|are there|can|could|may|am|are you|tell me|do you)\b"
)


@dataclass(frozen=True)
class Check:
    name: str  # shown by nlu_explain
    intent: str
    confidence: float
    pending_confidence: float | None = None  # when a yes/no question is pending (None: the same)
    said: tuple[re.Pattern[str], ...] = ()  # any of them matching the clause as said
    text: tuple[re.Pattern[str], ...] = ()  # ... or the clause as the table sees it
    typed: tuple[re.Pattern[str], ...] = ()  # ... or the clause as typed, politeness kept
    also: tuple[re.Pattern[str], ...] = ()  # each must match the clause as said, too
    unless: tuple[re.Pattern[str], ...] = ()  # none may match the clause as said
    quiet: bool = False  # only when the clause names nothing to act on
    asked: bool = False  # only when the clause is a question (a "?" or a question word first)


CHECKS: tuple[Check, ...] = (
    # "cancel" alone with nothing pending is the cancel family; "no, thanks" as a yes-set match is thanks
    Check("no", "deny", 0.75, 0.95, said=(DENY_WORDS,), text=(DENY_WORDS,)),
    Check("yes", "confirm", 0.6, 0.95, said=(CONFIRM_WORDS,), text=(CONFIRM_WORDS,)),
    Check("hello, thanks, goodbye", "greeting", 0.95, said=(GREETING_WORDS, BYE_WORDS, THANKS_WORDS)),
    Check("help", "help", 0.9, said=(HELP,), text=(HELP,)),
    Check("no, loosely", "deny", 0.7, 0.9, said=(DENY_LOOSE,), quiet=True),
    Check("yes, loosely", "confirm", 0.6, 0.9, said=(CONFIRM_LOOSE,), unless=(NEGATION,), quiet=True),
    Check("small talk", "greeting", 0.85, typed=(SMALL_TALK,), quiet=True),
    Check("what can you do", "help", 0.85, said=(CAPABILITY_QUESTION,), quiet=True),
    Check(
        "hello, thanks, goodbye, said otherwise",
        "greeting",
        0.85,
        typed=(GREETING_LOOSE, BYE_LOOSE, THANKS_LOOSE),
        quiet=True,
    ),
    Check("are you a bot", "help", 0.85, said=(BOT_WORDS,), also=(YOU_WORDS,), quiet=True),
    Check("what can I ask", "help", 0.8, said=(ASK_WORDS,), also=(ASK_TARGET,), quiet=True, asked=True),
    Check("yes, said otherwise", "confirm", 0.6, 0.9, said=(YES_LOOSE,), quiet=True),
    Check("no, said otherwise", "deny", 0.7, 0.9, said=(NO_LOOSE,), quiet=True),
)
