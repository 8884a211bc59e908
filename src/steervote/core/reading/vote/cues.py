"""What makes a careful secretary ask before counting: the cues that send a reply to review.

Each pattern runs on a prepared sentence (see classify._prepare): lower-case, straight
quotes, every word preceded by a space.
"""

from __future__ import annotations

import re

from steervote.core.reading.languages import votewords as w

COURTESY = re.compile(
    r" (?:even if|as if|let me know if|if you(?: need| have| want| require| would like|'d like)"
    r"|if anyone|if needed|if necessary|if that helps|if i can help)\b"
)
CONDITION_IN_SENTENCE = re.compile(
    r" (?:if|wenn|falls es|si (?=[a-z])|se (?:il|la|lo|le|gli|è|sarà|non|o|a|os|as|for|forem"
    r"|tiver|houver|não))\b"
)
SARCASM_EMOJI = re.compile("[🙄😒🙃😏🤦🤡]")
QUESTION_TOPICS = w.words(
    "version draft clause attachment attached amendment amended motion text vote voting ballot "
    "quorum deadline wording copy document"
)

# Each: what a secretary is told, and the pattern (on a prepared sentence: see _prepare).
BLOCKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "sarcasm marker",
        re.compile(
            r" oh,? (?:yes|yeah|great|sure|wonderful|brilliant|joy|good|goody)\b"
            r"| yeah,? right\b| (?:exactly|just) what (?:we|this group|the group|everyone)"
            r"(?: really)? needs?\b| what (?:this|the|our) (?:\w+ ){0,2}(?:really )?needs? is\b"
            r"| because that(?:'s| has| will)? (?:worked|work|going to work|gone) so well\b"
            r"| /s\b| what could (?:possibly )?go wrong\b| slow clap\b"
            r"| said no ?(?:one|body) ever\b| whatever you say\b"
        ),
    ),
    (
        "proxy or deputy",
        re.compile(
            r" on my behalf\b| my (?:deputy|proxy|substitute|alternate|stand-in)\b| by proxy\b"
            r"| as (?:my )?proxy\b| vote for me\b| in my (?:place|stead)\b"
            r"| in meinem namen\b| en mon nom\b| en mi nombre\b| namens mij\b"
        ),
    ),
    (
        "relays someone else's vote",
        re.compile(
            r" on behalf of\b| (?:his|her|their) vote\b| \w+'s vote\b"
            r"| (?:asked|wants|told|wanted) me to (?:tell|pass|send|forward|record|say|let)\b"
            r"| pass(?:ing)? (?:it|this|that) on\b| forwarding (?:\w+ ){0,3}vote\b"
            r"| record (?!me\b)\w+ as\b| put (?!me\b)\w+ down as\b"
            r"| (?:he|she|they) (?:says|said|votes?|voted)\b"
            r"| \w+ says ?:| im namen von\b| au nom de\b| en nombre de\b"
            r"| (?:says|said) (?:for|against|yes|no|abstain)\b"
            r"| (?!i |we )\w+ votes (?:for|against|yes|no|to abstain)\b| (?!i |we )\w+ abstains\b"
        ),
    ),
    (
        "a vote on something else",
        re.compile(
            r" (?:amended|revised|updated|different|other|another|alternative|newer|earlier"
            r"|previous|older|later) (?:version|draft|text|motion|wording)\b"
            r"| not the (?:one|version|draft|text|document)(?: (?:that was|that's|which is))?"
            r" (?:attached|circulated|sent)\b| not this (?:version|draft|one)\b"
        ),
    ),
    (
        "not voted yet",
        re.compile(
            r" (?:will|\w+'ll|shall|going to|gonna) (?:vote|decide|reply|respond|confirm|come back"
            r"|get back)\b[^.!?\n]{0,60}\b(?:after|once|when|later|tomorrow|next|soon|before"
            r"|until|by)\b"
            r"| before (?:i|we) (?:vote|commit|decide|cast)\b| before voting\b"
            r"| haven't (?:yet )?(?:decided|voted|read)\b| not yet (?:decided|voted)\b"
            r"| undecided\b| still (?:deciding|thinking|considering|undecided)\b"
            r"| not sure\b| unsure\b"
            r"| need (?:more )?time\b| get back to you\b| come back to you\b"
            r"| let you know\b"
        ),
    ),
    (
        "asks the chair",
        re.compile(
            r" (?:can|could|would|will) you (?:please )?(?:clarify|confirm|explain|check|resend)"
            r"\b| please (?:clarify|explain|resend|re-send)\b| clarification\b"
            r"| (?:can't|cannot|can not|couldn't|could not|unable to|not able to) (?:open|read"
            r"|access|find|see|download|view)\b| re-?send\b"
            r"| (?:haven't|have not|didn't|did not|never) (?:got|get|received|receive|seen|see)\b"
        ),
    ),
    (
        "vote withdrawn",
        re.compile(
            r" (?:withdraw\w*|retract\w*|cancel\w*|rescind\w*) (?:my |the )?(?:vote|reply)\b"
            r"| (?:disregard|ignore) my vote\b"
        ),
    ),
    (
        "leaves the choice to the chair",
        re.compile(
            r" your call\b| up to you\b| leave it (?:up )?to you\b| as you see fit\b"
            r"| whichever you\b| you decide\b| chair's discretion\b"
        ),
    ),
    (
        "refers to someone else's view",
        re.compile(r" same as (?!before|last)\w+| ditto\b| i'm with (?!you)\w+"),
    ),
    (
        "conditional",
        re.compile(
            r" (?:provided|providing|subject to|as long as|so long as|on condition|conditional"
            r"|conditionally|only if|unless|assuming|on the understanding|vorausgesetzt"
            r"|sofern|unter der bedingung|es sei denn|à condition|pourvu que|sous réserve"
            r"|à moins que|siempre que|siempre y cuando|con tal de que|a menos que"
            r"|op voorwaarde|mits|tenzij|purché|a condizione|a patto che|a meno che"
            r"|desde que|contanto que|a não ser que)\b"
        ),
    ),
)
