package io.github.cohortsync.connect.it;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

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

    /**
     * The members' lower-case emails per destination name of their cohort (empty cohorts kept), comparable with what
     * an email-keyed stand-in holds per list or segment name.
     */
    public Map<String, Set<String>> emailsByName(Function<String, String> nameOfCohort) {
        Map<String, Set<String>> emails = new TreeMap<>();
        members.forEach((cohort, users) -> {
            Set<String> set = new TreeSet<>();
            users.forEach(user -> set.add(MembershipRecord.email(user).toLowerCase(Locale.ROOT)));
            emails.put(nameOfCohort.apply(cohort), set);
        });
        return emails;
    }

    /** The members of one cohort (empty when none). */
    public Set<String> of(String cohortId) {
        return new TreeSet<>(members.getOrDefault(cohortId, Set.of()));
    }
}
