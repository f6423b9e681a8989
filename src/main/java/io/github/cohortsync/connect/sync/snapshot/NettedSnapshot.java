package io.github.cohortsync.connect.sync.snapshot;

import java.util.Iterator;
import java.util.List;

import io.github.cohortsync.connect.record.MembershipChange;

/**
 * A snapshot after netting: per cohort how many users are members and how many left, and both groups in
 * (cohort, user) order, so that a cohort's members are read one after the other.
 */
public interface NettedSnapshot extends AutoCloseable {

    /** One cohort's counts in the snapshot. */
    record CohortCount(String cohortId, long members, long leavers) {
    }

    /** Every cohort of the snapshot, in cohort id order. */
    List<CohortCount> cohorts();

    /** The current members, in (cohort, user) order; each call starts from the first. */
    Iterator<MembershipChange> members();

    /** The users whose latest change is a removal, in (cohort, user) order; each call starts from the first. */
    Iterator<MembershipChange> leavers();

    @Override
    void close();
}
