"""`python -m steervote`."""

from steervote.cli import main

main()
