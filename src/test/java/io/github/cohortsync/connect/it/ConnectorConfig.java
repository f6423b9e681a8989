package io.github.cohortsync.connect.it;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.connect.json.JsonConverter;

import io.github.cohortsync.connect.CohortSyncSinkConnector;

/**
 * Builds a connector config for the integration tests, one entry point per destination. Every config starts from
 * the same common part: schemaless JSON keys and values, one task, a short sync interval and short retry backoffs,
 * this JVM's delivery journal directory, and <b>diffs only</b> ({@code snapshot.enabled=false}, which validation
 * asks for unless {@code snapshot.bootstrap.servers} is set); {@link #fullSyncs(String)} turns full syncs on as the
 * documented config does. {@link #build()} returns a mutable copy, for the rare test that removes a key.
 */
public final class ConnectorConfig {
    private final Map<String, String> config = new HashMap<>();

    private ConnectorConfig(String topic, String destination) {
        config.put("connector.class", CohortSyncSinkConnector.class.getName());
        config.put("topics", topic);
        config.put("tasks.max", "1");
        config.put("key.converter", JsonConverter.class.getName());
        config.put("key.converter.schemas.enable", "false");
        config.put("value.converter", JsonConverter.class.getName());
        config.put("value.converter.schemas.enable", "false");
        config.put("destination", destination);
        config.put("sync.interval.ms", "500");
        config.put("retry.backoff.initial.ms", "100");
        config.put("retry.backoff.max.ms", "500");
        config.put("http.timeout.ms", "10000");
        // One directory per test JVM, shared by every worker of the host (the forked ones too), as in production.
        config.put("delivery.journal.dir", ConnectHarness.journalDirectory().toString());
        config.put("snapshot.enabled", "false");
    }

    /** The custom webhook at {@code url}. */
    public static ConnectorConfig webhook(String topic, String url) {
        return new ConnectorConfig(topic, "webhook").with("webhook.url", url);
    }

    /** Segment's batch API at {@code endpoint} with the write key. */
    public static ConnectorConfig segment(String topic, String writeKey, String endpoint) {
        return new ConnectorConfig(topic, "segment").with("segment.write.key", writeKey)
                .with("segment.endpoint", endpoint);
    }

    /** Iterable's list API at {@code endpoint} with the API key. */
    public static ConnectorConfig iterable(String topic, String apiKey, String endpoint) {
        return new ConnectorConfig(topic, "iterable").with("iterable.api.key", apiKey)
                .with("iterable.endpoint", endpoint);
    }

    /** CleverTap's upload API at {@code endpoint} with the account id and passcode. */
    public static ConnectorConfig cleverTap(String topic, String accountId, String passcode, String endpoint) {
        return new ConnectorConfig(topic, "clevertap").with("clevertap.account.id", accountId)
                .with("clevertap.passcode", passcode).with("clevertap.endpoint", endpoint);
    }

    /** Mailchimp's Marketing API at {@code endpoint} with the API key and the audience (list) id. */
    public static ConnectorConfig mailchimp(String topic, String apiKey, String listId, String endpoint) {
        return new ConnectorConfig(topic, "mailchimp").with("mailchimp.api.key", apiKey)
                .with("mailchimp.list.id", listId).with("mailchimp.endpoint", endpoint);
    }

    /** Marketo at {@code endpoint} with the stand-in's client credentials and folder. */
    public static ConnectorConfig marketo(String topic, String clientId, String clientSecret, int folderId,
            String endpoint) {
        return new ConnectorConfig(topic, "marketo").with("marketo.client.id", clientId)
                .with("marketo.client.secret", clientSecret).with("marketo.folder.id", Integer.toString(folderId))
                .with("marketo.endpoint", endpoint);
    }

    /** Airship's Named User tags at {@code endpoint} with a bearer token. */
    public static ConnectorConfig airship(String topic, String token, String endpoint) {
        return new ConnectorConfig(topic, "airship").with("airship.token", token).with("airship.endpoint", endpoint);
    }

    /** Braze in its default (attribute) mode at {@code endpoint} with the REST API key. */
    public static ConnectorConfig braze(String topic, String apiKey, String endpoint) {
        return new ConnectorConfig(topic, "braze").with("braze.api.key", apiKey).with("braze.endpoint", endpoint);
    }

    /** Braze's partner cohort import ({@code braze.mode=cohort_import}) at {@code endpoint}. */
    public static ConnectorConfig brazeCohortImport(String topic, String partnerName, String partnerApiKey,
            String dataImportKey, String endpoint) {
        return new ConnectorConfig(topic, "braze").with("braze.mode", "cohort_import")
                .with("braze.partner.name", partnerName).with("braze.partner.api.key", partnerApiKey)
                .with("braze.data.import.key", dataImportKey).with("braze.endpoint", endpoint);
    }

    /**
     * Full syncs on, as documented: {@code snapshot.bootstrap.servers} set and {@code snapshot.enabled} left at its
     * default.
     */
    public ConnectorConfig fullSyncs(String bootstrapServers) {
        config.remove("snapshot.enabled");
        return with("snapshot.bootstrap.servers", bootstrapServers);
    }

    /** Bad records and rejected members go to {@code topic} (replication 1) with the context headers. */
    public ConnectorConfig deadLetterQueue(String topic) {
        return with("errors.tolerance", "all")
                .with("errors.deadletterqueue.topic.name", topic)
                .with("errors.deadletterqueue.topic.replication.factor", "1")
                .with("errors.deadletterqueue.context.headers.enable", "true");
    }

    public ConnectorConfig tasks(int tasks) {
        return with("tasks.max", Integer.toString(tasks));
    }

    public ConnectorConfig syncIntervalMs(long ms) {
        return with("sync.interval.ms", Long.toString(ms));
    }

    public ConnectorConfig with(String key, String value) {
        config.put(key, value);
        return this;
    }

    /** A mutable copy of the config. */
    public Map<String, String> build() {
        return new HashMap<>(config);
    }
}
