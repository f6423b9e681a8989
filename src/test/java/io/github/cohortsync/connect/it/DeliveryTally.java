package io.github.cohortsync.connect.it;

import java.lang.management.ManagementFactory;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import javax.management.JMException;
import javax.management.MBeanServer;

import io.github.cohortsync.connect.it.standin.WebhookReceiver.Delivery;
import io.github.cohortsync.connect.metrics.TaskMetrics;
import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * What a fault run produced, delivered, lost and duplicated, from the records produced and the pages a
 * {@link WebhookReceiver} accepted; printed as one {@code RELIABILITY} line that docs/reliability.md quotes.
 *
 * @param produced records produced to Kafka
 * @param expectedMembers members the cohorts should end with
 * @param membersDelivered member entries in accepted pages (a member accepted twice counts twice)
 * @param lost (cohort, user) pairs whose final state at the receiver differs from the records' last change
 * @param duplicates member entries accepted more than once for the same cohort, action and user
 * @param pagesAccepted pages the receiver accepted
 */
public record DeliveryTally(int produced, int expectedMembers, int membersDelivered, int lost, int duplicates,
                            int pagesAccepted) {

    public static DeliveryTally of(List<MembershipRecord> records, WebhookReceiver receiver) {
        Map<String, Set<String>> expected = ExpectedMembership.of(records).asMap();
        Map<String, Set<String>> actual = receiver.membership();
        int lost = 0;
        Set<String> cohorts = new TreeSet<>(expected.keySet());
        cohorts.addAll(actual.keySet());
        for (String cohort : cohorts) {
            Set<String> difference = new HashSet<>(expected.getOrDefault(cohort, Set.of()));
            Set<String> got = actual.getOrDefault(cohort, Set.of());
            difference.addAll(got);
            Set<String> both = new HashSet<>(got);
            both.retainAll(expected.getOrDefault(cohort, Set.of()));
            difference.removeAll(both);
            lost += difference.size();
        }
        int delivered = 0;
        Set<String> seen = new HashSet<>();
        List<Delivery> accepted = receiver.accepted();
        for (Delivery page : accepted) {
            for (String user : page.distinctIds()) {
                delivered++;
                seen.add(page.cohortId() + "/" + page.action() + "/" + user);
            }
        }
        int members = expected.values().stream().mapToInt(Set::size).sum();
        return new DeliveryTally(records.size(), members, delivered, lost, delivered - seen.size(), accepted.size());
    }

    /** Prints the tally with the run's name and extra figures, for docs/reliability.md. */
    public DeliveryTally print(String run, String extra) {
        System.out.println("RELIABILITY " + run + ": produced=" + produced + " expectedMembers=" + expectedMembers
                + " membersDelivered=" + membersDelivered + " lost=" + lost + " duplicates=" + duplicates
                + " pagesAccepted=" + pagesAccepted + (extra.isEmpty() ? "" : " " + extra));
        return this;
    }

    /** One counter of a task's JMX metrics, read from the platform MBean server the worker registers them on. */
    public static long metric(String connector, int task, String attribute) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            return ((Number) server.getAttribute(TaskMetrics.objectName(connector, String.valueOf(task)), attribute))
                    .longValue();
        } catch (JMException e) {
            throw new IllegalStateException("Could not read " + attribute + " of " + connector + " task " + task, e);
        }
    }
}
