"""Know your data: profile, label audit, annotator agreement, what to label next.

Library functions are silent and return reports with ``to_dict()``; the commands
`thresher profile|audit|agree|select` print them.
"""

from __future__ import annotations

from thresher.quality.aggregate import dawid_skene, majority_vote
from thresher.quality.agree import AgreementReport, agree
from thresher.quality.agreement import cohen_kappa, fleiss_kappa, krippendorff_alpha
from thresher.quality.annotations import read_annotations
from thresher.quality.audit import AuditReport, audit
from thresher.quality.profile import Profile, profile
from thresher.quality.select import STRATEGIES, Selection, choose, select_rows, uncertainty

__all__ = [
    "AgreementReport",
    "AuditReport",
    "Profile",
    "STRATEGIES",
    "Selection",
    "agree",
    "audit",
    "choose",
    "cohen_kappa",
    "dawid_skene",
    "fleiss_kappa",
    "krippendorff_alpha",
    "majority_vote",
    "profile",
    "read_annotations",
    "select_rows",
    "uncertainty",
]
