package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.cohortName;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.tombstone;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.WebhookReceiver.Delivery;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Reply;
import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * Mixpanel-compatible full syncs with the documented config (snapshot.bootstrap.servers set, nothing else), against
 * a receiver as strict as Flagsmith's (a diff of a cohort it never got as 'members' is a 404): each cohort's first
 * contact is 'members', also for a cohort that first appears after the first run and after a task restart; a
 * cohort met only through tombstones after a restart still carries its name; a refresh runs on request (a new
 * snapshot.refresh.generation) and after the destination failed for longer than snapshot.refresh.after.failure.ms.
 */
@ConnectCluster(name = "first-contact-it")
class FirstContactIT {
    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    @BeforeEach
    void strictReceiver() {
        receiver.requireMembersFirst();
    }

    private String compactedTopic(String prefix, int partitions) {
        String topic = ConnectHarness.uniqueName(prefix);
        harness.connect().kafka().createTopic(topic, partitions, 1, Map.of("cleanup.policy", "compact"));
        return topic;
    }

    /** The documented config: the webhook and snapshot.bootstrap.servers, full syncs left at their default. */
    private Map<String, String> documentedConfig(String topic) {
        return ConnectorConfig.webhook(topic, receiver.url())
                .fullSyncs(harness.connect().kafka().bootstrapServers())
                .build();
    }

