package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.tombstone;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.LogCapture;
import io.github.cohortsync.connect.it.standin.WebhookReceiver;
import io.github.cohortsync.connect.sync.SyncEngine;

/** {@code dry.run=true} through the real worker: pages are built and summed up per sync, nothing is sent. */
@ConnectCluster(name = "dry-run-it")
class DryRunIT {
    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    @Test
    void aDryRunSendsNothingAndCommitsAsARealRun() throws Exception {
        String topic = harness.createTopic("dry", 1);
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            records.add(add("5", user("d", i)));
        }
        for (int i = 0; i < 100; i++) {
            records.add(tombstone("6", user("gone", i)));
        }
        harness.produce(topic, records);
        // One sync once all 400 changes are buffered: 3 add pages of 100 and 1 remove page of 100.
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url()).syncIntervalMs(3_600_000)
                .with("buffer.max.changes", "400").with("batch.max.size", "100").with("dry.run", "true").build();
        LogCapture logs = new LogCapture();
        org.apache.log4j.Logger.getLogger(SyncEngine.class).addAppender(logs);
        try {
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            assertThat(receiver.requestCount()).as("nothing sent").isZero();
            assertThat(logs.lines).filteredOn(line -> line.startsWith("Dry run:")).containsExactly(
                    "Dry run: a sync of 400 changes read would have sent 4 pages to 2 cohorts: members 0 pages (0"
                            + " members), add_members 3 pages (300 members), remove_members 1 page (100 members);"
                            + " nothing was sent (dry.run=true)");
            harness.assertAllRunning(connector);
        } finally {
            org.apache.log4j.Logger.getLogger(SyncEngine.class).removeAppender(logs);
        }
    }
}
