"""The words of a vote, and of what qualifies one, in the languages steervote reads.

All patterns run on one lower-cased clause (a piece of a sentence between commas, dashes,
colons or "but"), so each is short; none nests repetition, so none can backtrack badly.
Languages: English, German, French, Spanish, Dutch, Italian, Portuguese.
"""

from __future__ import annotations

import re

from steervote.core.vote import Vote


def words(text: str) -> frozenset[str]:
    """The space-separated words of `text`, as a set (word lists stay readable prose)."""
    return frozenset(text.split())


# Short words that are votes only where a vote stands: alone in their clause ("For.", "No -"),
# or after a voting cue ("I vote no", "put me down as for", "ich stimme dafür"), optionally
# followed by a closing tail ("for the motion", "no from me"). Elsewhere they are ordinary
# words: "for urgent matters", "no appeal route", "No. 4 Harbour Street".
_SHORT = {
    Vote.FOR: (
        r"for|yes|yep|yup|yeah|aye|yea|ja|jawohl|oui|si|sí|sì|sim|pour|voor|dafür|dafuer|"
        r"approve|approved|agree|agreed|support|supported|in favou?r|favorable|favorevole|"
        r"a favor|a favore|eens|akkoord|d'accord|zustimmung"
    ),
    Vote.AGAINST: (
        r"no|nope|nay|nein|nee|non|não|nao|contre|tegen|contra|dagegen|against|reject|rejected|"
        r"opposed|oppose|ablehnung|en contra|contrario|contraria"
    ),
    Vote.ABSTAIN: r"abstain|abstaining|abstention|enthaltung|abstención|abstencion|onthouding|"
    r"astensione|abstenção|abstencao",
}
_CUE = (
    r"(?:i|we)(?: hereby)? vote|my vote(?: is)?|(?:the )?vote(?: is)?|voting|i'm voting|"
    r"i am voting|i'm|im|i am|we're|we are|(?:i'd|i would|i|we)? ?say|(?:my )?answer(?: is)?|"
    r"it's a|its a|it is a|a firm|a definite|a clear|count me(?: down)?(?: as)?|"
    r"put me(?: down)?(?: as| for)?|mark me(?: down)?(?: as)?|record me(?: as)?|"
    r"register me(?: as)?|(?:please )?change my vote to|ich stimme(?: mit)?|stimme|ich bin|"
    r"ich votiere|je vote|je suis|(?:yo |eu )?voto|estoy|ik stem|ik ben|stem|sono|sou|"
    r"mein votum(?: ist)?|mon vote(?: est)?|mi voto(?: es)?|il mio voto(?: è)?|o meu voto(?: é)?|"
    r"mijn stem(?: is)?"
)
_ADVERB = (
    r"(?:(?:definitely|strongly|firmly|absolutely|fully|all|very much|totally|clearly|"
    r"certainly|wholeheartedly|entirely|also|too|still|now) )?"
)
_TAIL = (
    r"(?: (?:from me|to the motion|to this|to it|on this|on it|on the motion|the motion|"
    r"the proposal|the resolution|this motion|this proposal|it|this|adoption|then|please|"
    r"thanks|thank you|sorry|i'm afraid|im afraid|i am afraid|again|too|as well|also|here|"
    r"obviously|definitely|of course|absolutely|la motion|la proposition|de motie|"
    r"het voorstel|den antrag|dem antrag|la moción|la propuesta|la mozione|la proposta|"
    r"a moção|a proposta|von mir|de ma part|por mi parte|van mij|da parte mia|"
    r"da minha parte|da parte minha))?"
)
# Each: the vote, the pattern for a clause that is only the vote (matched whole), and the
# pattern for a vote after a cue (ending the clause). Clauses are lower-case, single-spaced
# and start with one space, so every pattern starts with a literal space: Python's re then
# jumps from space to space instead of trying every position (a leading \\b is ~5x slower).
SHORT_VOTES = tuple(
    (
        vote,
        re.compile(rf" (?:an? )?{_ADVERB}(?:{words}){_TAIL}"),
        re.compile(rf" (?:{_CUE}) (?:an? )?{_ADVERB}(?:{words}){_TAIL}$"),
    )
    for vote, words in _SHORT.items()
)