    private static List<MembershipRecord> adds(String cohort, String prefix, int count) {
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            records.add(add(cohort, user(prefix, i)));
        }
        return records;
    }

    /** The action of the first accepted page of each cohort. */
    private Map<String, String> firstActions() {
        Map<String, String> first = new LinkedHashMap<>();
        receiver.accepted().forEach(d -> first.putIfAbsent(d.cohortId(), d.action()));
        return first;
    }

    private void assertStrictReceiverHappy() {
        assertThat(receiver.cohortNotFound()).as("404 Cohort not found").isEmpty();
        assertThat(receiver.violations()).isEmpty();
        assertThat(receiver.deliveries()).extracting(Delivery::cohortName).doesNotContainNull();
        harness.assertAllRunning(connector);
    }

    /**
     * A first run, a cohort that first appears later (its earlier members on another partition included), a
     * task restart, a cohort met only through tombstones after it, and a new cohort after it: never a 404, every
     * first page a 'members' page, every page named.
     */
    @Test
    void theDocumentedConfigNeverGetsCohortNotFound() throws Exception {
        String topic = compactedTopic("first-contact", 2);
        List<MembershipRecord> all = new ArrayList<>(adds("100", "a", 1_500));
        harness.produce(topic, all);
        harness.startConnector(connector, documentedConfig(topic), 1);
        harness.awaitCommittedToEnd(connector, topic);

        // Cohort 200 first appears after the first run: its first 300 members, then more with changes of 100.
        List<MembershipRecord> later = new ArrayList<>(adds("200", "b", 300));
        harness.produce(topic, later);
        all.addAll(later);
        harness.awaitCommittedToEnd(connector, topic);
        List<MembershipRecord> more = new ArrayList<>(adds("200", "c", 50));
        more.add(remove("100", user("a", 1)));
        more.add(add("100", user("a2", 1)));
        harness.produce(topic, more);
        all.addAll(more);
        harness.awaitCommittedToEnd(connector, topic);
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(all).asMap());
        assertThat(firstActions()).containsEntry("100", "members").containsEntry("200", "members");
        List<Delivery> members200 = receiver.accepted().stream()
                .filter(d -> "200".equals(d.cohortId()) && "members".equals(d.action())).toList();
        assertThat(members200.stream().flatMap(d -> d.distinctIds().stream()).collect(Collectors.toSet()))
                .as("the first contact holds all of 200's members read so far").hasSizeGreaterThanOrEqualTo(300);

        harness.connect().restartTask(connector, 0);
        harness.connect().assertions().assertConnectorAndExactlyNumTasksAreRunning(connector, 1,
                "the task did not restart");
        // After the restart: cohort 100 only through tombstones (which carry no name), and a new cohort 300.
        int before = receiver.requestCount();
        List<MembershipRecord> afterRestart = new ArrayList<>();
        for (int i = 10; i < 20; i++) {
            afterRestart.add(tombstone("100", user("a", i)));
        }
        afterRestart.addAll(adds("300", "d", 20));
        harness.produce(topic, afterRestart);
        all.addAll(afterRestart);
        harness.awaitCommittedToEnd(connector, topic);

        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(all).asMap());
        assertThat(firstActions()).containsEntry("300", "members");
        List<Delivery> removals = receiver.deliveries().subList(before, receiver.requestCount()).stream()
                .filter(d -> "remove_members".equals(d.action())).toList();
        assertThat(removals).isNotEmpty().extracting(Delivery::cohortName).containsOnly(cohortName("100"));
        assertStrictReceiverHappy();
    }

    /** A new snapshot.refresh.generation sends every cohort again as 'members'; the same one does not. */
    @Test
    void aNewRefreshGenerationSendsEveryCohortAgainAsMembers() throws Exception {
        String topic = compactedTopic("refresh-generation", 1);
        List<MembershipRecord> all = new ArrayList<>(adds("11", "g", 1_200));
        all.addAll(adds("22", "h", 100));
        all.add(tombstone("11", user("g", 0)));
        harness.produce(topic, all);
        Map<String, String> config = documentedConfig(topic);
        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);
        assertThat(membersSessions()).containsEntry("11", 1L).containsEntry("22", 1L);

        config.put("snapshot.refresh.generation", "2026-12-01");
        harness.connect().configureConnector(connector, config);
        ConnectHarness.await().alias("a second members session of every cohort")
                .until(this::membersSessions, sessions -> sessions.getOrDefault("11", 0L) == 2
                        && sessions.getOrDefault("22", 0L) == 2);
        harness.awaitCommittedToEnd(connector, topic);
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(all).asMap());
        assertThat(receiver.pagingProblems()).isEmpty();

        List<MembershipRecord> later = List.of(add("22", user("late", 1)));
        harness.produce(topic, later);
        all.addAll(later);
        harness.connect().restartTask(connector, 0);
        harness.awaitCommittedToEnd(connector, topic);
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(all).asMap());
        assertThat(membersSessions()).as("the generation was delivered: no second refresh")
                .containsEntry("11", 2L).containsEntry("22", 2L);
        assertStrictReceiverHappy();
    }

    /**
     * The receiver answers 503 for longer than snapshot.refresh.after.failure.ms: the pending diffs are replaced by a
     * full refresh, and once the receiver is back it holds exactly the cohorts' membership from 'members' pages.
     */
    @Test
    void aReceiverDownLongerThanTheRefreshTimeGetsAFullRefresh() throws Exception {
        String topic = compactedTopic("refresh-failure", 1);
        List<MembershipRecord> all = new ArrayList<>(adds("7", "f", 500));
        harness.produce(topic, all);
        Map<String, String> config = documentedConfig(topic);
        config.put("snapshot.refresh.after.failure.ms", "2000");
        config.put("retry.max.attempts", "1");
        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);
        assertThat(membersSessions()).containsEntry("7", 1L);

        receiver.answerByDefault(Reply.httpStatus(503));
        List<MembershipRecord> during = new ArrayList<>(adds("7", "late", 30));
        for (int i = 0; i < 40; i++) {
            during.add(tombstone("7", user("f", i)));
        }
        harness.produce(topic, during);
        all.addAll(during);
        int failing = receiver.requestCount();
        ConnectHarness.await().alias("the receiver refuses for longer than the refresh time")
                .until(() -> {
                    List<Long> refusedAt = receiver.deliveries().stream().skip(failing)
                            .filter(d -> d.replyCode() == 503).map(Delivery::receivedNanos).toList();
                    return refusedAt.size() > 1
                            && refusedAt.get(refusedAt.size() - 1) - refusedAt.get(0) > 4_000_000_000L;
                });
        receiver.answerByDefault(Reply.success());
        harness.awaitCommittedToEnd(connector, topic);

        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(all).asMap());
        assertThat(membersSessions()).as("a full refresh after the outage").containsEntry("7", 2L);
        List<Delivery> refused = receiver.deliveries().stream().skip(failing).filter(d -> d.replyCode() == 503)
                .toList();
        assertThat(refused).extracting(Delivery::action).contains("add_members", "members");
        assertStrictReceiverHappy();
    }

    /** Per cohort, how many distinct sessions of accepted 'members' pages it got. */
    private Map<String, Long> membersSessions() {
        Map<String, Set<String>> sessions = new LinkedHashMap<>();
        receiver.accepted().stream().filter(d -> "members".equals(d.action()))
                .forEach(d -> sessions.computeIfAbsent(d.cohortId(), id -> new TreeSet<>()).add(d.sessionId()));
        Map<String, Long> counts = new LinkedHashMap<>();
        sessions.forEach((cohort, ids) -> counts.put(cohort, (long) ids.size()));
        return counts;
    }
}
