"""Step 2: the words of the languages steervote reads, as data (`*.toml`, one file a
language, described in README.md), loaded by `lexicon`; `identify` tells which language a
sentence is in; `votewords` holds the older reader's patterns for its seven languages.
"""