# Phrases that are a vote wherever they stand in a clause.
ANYWHERE_VOTES = (
    (
        Vote.FOR,
        re.compile(
            r" (?:yes|aye|yea|in favou?r|zustimmung|einverstanden|d'accord|d'accordo|a favor|"
            r"a favore|favorevole|sí|sì|de acuerdo|akkoord|mee eens|approvo|aprovo|apruebo|"
            r"j'approuve|concordo|in support|full support|my support)\b"
            r"| stimme(?: [\w']+){0,4}? zu\b"
            r"| (?:i|we)(?: (?:do|fully|totally|completely|wholeheartedly|strongly|entirely|"
            r"certainly|definitely|absolutely|heartily|can|will|'ll|hereby|also|too))* "
            r"(?:agree|approve|support)\b"
            r"| happy to (?:approve|support|agree)\b"
            r"| (?:i'm|i am|we're|we are|im)(?: [\w']+)? for (?:it|this|the motion|the proposal"
            r"|adoption|adopting)\b"
            r"| (?:vote|voting|voted)(?: is)? for (?:it|this|the motion|the proposal"
            r"|the resolution|adoption|adopting)\b"
            r"|(?:^|\s)\+1(?![\d.,])(?! ?[\d(-])"
        ),
    ),
    (
        Vote.AGAINST,
        re.compile(
            r" (?:against|oppose[ds]?|opposing|nay|en contra|contrari[oa]|ablehnung|"
            r"je m'oppose|me opongo|mi oppongo)\b"
            r"| (?:i|we)(?: (?:do|must|strongly|firmly|fully|hereby|have to|also))* "
            r"(?:reject|object)\b"
            r"| lehne(?: [\w']+){0,4}? ab\b"
            r"|(?:^|\s)-1(?![\d.,])(?! ?[\d(])"
        ),
    ),
    (
        Vote.ABSTAIN,
        re.compile(
            r" (?:abstain|abstains|abstaining|abstention|enthaltung|enthalte|m'abstiens|"
            r"abstenci[óo]n|abstengo|onthouding|onthoud|astensione|astengo|astenut[oa]|"
            r"absten[çc][ãa]o|abstenho)\b"
        ),
    ),
)

# Vote words that, found with a negation before them, record a negated vote
# ("I can't support it", "not in favour", "I don't agree", "nicht dafür").
LOOSE_VOTES = (
    (Vote.FOR, re.compile(r" (?:support|agree|approve|favou?r|for it|dafür|zu|pour|voor)\b")),
    (Vote.AGAINST, re.compile(r" (?:against|oppose[ds]?|object|dagegen|contre|tegen)\b")),
    (Vote.ABSTAIN, re.compile(r" (?:abstain|abstention|enthalten)\b")),
)

