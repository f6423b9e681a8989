package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.tombstone;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.WebhookReceiver.Delivery;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Reply;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * The webhook against a receiver as strict as the real receivers of Mixpanel's cohort-sync format (Flagsmith,
 * usertour; rules and sources in {@link WebhookReceiver} and docs/compatibility.md): non-blank name and project id in
 * every page, page numbering per session id, per-member rejection of over-long ids, the answers receivers give (201,
 * the failure envelope with its code, a 401 that is not the envelope), the optional "members first" rule, and an
 * Idempotency-Key that an identical resend after a task restart carries again.
 */
@ConnectCluster(name = "webhook-conformance-it")
class WebhookConformanceIT {
    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    /**
     * A cohort met only through tombstones has no name and no project: it is sent as "Cohort <id>" of project "0"
     * (no project.id set), which the strict receiver accepts; a named cohort keeps its name, and a name over 2000
     * characters is cut to 2000.
     */
    @Test
    void everyPageCarriesANonBlankNameAndProjectId() throws Exception {
        String topic = harness.createTopic("names", 1);
        String longName = "L".repeat(2_100);
        List<MembershipRecord> records = List.of(
                tombstone("55", "gone-1"), tombstone("55", "gone-2"),
                add("66", "named").with("project_id", "proj-66"),
                add("77", "long").with("cohort_name", longName));
        harness.produce(topic, records);

        harness.startConnector(connector, ConnectorConfig.webhook(topic, receiver.url()).build(), 1);
        harness.awaitCommittedToEnd(connector, topic);

        Map<String, Delivery> byCohort = receiver.accepted().stream()
                .collect(Collectors.toMap(Delivery::cohortId, d -> d));
        assertThat(byCohort).containsOnlyKeys("55", "66", "77");
        assertThat(byCohort.get("55").action()).isEqualTo("remove_members");
        assertThat(byCohort.get("55").cohortName()).isEqualTo("Cohort 55");
        assertThat(byCohort.get("55").projectId()).isEqualTo("0");
        assertThat(byCohort.get("66").cohortName()).isEqualTo(MembershipRecord.cohortName("66"));
        assertThat(byCohort.get("66").projectId()).isEqualTo("proj-66");
        assertThat(byCohort.get("77").cohortName()).isEqualTo("L".repeat(2_000));
        assertThat(receiver.deliveries()).as("nothing refused").allMatch(Delivery::accepted);
        assertThat(receiver.violations()).isEmpty();
        harness.assertAllRunning(connector);
    }

    /** The strict receiver refuses what receivers refuse: a page with a null name is answered 400, and fails. */
    @Test
    void theStrictReceiverRefusesANullNameWithTheFailureEnvelope() throws Exception {
        // The connector never sends one (the test above): here the receiver itself is checked, through the HTTP
        // surface, so that a regression in the connector would meet a 400 and not a silent acceptance.
        try (Response response = new OkHttpClient().newCall(new Request.Builder()
                .url(receiver.url()).header("Idempotency-Key", "k")
                .post(RequestBody.create("{\"action\":\"add_members\",\"parameters\":{"
                        + "\"mixpanel_project_id\":null,\"mixpanel_cohort_id\":\"1\",\"mixpanel_cohort_name\":\" \","
                        + "\"mixpanel_cohort_description\":null,\"mixpanel_session_id\":\"s\","
                        + "\"page_info\":{\"total_pages\":1,\"page_count\":1},\"members\":[]}}",
                        MediaType.get("application/json"))).build()).execute()) {
            assertThat(response.code()).isEqualTo(400);
            String body = response.body().string();
            assertThat(body).contains("\"status\":\"failure\"", "\"code\":400", "mixpanel_cohort_name",
                    "mixpanel_project_id");
        }
        assertThat(receiver.violations()).hasSizeGreaterThanOrEqualTo(2);
    }

