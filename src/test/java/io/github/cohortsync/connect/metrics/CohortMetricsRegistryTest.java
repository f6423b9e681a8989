package io.github.cohortsync.connect.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Per-cohort MBeans: the counters, the match rate of the last sync, the cap and unregistering. */
class CohortMetricsRegistryTest {
    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();
    private final CohortMetricsRegistry registry = new CohortMetricsRegistry("registry-test", "3", 2);

    @AfterEach
    void close() {
        registry.close();
    }

    private static ObjectName name(String cohort) throws Exception {
        return CohortMetricsRegistry.objectName("registry-test", "3", cohort);
    }

    @Test
    void theMatchRateIsOfTheLastSyncAndTheCountersAddUp() throws Exception {
        registry.synced("c1", 90, 10, 1_000);
        registry.synced("c1", 3, 1, 2_000);

        ObjectName c1 = name("c1");
        assertThat(SERVER.getAttribute(c1, "MatchRate")).isEqualTo(0.75);
        assertThat(SERVER.getAttribute(c1, "MembersDelivered")).isEqualTo(93L);
        assertThat(SERVER.getAttribute(c1, "MembersRejected")).isEqualTo(11L);
        assertThat(SERVER.getAttribute(c1, "LastSyncMembersDelivered")).isEqualTo(3L);
        assertThat(SERVER.getAttribute(c1, "LastSyncTime")).isEqualTo(2_000L);
        assertThat(SERVER.getAttribute(c1, "LastError")).isEqualTo("");
    }

    @Test
    void aSyncThatSentNobodyMatchesFullyAndAFailureIsTheLastError() throws Exception {
        registry.synced("c1", 0, 0, 1);
        registry.failed("c1", "sync failed permanently: HTTP 401", 5);

        assertThat(SERVER.getAttribute(name("c1"), "MatchRate")).isEqualTo(1.0);
        assertThat(SERVER.getAttribute(name("c1"), "LastError")).isEqualTo("sync failed permanently: HTTP 401");
        assertThat(SERVER.getAttribute(name("c1"), "LastErrorTime")).isEqualTo(5L);
    }

    @Test
    void theLeastRecentlySyncedCohortIsUnregisteredBeyondTheCap() throws Exception {
        registry.synced("c1", 1, 0, 1);
        registry.synced("c2", 1, 0, 2);
        registry.synced("c1", 1, 0, 3);
        registry.synced("c3", 1, 0, 4);

        assertThat(SERVER.isRegistered(name("c2"))).isFalse();
        assertThat(SERVER.isRegistered(name("c1"))).isTrue();
        assertThat(SERVER.isRegistered(name("c3"))).isTrue();
        assertThat(registry.cohorts()).containsExactly("c1", "c3");
    }

    @Test
    void stoppingUnregistersEveryCohort() throws Exception {
        registry.synced("c1", 1, 0, 1);
        registry.synced("c2", 1, 0, 1);

        registry.close();

        assertThat(SERVER.isRegistered(name("c1"))).isFalse();
        assertThat(SERVER.isRegistered(name("c2"))).isFalse();
        assertThat(registry.cohorts()).isEmpty();
    }

    @Test
    void aCapOfZeroRegistersNothing() throws Exception {
        CohortMetricsRegistry none = new CohortMetricsRegistry("registry-test", "4", 0);
        none.synced("c1", 1, 0, 1);

        assertThat(SERVER.isRegistered(CohortMetricsRegistry.objectName("registry-test", "4", "c1"))).isFalse();
        assertThat(none.cohorts()).isEmpty();
    }
}
