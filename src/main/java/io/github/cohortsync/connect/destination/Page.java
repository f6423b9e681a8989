package io.github.cohortsync.connect.destination;

import java.util.List;

import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;

/**
 * One destination call's worth of members of one cohort, all with the same action.
 *
 * @param sessionId  identifies one sync of one cohort; the same across retries of that sync
 * @param pageNumber 1-based position among the pages of this action in this sync of this cohort
 * @param totalPages the number of pages of this action in this sync of this cohort
 */
public record Page(CohortRef cohort, PageAction action, String sessionId, int pageNumber, int totalPages,
                   List<MembershipChange> members) {

    public Page {
        members = List.copyOf(members);
    }

    /** A stable id for this page: the same on every retry, different for every other page. */
    public String idempotencyKey() {
        return sessionId + "-" + action.wireName() + "-" + pageNumber;
    }

    /** Names the page in logs and errors, without user data. */
    public String describe() {
        return action.wireName() + " page " + pageNumber + "/" + totalPages + " of cohort " + cohort.id()
                + " (" + members.size() + " members)";
    }

    public Page withMembers(List<MembershipChange> kept) {
        return new Page(cohort, action, sessionId, pageNumber, totalPages, kept);
    }
}