    /**
     * One sync of a cohort's 5 adds and 3 removes in pages of 2: the adds are one session of pages 1..3, the removes
     * another of pages 1..2; no session repeats a page number.
     */
    @Test
    void withinOneSessionPagesRunFromOneToTotalOnce() throws Exception {
        String topic = harness.createTopic("paging", 1);
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            records.add(add("101", user("in", i)));
        }
        for (int i = 0; i < 3; i++) {
            records.add(remove("101", user("out", i)));
        }
        harness.produce(topic, records);
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                .syncIntervalMs(2000)
                .with("batch.max.size", "2")
                .build();

        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);

        List<Delivery> accepted = receiver.accepted();
        assertThat(accepted).hasSize(5);
        Map<String, List<Delivery>> bySession = accepted.stream()
                .collect(Collectors.groupingBy(Delivery::sessionId));
        assertThat(bySession).hasSize(2);
        assertThat(bySession.values()).allSatisfy(pages -> {
            assertThat(pages).extracting(Delivery::action).containsOnly(pages.get(0).action());
            assertThat(pages).extracting(Delivery::totalPages).containsOnly(pages.size());
            assertThat(pages).extracting(Delivery::pageCount).containsExactlyInAnyOrderElementsOf(
                    IntStream.rangeClosed(1, pages.size()).boxed().toList());
        });
        assertThat(bySession.values()).extracting(List::size).containsExactlyInAnyOrder(3, 2);
        assertThat(receiver.pagingProblems()).isEmpty();
        assertThat(receiver.violations()).isEmpty();
    }

    /**
     * A distinct id over 1024 UTF-8 bytes, and every member of a cohort whose id is over 255 characters, go to the
     * dead letter queue with their reason; the rest of their pages is delivered and the task keeps running.
     */
    @Test
    void overLongIdsAreRejectedPerMemberToTheDeadLetterQueue() throws Exception {
        String topic = harness.createTopic("limits", 1);
        String dlq = ConnectHarness.uniqueName("dlq");
        String longUser = "é".repeat(512) + "x"; // 1025 bytes
        String atLimit = "é".repeat(512); // 1024 bytes
        String longCohort = "c".repeat(256);
        List<MembershipRecord> records = List.of(
                add("101", "ok-1"), add("101", longUser), add("101", atLimit), add(longCohort, "ok-2"),
                add("101", "ok-3"));
        harness.produce(topic, records);
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url()).deadLetterQueue(dlq).build();

        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);

        assertThat(receiver.membership()).isEqualTo(Map.of("101", Set.of("ok-1", atLimit, "ok-3")));
        assertThat(receiver.sawUser(longUser)).isFalse();
        ConsumerRecords<byte[], byte[]> dead = harness.connect().kafka()
                .consume(2, ConnectHarness.TIMEOUT.toMillis(), dlq);
        Map<Long, String> reasons = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : dead) {
            reasons.put(Long.parseLong(header(record, "__connect.errors.offset")),
                    header(record, "__connect.errors.exception.message"));
        }
        assertThat(reasons).containsOnlyKeys(1L, 3L);
        assertThat(reasons.get(1L)).contains("distinct id is 1025 UTF-8 bytes, over the 1024", "offset 1")
                .doesNotContain(longUser);
        assertThat(reasons.get(3L)).contains("cohort id is 256 characters, over the 255");
        assertThat(receiver.violations()).isEmpty();
        harness.assertAllRunning(connector);
    }

    /** usertour answers 201 (a NestJS POST): any 2xx with status success is success. */
    @Test
    void a201SuccessIsSuccess() throws Exception {
        String topic = harness.createTopic("created", 1);
        receiver.answerByDefault(Reply.created());
        List<MembershipRecord> records = List.of(add("101", "a"), add("101", "b"), remove("101", "c"));
        harness.produce(topic, records);

        harness.startConnector(connector, ConnectorConfig.webhook(topic, receiver.url()).build(), 1);
        harness.awaitCommittedToEnd(connector, topic);

        assertThat(receiver.deliveries()).extracting(Delivery::replyCode).containsOnly(201);
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        harness.assertAllRunning(connector);
    }

    /**
     * A 2xx failure envelope follows its error.code: 503 and 429 (as a number or a string, with or without a 2xx
     * status) are retried and then delivered; a 404 fails the task with the receiver's message.
     */
    @Test
    void aFailureEnvelopeFollowsItsErrorCode() throws Exception {
        String topic = harness.createTopic("envelope", 1);
        receiver.enqueue(Reply.failure("database is busy", "503"), Reply.failureEnvelope(429, "slow down"));
        harness.startConnector(connector, ConnectorConfig.webhook(topic, receiver.url()).build(), 1);
        harness.produce(topic, add("101", "a"));

        harness.awaitCommittedToEnd(connector, topic);
        assertThat(receiver.deliveries()).extracting(Delivery::replyCode).containsExactly(200, 429, 200);
        assertThat(receiver.membership()).isEqualTo(Map.of("101", Set.of("a")));
        harness.assertAllRunning(connector);

        receiver.answerByDefault(Reply.failure("Cohort not found.", "404"));
        harness.produce(topic, add("101", "b"));
        assertThat(harness.awaitTaskFailed(connector)).contains("status failure: Cohort not found. (code 404)");
        assertThat(receiver.membership()).isEqualTo(Map.of("101", Set.of("a")));
    }

    /** A 401 whose body is a framework's page, not the envelope, fails the task with that text masked. */
    @Test
    void a401ThatIsNotTheEnvelopeFailsTheTaskWithItsTextMasked() throws Exception {
        String topic = harness.createTopic("unauthorized", 1);
        receiver.answerByDefault(Reply.httpStatus(401).withBody("<html>401: key hook-s3cret-pw refused for"
                + " a.member@example.com</html>"));
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                .with("webhook.auth.username", "hook-user")
                .with("webhook.auth.password", "hook-s3cret-pw")
                .build();
        harness.startConnector(connector, config, 1);
        harness.produce(topic, add("101", "a"));

        String trace = harness.awaitTaskFailed(connector);
        assertThat(trace).contains("HTTP 401: <html>401: key <secret> refused for <email></html>",
                        "check webhook.auth.username and webhook.auth.password")
                .doesNotContain("hook-s3cret-pw").doesNotContain("a.member@example.com");
        assertThat(receiver.requestCount()).as("not retried").isEqualTo(1);
    }

    /**
     * The optional rule of Flagsmith: a diff of a cohort never received as {@code members} is answered 404 "Cohort
     * not found.". Without a full first sync (snapshot.enabled=false) the connector's first add_members meets it and
     * the task fails; with the documented config (snapshot.bootstrap.servers set, full syncs at their default) the
     * cohort arrives as members first and later diffs are accepted.
     */
    @Test
    void theMembersFirstRuleOfFlagsmith() throws Exception {
        receiver.requireMembersFirst(true);
        String diffsOnly = harness.createTopic("diffs-only", 1);
        harness.produce(diffsOnly, add("101", "a"));
        harness.startConnector(connector, ConnectorConfig.webhook(diffsOnly, receiver.url()).build(), 1);
        assertThat(harness.awaitTaskFailed(connector)).contains("HTTP 404", "Cohort not found.");
        harness.deleteConnectorQuietly(connector);

        String compacted = ConnectHarness.uniqueName("members-first");
        harness.connect().kafka().createTopic(compacted, 1, 1, Map.of("cleanup.policy", "compact"));
        harness.produce(compacted, add("202", "a"), add("202", "b"));
        String second = connector + "-snapshot";
        // The documented config: full syncs at their default (on).
        Map<String, String> config = ConnectorConfig.webhook(compacted, receiver.url())
                .fullSyncs(harness.connect().kafka().bootstrapServers())
                .build();
        try {
            harness.startConnector(second, config, 1);
            harness.awaitCommittedToEnd(second, compacted);
            harness.produce(compacted, add("202", "c"), remove("202", "a"));
            harness.awaitCommittedToEnd(second, compacted);
            assertThat(receiver.membership()).containsEntry("202", Set.of("b", "c"));
            assertThat(receiver.accepted()).filteredOn(d -> "202".equals(d.cohortId())).extracting(Delivery::action)
                    .startsWith("members").contains("add_members", "remove_members");
            harness.assertAllRunning(second);
        } finally {
            harness.deleteConnectorQuietly(second);
        }
    }

    /**
     * Without the delivery journal a restarted task sends everything again: every page, refused or accepted before
     * the restart, carries the Idempotency-Key it had, in a new session, so a receiver can drop the duplicates.
     */
    @Test
    void anIdenticalResendAfterATaskRestartCarriesTheSameKeys() throws Exception {
        String topic = harness.createTopic("resend", 1);
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            records.add(add("101", user("in", i)));
        }
        records.add(remove("101", user("out", 0)));
        harness.produce(topic, records);
        receiver.enqueue(Reply.success(), Reply.success(),
                Reply.failureEnvelope(400, "Invalid payload: receiver misconfigured"));
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                .syncIntervalMs(2000)
                .with("batch.max.size", "2")
                .with("sync.max.in.flight.requests", "1")
                .with("delivery.journal.enabled", "false")
                // Splitting off: the refused page fails the task (split retries: SplitRetriesIT).
                .with("split.max.requests", "0")
                .build();

        harness.startConnector(connector, config, 1);
        assertThat(harness.awaitTaskFailed(connector)).contains("HTTP 400", "receiver misconfigured");
        List<Delivery> before = receiver.deliveries();
        assertThat(before).hasSize(3);

        harness.connect().restartTask(connector, 0);
        harness.awaitCommittedToEnd(connector, topic);

        List<Delivery> after = receiver.deliveries().subList(before.size(), receiver.requestCount());
        assertThat(after).as("the 3 add pages and the remove page").hasSize(4).allMatch(Delivery::accepted);
        assertThat(after).extracting(Delivery::idempotencyKey)
                .containsAll(before.stream().map(Delivery::idempotencyKey).toList());
        for (Delivery first : before) {
            Delivery again = after.stream().filter(d -> d.idempotencyKey().equals(first.idempotencyKey()))
                    .findFirst().orElseThrow();
            assertThat(again.sessionId()).as("a new session").isNotEqualTo(first.sessionId());
            assertThat(again.content()).as("the same content").isEqualTo(first.content());
        }
        assertThat(receiver.pagingProblems()).filteredOn(p -> p.startsWith("Idempotency-Key")).isEmpty();
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        assertThat(receiver.violations()).isEmpty();
    }

    /**
     * With the delivery journal (the default) a restarted task sends only what was not delivered: the refused page
     * is sent again with the key it had, although it is now page 1 of a new session.
     */
    @Test
    void theRefusedPageKeepsItsKeyWhenResentAloneAfterARestart() throws Exception {
        String topic = harness.createTopic("resend-journal", 1);
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            records.add(add("101", user("in", i)));
        }
        harness.produce(topic, records);
        receiver.enqueue(Reply.success(), Reply.failureEnvelope(400, "Invalid payload: receiver misconfigured"));
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                .syncIntervalMs(2000)
                .with("batch.max.size", "2")
                .with("sync.max.in.flight.requests", "1")
                .with("split.max.requests", "0")
                .build();

        harness.startConnector(connector, config, 1);
        harness.awaitTaskFailed(connector);
        Delivery refused = receiver.deliveries().get(1);
        assertThat(refused.accepted()).isFalse();
        assertThat(refused.pageCount()).isEqualTo(2);

        harness.connect().restartTask(connector, 0);
        harness.awaitCommittedToEnd(connector, topic);

        Delivery resent = receiver.accepted().stream()
                .filter(d -> d.idempotencyKey().equals(refused.idempotencyKey())).findFirst().orElseThrow();
        assertThat(resent.distinctIds()).isEqualTo(refused.distinctIds());
        assertThat(resent.sessionId()).isNotEqualTo(refused.sessionId());
        assertThat(resent.pageCount()).as("page 1 of 2 of its new session").isEqualTo(1);
        assertThat(receiver.acceptedCountByKey().values()).as("nothing accepted twice").containsOnly(1L);
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        assertThat(receiver.violations()).isEmpty();
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
