package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.provider.FileConfigProvider;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import jakarta.ws.rs.core.Response;

import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * Secrets through a config provider: a worker with the {@link FileConfigProvider} resolves
 * {@code ${file:<path>:<key>}} for the task, so the destination receives the real secret while the REST API only
 * ever shows the placeholder. Without a provider, {@code GET /connectors/{name}/config} shows the raw value (a
 * Connect framework behaviour docs/security.md warns about).
 */
@ConnectCluster(name = "secrets-it", workerProps = {
    "config.providers=file",
    "config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider"})
class SecretsIT {
    private static final String USER = "hook-user";
    private static final String SECRET = "s3cret-from-file-XYZ";

    private static ConnectHarness harness;
    private static Path secrets;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    @BeforeAll
    static void writeSecrets() throws IOException {
        secrets = Files.createTempFile("cohort-sync-secrets", ".properties");
        Files.writeString(secrets, "webhook.password=" + SECRET + "\n");
    }

    @AfterAll
    static void deleteSecrets() throws IOException {
        Files.deleteIfExists(secrets);
    }

    @BeforeEach
    void expectCredentials() {
        receiver.expectBasicAuth(USER, SECRET);
    }

    @Test
    void fileProviderSecretReachesTheDestinationAndTheApiShowsThePlaceholder() throws Exception {
        String topic = harness.createTopic("secret-file", 1);
        String placeholder = "${file:" + secrets + ":webhook.password}";
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                .with("webhook.auth.username", USER)
                .with("webhook.auth.password", placeholder)
                .build();
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            records.add(add("901", user("s", i)));
        }

        harness.startConnector(connector, config, 1);
        harness.produce(topic, records);
        harness.awaitCommittedToEnd(connector, topic);

        assertThat(receiver.violations()).as("every request carried the secret read from the file").isEmpty();
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        assertThat(harness.connect().connectorInfo(connector).config())
                .containsEntry("webhook.auth.password", placeholder);
        assertThat(restText("connectors/" + connector + "/config")).contains(placeholder).doesNotContain(SECRET);
        assertThat(restText("connectors/" + connector + "/tasks")).doesNotContain(SECRET);
    }

    /** The framework behaviour docs/security.md documents: without a provider the REST API returns the raw value. */
    @Test
    void withoutAProviderTheConfigEndpointShowsTheRawValue() throws Exception {
        String topic = harness.createTopic("secret-raw", 1);
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                .with("webhook.auth.username", USER)
                .with("webhook.auth.password", SECRET)
                .build();

        harness.startConnector(connector, config, 1);

        assertThat(restText("connectors/" + connector + "/config")).contains(SECRET);
    }

    private static String restText(String resource) {
        Response response = harness.connect().requestGet(harness.connect().endpointForResource(resource));
        assertThat(response.getStatus()).as("GET " + resource).isEqualTo(200);
        return String.valueOf(response.getEntity());
    }
}
