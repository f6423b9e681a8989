package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.tombstone;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The sync the destination ITs share. Phase 1: {@code adds} users a-* join cohort 101 and 50 users b-* join cohort
 * 202, interleaved, then one add the destination must reject. Phase 2: a-0..99 and b-0..9 leave, a-0 comes back, and
 * b-20 gets a tombstone (no email, no properties), which is rejected too. Both rejected records go to the dead
 * letter queue.
 */
final class TwoPhaseSync {
    private final List<MembershipRecord> phase1;
    private final List<MembershipRecord> phase2 = new ArrayList<>();
    private final MembershipRecord dropped = tombstone("202", user("b", 20));

    /**
     * @param shape    what every record but the two rejected ones carries besides its cohort and user (e.g. a
     *                 destination id property)
     * @param rejected the last record of phase 1, one the destination refuses
     */
    TwoPhaseSync(int adds, long seed, UnaryOperator<MembershipRecord> shape, MembershipRecord rejected) {
        List<MembershipRecord> a = new ArrayList<>();
        List<MembershipRecord> b = new ArrayList<>();
        for (int i = 0; i < adds; i++) {
            a.add(shape.apply(add("101", user("a", i))));
        }
        for (int i = 0; i < 50; i++) {
            b.add(shape.apply(add("202", user("b", i))));
        }
        phase1 = new ArrayList<>(Interleave.randomly(seed, a, b));
        phase1.add(rejected);
        for (int i = 0; i < 100; i++) {
            phase2.add(shape.apply(remove("101", user("a", i))));
        }
        for (int i = 0; i < 10; i++) {
            phase2.add(shape.apply(remove("202", user("b", i))));
        }
        phase2.add(shape.apply(add("101", user("a", 0))));
        phase2.add(dropped);
    }

    /** The users phase 1 adds, but the rejected one. */
    List<String> addedUsers() {
        return phase1.subList(0, phase1.size() - 1).stream().map(MembershipRecord::user).toList();
    }

    /**
     * Produces phase 1, starts the connector (sync interval 1 s, dead letter queue {@code dlq}) and waits until it
     * has committed all of it; then runs {@code between} (e.g. faults to inject), produces phase 2 and waits again.
     *
     * @return the dead letters' exception messages: of the rejected add, then of the tombstone
     */
    List<String> run(ConnectHarness harness, String topic, String connector, ConnectorConfig config, String dlq,
                     Runnable between) throws Exception {
        harness.produce(topic, phase1);
        harness.startConnector(connector, config.syncIntervalMs(1000).deadLetterQueue(dlq).build(), 1);
        harness.awaitCommittedToEnd(connector, topic);
        between.run();
        harness.produce(topic, phase2);
        harness.awaitCommittedToEnd(connector, topic);

        String rejectedOffset = String.valueOf(phase1.size() - 1);
        String droppedOffset = String.valueOf(phase1.size() + phase2.size() - 1);
        Map<String, String> messages = DeadLetterMessages.byOffset(harness, dlq, 2);
        assertThat(messages).containsOnlyKeys(rejectedOffset, droppedOffset);
        return List.of(messages.get(rejectedOffset), messages.get(droppedOffset));
    }

    /** Every record the destination accepted, in the order produced. */
    List<MembershipRecord> accepted() {
        List<MembershipRecord> all = new ArrayList<>(phase1.subList(0, phase1.size() - 1));
        all.addAll(phase2);
        all.remove(dropped);
        return all;
    }
}
