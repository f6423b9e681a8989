package io.github.cohortsync.connect.config;

import java.time.Duration;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

/** The Retries and HTTP group: retries and backoff of transient failures, call timeout, split retries. */
public final class RetryKeys {
    public static final String RETRY_MAX_ATTEMPTS = "retry.max.attempts";
    public static final String RETRY_BACKOFF_INITIAL_MS = "retry.backoff.initial.ms";
    public static final String RETRY_BACKOFF_MAX_MS = "retry.backoff.max.ms";
    public static final String HTTP_TIMEOUT_MS = "http.timeout.ms";
    public static final String SPLIT_MAX_REQUESTS = "split.max.requests";

    private static final String GROUP = "Retries and HTTP";

    private RetryKeys() {
    }

    /** Adds the group's keys, in their documented order, to the connector's definition. */
    static void define(ConfigDef def) {
        int order = 0;
        def.define(RETRY_MAX_ATTEMPTS, Type.INT, 5, Range.between(0, 100), Importance.LOW,
                "How many times a transient failure (connection error, timeout, HTTP 408, 425, 429 or 5xx) is"
                        + " retried before the sync is given up and tried again at the next interval. The"
                        + " task stays RUNNING and commits nothing past the undelivered changes.",
                GROUP, ++order, Width.SHORT, "Retries");
        def.define(RETRY_BACKOFF_INITIAL_MS, Type.LONG, 2_000L, Range.between(0L, Duration.ofHours(1).toMillis()),
                Importance.LOW,
                "The wait before the first retry; each later retry waits twice as long, up to"
                        + " retry.backoff.max.ms. A Retry-After header overrides it.",
                GROUP, ++order, Width.SHORT, "Initial backoff (ms)");
        def.define(RETRY_BACKOFF_MAX_MS, Type.LONG, 30_000L, Range.between(0L, Duration.ofHours(1).toMillis()),
                Importance.LOW,
                "The longest wait between two retries (a Retry-After header may ask for longer, and is"
                        + " honoured up to 1 hour).",
                GROUP, ++order, Width.SHORT, "Maximum backoff (ms)");
        def.define(HTTP_TIMEOUT_MS, Type.INT, 30_000, Range.between(100, 600_000), Importance.LOW,
                "Connect, read and write timeout of each destination call.",
                GROUP, ++order, Width.SHORT, "HTTP timeout (ms)");
        def.define(SPLIT_MAX_REQUESTS, Type.INT, 100, Range.between(0, 1_000_000), Importance.LOW,
                "Extra destination calls one sync may spend on split retries. A diff page (add_members,"
                        + " remove_members) the destination refuses for what it carries (HTTP 400, 413 or 422 to a"
                        + " call with members, Iterable BatchTooLarge or BadParams, Braze 'too many objects') is"
                        + " split in halves and each half sent again, down to single members: a member refused"
                        + " alone is rejected (dead letter queue with errors.tolerance=all, else a WARN), everyone"
                        + " else is delivered. k members at fault in a page of n cost about 2*k*log2(n) extra calls"
                        + " (one in 1000: 20). Once a sync has made this many, the page fails the task as without"
                        + " splitting. 0 disables splitting. Refusals of the account, endpoint or list (401, 403,"
                        + " 404, an unknown list) are never split, nor are full-sync ('members') pages.",
                GROUP, ++order, Width.SHORT, "Split retries (extra calls per sync)");
    }
}
