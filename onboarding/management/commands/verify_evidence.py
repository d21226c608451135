from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from onboarding.services.evidence import evidence_verify


class Command(BaseCommand):
    help = (
        "Check the acceptances' hash chain and the published terms texts, as the nightly task "
        "does: print each problem and exit 1 if anything was changed, deleted or inserted."
    )

    def handle(self, *args, **options):
        check = evidence_verify()
        for line in check.problem_lines:
            self.stdout.write(line)
        if check.ok:
            self.stdout.write(
                ngettext(
                    "Evidence intact: %(count)d acceptance in an unbroken chain, every "
                    "published terms text as published.",
                    "Evidence intact: %(count)d acceptances in an unbroken chain, every "
                    "published terms text as published.",
                    check.records,
                )
                % {"count": check.records}
            )
            return
        self.stdout.write(
            ngettext(
                "Evidence check failed: %(count)d problem found.",
                "Evidence check failed: %(count)d problems found.",
                len(check.problems),
            )
            % {"count": len(check.problems)}
        )
        sys.exit(1)
