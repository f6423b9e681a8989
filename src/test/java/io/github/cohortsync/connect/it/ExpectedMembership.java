package io.github.cohortsync.connect.it;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * The membership per cohort that a list of produced records implies: each (cohort, user)'s latest record wins.
 * Records of one key must be given in the order they were produced (they share a partition). Raw records are
 * ignored.
 */
public final class ExpectedMembership {
    private final Map<String, Set<String>> members = new TreeMap<>();

    public static ExpectedMembership of(Collection<MembershipRecord> records) {
        return new ExpectedMembership().apply(records);
    }

    public ExpectedMembership apply(Collection<MembershipRecord> records) {
        for (MembershipRecord r : records) {
            if (r.cohortId() == null) {
                continue;
            }
            Set<String> cohort = members.computeIfAbsent(r.cohortId(), id -> new TreeSet<>());
            if (r.isAdd()) {
                cohort.add(r.user());
            } else {
                cohort.remove(r.user());
            }
        }
        return this;
    }

    /** A sorted copy without empty cohorts, comparable with {@link WebhookReceiver#membership()}. */
    public Map<String, Set<String>> asMap() {
        Map<String, Set<String>> copy = new TreeMap<>();
        members.forEach((cohort, users) -> {
            if (!users.isEmpty()) {
                copy.put(cohort, new TreeSet<>(users));
            }
        });
        return copy;
    }

    /** The members of one cohort (empty when none). */
    public Set<String> of(String cohortId) {
        return new TreeSet<>(members.getOrDefault(cohortId, Set.of()));
    }
}
