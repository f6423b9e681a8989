package io.github.cohortsync.connect.report;

import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.record.MembershipChange;

/**
 * One report record before it is encoded: a member's change and what became of it.
 *
 * @param page       the page that carried it; null for changes never sent (netted away, skipped)
 * @param attempts   calls of that page in the try that settled it, retries included; 0 when never sent
 * @param reason     why it was rejected; null otherwise
 * @param code       the destination's code for a rejection, where it gave one; null otherwise
 * @param decidedAtMs when the outcome was decided (the page's answer, the netting, the skip)
 */
public record MemberOutcome(MembershipChange change, Outcome outcome, Page page, int attempts, String reason,
                            String code, long decidedAtMs) {

    /** A member of a page the destination accepted (or, on a dry run, counted). */
    public static MemberOutcome sent(MembershipChange change, Page page, int attempts, boolean dryRun,
                                     long decidedAtMs) {
        return new MemberOutcome(change, dryRun ? Outcome.DRY_RUN : Outcome.DELIVERED, page, attempts, null, null,
                decidedAtMs);
    }

    public static MemberOutcome rejected(Rejection rejection, Page page, int attempts, long decidedAtMs) {
        return new MemberOutcome(rejection.member(), Outcome.REJECTED, page, attempts, rejection.reason(),
                rejection.code(), decidedAtMs);
    }

    public static MemberOutcome skipped(MembershipChange change, long decidedAtMs) {
        return new MemberOutcome(change, Outcome.SKIPPED_ALREADY_DELIVERED, null, 0, null, null, decidedAtMs);
    }

    public static MemberOutcome nettedAway(MembershipChange change, long decidedAtMs) {
        return new MemberOutcome(change, Outcome.NETTED_AWAY, null, 0, null, null, decidedAtMs);
    }
}
