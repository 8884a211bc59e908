"""Step 3: the vote stated in the member's own words, or why a secretary must read them.

`classify` (with `cues`) reads votes and their qualifiers in English, German, French,
Spanish, Dutch, Italian and Portuguese; `account` counts a vote only when every sentence of
the own text is accounted for, in any language steervote reads.
"""
