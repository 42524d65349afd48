"""The knowledge base, the domain's: its entries as YAML in and out and what callers asked
(entries.py), and the decision a question gets from it, one answer, options to refine or "I don't
know" (decision.py). The phone uses it today; the web help centre will use the same decision."""
