package io.github.cohortsync.connect.destination.marketo;

import static io.github.cohortsync.connect.ValidationErrors.keyErrors;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.config.CohortSyncConfig;

class MarketoKeysTest {

    private static Map<String, String> marketo() {
        Map<String, String> props = new HashMap<>();
        props.put("destination", "marketo");
        props.put("marketo.endpoint", "https://123-ABC-456.mktorest.com");
        props.put("marketo.client.id", "client-1");
        props.put("marketo.client.secret", "s3cret-value");
        props.put("marketo.folder.id", "12");
        return props;
    }

    @Test
    void aMinimalMarketoConfigIsValidAndTakesTheDocumentedDefaults() {
        assertThat(keyErrors(marketo())).isEmpty();
        CohortSyncConfig config = new CohortSyncConfig(marketo());

        assertThat(config.destination()).isInstanceOf(MarketoProvider.class);
        assertThat(config.batchMaxSize()).isEqualTo(300);
        assertThat(config.destination().defaultMaxInFlight()).isEqualTo(2);
        assertThat(config.getString(MarketoKeys.LIST_NAME_TEMPLATE)).isEqualTo("mixpanel_${cohort_name}_${cohort_id}");
        assertThat(config.getString(MarketoKeys.FOLDER_TYPE)).isEqualTo("Folder");
        assertThat(config.getBoolean(MarketoKeys.UPSERT_LEADS)).isFalse();
        assertThat(config.getInt(MarketoKeys.LEAD_CACHE_SIZE)).isEqualTo(50_000);
        assertThat(config.getString(MarketoKeys.IDENTITY_URL)).isNull();
    }

    @Test
    void everyRequiredKeyIsNamedWhenMissingOnlyForMarketo() {
        Map<String, String> props = new HashMap<>(Map.of("destination", "marketo"));
        assertThat(keyErrors(props).get("marketo.endpoint")).singleElement().asString()
                .contains("marketo.endpoint is required when destination=marketo");
        assertThat(keyErrors(props).get("marketo.client.id")).singleElement().asString()
                .contains("marketo.client.id is required when destination=marketo");
        assertThat(keyErrors(props).get("marketo.client.secret")).singleElement().asString()
                .contains("marketo.client.secret is required when destination=marketo");
        assertThat(keyErrors(props).get("marketo.folder.id")).singleElement().asString()
                .contains("marketo.folder.id is required when destination=marketo");
        assertThat(keyErrors(Map.of("destination", "segment", "segment.write.key", "k"))).isEmpty();
    }

    @Test
    void anEndpointWithItsRestSuffixOrNotAUrlIsRejected() {
        Map<String, String> props = marketo();
        props.put("marketo.endpoint", "https://123-ABC-456.mktorest.com/rest/");
        assertThat(keyErrors(props).get("marketo.endpoint")).singleElement().asString()
                .contains("ends in /rest");
        props.put("marketo.endpoint", "ftp://x");
        assertThat(keyErrors(props).get("marketo.endpoint")).singleElement().asString()
                .contains("must start with http:// or https://");
        props.put("marketo.endpoint", "https://123-ABC-456.mktorest.com");
        props.put("marketo.identity.url", "not a url");
        assertThat(keyErrors(props).get("marketo.identity.url")).singleElement().asString()
                .contains("marketo.identity.url");
    }

    @Test
    void folderTypeTemplateCacheSizeAndFolderIdAreChecked() {
        Map<String, String> props = marketo();
        props.put("marketo.folder.type", "Drawer");
        props.put("marketo.list.name.template", "mp_${name}");
        props.put("marketo.lead.cache.size", "-1");
        props.put("marketo.folder.id", "twelve");
        assertThat(keyErrors(props).get("marketo.folder.type")).singleElement().asString()
                .contains("must be one of: Folder, Program");
        assertThat(keyErrors(props).get("marketo.list.name.template")).singleElement().asString()
                .contains("unknown placeholders [name]");
        assertThat(keyErrors(props).get("marketo.lead.cache.size")).singleElement().asString()
                .contains("at least 0");
        assertThat(keyErrors(props).get("marketo.folder.id")).isNotEmpty();
        assertThat(keyErrors(props).get("marketo.upsert.leads")).isNull();
        props.put("marketo.upsert.leads", "perhaps");
        assertThat(keyErrors(props).get("marketo.upsert.leads")).isNotEmpty();
    }

    @Test
    void theBatchSizeIsCappedAtThreeHundredAndTheSecretIsAPassword() {
        Map<String, String> props = marketo();
        props.put("batch.max.size", "301");
        assertThat(keyErrors(props).get("batch.max.size")).singleElement().asString()
                .contains("marketo accepts at most 300 members per call");
        assertThat(CohortSyncConfig.CONFIG_DEF.configKeys().get("marketo.client.secret").type)
                .isEqualTo(ConfigDef.Type.PASSWORD);
        assertThat(new CohortSyncConfig(marketo()).toString()).doesNotContain("s3cret-value");
    }

    @Test
    void theIdentityUrlDefaultsToTheEndpointsIdentityPath() {
        assertThat(MarketoKeys.identityUrl("https://123-ABC-456.mktorest.com/", null))
                .isEqualTo("https://123-ABC-456.mktorest.com/identity");
        assertThat(MarketoKeys.identityUrl("https://a.mktorest.com", "https://b.mktorest.com/identity/"))
                .isEqualTo("https://b.mktorest.com/identity");
        new MarketoDestination(new CohortSyncConfig(marketo())).close();
    }
}
