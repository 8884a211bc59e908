"""Evidence a third party can check: the audit folder (`audit`) and its re-reading
(`verify`), which needs no database and no mail server."""
