"""The two ballots replies are read against in the reply tests: a real one, and a hostile one
whose text is full of vote words, attributions, header lines and a signature marker, so that
what a member quoted can never decide what the member said. No steervote import: template
checks run even while the reader does not import."""

CONSTITUTION = """\
Motion new-constitution: Adopt the new constitution

That the National Steering Group adopts the constitution attached, and
puts it to the members for their individual consent.

Proposed by: Jon Lansman (chair)
Committee: National Steering Group (12 voting members)

HOW TO VOTE
Reply to this email with one word: FOR, AGAINST or ABSTAIN.
You may add reasons below your vote. Your reply address is personal to you:
please do not forward this ballot.

Rule: carried when more than half of all 12 voting members vote for (majority of members: 7 needed).
Quorum: 7 counted votes (for, against or abstain).
Voting closes: Thursday 12 January 2017, 19:39 GMT (Europe/London) = 2017-01-12 19:39 UTC.
Authority: Standing Orders 7.3: the Steering Group may decide by email
Fingerprint: 3f9a-c2d1-77b0

Attachments: momentum-constitution.pdf
"""

BUDGET = """\
Motion budget-2017: Approve the 2017 budget

That the committee approves the budget for 2017 as attached. Yes, this
includes the new office; no, it does not include staff pay, which is
against the standing orders to decide by email. Members in favour say
AYE; those against say NAY; anyone who abstains may say so.

HOW TO VOTE
Reply with YES (for), NO (against) or ABSTAIN. I vote for it myself.
--
Sent on behalf of the chair. On Monday 2 Jan 2017 the chair wrote:
From: treasurer@example.org
Sent: Monday
To: all
Voting closes: 2017-01-12. Für/Dafür, Dagegen, Enthaltung. Pour, contre.
"""

BALLOTS = {
    "constitution": ("[new-constitution] Adopt the new constitution", CONSTITUTION),
    "budget": ("[budget-2017] Approve the 2017 budget", BUDGET),
}