NEGATORS = words(
    "not never nothing neither nor cannot cant dont wont hardly nicht kein keine keinen nie "
    "niemals pas jamais ne nunca niet geen nooit non não nao nem tampoco mai no"
)
HEDGES = words(
    "leaning lean inclined probably likely maybe perhaps possibly might may would could "
    "should think guess suppose tentatively provisionally minded tend prefer unsure "
    "undecided vielleicht wahrscheinlich eher tendenziell würde peut-être probablement "
    "plutôt quizás quizá probablemente misschien waarschijnlijk forse probabilmente talvez "
    "provavelmente"
)
HEDGE_PHRASES = re.compile(
    r" (?:in principle|tal vez|for now|for the moment|not sure|at this stage|im prinzip|"
    r"en principe|en principio|in principe|in linea di principio|em princípio)\b"
)
# Commitment: the member is recording a vote, not discussing one.
COMMITTED = re.compile(
    r" (?:put|count|mark|record|register|list) me\b| my vote\b| (?:i|we)(?: hereby)? vote\b"
    r"| (?:i'm|i am) voting\b| change my vote\b| i abstain\b| je m'abstiens\b"
    r"| me abstengo\b| ich enthalte\b| ik onthoud\b| mi astengo\b| abstenho-me\b"
    r"| me abstenho\b| ich stimme\b| je vote\b| voto\b| ik stem\b"
)
CHANGE_MARKERS = re.compile(
    r" chang(?:e|ed|ing) (?:my|of) (?:vote|mind)\b| switch(?:ing)? my vote\b"
    r"| ignore my (?:earlier|previous|last|first|other)\b| instead\b| correction\b"
    r"| on (?:second thoughts?|reflection)\b| (?:update|amend) my vote\b"
)
OR_WORDS = words("or oder ou o of oppure either")
# Neutral lead-ins that contain "no" but say nothing about the vote.
NEUTRAL = re.compile(
    r" no (?:problems?|objections?|worries|doubt|issues?|concerns?|rush|hurry|need)\b"
)
# "No." as the abbreviation of "number": "Reg. No. 04567123", "VAT No. GB 123", "No. 4 Harbour St".
NUMBER_ABBREVIATION = re.compile(r" (?:no|nr|n°|nº)\.? ?[:#]? ?(?=(?:[a-z]{1,3} ?)?\d)")
ABBREVIATIONS = words(
    "reg vat tel fax mob ext st dr mr mrs ms prof ltd co inc etc eg ie vs ref approx corp "
    "dept jr sr no nr"
)
MOTION_WORDS = words(
    "motion proposal resolution it this that adoption adopting adopt ballot antrag motie "
    "voorstel moción propuesta mozione proposta moção proposition everything all"
)

# Cheap gates: a clause is matched against the patterns above only when one of its words
# could start a vote (the patterns are many alternations; most clauses hold none of these).
SHORT_TRIGGERS = {
    Vote.FOR: words(
        "for yes yep yup yeah aye yea ja jawohl oui si sí sì sim pour voor dafür dafuer approve "
        "approved agree agreed support supported favour favor favorable favorevole favore eens "
        "akkoord d'accord zustimmung"
    ),
    Vote.AGAINST: words(
        "no nope nay nein nee non não nao contre tegen contra dagegen against reject rejected "
        "opposed oppose ablehnung contrario contraria"
    ),
    Vote.ABSTAIN: words(
        "abstain abstaining abstention enthaltung abstención abstencion onthouding astensione "
        "abstenção abstencao"
    ),
}
COMMITMENT_TRIGGERS = words(
    "me vote voting abstain m'abstiens abstengo enthalte onthoud astengo abstenho-me abstenho "
    "stimme voto stem"
)
HEDGE_GATE = re.compile(r"princip|tal vez|for now|for the moment|not sure|at this stage")
ANYWHERE_TRIGGERS = {
    Vote.FOR: words(
        "yes aye yea favour favor zustimmung einverstanden d'accord d'accordo favore favorevole "
        "sí sì acuerdo akkoord eens approvo aprovo apruebo j'approuve concordo support stimme "
        "agree approve for +1"
    ),
    Vote.AGAINST: words(
        "against oppose opposed opposes opposing nay contra contrario contraria ablehnung "
        "m'oppose opongo oppongo reject object lehne -1"
    ),
    Vote.ABSTAIN: words(
        "abstain abstains abstaining abstention enthaltung enthalte m'abstiens abstención "
        "abstencion abstengo onthouding onthoud astensione astengo astenuto astenuta abstenção "
        "abstencao abstenho"
    ),
}

# "Yes" and "No" answer any question: in a longer sentence they count only beside words about
# voting or the motion ("No, I'm afraid", "Yes - I support adoption"), never alone in one
# ("Yes, I got the papers", "No, I can't make Thursday").
INTERJECTIONS = words("yes yeah yep yup aye no nope nay ja nein oui non si sí sì sim não nao nee")
VOTE_CONTEXT = words(
    "vote voting voted support supporting agree agreed favour favor approve approved motion "
    "proposal resolution adopt adoption adopting afraid sorry because reason reasons oppose "
    "opposed against object definitely absolutely certainly happy gladly stimme dafür dagegen "
    "voto stem pour contre voor tegen contra favorevole abstain abstention"
)
