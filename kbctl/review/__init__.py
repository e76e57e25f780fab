"""`kbctl review`: what a change (pull request) does between two commits.

gitsnapshot (refs, diff, each commit's KB on disk) → diff (changed files to changed entries) →
fingerprint (what each channel carries and shows of an entry) and widening (does the content
reach a wider audience) → core (the review: changes plus diagnostics) → report (the formats).
"""

from kbctl.review.core import Change, Review, review

__all__ = ["Change", "Review", "review"]
