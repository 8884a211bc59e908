"""Reading a reply, step by step: what the member wrote, then whether it states one vote.

- `known`: the ballot's own text, recognised wherever a reply quotes it (steervote wrote it).
- `shapes`: quote starts recognised by their shape in any language: quote prefixes, attribution
  lines, header blocks, separator rules.
- `lexicon` and `languages/`: the words of each language steervote reads, as data.
- `identify`: which language a sentence is written in.
- `account`: a vote counts only when every sentence of the member's own text is accounted for.
"""
